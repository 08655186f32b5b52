from django.db import migrations

from extranet.migration_support import ensure_permissions


def grant(apps, schema_editor):
    ensure_permissions(apps)
    Permission = apps.get_model("auth", "Permission")
    perms = {
        codename: Permission.objects.get(content_type__app_label="structures", codename=codename)
        for codename in ("deposit_requests", "manage_technicians", "handle_requests", "administer_caisse")
    }
    StructurePermission = apps.get_model("structures", "StructureUserObjectPermission")
    CaissePermission = apps.get_model("structures", "CaisseUserObjectPermission")
    for membership in apps.get_model("structures", "Membership").objects.filter(is_active=True):
        codenames = ["deposit_requests"] + (["manage_technicians"] if membership.role == "gestionnaire" else [])
        for codename in codenames:
            StructurePermission.objects.get_or_create(
                user_id=membership.user_id, permission=perms[codename], content_object_id=membership.structure_id
            )
    for membership in apps.get_model("structures", "CaisseMembership").objects.filter(is_active=True):
        codenames = ["handle_requests"] + (["administer_caisse"] if membership.role == "admin" else [])
        for codename in codenames:
            CaissePermission.objects.get_or_create(
                user_id=membership.user_id, permission=perms[codename], content_object_id=membership.caisse_id
            )


class Migration(migrations.Migration):
    dependencies = [
        ("structures", "0002_object_permissions"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [migrations.RunPython(grant, migrations.RunPython.noop)]
