from django.apps import AppConfig


class ApiConfig(AppConfig):
    name = "extranet.api"
    label = "api"
    verbose_name = "API"

    def ready(self):
        # Registers the OpenAPI description of the token scheme (a drf-spectacular extension). This app comes after
        # `requests` in INSTALLED_APPS, whose ready() keeps DRF from taking it for the `requests` library.
        from extranet.api import authentication  # noqa: F401
