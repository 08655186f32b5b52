"""Rights come from memberships (structures/policy.py): the object permission models that only mirrored them, and
the group ones nothing ever used, leave the code.

Their tables and rows stay in the database for one release: the previous version, still serving while this one
migrates (docs/deployment.md, « Mise à jour de la base ») and the one a rollback would bring back, reads them.
The next release drops them (docs/deployment.md lists the tables)."""

from django.db import migrations

GONE = (
    "CaisseGroupObjectPermission",
    "CaisseUserObjectPermission",
    "StructureGroupObjectPermission",
    "StructureUserObjectPermission",
)


class Migration(migrations.Migration):
    dependencies = [("structures", "0003_grant_existing_memberships")]

    operations = [
        migrations.SeparateDatabaseAndState(state_operations=[migrations.DeleteModel(name=name) for name in GONE]),
        migrations.AlterModelOptions(name="caisse", options={"ordering": ["code"]}),
        migrations.AlterModelOptions(name="structure", options={"ordering": ["name"]}),
    ]
