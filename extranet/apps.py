from django.apps import AppConfig


class ExtranetConfig(AppConfig):
    """The composition on top of the apps (URLs, pages, middleware, the nightly scheduler): an app for its management
    command and the migration that followed the scheduler's move."""

    name = "extranet"
    verbose_name = "Espace Partenaires"
