"""The right to resolve is granted to the agent in charge, never to a group: the group table was never used."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("requests", "0007_structure_newest_all_caisses"),
        # Whose deletion of the mirrored permissions cascades through every object permission table still there.
        ("structures", "0004_rights_from_memberships"),
    ]

    operations = [migrations.DeleteModel(name="RequestGroupObjectPermission")]
