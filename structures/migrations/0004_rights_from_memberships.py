"""Rights come from memberships (structures/policy.py): the object permissions that only mirrored them go, with
their permission rows and their tables, and the group tables nothing ever used."""

from django.db import migrations

MIRRORED = ("deposit_requests", "manage_technicians", "handle_requests", "administer_caisse")


def delete_mirrored_permissions(apps, schema_editor):
    # Deleting the permissions deletes every row granting them: the structure and caisse object permission tables,
    # guardian's generic tables, and any user's or group's global permissions.
    apps.get_model("auth", "Permission").objects.filter(
        content_type__app_label="structures", codename__in=MIRRORED
    ).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("structures", "0003_grant_existing_memberships"),
        # Its ensure_permissions creates every permission the models then declared: these go after it.
        ("requests", "0006_grant_agents_in_charge"),
        ("guardian", "0003_remove_groupobjectpermission_guardian_gr_content_ae6aec_idx_and_more"),
    ]

    operations = [
        migrations.RunPython(delete_mirrored_permissions, migrations.RunPython.noop),
        migrations.DeleteModel(name="CaisseGroupObjectPermission"),
        migrations.DeleteModel(name="CaisseUserObjectPermission"),
        migrations.DeleteModel(name="StructureGroupObjectPermission"),
        migrations.DeleteModel(name="StructureUserObjectPermission"),
        migrations.AlterModelOptions(name="caisse", options={"ordering": ["code"]}),
        migrations.AlterModelOptions(name="structure", options={"ordering": ["name"]}),
    ]
