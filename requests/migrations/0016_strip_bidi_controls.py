"""Texts stored before the cleaning of extranet/core/text.py lose their bidirectional controls too: the person's names,
the details, the messages and the MAS referrals' texts. Only the rows holding one are read."""

import re

from django.db import migrations

# extranet/core/text.py's BIDI_CONTROLS, as it was when this migration was written.
BIDI = "[\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]"
TEXTS = {
    "Request": ["person_last_name", "person_first_name"],
    "Message": ["body"],
    "MasReferral": ["action_other", "care_other", "cause_other", "detector_name", "detector_phone"],
}


def strip(value):
    if isinstance(value, str):
        return re.sub(BIDI, "", value)
    if isinstance(value, dict):
        return {key: strip(item) for key, item in value.items()}
    if isinstance(value, list):
        return [strip(item) for item in value]
    return value


def strip_bidi_controls(apps, schema_editor):
    for model_name, fields in TEXTS.items():
        model = apps.get_model("requests", model_name)
        for field in fields:
            for row in model.objects.filter(**{f"{field}__regex": BIDI}).only("pk", field).iterator():
                model.objects.filter(pk=row.pk).update(**{field: strip(getattr(row, field))})
    request = apps.get_model("requests", "Request")
    # The details are JSON, a control may sit in any of their values. PostgreSQL reads them as text (where the
    # characters are themselves); SQLite's text escapes them, so every row is read there (development databases).
    rows = request.objects.only("pk", "details")
    if schema_editor.connection.vendor == "postgresql":
        rows = rows.extra(where=["details::text ~ %s"], params=[BIDI])  # noqa: S610 (a constant, as a parameter)
    for row in rows.iterator():
        cleaned = strip(row.details)
        if cleaned != row.details:
            request.objects.filter(pk=row.pk).update(details=cleaned)


class Migration(migrations.Migration):
    dependencies = [("requests", "0015_public_ids")]

    operations = [migrations.RunPython(strip_bidi_controls, migrations.RunPython.noop)]
