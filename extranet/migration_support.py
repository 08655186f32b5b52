"""Helpers for data migrations (imported by migrations: keep their behaviour stable)."""

from django.contrib.auth.management import create_permissions


def ensure_permissions(apps):
    """Django creates permissions after the whole migrate; a migration granting some needs them at once."""
    for app_config in apps.get_app_configs():
        app_config.models_module = True
        create_permissions(app_config, apps=apps, verbosity=0)
        app_config.models_module = None
