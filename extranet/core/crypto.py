"""Encryption at rest of the NIR (AES-256-GCM). The key comes from the environment (NIR_ENCRYPTION_KEY, 32 bytes
in base64); search and the duplicate guard use the keyed digest in requests/nir.py, never the cipher text.

The same key seals the second factor's TOTP secrets, with other associated data (`purpose`): a sealed value only
opens for the purpose it was sealed for, so a NIR's cipher text can never be passed off as a secret, nor the
reverse."""

import base64
import hashlib
import hmac
import os
from functools import lru_cache

from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import models

PREFIX = "v1:"


def _cipher():
    return _cipher_of(settings.NIR_ENCRYPTION_KEY)


@lru_cache(maxsize=4)
def _cipher_of(encoded):
    """The key's AES-GCM cipher, built once per key rather than per value: the personal-data export opens 100,000
    NIRs, 4 µs each with the key decoded and the cipher built every time, 1.3 µs with it kept (measured)."""
    try:
        key = base64.b64decode(encoded, validate=True)
    except ValueError as error:
        raise ImproperlyConfigured("NIR_ENCRYPTION_KEY must be 32 bytes in base64.") from error
    if len(key) != 32:
        raise ImproperlyConfigured("NIR_ENCRYPTION_KEY must be 32 bytes in base64.")
    return AESGCM(key)


def seal(raw, *, purpose):
    """Bytes sealed for this purpose, as text: `v1:` and base64 of nonce, cipher text and tag."""
    nonce = os.urandom(12)
    return PREFIX + base64.b64encode(nonce + _cipher().encrypt(nonce, raw, purpose)).decode()


def unseal(stored, *, purpose):
    raw = base64.b64decode(stored.removeprefix(PREFIX))
    return _cipher().decrypt(raw[:12], raw[12:], purpose)


def encrypt(plain):
    return seal(plain.encode(), purpose=b"nir")


def decrypt(stored):
    return unseal(stored, purpose=b"nir").decode()


def keyed_digest(value, *, purpose):
    """HMAC-SHA256 of a value with NIR_HASH_KEY, for values only ever compared: without the key, the digests of
    a small space (a backup code) cannot be computed in advance nor brute-forced from a copy of the database."""
    message = purpose + b"\0" + value.encode()
    return hmac.new(settings.NIR_HASH_KEY.encode(), message, hashlib.sha256).hexdigest()


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
