"""The right to resolve is granted to the agent in charge, never to a group: the group model leaves the code. Its
(empty) table stays for one release, as structures 0004's do, for the previous version still serving."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("requests", "0007_structure_newest_all_caisses")]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[migrations.DeleteModel(name="RequestGroupObjectPermission")]
        )
    ]
