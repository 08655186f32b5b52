"""The caisse's postal address, printed as the sender's on its requests' PDFs."""

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('structures', '0005_convention_change'),
    ]

    operations = [
        migrations.AddField(
            model_name='caisse',
            name='postal_address',
            field=models.TextField(blank=True, db_default='', default='', help_text="Une ligne par ligne d'adresse ; la dernière : code postal et ville.", verbose_name='adresse postale'),
        ),
    ]
