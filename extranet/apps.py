from django.apps import AppConfig


class ExtranetConfig(AppConfig):
    """The composition on top of the apps (URLs, pages, middleware, the nightly scheduler): an app for its management
    command, its migrations (the scheduler's move, the cache's table) and the deploy checks."""

    name = "extranet"
    verbose_name = "Espace Partenaires"

    def ready(self):
        from extranet import checks  # noqa: F401 — registers the deploy checks
