"""Checks of the production configuration (`manage.py check --deploy`)."""

from django.conf import settings
from django.core.checks import Error, Tags, Warning, register

# Caches each process keeps to itself: what one server writes there, the others never see.
PROCESS_LOCAL_CACHES = {
    "django.core.cache.backends.locmem.LocMemCache",
    "django.core.cache.backends.dummy.DummyCache",
}


@register(Tags.caches, deploy=True)
def shared_default_cache(app_configs, **kwargs):
    backend = settings.CACHES["default"]["BACKEND"]
    if settings.DEBUG or backend not in PROCESS_LOCAL_CACHES:
        return []
    return [
        Error(
            "Le cache par défaut est propre à chaque processus : chaque serveur d'application garderait les caisses "
            "d'une structure suspendue.",
            hint="CACHE_BACKEND=database (le défaut en production ; table créée par migrate).",
            id="extranet.E001",
        )
    ]


@register(Tags.security, deploy=True)
def webhooks_https_only(app_configs, **kwargs):
    if settings.DEBUG or not settings.WEBHOOK_ALLOWED_HTTP_HOSTS:
        return []
    return [
        Warning(
            "WEBHOOK_ALLOWED_HTTP_HOSTS laisse partir des webhooks en clair et vers des adresses privées : "
            + ", ".join(settings.WEBHOOK_ALLOWED_HTTP_HOSTS),
            hint="Laissez WEBHOOK_ALLOWED_HTTP_HOSTS vide en production (docs/webhooks.md).",
            id="extranet.W001",
        )
    ]
