"""The API's request counts, in the database every application server shares (extranet/api/throttling.py)."""

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('api', '0002_delete_apitoken'),
    ]

    operations = [
        migrations.CreateModel(
            name='RateCounter',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('key', models.CharField(max_length=100, unique=True)),
                ('window_start', models.BigIntegerField(help_text='Début de la fenêtre, en secondes depuis 1970 (UTC).')),
                ('hits', models.PositiveIntegerField()),
            ],
        ),
    ]
