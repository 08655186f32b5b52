"""Messages and attachments get a random public id (their integer keys stay internal). Added empty, filled row by
row (a default computed once would give every existing row the same id), then made unique and required."""

import uuid

from django.db import migrations, models


def fill_public_ids(apps, schema_editor):
    for model_name in ("Message", "Attachment"):
        model = apps.get_model("requests", model_name)
        if schema_editor.connection.vendor == "postgresql":
            # One statement for the whole table (PostgreSQL 13 and later generate version 4 UUIDs themselves).
            table = schema_editor.quote_name(model._meta.db_table)
            schema_editor.execute(f"UPDATE {table} SET public_id = gen_random_uuid() WHERE public_id IS NULL")
            continue
        for pk in model.objects.filter(public_id__isnull=True).values_list("pk", flat=True).iterator():
            model.objects.filter(pk=pk).update(public_id=uuid.uuid4())


class Migration(migrations.Migration):
    dependencies = [("requests", "0014_person_names_newest_first")]

    operations = [
        migrations.AddField(model_name="message", name="public_id", field=models.UUIDField(null=True, editable=False)),
        migrations.AddField(
            model_name="attachment", name="public_id", field=models.UUIDField(null=True, editable=False)
        ),
        migrations.RunPython(fill_public_ids, migrations.RunPython.noop),
        migrations.AlterField(
            model_name="message",
            name="public_id",
            field=models.UUIDField(default=uuid.uuid4, editable=False, unique=True),
        ),
        migrations.AlterField(
            model_name="attachment",
            name="public_id",
            field=models.UUIDField(default=uuid.uuid4, editable=False, unique=True),
        ),
    ]
