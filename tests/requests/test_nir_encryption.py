import base64
import os
import subprocess
import sys

import pytest
from cryptography.exceptions import InvalidTag
from django.conf import settings
from django.db import connection

from extranet.core.crypto import decrypt, encrypt
from requests.models import Request
from tests.factories import RequestFactory, make_nir


def stored_nir(request):
    with connection.cursor() as cursor:
        cursor.execute("SELECT person_nir FROM requests_request WHERE id = %s", [request.pk])
        return cursor.fetchone()[0]


@pytest.mark.django_db
def test_the_nir_is_encrypted_in_the_database_and_clear_in_the_application():
    nir = make_nir(sex="2", year="77", month="03", order="654")
    request = RequestFactory(person_nir=nir)
    raw = stored_nir(request)
    assert raw.startswith("v1:") and nir not in raw and nir[:13] not in raw
    assert Request.objects.get(pk=request.pk).person_nir == nir


def test_each_encryption_is_different_and_bound_to_the_key(settings):
    nir = make_nir()
    first, second = encrypt(nir), encrypt(nir)
    assert first != second and decrypt(first) == decrypt(second) == nir
    settings.NIR_ENCRYPTION_KEY = base64.b64encode(os.urandom(32)).decode()
    with pytest.raises(InvalidTag):
        decrypt(first)


@pytest.mark.django_db
def test_retention_empties_it():
    request = RequestFactory()
    Request.objects.filter(pk=request.pk).update(person_nir="", purged_at=request.created_at)
    assert stored_nir(request) == ""


@pytest.mark.one_database
def test_production_refuses_to_start_without_the_key():
    env = {k: v for k, v in os.environ.items() if k not in {"DEBUG", "NIR_ENCRYPTION_KEY"}}
    env |= {"DEBUG": "false", "SECRET_KEY": "x" * 60, "NIR_HASH_KEY": "y" * 40, "ALLOWED_HOSTS": "extranet.example"}
    result = subprocess.run(
        [sys.executable, "-c", "import extranet.settings"],
        env=env,
        cwd=settings.BASE_DIR,
        capture_output=True,
        text=True,
    )
    assert result.returncode != 0 and "Missing configuration: NIR_ENCRYPTION_KEY." in result.stderr
