#!/usr/bin/env python
import os
import sys

if __name__ == "__main__":
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "extranet.settings")
    if sys.argv[1:2] == ["makemigrations"]:
        # It writes migration files from the models, which use no secret and touch no data: a contributor (or a
        # checker) runs it without configuring anything. Every other command fails closed without the keys.
        os.environ.setdefault("DEBUG", "true")
    from django.conf import settings
    from django.core.exceptions import ImproperlyConfigured
    from django.core.management import execute_from_command_line

    try:
        # Read the settings now: a missing production variable stops here with its one message, not a traceback.
        settings.INSTALLED_APPS  # noqa: B018
    except ImproperlyConfigured as error:
        sys.exit(str(error))
    execute_from_command_line(sys.argv)
