"""The project's configuration (extranet/settings.py): no start without the production keys, French in Paris, and
error pages in French. The demo's data: tests/extranet/test_seed_demo.py."""

import os
import subprocess
import sys

import pytest
from django.conf import settings

from tests.helpers import text

# Settings read by processes of their own, and the French error pages: nothing of the database (tests/conftest.py).
pytestmark = pytest.mark.one_database

PRODUCTION_KEYS = {"DEBUG", "SECRET_KEY", "NIR_HASH_KEY", "NIR_ENCRYPTION_KEY", "ALLOWED_HOSTS"} | {
    "DJANGO_SETTINGS_MODULE"
}


def run_manage(*args, **env):
    """manage.py in a process of its own, started as an operator would: none of the suite's variables."""
    clean = {k: v for k, v in os.environ.items() if k not in PRODUCTION_KEYS}
    return subprocess.run(  # noqa: S603 — the test's own interpreter and arguments
        [sys.executable, "manage.py", *args], env=clean | env, cwd=settings.BASE_DIR, capture_output=True, text=True
    )


def run_settings(**env):
    script = "from django.conf import settings as s; print(s.DEBUG, s.SECRET_KEY[:8])"
    return run_manage("shell", "--no-imports", "-c", script, **env)


@pytest.mark.parametrize("debug", [None, "false", "0"])
def test_a_server_without_configuration_refuses_to_start_and_names_what_is_missing(debug):
    """DEBUG defaults to off: a forgotten DEBUG=false cannot run production on the development secret."""
    result = run_manage("runserver", "--noreload", "127.0.0.1:0", **({"DEBUG": debug} if debug else {}))
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 2, result.stderr  # the same sentence in French, then in English
    names = "SECRET_KEY, NIR_HASH_KEY, NIR_ENCRYPTION_KEY, ALLOWED_HOSTS."
    assert lines[0].startswith(f"Configuration manquante : {names}")
    assert lines[1].startswith(f"Missing configuration: {names}")
    assert "DEBUG=true" in lines[0] and "DEBUG=true" in lines[1]


def test_makemigrations_needs_no_configuration_since_it_reads_only_the_models():
    result = run_manage("makemigrations", "--check", "--dry-run")
    assert result.returncode == 0, result.stderr
    assert "No changes detected" in result.stdout
    # The exception is that command's alone: the others still refuse.
    assert run_manage("migrate", "--plan").returncode == 1


def test_the_refusal_names_only_the_variables_still_missing():
    result = run_settings(SECRET_KEY="une-vraie-cle-secrete-de-production", ALLOWED_HOSTS="extranet.example")
    assert result.returncode == 1
    assert "Configuration manquante : NIR_HASH_KEY, NIR_ENCRYPTION_KEY." in result.stderr


def test_an_empty_variable_counts_as_missing():
    result = run_settings(
        SECRET_KEY=" ", NIR_HASH_KEY="autre-cle", NIR_ENCRYPTION_KEY=ENCRYPTION_KEY, ALLOWED_HOSTS="extranet.example"
    )
    assert "Configuration manquante : SECRET_KEY." in result.stderr


def test_debug_true_alone_runs_on_the_development_keys():
    result = run_settings(DEBUG="true")
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["True", "dev-only"]


ENCRYPTION_KEY = "QUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUE="


def test_production_reads_secret_key_from_environment():
    result = run_settings(
        SECRET_KEY="une-vraie-cle-secrete-de-production",
        NIR_HASH_KEY="autre-cle",
        NIR_ENCRYPTION_KEY=ENCRYPTION_KEY,
        ALLOWED_HOSTS="extranet.example",
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["False", "une-vrai"]


def test_project_speaks_french_in_paris():
    assert (settings.LANGUAGE_CODE, settings.TIME_ZONE, settings.USE_TZ) == ("fr", "Europe/Paris", True)


@pytest.mark.django_db
def test_error_pages_are_in_french(client, technicien):
    client.force_login(technicien)
    assert "Page introuvable" in text(client.get("/nexiste-pas/"))
    assert "Accès refusé" in text(client.get("/caisse/agents/"))
