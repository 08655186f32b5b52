"""Encryption at rest of the NIR (AES-256-GCM). The key comes from the environment (NIR_ENCRYPTION_KEY, 32 bytes
in base64); search and the duplicate guard use the keyed digest in requests/nir.py, never the cipher text."""

import base64
import os

from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import models

PREFIX = "v1:"


def _key():
    encoded = settings.NIR_ENCRYPTION_KEY
    try:
        key = base64.b64decode(encoded, validate=True)
    except ValueError as error:
        raise ImproperlyConfigured("NIR_ENCRYPTION_KEY must be 32 bytes in base64.") from error
    if len(key) != 32:
        raise ImproperlyConfigured("NIR_ENCRYPTION_KEY must be 32 bytes in base64.")
    return key


def encrypt(plain):
    nonce = os.urandom(12)
    sealed = AESGCM(_key()).encrypt(nonce, plain.encode(), b"nir")
    return PREFIX + base64.b64encode(nonce + sealed).decode()


def decrypt(stored):
    raw = base64.b64decode(stored.removeprefix(PREFIX))
    return AESGCM(_key()).decrypt(raw[:12], raw[12:], b"nir").decode()


class EncryptedCharField(models.CharField):
    """Stored encrypted, read in clear. Empty stays empty (retention erases by emptying)."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("max_length", 100)
        super().__init__(*args, **kwargs)

    def from_db_value(self, value, expression, connection):
        if not value:
            return value
        # Rows written before encryption existed are plain; the migration that introduced it encrypts them.
        return decrypt(value) if value.startswith(PREFIX) else value

    def get_prep_value(self, value):
        value = super().get_prep_value(value)
        if not value or value.startswith(PREFIX):
            return value
        return encrypt(value)
