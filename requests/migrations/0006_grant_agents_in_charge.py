from django.db import migrations

from extranet.migration_support import ensure_permissions


def grant(apps, schema_editor):
    ensure_permissions(apps)
    permission = apps.get_model("auth", "Permission").objects.get(
        content_type__app_label="requests", codename="resolve_request"
    )
    RequestPermission = apps.get_model("requests", "RequestUserObjectPermission")
    in_charge = apps.get_model("requests", "Request").objects.filter(status="in_progress", assigned_to__isnull=False)
    RequestPermission.objects.bulk_create(
        [
            RequestPermission(user_id=user_id, permission=permission, content_object_id=pk)
            for pk, user_id in in_charge.values_list("pk", "assigned_to_id").iterator()
        ],
        batch_size=1000,
        ignore_conflicts=True,
    )


class Migration(migrations.Migration):
    dependencies = [
        ("requests", "0005_object_permissions"),
        ("structures", "0003_grant_existing_memberships"),
    ]

    operations = [migrations.RunPython(grant, migrations.RunPython.noop)]
