"""The API token model now belongs to the accounts app (accounts 0003 took its table): only the state goes."""

from django.db import migrations


class Migration(migrations.Migration):

    dependencies = [
        ('api', '0001_initial'),
        ('accounts', '0003_apitoken'),
    ]

    operations = [migrations.SeparateDatabaseAndState(state_operations=[migrations.DeleteModel(name='ApiToken')])]
