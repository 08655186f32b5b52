"""Once back-filled object permissions mirroring each active membership (deposit_requests, manage_technicians,
handle_requests, administer_caisse). Rights now come from memberships themselves (structures/policy.py) and 0004
deletes those rows: kept, doing nothing, because databases have it applied and later migrations depend on it."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("structures", "0002_object_permissions"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [migrations.RunPython(migrations.RunPython.noop, migrations.RunPython.noop)]
