"""Several application servers behind a real load balancer (issue 20): two gunicorn servers sharing one PostgreSQL
database (hence the default cache, the database's: extranet/settings.py, extranet/checks.py) and one media folder,
behind HAProxy (round robin), started here as unprivileged processes on 127.0.0.1 with their own configuration.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/extranet_scaleout .venv/bin/python bench/generate.py --reset \
        --requests 20000 --big 5000
    .venv/bin/python bench/scaleout.py --database-url postgres://postgres@127.0.0.1:5432/extranet_scaleout

Shows, and prints:
(a) the take-charge race through the load balancer: one winner per trial of 16 clients at once, the others refused
    with the project's message (never a 500), one status log row per request;
(b) a session opened through the sign-in pages (password, then the TOTP code of the device's key) works on each
    server reached directly, with the same cookie; after the password alone, every server asks for the code;
(c) the API's rate per token is one limit: as many accepted alternating between the servers as on one;
(d) a convention suspended through one server refuses deposits through the other at once, and leaves its header at
    the next page (the delay of the per-process memory of structures/conventions.py, measured);
(e) the throughput of the floor view through HAProxy with two servers against one, as a ratio;
(f) a file added through one server is downloaded, the same bytes, through the other (one media folder).
Writes bench/scaleout.md (the "Plusieurs serveurs" section of bench/results.md, bench/report.py); exits 1 when a
check fails. tests/extranet/test_two_servers.py runs (a) and (b), smaller, on the suite's database.

The accounts and keys are those of bench/generate.py and bench/run.py (same development keys unless the
environment gives others).
"""

import argparse
import datetime as dt
import html
import http.client
import http.cookies
import json
import multiprocessing
import os
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
if str(BASE_DIR) not in sys.path:
    sys.path.insert(0, str(BASE_DIR))

from bench import report  # noqa: E402
from bench.run import free_port, server_env  # noqa: E402

CLIENTS = 16
RATE = 60
ME = "/api/v1/me/"
STARTUP_SECONDS = 60
TAKEN = "Vous avez pris en charge la demande"
ALREADY_TAKEN = "vient d'être prise en charge par"

HAPROXY = """
defaults
    mode http
    timeout connect 5s
    timeout client 30s
    timeout server 30s
{fronts}
"""
FRONT = """
frontend front{n}
    bind 127.0.0.1:{port}
    default_backend apps{n}
backend apps{n}
    balance roundrobin
{servers}
"""


# --- A browser without a cookie jar's scruples --------------------------------------------------------------------


class Browser:
    """Keeps every cookie it is given and sends it back to any server, whatever its Secure flag or `__Host-` prefix
    (with DEBUG off the app sets both, and no client library sends such cookies over the plain http of 127.0.0.1).
    Never follows a redirect: each step is looked at."""

    def __init__(self, cookies=None):
        self.cookies = dict(cookies or {})

    def request(self, base, path, data=None, headers=None):
        parts = urllib.parse.urlsplit(base)
        connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=60)
        sent = dict(headers or {})
        if self.cookies:
            sent["Cookie"] = "; ".join(f"{name}={value}" for name, value in self.cookies.items())
        body = None
        if data is not None:
            body = urllib.parse.urlencode(data)
            sent["Content-Type"] = "application/x-www-form-urlencoded"
        try:
            connection.request("POST" if data is not None else "GET", path, body=body, headers=sent)
            response = connection.getresponse()
            text = response.read().decode("utf-8", "replace")
        finally:
            connection.close()
        for header in response.headers.get_all("Set-Cookie") or []:
            for name, morsel in http.cookies.SimpleCookie(header).items():
                if morsel["max-age"] == "0" or not morsel.value or morsel.value == '""':
                    self.cookies.pop(name, None)
                else:
                    self.cookies[name] = morsel.value
        return response.status, response.headers.get("Location", ""), text

    def form_token(self, base, path):
        status, _, text = self.request(base, path)
        found = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', text)
        if status != 200 or not found:
            raise AssertionError(f"{path}: {status}, pas de formulaire")
        return found.group(1)


def api_status(base, path, key, data=None, content_type="application/json"):
    headers = {"Authorization": f"Token {key}", "Accept": "application/json"}
    if data is not None:
        headers["Content-Type"] = content_type
    parts = urllib.parse.urlsplit(base)
    connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=60)
    try:
        connection.request("POST" if data is not None else "GET", path, body=data, headers=headers)
        response = connection.getresponse()
        return response.status, response.read().decode("utf-8", "replace")
    finally:
        connection.close()


# --- What is shown, given the servers' addresses (the bench's and the suite's) -----------------------------------


def take_charge_race(front, cookie_sets, number):
    """Every client posts the take-charge of `number` through `front` at the same instant (a barrier), then reads the
    page it is sent to, where the outcome is said. Returns [(status of the post, outcome)], outcome in "taken",
    "refused" or what else the page said."""
    barrier = threading.Barrier(len(cookie_sets))

    def client(cookies):
        browser = Browser(cookies)
        token = cookies["csrf_token"]
        del browser.cookies["csrf_token"]
        barrier.wait()
        status, location, _ = browser.request(
            front, f"/demandes/{number}/prendre-en-charge/", data={"csrfmiddlewaretoken": token}
        )
        if status != 302:
            return status, "no redirect"
        _, _, page = browser.request(front, urllib.parse.urlsplit(location).path)
        page = html.unescape(page)
        return status, "taken" if TAKEN in page else "refused" if ALREADY_TAKEN in page else "unknown"

    with ThreadPoolExecutor(max_workers=len(cookie_sets)) as pool:
        return list(pool.map(client, cookie_sets))


def sign_in(front, apps, email, password, code_of, page="/demandes/"):
    """Through the real sign-in pages of `front`: the password, then the code (`code_of()` gives it when the page
    asks). Meanwhile and after, what each server of `apps`, reached directly, answers to the browser's cookies on
    `page`: after the password alone (`half_signed`: a redirect to the second factor's page), once the code is
    given (`signed_in`), and to the cookies of before the code (`before_the_code`: the key changed, they are
    worthless). Returns these answers as (status, path redirected to)."""

    def answers(cookies):
        return [
            (status, urllib.parse.urlsplit(location).path)
            for status, location, _ in (Browser(cookies).request(app, page) for app in apps)
        ]

    browser = Browser()
    token = browser.form_token(front, "/connexion/")
    status, location, _ = browser.request(
        front, "/connexion/", data={"csrfmiddlewaretoken": token, "username": email, "password": password}
    )
    if status != 302 or location.startswith("/connexion/"):
        raise AssertionError(f"Mot de passe refusé ({status}, {location})")
    half_signed = dict(browser.cookies)
    outcomes = {"half_signed": answers(half_signed)}
    # The page asked for sends to the second factor's, as every page does until the code is given.
    status, location, _ = browser.request(front, location)
    if status != 302 or "/connexion/verification/" not in location:
        raise AssertionError(f"Pas de second facteur demandé ({status}, {location})")
    path = urllib.parse.urlsplit(location)
    step = path.path + (f"?{path.query}" if path.query else "")
    token = browser.form_token(front, step)
    status, location, _ = browser.request(front, step, data={"csrfmiddlewaretoken": token, "code": code_of()})
    if status != 302 or "/connexion/" in location:
        raise AssertionError(f"Code refusé ({status}, {location})")
    outcomes["signed_in"] = answers(browser.cookies)
    outcomes["before_the_code"] = answers(half_signed)
    return outcomes


def sign_in_holds(outcomes):
    return (
        all(answer == (302, "/connexion/verification/") for answer in outcomes["half_signed"])
        and all(answer == (200, "") for answer in outcomes["signed_in"])
        and all(answer == (302, "/connexion/") for answer in outcomes["before_the_code"])
    )


def a_window_with_room(needed_seconds):
    """Waits, if need be, for a new minute: a burst then falls within one window of the rate."""
    into_the_minute = time.time() % 60
    if into_the_minute > 60 - needed_seconds:
        time.sleep(60 - into_the_minute + 0.2)


# --- The bench: servers, load balancers, data ---------------------------------------------------------------------


class Cluster:
    """Two gunicorn servers (2 workers each) and one HAProxy with three fronts: `fronts[2]` balances between both
    servers, `fronts[1]` sends everything to the first (the one-server reference of (e)); `fronts["wide"]` to a third
    server with the workers of both (the same number of workers in one server, the other reference of (e))."""

    def __init__(self, database_url, workdir, workers):
        haproxy = shutil.which("haproxy")
        if haproxy is None:
            raise SystemExit("HAProxy absent : `make bench-scaleout` l'installe (paquet Debian haproxy).")
        self.processes = []
        self.env = server_env(database_url) | {
            "API_THROTTLE_RATE": f"{RATE}/minute",
            # One media folder for all, as production's shared volume.
            "PRIVATE_MEDIA_ROOT": str(workdir / "media"),
        }
        ports = [free_port(), free_port(), free_port()]
        self.apps = [f"http://127.0.0.1:{port}" for port in ports[:2]]
        for n, (port, count) in enumerate(zip(ports, [workers, workers, 2 * workers], strict=True), 1):
            log = open(workdir / f"gunicorn-{n}.log", "wb")  # noqa: SIM115 — closed with the process
            command = [sys.executable, "-m", "gunicorn", "extranet.wsgi:application", "--workers", str(count)]
            command += ["--preload", "--bind", f"127.0.0.1:{port}", "--log-level", "warning"]
            self.processes.append(
                subprocess.Popen(command, env=self.env, cwd=BASE_DIR, stdout=log, stderr=log)  # noqa: S603
            )
        backends = {1: ports[:1], 2: ports[:2], "wide": ports[2:]}
        front_ports = {name: free_port() for name in backends}
        self.fronts = {name: f"http://127.0.0.1:{port}" for name, port in front_ports.items()}
        fronts = "".join(
            FRONT.format(
                n=name,
                port=front_ports[name],
                servers="\n".join(f"    server app{port} 127.0.0.1:{port}" for port in servers),
            )
            for name, servers in backends.items()
        )
        self.config = workdir / "haproxy.cfg"
        self.config.write_text(HAPROXY.format(fronts=fronts), encoding="utf-8")
        log = open(workdir / "haproxy.log", "wb")  # noqa: SIM115 — closed with the process
        self.processes.append(
            subprocess.Popen([haproxy, "-db", "-f", str(self.config)], stdout=log, stderr=log)  # noqa: S603
        )
        for url in [*(f"http://127.0.0.1:{port}" for port in ports), *self.fronts.values()]:
            self._wait(url)

    def _wait(self, url):
        deadline = time.monotonic() + STARTUP_SECONDS
        while time.monotonic() < deadline:
            if any(process.poll() is not None for process in self.processes):
                raise SystemExit("Un serveur s'est arrêté au démarrage : voir ses journaux.")
            try:
                Browser().request(url, "/connexion/")
                return
            except OSError:
                time.sleep(0.3)
        raise SystemExit(f"{url} ne répond pas après {STARTUP_SECONDS} s.")

    def stop(self):
        for process in self.processes:
            process.send_signal(signal.SIGINT)
        for process in self.processes:
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def setup_django(env):
    os.environ.update(env)
    os.environ["DJANGO_SETTINGS_MODULE"] = "extranet.settings"
    import django

    django.setup()


def caisse_admin(caisse):
    """An administrateur of the caisse (the generator makes agents only): made once, kept for the next runs."""
    from django.utils import timezone

    from extranet.accounts.models import User
    from structures.models import CaisseMembership

    user, _ = User.objects.get_or_create(
        email=f"admin.{caisse.code}@bench.invalid",
        defaults={"first_name": "Administrateur", "last_name": f"Bench {caisse.code}", "civility": "mme"},
    )
    CaisseMembership.objects.get_or_create(
        user=user, caisse=caisse, defaults={"role": CaisseMembership.Role.ADMIN, "joined_at": timezone.now()}
    )
    return user


def cookies_of(user, names, csrf_secret):
    from bench.run import signed_in_session

    return {names["session"]: signed_in_session(user), names["csrf"]: csrf_secret, "csrf_token": csrf_secret}


def cookie_names():
    from django.conf import settings

    return {"session": settings.SESSION_COOKIE_NAME, "csrf": settings.CSRF_COOKIE_NAME}


def csrf_secret():
    from django.utils.crypto import get_random_string

    # 32 letters and digits: an unmasked CSRF secret, sent as the cookie and the form's token (bench/locustfile.py).
    return get_random_string(32)


def show_race(cluster, trials, out):
    from extranet.accounts.models import User
    from requests.models import Request, StatusChange
    from structures.models import Caisse

    caisse = Caisse.objects.get(code="331")
    agents = list(User.objects.filter(email__startswith="agent.331.").order_by("email"))
    names, secret = cookie_names(), csrf_secret()
    cookie_sets = [cookies_of(agents[n % len(agents)], names, secret) for n in range(CLIENTS)]
    numbers = list(
        Request.objects.filter(caisse=caisse, status="new").order_by("-created_at").values_list("number", flat=True)
    )[:trials]
    rows, ok = [], True
    for number in numbers:
        demande = Request.objects.get(number=number)
        before = StatusChange.objects.filter(request=demande).count()
        outcomes = take_charge_race(cluster.fronts[2], cookie_sets, number)
        demande.refresh_from_db()
        logged = StatusChange.objects.filter(request=demande).count() - before
        winners = sum(outcome == "taken" for _, outcome in outcomes)
        refused = sum(outcome == "refused" for _, outcome in outcomes)
        statuses = sorted({status for status, _ in outcomes})
        good = winners == 1 and refused == CLIENTS - 1 and statuses == [302] and logged == 1
        good = good and demande.status == "in_progress"
        ok &= good
        rows.append((number, winners, refused, statuses, logged))
    out(f"(a) {len(rows)} essais de {CLIENTS} clients : gagnants par essai {[r[1] for r in rows]}, ")
    out(f"    refusés {[r[2] for r in rows]}, statuts HTTP {sorted({s for r in rows for s in r[3]})}, ")
    out(f"    lignes du journal des statuts par demande {[r[4] for r in rows]} → {'OK' if ok else 'ÉCHEC'}")
    return ok, {
        "trials": len(rows),
        "one_winner": sum(r[1] == 1 for r in rows),
        "refused": sum(r[2] for r in rows),
        "statuses": sorted({s for r in rows for s in r[3]}),
        "logged": sorted({r[4] for r in rows}),
    }


def totp_code(hex_key):
    """The code of a TOTP device's key now. A code near the end of its 30 s could be one step late when checked
    (django-otp accepts the current step only): then the next one, a few seconds later."""
    from django_otp.oath import totp

    left = 30 - time.time() % 30
    if left < 3:
        time.sleep(left + 0.5)
    return f"{totp(bytes.fromhex(hex_key)):06d}"


def show_session(cluster, out):
    from bench.generate import BENCH_PASSWORD, BENCH_TOTP_KEY, BIG_TECHNICIEN

    outcomes = sign_in(
        cluster.fronts[2], cluster.apps, BIG_TECHNICIEN, BENCH_PASSWORD, lambda: totp_code(BENCH_TOTP_KEY)
    )
    ok = sign_in_holds(outcomes)
    out("(b) connexion par HAProxy, mot de passe puis code TOTP ; chaque serveur en direct, même cookie :")
    out(f"    après le mot de passe seul {outcomes['half_signed']} ; après le code {outcomes['signed_in']} ;")
    out(f"    l'ancienne clé après le code {outcomes['before_the_code']} → {'OK' if ok else 'ÉCHEC'}")
    return ok, outcomes


def show_rate(cluster, out):
    from bench.generate import BIG_TECHNICIEN
    from extranet.accounts.models import ApiToken, User

    user = User.objects.get(email=BIG_TECHNICIEN)
    ApiToken.objects.filter(user=user, name__startswith="scaleout").delete()
    sent = 2 * RATE

    def burst(urls):
        _, key = ApiToken.objects.issue(user, name=f"scaleout {len(urls)}")
        with ThreadPoolExecutor(max_workers=4) as pool:
            statuses = list(pool.map(lambda n: api_status(urls[n % len(urls)], ME, key)[0], range(sent)))
        return statuses.count(200), sorted(set(statuses))

    a_window_with_room(20)
    one, one_statuses = burst(cluster.apps[:1])
    both, both_statuses = burst(cluster.apps)
    ok = one == both == RATE and one_statuses == both_statuses == [200, 429]
    out(f"(c) limite {RATE}/minute, {sent} requêtes par jeton : acceptées sur un serveur {one}, ")
    out(f"    en alternant les deux serveurs {both} (statuts {both_statuses}) → {'OK' if ok else 'ÉCHEC'}")
    return ok, {"rate": RATE, "sent": sent, "one": one, "both": both}


CONTACT = (
    '{{"kind": "contact", "motif": "technical", "caisse": "{caisse}", "details": {{"channel": "phone", '
    '"availabilities": "Le matin.", "message": "Banc d\'essai à plusieurs serveurs."}}}}'
)


def show_suspension(cluster, out):
    """The structure bench 0005 works with both caisses (bench/generate.py: every tenth from the fifth)."""
    from extranet.accounts.models import ApiToken
    from structures import services
    from structures.models import Caisse, Convention, Structure

    structure = Structure.objects.get(name="Structure bench 0005")
    gironde = Caisse.objects.get(code="331")
    admin = caisse_admin(gironde)
    convention = Convention.objects.get(structure=structure, caisse=gironde)
    if convention.status != Convention.Status.ACTIVE:  # a run stopped halfway
        services.update_convention(convention, signed_on=convention.signed_on, status="active", by=admin)
    technicien = structure.memberships.get(role="technicien").user
    ApiToken.objects.filter(user=technicien, name="scaleout").delete()
    _, key = ApiToken.objects.issue(technicien, name="scaleout")
    names, secret = cookie_names(), csrf_secret()
    partner = Browser(cookies_of(technicien, names, secret))
    del partner.cookies["csrf_token"]
    one, other = cluster.apps

    def header(app):
        page = partner.request(app, "/")[2]
        return "gironde" in page.lower()

    # Each worker of the other server remembers the structure's two caisses (a few pages, whichever worker serves).
    remembered = all(header(other) for _ in range(6))
    before = api_status(other, "/api/v1/requests/", key, CONTACT.format(caisse="331").encode())[0]
    administrator = Browser(cookies_of(admin, names, secret))
    del administrator.cookies["csrf_token"]
    path = f"/caisse/structures/{structure.pk}/convention/"
    form = {
        "csrfmiddlewaretoken": secret,
        "signed_on": convention.signed_on.isoformat(),
        "status": "suspended",
        "reason": "Banc d'essai à plusieurs serveurs",
        "confirm": "1",
    }
    suspended_status = administrator.request(one, path, data=form)[0]
    suspended_at = time.monotonic()
    refused_status, refused_body = api_status(other, "/api/v1/requests/", key, CONTACT.format(caisse="331").encode())
    refused_after = time.monotonic() - suspended_at
    # The header of every worker of the other server, page after page, from the suspension on.
    pages, first_without = 0, None
    while pages < 8:
        pages += 1
        if not header(other) and first_without is None:
            first_without = (pages, time.monotonic() - suspended_at)
        elif first_without is not None and header(other):
            first_without = None  # a worker still showed it: not yet everywhere
    still_to_loire, deposited = api_status(other, "/api/v1/requests/", key, CONTACT.format(caisse="421").encode())
    convention.refresh_from_db()
    services.update_convention(convention, signed_on=convention.signed_on, status="active", by=admin)
    ok = remembered and before == 201 and suspended_status == 302 and refused_status == 400
    ok = ok and "no_active_convention" in refused_body and first_without is not None and first_without[0] == 1
    ok = ok and still_to_loire == 201
    delay_ms = first_without[1] * 1000 if first_without else None
    out(f"(d) dépôt avant la suspension {before} ; suspension par le serveur 1 : {suspended_status} ; dépôt par le ")
    out(f"    serveur 2 juste après ({refused_after * 1000:.0f} ms) : {refused_status} no_active_convention ; ")
    out(f"    en-tête du serveur 2 sans la caisse dès la page n° {first_without and first_without[0]} ")
    out(f"    ({delay_ms and round(delay_ms)} ms après la suspension) et sur les 8 pages ; dépôt à l'autre caisse ")
    out(f"    {still_to_loire} → {'OK' if ok else 'ÉCHEC'}")
    return ok, {
        "before": before,
        "refused": refused_status,
        "refused_after_ms": refused_after * 1000,
        "first_page": first_without and first_without[0],
        "header_ms": delay_ms,
        "other_caisse": still_to_loire,
        "deposited": json.loads(deposited).get("number") if still_to_loire == 201 else None,
        "key": key,
    }


def show_media(cluster, number, key, out):
    """A file added to a request through one server is downloaded, the same bytes, through the other (one media
    folder: production's shared volume)."""
    import io

    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", (4, 3), (200, 30, 30)).save(buffer, format="PNG")
    content = buffer.getvalue()
    boundary = uuid.uuid4().hex
    body = b"".join(
        [
            f"--{boundary}\r\n".encode(),
            b'Content-Disposition: form-data; name="files"; filename="justificatif.png"\r\n',
            b"Content-Type: image/png\r\n\r\n",
            content,
            f"\r\n--{boundary}--\r\n".encode(),
        ]
    )
    one, other = cluster.apps
    added, answer = api_status(
        one, f"/api/v1/requests/{number}/attachments/", key, body, f"multipart/form-data; boundary={boundary}"
    )
    public_id = json.loads(answer)[0]["id"] if added == 201 else None
    parts = urllib.parse.urlsplit(other)
    connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=60)
    try:
        connection.request(
            "GET", f"/api/v1/requests/{number}/attachments/{public_id}/", headers={"Authorization": f"Token {key}"}
        )
        response = connection.getresponse()
        downloaded, same = response.status, response.read() == content
    finally:
        connection.close()
    ok = added == 201 and downloaded == 200 and same
    out(f"(f) pièce jointe ajoutée par le serveur 1 : {added} ; téléchargée par le serveur 2 : {downloaded}, ")
    out(f"    {'mêmes octets' if same else 'octets différents'} → {'OK' if ok else 'ÉCHEC'}")
    return ok, {"added": added, "downloaded": downloaded, "same": same}


def load(front, cookies, seconds, threads):
    """Requests of the floor answered 200 in `seconds`, by `threads` clients without pause, in a process of its own
    (the client's GIL is not the servers')."""
    stop = time.monotonic() + seconds
    counts = []

    def client():
        browser, done = Browser(cookies), 0
        while time.monotonic() < stop:
            if browser.request(front, "/bench/floor/")[0] == 200:
                done += 1
        counts.append(done)

    workers = [threading.Thread(target=client) for _ in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    return sum(counts)


def show_throughput(cluster, args, out):
    from bench.generate import BIG_TECHNICIEN
    from extranet.accounts.models import User

    names, secret = cookie_names(), csrf_secret()
    cookies = cookies_of(User.objects.get(email=BIG_TECHNICIEN), names, secret)
    del cookies["csrf_token"]
    from django.db import connections

    connections.close_all()  # the forked clients never use them
    context = multiprocessing.get_context("fork")
    per_process = max(1, args.clients // args.client_processes)
    configurations = [1, 2, "wide"]
    results = {name: [] for name in configurations}
    with context.Pool(args.client_processes) as pool:
        for name in configurations:  # every worker's first pages (its connection, its memory) left out
            pool.starmap(load, [(cluster.fronts[name], cookies, 3, per_process)] * args.client_processes)
        for n in range(args.rounds):
            # Each round measures every configuration, in an order that turns: none is always first.
            for name in configurations[n % 3 :] + configurations[: n % 3]:
                done = pool.starmap(
                    load, [(cluster.fronts[name], cookies, args.seconds, per_process)] * args.client_processes
                )
                results[name].append(sum(done) / args.seconds)
    ratios = [two / one for one, two in zip(results[1], results[2], strict=True)]
    wide_ratios = [two / wide for wide, two in zip(results["wide"], results[2], strict=True)]
    ratio, wide_ratio = statistics.median(ratios), statistics.median(wide_ratios)
    out(f"(e) plancher par HAProxy, {per_process * args.client_processes} clients sans pause, {args.rounds} tours ")
    out(f"    de {args.seconds} s : 1 serveur {[round(v) for v in results[1]]} req/s, 2 serveurs ")
    out(f"    {[round(v) for v in results[2]]} req/s ; rapport (médiane des tours) {ratio:.2f} sur {os.cpu_count()} ")
    out(f"    cœurs ; 1 serveur de {2 * args.workers} workers {[round(v) for v in results['wide']]} req/s, ")
    out(f"    2 serveurs / celui-ci {wide_ratio:.2f}")
    return {
        "one": results[1],
        "two": results[2],
        "wide": results["wide"],
        "ratios": ratios,
        "ratio": ratio,
        "wide_ratios": wide_ratios,
        "wide_ratio": wide_ratio,
    }


def main(args):
    started = dt.datetime.now(dt.UTC)
    workdir = Path(tempfile.mkdtemp(prefix="scaleout-"))
    (workdir / "media").mkdir()
    load_before = os.getloadavg()
    lines = []

    def out(text):
        print(text, flush=True)
        lines.append(text)

    cluster = Cluster(args.database_url, workdir, args.workers)
    try:
        setup_django(cluster.env)
        from requests.models import Request

        requests_count = Request.objects.count()
        out(f"Serveurs prêts ({workdir}) : {cluster.apps} ; HAProxy {cluster.fronts}")
        race_ok, race = show_race(cluster, args.trials, out)
        session_ok, session = show_session(cluster, out)
        rate_ok, rate = show_rate(cluster, out)
        suspension_ok, suspension = show_suspension(cluster, out)
        media_ok, media = show_media(cluster, suspension["deposited"], suspension["key"], out)
        throughput = show_throughput(cluster, args, out)
        load_after = os.getloadavg()
    finally:
        cluster.stop()
    write_results(
        args,
        started,
        requests_count,
        (load_before[0], load_after[0]),
        race=race,
        session=session,
        rate=rate,
        suspension=suspension,
        media=media,
        throughput=throughput,
        ok=(race_ok, session_ok, rate_ok, suspension_ok, media_ok),
    )
    failed = not all((race_ok, session_ok, rate_ok, suspension_ok, media_ok))
    print(f"Résultats : {BENCH_DIR / 'results.md'} ; {'ÉCHEC' if failed else 'OK'}")
    return 1 if failed else 0


BENCH_DIR = BASE_DIR / "bench"


def write_results(args, started, requests_count, load, *, race, session, rate, suspension, media, throughput, ok):
    verdict = {True: "oui", False: "**non**"}
    t = throughput
    lines = [
        f"Mesuré le {started:%Y-%m-%d %H:%M} UTC — deux serveurs gunicorn ({args.workers} workers chacun, DEBUG "
        f"off, `--preload`), et pour la référence de (e) un troisième de {2 * args.workers} workers, une base "
        f"PostgreSQL (`{urllib.parse.urlsplit(args.database_url).path.lstrip('/')}`, "
        f"{requests_count:_} demandes), le cache commun de la base, un dossier de pièces jointes commun, derrière "
        f"HAProxy {haproxy_version()} (round robin) sur 127.0.0.1 ; {os.cpu_count()} processeurs, charge "
        f"(`uptime`, sur 1 min) {load[0]:.2f} au départ, {load[1]:.2f} à la fin.",
        "",
        "| Vérification | Mesuré | Tenue |",
        "|---|---|---|",
        f"| (a) Prise en charge : {race['trials']} essais de {CLIENTS} clients simultanés par HAProxy | "
        f"un gagnant dans {race['one_winner']} essais sur {race['trials']} ; {race['refused']} refus « vient "
        f"d'être prise en charge » ; statuts HTTP {race['statuses']} ; lignes du journal par demande "
        f"{race['logged']} | {verdict[ok[0]]} |",
        f"| (b) Session ouverte par HAProxy (mot de passe puis code TOTP), même cookie sur chaque serveur en direct | "
        "après le mot de passe seul, chaque serveur renvoie au second facteur "
        f"({', '.join(f'{s} {p}' for s, p in session['half_signed'])}) ; après le code, chaque serveur sert la page "
        f"({', '.join(str(s) for s, _ in session['signed_in'])}) ; la clé d'avant le code ne vaut plus rien "
        f"({', '.join(f'{s} {p}' for s, p in session['before_the_code'])}) | {verdict[ok[1]]} |",
        f"| (c) Limite de l'API à {rate['rate']}/minute, {rate['sent']} requêtes par jeton | acceptées : "
        f"{rate['one']} sur un serveur, {rate['both']} en alternant les deux | {verdict[ok[2]]} |",
        "| (d) Convention suspendue par le serveur 1, dépôts par le serveur 2 | "
        f"dépôt avant : {suspension['before']} ;"
        f" juste après ({suspension['refused_after_ms']:.0f} ms) : {suspension['refused']} `no_active_convention` ;"
        f" en-tête sans la caisse dès la page n° {suspension['first_page']} "
        f"({suspension['header_ms'] and round(suspension['header_ms'])} ms après) ; dépôt à l'autre caisse : "
        f"{suspension['other_caisse']} | {verdict[ok[3]]} |",
        f"| (f) Pièce jointe ajoutée par le serveur 1 (API), téléchargée par le serveur 2 | {media['added']} puis "
        f"{media['downloaded']}, {'les mêmes octets' if media['same'] else '**des octets différents**'} | "
        f"{verdict[ok[4]]} |",
        f"| (e) Débit du plancher par HAProxy, 2 serveurs / 1 serveur | **{t['ratio']:.2f}** (par tour : "
        f"{', '.join(f'{r:.2f}' for r in t['ratios'])} ; req/s : 1 serveur "
        f"{', '.join(f'{v:.0f}' for v in t['one'])}, 2 serveurs {', '.join(f'{v:.0f}' for v in t['two'])}) | "
        "mesure |",
        f"| (e) Même débit, 2 serveurs de {args.workers} workers / 1 serveur de {2 * args.workers} workers | "
        f"**{t['wide_ratio']:.2f}** (par tour : {', '.join(f'{r:.2f}' for r in t['wide_ratios'])} ; req/s : "
        f"{', '.join(f'{v:.0f}' for v in t['wide'])}) | mesure |",
        "",
        f"(e) : {args.clients} clients sans pause dans {args.client_processes} processus, {args.rounds} tours de "
        f"{args.seconds} s par configuration, dans un ordre qui tourne, rapport des débits de chaque tour puis "
        f"médiane. Clients, HAProxy, serveurs et PostgreSQL partagent les {os.cpu_count()} processeurs de la "
        "machine : le rapport mesure ce que la machine laisse, pas ce que deux machines donneraient (à refaire sur "
        "des machines séparées, ou au moins plus de cœurs que de workers).",
        "",
        "Reproduire : `make bench-scaleout` ; ce passage : `"
        + " ".join([".venv/bin/python bench/scaleout.py", *sys.argv[1:]])
        + "`",
        "",
    ]
    (BENCH_DIR / "scaleout.md").write_text("\n".join(lines), encoding="utf-8")
    report.write_index()


def haproxy_version():
    found = re.search(r"version (\S+)", subprocess.run(["haproxy", "-v"], capture_output=True, text=True).stdout)  # noqa: S603, S607
    return found.group(1) if found else ""


def parse(argv):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    default_url = os.environ.get("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/extranet_scaleout")
    parser.add_argument("--database-url", default=default_url)
    parser.add_argument("--trials", type=int, default=20)
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers of each server")
    parser.add_argument("--clients", type=int, default=8, help="(e): clients without pause")
    parser.add_argument("--client-processes", type=int, default=2, help="(e): processes the clients run in")
    parser.add_argument("--rounds", type=int, default=6, help="(e): rounds with one server, as many with two")
    parser.add_argument("--seconds", type=int, default=8, help="(e): length of a round")
    return parser.parse_args(argv)


if __name__ == "__main__":
    sys.exit(main(parse(sys.argv[1:])))
