"""The default cache's table (django_cache, extranet/settings.py), created by migrate rather than by a command to
remember: production's cache is shared by the application servers through the database. Created whatever this
process's own cache is (the demo's and the suite's are in memory), so that a database migrated once serves both; left
as it is if `createcachetable` made it before."""

from django.core.management.commands.createcachetable import Command as CreateCacheTable
from django.db import migrations

TABLE = "django_cache"


def create(apps, schema_editor):
    command = CreateCacheTable()
    command.verbosity = 0
    command.create_table(schema_editor.connection.alias, TABLE, dry_run=False)


def drop(apps, schema_editor):
    schema_editor.execute(f"DROP TABLE IF EXISTS {schema_editor.quote_name(TABLE)}")


class Migration(migrations.Migration):
    dependencies = [("extranet", "0001_daily_jobs_moved_to_the_scheduler")]

    operations = [migrations.RunPython(create, drop)]
