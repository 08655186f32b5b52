import sys

from django.apps import AppConfig


class RequestsConfig(AppConfig):
    """The partners' requests (demandes).

    The folder name shadows the PyPI ``requests`` library. Django REST framework imports
    ``requests`` optionally and, finding this package instead, builds its test client on
    attributes we do not have; telling it the library is absent is the truth for this project.
    """

    name = "requests"
    verbose_name = "Demandes"

    def ready(self):
        from rest_framework import compat

        if compat.requests is sys.modules[__name__.rpartition(".")[0]]:
            compat.requests = None
