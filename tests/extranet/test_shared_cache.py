"""In production the default cache is shared by every application server (the database's), migrate creates its
table, and `check --deploy` refuses a cache of each process (extranet/settings.py, extranet/checks.py)."""

import json

import pytest
from django.core.cache import cache
from django.db import connection

from tests.extranet.test_security_headers import production_env, run

DATABASE_CACHE = {"BACKEND": "django.core.cache.backends.db.DatabaseCache", "LOCATION": "django_cache"}
CACHE_SETTINGS = """
import json
import django
django.setup()
from django.conf import settings as s
print(json.dumps({"cache": s.CACHES["default"], "health_checks": s.DATABASES["default"]["CONN_HEALTH_CHECKS"]}))
"""


@pytest.mark.one_database
def test_production_shares_the_default_cache_through_the_database_and_checks_kept_connections():
    result = run(["-c", CACHE_SETTINGS], production_env())
    assert result.returncode == 0, result.stderr
    values = json.loads(result.stdout.strip().splitlines()[-1])
    assert values["cache"] == DATABASE_CACHE
    assert values["health_checks"] is True


@pytest.mark.one_database
def test_check_deploy_refuses_a_cache_of_each_process():
    result = run(["manage.py", "check", "--deploy", "--fail-level", "WARNING"], production_env(CACHE_BACKEND="locmem"))
    assert result.returncode == 1
    assert "extranet.E001" in result.stderr and "propre à chaque processus" in result.stderr


@pytest.mark.one_database
def test_an_unknown_cache_backend_is_refused_at_start():
    result = run(["-c", CACHE_SETTINGS], production_env(CACHE_BACKEND="redis"))
    assert result.returncode == 1
    assert "CACHE_BACKEND must be one of: database, locmem." in result.stderr


@pytest.mark.django_db
def test_migrate_creates_the_cache_table(settings):
    assert "django_cache" in connection.introspection.table_names()
    settings.CACHES = {"default": DATABASE_CACHE}
    cache.set("probe", "servi par la base")
    assert cache.get("probe") == "servi par la base"
