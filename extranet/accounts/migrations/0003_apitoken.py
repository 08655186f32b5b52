"""API tokens move from the api app to the accounts app (an account's credentials; the API reads them from below).
The table exists (api 0001): it is adopted as it is, under its name, which the previous version still serving
during the upgrade reads (the next release may rename it)."""

import django.db.models.deletion
import django.utils.timezone
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('accounts', '0002_user_notify_daily_digest_user_notify_take_charge'),
        ('api', '0001_initial'),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(state_operations=[migrations.CreateModel(
            name='ApiToken',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('name', models.CharField(max_length=100, verbose_name='nom')),
                ('prefix', models.CharField(max_length=8, verbose_name='début de la clé')),
                ('digest', models.CharField(max_length=64, unique=True, verbose_name='empreinte de la clé')),
                ('created_at', models.DateTimeField(default=django.utils.timezone.now, verbose_name='créé le')),
                ('last_used_at', models.DateTimeField(blank=True, null=True, verbose_name='dernière utilisation')),
                ('revoked_at', models.DateTimeField(blank=True, null=True, verbose_name='révoqué le')),
                ('created_by', models.ForeignKey(blank=True, help_text="Vide pour un jeton émis par l'exploitant (commande issue_api_token).", null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to=settings.AUTH_USER_MODEL, verbose_name='créé par')),
                ('user', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='api_tokens', to=settings.AUTH_USER_MODEL, verbose_name='compte')),
            ],
            options={
                'verbose_name': "jeton d'API",
                'verbose_name_plural': "jetons d'API",
                'ordering': ['-created_at', '-pk'],
                'indexes': [models.Index(fields=['user', 'revoked_at'], name='api_token_user_revoked')],
                'db_table': 'api_apitoken',
            },
        )]),
    ]
