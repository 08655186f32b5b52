import pytest

from tests.factories import (
    CaisseFactory,
    CaisseMembershipFactory,
    ConventionFactory,
    MembershipFactory,
)


def pytest_collection_modifyitems(config, items):
    """Tests marked `postgres` prove row locking and real concurrency: they need PostgreSQL."""
    from django.conf import settings

    if settings.DATABASES["default"]["ENGINE"].endswith("postgresql"):
        return
    skip = pytest.mark.skip(reason="PostgreSQL only (set DATABASE_URL=postgres://…)")
    for item in items:
        if "postgres" in item.keywords:
            item.add_marker(skip)


@pytest.fixture(autouse=True)
def fast_password_hashing(settings):
    # Argon2 is deliberately slow; the suite checks it is configured (test_passwords) and uses MD5 elsewhere.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def caisse(db):
    return CaisseFactory(code="331", name="CPAM de la Gironde")


@pytest.fixture
def other_caisse(db):
    return CaisseFactory(code="421", name="CPAM de la Loire")


@pytest.fixture
def structure(caisse):
    return ConventionFactory(caisse=caisse, structure__name="Association Alpha").structure


@pytest.fixture
def other_structure(other_caisse):
    return ConventionFactory(caisse=other_caisse, structure__name="Association Beta").structure


@pytest.fixture
def technicien(structure):
    return MembershipFactory(structure=structure).user


@pytest.fixture
def gestionnaire(structure):
    return MembershipFactory(structure=structure, gestionnaire=True).user


@pytest.fixture
def agent(caisse):
    return CaisseMembershipFactory(caisse=caisse).user


@pytest.fixture
def caisse_admin(caisse):
    return CaisseMembershipFactory(caisse=caisse, admin=True).user


@pytest.fixture
def other_gestionnaire(other_structure):
    return MembershipFactory(structure=other_structure, gestionnaire=True).user


@pytest.fixture
def other_caisse_admin(other_caisse):
    return CaisseMembershipFactory(caisse=other_caisse, admin=True).user


@pytest.fixture
def commit(django_capture_on_commit_callbacks):
    """`with commit(): ...` runs what the action queued for after its transaction (emails), as production does."""
    return lambda: django_capture_on_commit_callbacks(execute=True)


@pytest.fixture
def client_factory():
    """Another browser: a second client with its own cookies."""
    from django.test import Client

    return Client


@pytest.fixture(autouse=True)
def private_media(tmp_path, settings):
    """Attachments land in a temporary folder, never in the project's private/ folder."""
    root = tmp_path / "private"
    root.mkdir()
    settings.PRIVATE_MEDIA_ROOT = root
    return root
