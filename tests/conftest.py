import pytest
from django.contrib.contenttypes.models import ContentType
from django.test import Client
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.plugins.otp_totp.models import TOTPDevice

from structures import conventions
from tests.factories import (
    CaisseFactory,
    CaisseMembershipFactory,
    ConventionFactory,
    MembershipFactory,
    RequestFactory,
)
from tests.helpers import log_in_with_password_only

POSTGRES_ONLY = "PostgreSQL only (set DATABASE_URL=postgres://…)"


def left_to(other):
    return f"left to the {other} run alongside (one database is enough)"


# What the summary says of the tests skipped for each reason. The skips are counted from the tests' reports, not at
# collection: under pytest-xdist the process that writes the summary collects nothing, its workers do.
SKIP_SUMMARIES = {
    POSTGRES_ONLY: "Tests PostgreSQL ignorés sur SQLite : {} (DATABASE_URL=postgres://… make test pour les lancer).",
    left_to("PostgreSQL"): (
        "Tests laissés à la passe PostgreSQL qui tourne en même temps : {} (processus à part, configuration : une "
        "seule base suffit)."
    ),
    left_to("SQLite"): (
        "Tests laissés à la passe SQLite qui tourne en même temps : {} (parcours dans le navigateur : une seule base "
        "suffit)."
    ),
    "SKIP_BROWSER=1": "Tests de navigateur ignorés à la demande (SKIP_BROWSER=1) : {}.",
}


def pytest_addoption(parser):
    parser.addoption(
        "--alongside",
        action="store_true",
        help="the other database's run of the suite goes at the same time (make test): share the one-database tests",
    )


class SkipSummary:
    def __init__(self):
        self.counts = dict.fromkeys(SKIP_SUMMARIES, 0)

    def pytest_runtest_logreport(self, report):
        if report.skipped and report.when == "setup" and isinstance(report.longrepr, tuple):
            reason = report.longrepr[2].removeprefix("Skipped: ")
            if reason in self.counts:
                self.counts[reason] += 1

    def pytest_terminal_summary(self, terminalreporter):
        for reason, count in self.counts.items():
            if count:
                terminalreporter.write_line(SKIP_SUMMARIES[reason].format(count))


def pytest_configure(config):
    config.pluginmanager.register(SkipSummary(), "skip-summary")


def _is_postgres():
    from django.conf import settings

    return settings.DATABASES["default"]["ENGINE"].endswith("postgresql")


@pytest.hookimpl(trylast=True)  # after tests/browser/conftest.py: what SKIP_BROWSER=1 skips is not left to anyone
def pytest_collection_modifyitems(config, items):
    """Tests marked `postgres` prove row locking and real concurrency: they need PostgreSQL.

    The browser journeys and the tests marked `one_database` prove nothing of the database itself (pages driven in
    Chromium; processes started apart, configuration). When both runs go together (`make test`, `--alongside` on
    each), they are shared so that the two runs end close together: the browser journeys in the SQLite run, the
    other one-database tests in the PostgreSQL run (production's database, for the processes started apart). Each
    run's summary says how many it left to the other; a run alone runs them all."""
    on_postgres = _is_postgres()
    if not on_postgres:
        skip = pytest.mark.skip(reason=POSTGRES_ONLY)
        for item in items:
            if "postgres" in item.keywords:
                item.add_marker(skip)
    if config.getoption("--alongside"):
        shared, other = ("browser", "SQLite") if on_postgres else ("one_database", "PostgreSQL")
        leave = pytest.mark.skip(reason=left_to(other))
        for item in items:
            if shared in item.keywords and "postgres" not in item.keywords and not item.get_closest_marker("skip"):
                item.add_marker(leave)


@pytest.fixture(autouse=True)
def force_login_passes_second_factor(monkeypatch):
    """`client.force_login(user)` stands for a complete sign-in, second factor included, as most tests need.

    Tests of the sign-in itself go through the login and verification pages instead
    (tests/extranet/accounts/test_second_factor.py), or call `tests.helpers.log_in_with_password_only`."""
    monkeypatch.setattr(Client, "force_login", _force_login_with_second_factor)


def _force_login_with_second_factor(client, user, backend=None):
    log_in_with_password_only(client, user, backend)
    device = TOTPDevice.objects.filter(user=user, confirmed=True).first() or TOTPDevice.objects.create(
        user=user, name="Application d'authentification"
    )
    session = client.session
    session[DEVICE_ID_SESSION_KEY] = device.persistent_id
    session.save()


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
def technicien_client(client, technicien):
    client.force_login(technicien)
    return client


@pytest.fixture
def gestionnaire_client(client, gestionnaire):
    client.force_login(gestionnaire)
    return client


@pytest.fixture
def agent_client(client, agent):
    client.force_login(agent)
    return client


@pytest.fixture
def admin_client(client, caisse_admin):
    client.force_login(caisse_admin)
    return client


@pytest.fixture
def demande(structure, caisse, technicien):
    """A new request of `structure` to `caisse`, deposited by `technicien`."""
    return RequestFactory(structure=structure, caisse=caisse, author=technicien)


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
def no_remembered_content_types():
    """Each test starts with Django's content types unread, as a new process would: its query counts do not depend
    on which tests ran before it."""
    ContentType.objects.clear_cache()


@pytest.fixture(autouse=True)
def no_remembered_conventions():
    """Each test's structures are new, whatever ids an earlier test's had (structures/conventions.py)."""
    conventions.forget_here()


@pytest.fixture(autouse=True)
def private_media(tmp_path, settings):
    """Attachments land in a temporary folder, never in the project's private/ folder."""
    root = tmp_path / "private"
    root.mkdir()
    settings.PRIVATE_MEDIA_ROOT = root
    return root
