"""Two application servers (gunicorn, 2 workers each, production settings, CONN_MAX_AGE=60) behind HAProxy, on the
suite's PostgreSQL database (issue 22, §8 and §10):

- the API's rate per token is one limit, whichever worker of whichever server counts (extranet/api/throttling.py);
- a kept connection that PostgreSQL cut (pg_terminate_backend) is opened again, not answered with a 500;
- a convention suspended on one server leaves the header of every server's every worker at its next page (issue 22,
  §3: the version of the remembered conventions in the shared cache, structures/conventions.py);
- marked `scaleout` (issue 20, the small version of `make bench-scaleout`, whose helpers they use: bench/scaleout.py):
  of agents taking charge of a request at once through HAProxy exactly one wins and the others are told; a session
  opened through HAProxy, second factor included, is one on each server.

HAProxy is never missing silently: `make test-packages` installs it, and without it these tests fail and say so.
"""

import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from typing import NamedTuple

import pytest
from django.conf import settings
from django.contrib.auth.hashers import PBKDF2PasswordHasher
from django.db import connection

from bench.run import signed_in_session
from bench.scaleout import CLIENTS, sign_in, sign_in_holds, take_charge_race, totp_code
from extranet.accounts.models import ApiToken, AuthenticatorApp
from requests.models import StatusChange
from structures.models import Convention
from tests.factories import (
    PASSWORD,
    CaisseMembershipFactory,
    ConventionFactory,
    RequestFactory,
    change_convention_status,
)

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.django_db(transaction=True),
]
MISSING_HAPROXY = (
    "HAProxy introuvable : ces tests le mettent devant deux serveurs d'application. `make test` l'installe "
    "(paquet Debian haproxy, `make test-packages`)."
)
# Production's cookie names (DEBUG off), which the servers read.
COOKIE_NAMES = {"session": "__Host-sessionid", "csrf": "__Host-csrftoken"}
TRIALS = 5

RATE = 120
STARTUP_SECONDS = 30
ME = "/api/v1/me/"


def token_of(user):
    _, key = ApiToken.objects.issue(user, name="Logiciel de suivi")
    return key


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def database_url():
    db = connection.settings_dict
    password = f":{db['PASSWORD']}" if db["PASSWORD"] else ""
    return f"postgres://{db['USER']}{password}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


def server_env():
    """A production server's variables, on the test database (its NAME is the test database's by now)."""
    keep = {k: v for k, v in os.environ.items() if k not in {"DEBUG", "DJANGO_SETTINGS_MODULE", "CACHE_BACKEND"}}
    return keep | {
        "DJANGO_SETTINGS_MODULE": "extranet.settings",
        # The suite's: the servers read the sessions the suite's client opens.
        "SECRET_KEY": settings.SECRET_KEY,
        # The suite's too: the servers read the NIRs of the requests the suite's factories make.
        "NIR_HASH_KEY": settings.NIR_HASH_KEY,
        "NIR_ENCRYPTION_KEY": settings.NIR_ENCRYPTION_KEY,
        "ALLOWED_HOSTS": "127.0.0.1",
        "SECURE_SSL_REDIRECT": "false",
        "DATABASE_URL": database_url(),
        "CONN_MAX_AGE": "60",
        "API_THROTTLE_RATE": f"{RATE}/minute",
        "LOG_LEVEL": "ERROR",
    }


HAPROXY = """
defaults
    mode http
    timeout connect 5s
    timeout client 30s
    timeout server 30s
frontend front
    bind 127.0.0.1:{front}
    default_backend apps
backend apps
    balance roundrobin
{servers}
"""


def status_of(url, key=None):
    request = urllib.request.Request(url, headers={"Authorization": f"Token {key}"} if key else {})  # noqa: S310
    try:
        with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310 — a local test server
            return response.status
    except urllib.error.HTTPError as error:
        return error.code


def page(url, session_key):
    """A page as a signed-in browser gets it (production's cookie name)."""
    request = urllib.request.Request(url, headers={"Cookie": f"__Host-sessionid={session_key}"})  # noqa: S310
    with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310 — a local test server
        return response.read().decode()


def wait_until_answering(url, processes):
    deadline = time.monotonic() + STARTUP_SECONDS
    while time.monotonic() < deadline:
        if any(process.poll() is not None for process in processes):
            pytest.fail("Un serveur s'est arrêté au démarrage (voir son journal dans le dossier temporaire du test).")
        try:
            status_of(url)
            return
        except OSError:
            threading.Event().wait(0.2)
    pytest.fail(f"{url} ne répond pas après {STARTUP_SECONDS} s.")


class Cluster(NamedTuple):
    front: str  # the load balancer
    apps: list  # each application server, directly


@pytest.fixture(scope="module")
def cluster(django_db_setup, django_db_blocker, tmp_path_factory):
    """The addresses of the load balancer and of each server; they stop at the end of the module."""
    if shutil.which("haproxy") is None:
        pytest.fail(MISSING_HAPROXY)
    logs = tmp_path_factory.mktemp("two-servers")
    ports = [free_port(), free_port()]
    processes = []
    try:
        with django_db_blocker.unblock():
            env = server_env()
        for port in ports:
            log = open(logs / f"gunicorn-{port}.log", "wb")  # noqa: SIM115 — closed with the process
            # --preload: Django starts once per server, its workers fork from it (on 2 busy cores, seconds saved).
            command = [sys.executable, "-m", "gunicorn", "extranet.wsgi:application", "--workers", "2", "--preload"]
            command += ["--bind", f"127.0.0.1:{port}", "--timeout", "30", "--graceful-timeout", "1"]
            processes.append(
                subprocess.Popen(command, env=env, cwd=settings.BASE_DIR, stdout=log, stderr=log)  # noqa: S603
            )
        front_port = free_port()
        servers = "\n".join(f"    server app{n} 127.0.0.1:{port}" for n, port in enumerate(ports, 1))
        config = logs / "haproxy.cfg"
        config.write_text(HAPROXY.format(front=front_port, servers=servers))
        haproxy_log = open(logs / "haproxy.log", "wb")  # noqa: SIM115 — closed with the process
        processes.append(
            subprocess.Popen(  # noqa: S603
                [shutil.which("haproxy"), "-db", "-f", str(config)], stdout=haproxy_log, stderr=haproxy_log
            )
        )
        for port in [*ports, front_port]:
            wait_until_answering(f"http://127.0.0.1:{port}/connexion/", processes)
        yield Cluster(f"http://127.0.0.1:{front_port}", [f"http://127.0.0.1:{port}" for port in ports])
    finally:
        for process in processes:
            # Quick shutdown, for gunicorn (its workers given a second) and HAProxy alike.
            process.send_signal(signal.SIGINT)
        for process in processes:
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def a_window_with_room():
    """Waits, if need be, for a new minute: the burst below then falls within one window of the rate."""
    into_the_minute = time.time() % 60
    if into_the_minute > 50:
        threading.Event().wait(60 - into_the_minute + 0.2)


def test_the_rate_per_token_is_one_limit_across_servers_and_workers(cluster, technicien):
    front, key = cluster.front, token_of(technicien)
    a_window_with_room()
    with ThreadPoolExecutor(max_workers=16) as pool:
        statuses = list(pool.map(lambda _: status_of(f"{front}{ME}", key), range(2 * RATE)))
    accepted = statuses.count(200)
    print(f"\nAcceptées : {accepted} sur {len(statuses)} pour une limite de {RATE}/minute.")  # the report's figure
    assert set(statuses) <= {200, 429}, statuses
    assert abs(accepted - RATE) <= RATE * 0.02


def test_a_cut_kept_connection_is_opened_again(cluster, technicien):
    front, key = cluster.front, token_of(technicien)
    # Each worker of each server answers and keeps its connection (CONN_MAX_AGE=60)…
    assert [status_of(f"{front}{ME}", key) for _ in range(8)] == [200] * 8
    # …which PostgreSQL cuts: a restart, an idle timeout, an operator's pg_terminate_backend.
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
            "WHERE datname = current_database() AND pid <> pg_backend_pid()"
        )
        (terminated,) = cursor.fetchone()
    assert terminated >= 2
    assert [status_of(f"{front}{ME}", key) for _ in range(8)] == [200] * 8


def test_a_convention_suspended_leaves_the_header_of_every_server_at_its_next_page(
    cluster, client, settings, technicien, structure, other_caisse
):
    ConventionFactory(structure=structure, caisse=other_caisse)
    client.force_login(technicien)
    session = client.cookies[settings.SESSION_COOKIE_NAME].value
    # Each server's workers remember the structure's two caisses (a few pages each, whichever worker serves them).
    for app in cluster.apps:
        for _ in range(4):
            assert "CPAM DE LA GIRONDE</strong>" in page(f"{app}/", session)
    # Suspended by an administrateur on a server of its own, whose cache is the others' (the database's).
    settings.CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.db.DatabaseCache", "LOCATION": "django_cache"}
    }
    change_convention_status(structure.conventions.get(caisse__code="331"), Convention.Status.SUSPENDED)
    for app in cluster.apps:
        for _ in range(4):
            shown = page(f"{app}/", session)
            assert "CPAM DE LA LOIRE</strong>" in shown and "gironde" not in shown.lower()


def signed_in_cookies(user):
    """A complete sign-in's session (made in the database) and a CSRF secret, sent as the cookie and the form's
    token."""
    secret = secrets.token_hex(16)
    return {COOKIE_NAMES["session"]: signed_in_session(user), COOKIE_NAMES["csrf"]: secret, "csrf_token": secret}


@pytest.mark.scaleout
def test_of_agents_taking_charge_at_once_through_the_load_balancer_exactly_one_wins(
    cluster, caisse, structure, technicien
):
    agents = [CaisseMembershipFactory(caisse=caisse).user for _ in range(4)]
    cookie_sets = [signed_in_cookies(agents[n % len(agents)]) for n in range(CLIENTS)]
    for _ in range(TRIALS):
        demande = RequestFactory(structure=structure, caisse=caisse, author=technicien)
        logged = StatusChange.objects.filter(request=demande).count()
        outcomes = take_charge_race(cluster.front, cookie_sets, demande.number)
        # Every post answered with the page that tells its outcome: one "taken", the others the refusal.
        assert sorted(outcomes) == [(302, "refused")] * (CLIENTS - 1) + [(302, "taken")]
        demande.refresh_from_db()
        assert demande.status == "in_progress" and demande.assigned_to in agents
        assert StatusChange.objects.filter(request=demande).count() == logged + 1


@pytest.mark.scaleout
def test_a_session_opened_through_the_load_balancer_second_factor_included_is_one_on_each_server(cluster, technicien):
    # Hashed with a hasher of production's: the suite's fast one is not one the servers know. A thousand iterations,
    # not a million (a quarter of a second on each side): the servers check it the same way, then hash it again with
    # Argon2 as at any sign-in with a hash of the older hasher.
    hasher = PBKDF2PasswordHasher()
    technicien.password = hasher.encode(PASSWORD, hasher.salt(), iterations=1000)
    technicien.save(update_fields=["password"])
    key = secrets.token_hex(20)
    AuthenticatorApp.objects.create(user=technicien, name="Application d'authentification", key=key, confirmed=True)
    outcomes = sign_in(cluster.front, cluster.apps, technicien.email, PASSWORD, lambda: totp_code(key))
    assert sign_in_holds(outcomes), outcomes
