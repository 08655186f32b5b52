"""Each caisse's calendar of public holidays (extranet/core/workdays.py), set from its code: Bas-Rhin, Haut-Rhin and
Moselle keep Alsace-Moselle's, the overseas caisses their territory's, the others the national holidays."""

from django.db import migrations, models

# The rule as it stood when this migration was written (extranet/core/workdays.py calendar_for_code): a migration
# must not change what it did when the code it would import changes.
CALENDARS = [
    ("metropole", "Métropole (fêtes nationales)"),
    ("alsace-moselle", "Alsace-Moselle (Vendredi saint, 26 décembre)"),
    ("guadeloupe", "Guadeloupe"),
    ("martinique", "Martinique"),
    ("guyane", "Guyane"),
    ("reunion", "La Réunion"),
    ("mayotte", "Mayotte"),
]
OVERSEAS = {"971": "guadeloupe", "972": "martinique", "973": "guyane", "974": "reunion", "976": "mayotte"}
ALSACE_MOSELLE_DEPARTMENTS = {"57", "67", "68"}


def set_from_code(apps, schema_editor):
    Caisse = apps.get_model("structures", "Caisse")
    for caisse in Caisse.objects.only("code"):
        local = "alsace-moselle" if caisse.code[:2] in ALSACE_MOSELLE_DEPARTMENTS else "metropole"
        caisse.calendar = OVERSEAS.get(caisse.code, local)
        caisse.save(update_fields=["calendar"])


class Migration(migrations.Migration):
    dependencies = [("structures", "0006_caisse_postal_address")]

    operations = [
        migrations.AddField(
            model_name="caisse",
            name="calendar",
            field=models.CharField(default="metropole", max_length=20),
            preserve_default=False,
        ),
        migrations.RunPython(set_from_code, migrations.RunPython.noop, elidable=True),
        migrations.AlterField(
            model_name="caisse",
            name="calendar",
            field=models.CharField(
                choices=CALENDARS,
                help_text=(
                    "Les jours fériés que la caisse ne travaille pas : âge des demandes, délais et relances en "
                    "jours ouvrés."
                ),
                max_length=20,
                verbose_name="calendrier des jours fériés",
            ),
        ),
        migrations.AddConstraint(
            model_name="caisse",
            constraint=models.CheckConstraint(
                condition=models.Q(calendar__in=[value for value, _ in CALENDARS]), name="caisse_calendar_known"
            ),
        ),
    ]
