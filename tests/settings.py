"""The suite's settings: the project's, in development mode, asked for explicitly (extranet/settings.py fails closed).

Tests that check production behaviour start their own process with DEBUG=false and the production variables."""

import os

os.environ["DEBUG"] = "true"

from extranet.settings import *  # noqa: E402, F403

# The webhooks' tests post to a real receiver on this machine (tests/extranet/notifications/receiver.py).
WEBHOOK_ALLOWED_HTTP_HOSTS = ["127.0.0.1"]

# Argon2 is deliberately slow; the suite checks it is configured (test_passwords_are_hashed_with_argon2) and uses MD5
# elsewhere, module-scoped fixtures included (they are built before any test's `settings` fixture).
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
