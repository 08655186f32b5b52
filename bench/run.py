"""Load benchmark of the hot pages (issue 9): medians per endpoint as ratios to a floor view of the same app.

    .venv/bin/python bench/run.py --database-url postgres:///extranet_bench --small-database-url postgres:///extranet_bench_10k

Serves the app with gunicorn (2 workers, DEBUG off) on 127.0.0.1, with the floor view mounted (BENCH_FLOOR_VIEW=1),
loads it with locust (bench/locustfile.py; as many users as workers, so requests seldom queue) in rounds where every
endpoint is interleaved, takes per round each endpoint's median divided by the floor's median of that round, then the
median of those ratios across rounds. Writes bench/results-<database>.md and bench/ratios-<database>.png, then
bench/results.md (bench/report.py); exits 1 when a target is missed.

With --small-database-url, a second server on the small database (10k requests) serves the floor, the history's
first page and the filtered queue in rounds alternating with the big one: "1M vs 10k" (or 10M vs 10k) compares each
page's ratio to the floor on the two.

Accounts and keys: those of bench/generate.py (BENCH_PARTNER, BENCH_AGENT below; --partner, --agent). The NIR
keys default to those the app derives in DEBUG from its development SECRET_KEY (what the generator used unless
SECRET_KEY, NIR_HASH_KEY and NIR_ENCRYPTION_KEY were set: then set the same ones here).
"""

import argparse
import base64
import datetime as dt
import hashlib
import json
import os
import platform
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
if str(BASE_DIR) not in sys.path:
    sys.path.insert(0, str(BASE_DIR))

from bench import report  # noqa: E402

BENCH_DIR = BASE_DIR / "bench"
BENCH_PARTNER = "technicien.0000@bench.invalid"  # bench/generate.py: BIG_TECHNICIEN
BENCH_AGENT = "agent.331.0@bench.invalid"  # bench/generate.py: an agent of caisse 331
# The key extranet/settings.py falls back to in DEBUG: the generator's NIRs are encrypted with keys derived from it.
DEV_SECRET_KEY = "dev-only-insecure-key-never-used-when-debug-is-off"  # noqa: S105
DEFAULT_QUEUE_QUERY = "status=new&kind=access_difficulty&ordre=recentes"

# (key, label, numerator, denominator, target, small database?) — a ratio of the two endpoints' medians, per round;
# with the small database, the numerator's ratio to the floor on the big one over the same on the small one. Issue 20's
# targets; the replied queue and the person search keep issue 9's (issue 20 names none for them).
TARGETS = [
    ("history_p1", "Historique partenaire, page 1 / plancher", "history_p1", "floor", 1.5, False),
    ("history_p50", "Historique, page 50 / page 1", "history_p50", "history_p1", 1.5, False),
    ("history_big_small", "Historique p. 1 : grande base / 10k (au plancher)", "history_p1", "floor", 1.1, True),
    ("queue_filtered", "File de la caisse filtrée / plancher", "queue_filtered", "floor", 1.5, False),
    ("queue_big_small", "File filtrée : grande base / 10k (au plancher)", "queue_filtered", "floor", 1.1, True),
    ("queue_replied", "File : réponses reçues (à moi) / plancher", "queue_replied", "floor", 3.0, False),
    ("person_search", "Recherche d'une personne (POST) / plancher", "person_search", "floor", 3.0, False),
    ("detail", "Détail d'une demande / plancher", "detail", "floor", 1.3, False),
    ("take_charge", "Prise en charge (POST) / plancher", "take_charge", "floor", 1.5, False),
    ("api_list", "API : liste / historique HTML page 1", "api_list", "history_p1", 1.5, False),
]


def server_env(database_url):
    env = dict(os.environ)
    secret = env.get("SECRET_KEY") or DEV_SECRET_KEY
    derived = base64.b64encode(hashlib.sha256(b"nir-encryption:" + secret.encode()).digest()).decode()
    env.update(
        DEBUG="false",
        SECRET_KEY=secret,
        NIR_HASH_KEY=env.get("NIR_HASH_KEY") or secret,
        NIR_ENCRYPTION_KEY=env.get("NIR_ENCRYPTION_KEY") or derived,
        DATABASE_URL=database_url,
        ALLOWED_HOSTS="127.0.0.1",
        SECURE_SSL_REDIRECT="false",
        LOG_LEVEL="WARNING",
        CONN_MAX_AGE=env.get("CONN_MAX_AGE", "60"),
        API_THROTTLE_RATE="1000000/minute",
        EMAIL_BACKEND="django.core.mail.backends.dummy.EmailBackend",
        # As in production (docs/deployment.md): a take-charge queues its email for the worker. The default, the
        # immediate backend of the demo and the tests, sent it within the request: five queries and the rendering
        # the measured POST does not pay in production.
        TASKS_BACKEND=env.get("TASKS_BACKEND") or "django_tasks_db.DatabaseBackend",
        BENCH_FLOOR_VIEW="1",
        PYTHONPATH=str(BASE_DIR),
    )
    return env


# --- Preparation, in a subprocess with the server's environment (same settings, same database) -----------------


def signed_in_session(user):
    """A session as a complete sign-in leaves it (password, then second factor), made in the database: its key.
    (Django set up; bench/scaleout.py and tests/extranet/test_two_servers.py use it too.)"""
    from importlib import import_module

    from django.conf import settings
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
    from django_otp import DEVICE_ID_SESSION_KEY
    from django_otp.plugins.otp_totp.models import TOTPDevice

    from extranet.accounts.session_store import LAST_SEEN_AT, STARTED_AT

    device = TOTPDevice.objects.filter(user=user, confirmed=True).first() or TOTPDevice.objects.create(
        user=user, name="bench", confirmed=True
    )
    session = import_module(settings.SESSION_ENGINE).SessionStore()
    now = int(time.time())
    session.update(
        {
            SESSION_KEY: str(user.pk),
            BACKEND_SESSION_KEY: "extranet.accounts.backends.EmailBackend",
            HASH_SESSION_KEY: user.get_session_auth_hash(),
            DEVICE_ID_SESSION_KEY: device.persistent_id,
            STARTED_AT: now,
            LAST_SEEN_AT: now,
        }
    )
    session.create()
    return session.session_key


def prepare(out, sessions, take_charge_count, partner_email, agent_email):
    import django

    sys.path.insert(0, str(BASE_DIR))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "extranet.settings")
    django.setup()

    from django.conf import settings
    from django.contrib.auth import get_user_model
    from django.db import connection
    from django.utils.crypto import get_random_string

    from extranet.accounts.models import ApiToken
    from requests.models import Request, Status
    from structures.models import Caisse, Convention
    from structures.policy import caisse_membership, partner_membership

    users = get_user_model().objects

    partner = users.get(email=partner_email)
    agent = users.get(email=agent_email)
    structure = partner_membership(partner).structure
    caisse = (
        Caisse.objects.filter(conventions__structure=structure, conventions__status=Convention.Status.ACTIVE)
        .order_by("code")
        .first()
    )
    agent_caisse = caisse_membership(agent).caisse
    ApiToken.objects.filter(user=partner, name="bench").delete()
    _, api_key = ApiToken.objects.issue(partner, name="bench")
    history = Request.objects.filter(structure=structure, caisse=caisse)
    config = {
        "cookie_names": {"session": settings.SESSION_COOKIE_NAME, "csrf": settings.CSRF_COOKIE_NAME},
        "csrf_secret": get_random_string(32),
        "partner_sessions": [signed_in_session(partner) for _ in range(sessions)],
        "agent_sessions": [signed_in_session(agent) for _ in range(sessions)],
        "api_key": api_key,
        "detail_numbers": list(history.order_by("-created_at").values_list("number", flat=True)[:200]),
        # A person of the agent's caisse, searched by name as an agent on the phone would.
        "person_search": dict(
            zip(
                ("last_name", "first_name"),
                Request.objects.filter(caisse=agent_caisse)
                .exclude(person_last_name="")
                .values_list("person_last_name", "person_first_name")
                .first(),
                strict=True,
            )
        ),
        "take_charge_numbers": list(
            Request.objects.filter(caisse=agent_caisse, status=Status.NEW)
            .order_by("-created_at")
            .values_list("number", flat=True)[:take_charge_count]
        ),
        "database": {
            "vendor": connection.vendor,
            "name": str(settings.DATABASES["default"]["NAME"]),
            "requests": Request.objects.count(),
            "structure_requests": history.count(),
            "caisse_requests": Request.objects.filter(caisse=agent_caisse).count(),
            "partner": partner_email,
            "agent": agent_email,
        },
    }
    Path(out).write_text(json.dumps(config), encoding="utf-8")


# --- Orchestration ---------------------------------------------------------------------------------------------


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    """gunicorn, 2 sync workers, on a free port of 127.0.0.1, with its prepared sessions and numbers."""

    def __init__(self, label, database_url, args, workdir):
        self.label = label
        self.env = server_env(database_url)
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        config = workdir / f"{label}-config.json"
        command = [sys.executable, __file__, "prepare", "--out", str(config), "--sessions", str(args.users)]
        command += ["--take-charge", str(args.take_charge), "--partner", args.partner, "--agent", args.agent]
        subprocess.run(command, env=self.env, check=True, cwd=BASE_DIR)  # noqa: S603 (our own arguments)
        self.config = json.loads(config.read_text(encoding="utf-8"))
        self.config["queue_query"] = args.queue_query
        self.log = open(workdir / f"{label}-gunicorn.log", "w")  # noqa: SIM115
        self.process = subprocess.Popen(  # noqa: S603
            [sys.executable, "-m", "gunicorn", "extranet.wsgi:application", "--workers", str(args.workers)]
            + ["--bind", f"127.0.0.1:{self.port}", "--env", "BENCH_FLOOR_VIEW=1", "--log-level", "warning"],
            env=self.env,
            cwd=BASE_DIR,
            stdout=self.log,
            stderr=subprocess.STDOUT,
        )
        self._wait_ready()

    def _wait_ready(self):
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise SystemExit(f"gunicorn ({self.label}) stopped: see {self.log.name}")
            try:
                # Signed out, the floor redirects to the login page: the app answers.
                urllib.request.urlopen(self.url + "/bench/floor/", timeout=2)  # noqa: S310
                return
            except urllib.error.HTTPError:
                return
            except OSError:
                time.sleep(0.3)
        raise SystemExit(f"gunicorn ({self.label}) did not answer within 60 s")

    def stop(self):
        self.process.terminate()
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.process.kill()
        self.log.close()


def run_round(server, args, workdir, name, seconds, tags, take_charge_numbers):
    """One locust run; returns {endpoint: [response times in ms of the successful requests]} and failures."""
    config = dict(server.config, take_charge_numbers=take_charge_numbers)
    config_path = workdir / f"{name}-config.json"
    samples_path = workdir / f"{name}-samples.json"
    log = open(workdir / f"{name}-locust.log", "w")  # noqa: SIM115
    config_path.write_text(json.dumps(config), encoding="utf-8")
    command = [sys.executable, "-m", "locust", "-f", str(BENCH_DIR / "locustfile.py"), "--headless"]
    command += ["-u", str(args.users), "-r", str(args.users), "-t", f"{seconds}s", "--host", server.url]
    command += ["--only-summary", "--loglevel", "WARNING", "--tags", *tags]
    env = dict(os.environ, BENCH_CONFIG=str(config_path), BENCH_SAMPLES=str(samples_path))
    env.pop("PYTHONPATH", None)
    # Not from the project's folder: its `requests` app would hide the `requests` library that locust imports.
    subprocess.run(command, env=env, cwd=workdir, stdout=subprocess.DEVNULL, stderr=log)  # noqa: S603
    log.close()
    if not samples_path.exists():
        raise SystemExit(f"locust gave no samples: see {log.name}")
    times, failures = {}, {}
    for endpoint, ms, _status, ok in json.loads(samples_path.read_text(encoding="utf-8")):
        if ok:
            times.setdefault(endpoint, []).append(ms)
        else:
            failures[endpoint] = failures.get(endpoint, 0) + 1
    return times, failures


def ratio_of(medians, target, small_medians):
    _, _, numerator, denominator, _, needs_small = target
    if numerator not in medians or denominator not in medians:
        return None
    ratio = medians[numerator] / medians[denominator]
    if not needs_small:
        return ratio
    if not small_medians or numerator not in small_medians or denominator not in small_medians:
        return None
    return ratio / (small_medians[numerator] / small_medians[denominator])


def main(args):
    started = dt.datetime.now().astimezone()
    workdir = Path(tempfile.mkdtemp(prefix="bench-"))
    servers = []
    try:
        big = Server("big", args.database_url, args, workdir)
        servers.append(big)
        small = Server("small", args.small_database_url, args, workdir) if args.small_database_url else None
        if small:
            servers.append(small)
        numbers = big.config["take_charge_numbers"]
        share = len(numbers) // (args.rounds + 1)
        print(f"Serveurs prêts ({workdir}); {len(numbers)} demandes nouvelles pour la prise en charge.", flush=True)

        all_tags = ["floor", "history", "queue", "queue_replied", "person_search", "detail", "take_charge", "api"]
        run_round(big, args, workdir, "big-warmup", args.warmup, all_tags, numbers[:share])
        if small:
            run_round(small, args, workdir, "small-warmup", args.warmup, ["small"], [])
        per_round, medians_ms, counts, failures = [], {}, {}, {}
        for n in range(1, args.rounds + 1):
            chunk = numbers[n * share : (n + 1) * share]
            order = [("big", big), ("small", small)] if n % 2 else [("small", small), ("big", big)]
            results = {}
            for label, server in order:
                if server is None:
                    continue
                tags = all_tags if label == "big" else ["small"]
                seconds = args.seconds if label == "big" else args.small_seconds
                times, failed = run_round(server, args, workdir, f"{label}-{n}", seconds, tags, chunk)
                results[label] = {endpoint: statistics.median(values) for endpoint, values in times.items()}
                for endpoint, values in times.items():
                    counts[(label, endpoint)] = counts.get((label, endpoint), 0) + len(values)
                    medians_ms.setdefault((label, endpoint), []).append(statistics.median(values))
                for endpoint, count in failed.items():
                    failures[(label, endpoint)] = failures.get((label, endpoint), 0) + count
            ratios = {target[0]: ratio_of(results["big"], target, results.get("small")) for target in TARGETS}
            per_round.append(ratios)
            shown = ", ".join(f"{key} {value:.2f}" for key, value in ratios.items() if value is not None)
            print(f"Tour {n}/{args.rounds} : floor {results['big'].get('floor', 0):.1f} ms; {shown}", flush=True)
    finally:
        for server in servers:
            server.stop()

    rows = []
    for key, label, _, _, target, needs_small in TARGETS:
        values = [r[key] for r in per_round if r[key] is not None]
        ratio = statistics.median(values) if values else None
        rows.append(
            {
                "key": key,
                "label": label,
                "ratio": ratio,
                "target": target,
                "passed": None if ratio is None else ratio <= target,
                "rounds": values,
                "skipped": "pas de --small-database-url" if needs_small and ratio is None else "",
            }
        )
    write_results(args, started, big.config, small.config if small else None, rows, medians_ms, counts, failures)
    missed = [row["key"] for row in rows if row["passed"] is False]
    print(f"Résultats : {BENCH_DIR / 'results.md'} ; {'cibles manquées : ' + ', '.join(missed) if missed else 'OK'}")
    return 1 if missed else 0


def write_chart(rows, path):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    shown = [row for row in rows if row["ratio"] is not None]
    fig, ax = plt.subplots(figsize=(10, 5))
    positions = range(len(shown))
    colors = ["#2e7d32" if row["passed"] else "#c62828" for row in shown]
    ax.bar(positions, [row["ratio"] for row in shown], color=colors, width=0.6, label="ratio mesuré (médiane)")
    ax.scatter(positions, [row["target"] for row in shown], marker="_", s=900, color="black", zorder=3, label="cible")
    for x, row in zip(positions, shown, strict=True):
        ax.annotate(f"{row['ratio']:.2f}", (x, row["ratio"]), ha="center", va="bottom", fontsize=9)
    ax.set_xticks(list(positions), [row["key"] for row in shown], rotation=20, ha="right")
    ax.set_ylabel("ratio (≤ cible)")
    ax.set_title("Ratios des médianes par point d'accès (vert : cible tenue)")
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def results_part(database):
    """Where a run's figures go: its database's part of bench/results.md, or, past 1.5M requests (`make bench
    BENCH_REQUESTS=10000000`), a part of their own, so that the default 1M figures stay beside them."""
    if database["requests"] <= 1_500_000:
        return database["vendor"]
    return f"{database['vendor']}-{round(database['requests'] / 1_000_000)}m"


def write_results(args, started, big, small, rows, medians_ms, counts, failures):
    vendor = results_part(big["database"])
    write_chart(rows, BENCH_DIR / f"ratios-{vendor}.png")

    def db_line(config, label):
        db = config["database"]
        return (
            f"- {label} : {db['vendor']} `{db['name']}`, {db['requests']:_} demandes au total ; "
            f"structure du partenaire ({db['partner']}) : {db['structure_requests']:_} ; "
            f"caisse de l'agent ({db['agent']}) : {db['caisse_requests']:_}"
        )

    lines = [
        "### Pages sous charge",
        "",
        f"Mesuré le {started:%Y-%m-%d %H:%M %Z} — {args.rounds} tours de {args.seconds} s (+ {args.warmup} s "
        f"de chauffe), {args.users} utilisateurs locust sans attente, gunicorn {args.workers} workers, DEBUG off.",
        "",
        "#### Cibles",
        "",
        "| Mesure | Ratio (médiane des tours) | Cible | Résultat | Ratios par tour |",
        "|---|---:|---:|---|---|",
    ]
    for row in rows:
        ratio = "—" if row["ratio"] is None else f"{row['ratio']:.2f}"
        verdict = {True: "tenue", False: "**manquée**", None: f"non mesurée ({row['skipped']})"}[row["passed"]]
        per_round = ", ".join(f"{value:.2f}" for value in row["rounds"])
        lines.append(f"| {row['label']} | {ratio} | ≤ {row['target']:g} | {verdict} | {per_round} |")
    lines += [
        "",
        f"![Ratios par point d'accès ({vendor})](ratios-{vendor}.png)",
        "",
        "#### Médianes par point d'accès",
        "",
        "| Base | Point d'accès | Médiane (ms, médiane des tours) | Requêtes réussies | Échecs |",
        "|---|---|---:|---:|---:|",
    ]
    for (label, endpoint), values in sorted(medians_ms.items()):
        failed = failures.get((label, endpoint), 0)
        lines.append(
            f"| {label} | {endpoint} | {statistics.median(values):.1f} | {counts[(label, endpoint)]} | {failed} |"
        )
    for (label, endpoint), failed in sorted(failures.items()):
        if (label, endpoint) not in medians_ms:
            lines.append(f"| {label} | {endpoint} | — | 0 | {failed} |")
    cpu = platform.processor() or platform.machine()
    lines += [
        "",
        "#### Environnement",
        "",
        db_line(big, "Grande base"),
        *([db_line(small, "Petite base")] if small else []),
        f"- Machine : {platform.node()}, {platform.platform()}, {cpu}, {os.cpu_count()} processeurs",
        f"- Python {platform.python_version()} ; locust, gunicorn et l'application sur la même machine",
        f"- File filtrée : `/caisse/demandes/?{args.queue_query}`",
        "",
        "#### Reproduire",
        "",
        "```sh",
        "make bench                                                              # SQLite, bench/data/",
        "DATABASE_URL=postgres://postgres@127.0.0.1:5432/extranet_bench make bench  # PostgreSQL",
        "# this run: " + " ".join([".venv/bin/python bench/run.py", *sys.argv[1:]]),
        "```",
        "",
        "Chaque tour entrelace au hasard tous les points d'accès ; chaque ratio est celui des médianes d'un même tour "
        "(le plancher, `/bench/floor/`, est une vue connectée qui rend 20 lignes d'une requête indexée), puis la "
        "médiane des tours : le bruit de la machine touche numérateur et dénominateur à la fois.",
        "",
    ]
    report.part("results", vendor).write_text("\n".join(lines), encoding="utf-8")
    report.write_index()


def parse(argv):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command")
    internal = sub.add_parser("prepare", help="(internal) sessions, token and numbers for the locust users")
    internal.add_argument("--out", required=True)
    for p in (parser, internal):
        p.add_argument("--partner", default=BENCH_PARTNER)
        p.add_argument("--agent", default=BENCH_AGENT)
    internal.add_argument("--sessions", type=int, default=2)
    internal.add_argument("--take-charge", type=int, default=3000)
    default_url = os.environ.get("DATABASE_URL", f"sqlite:///{BASE_DIR / 'db.sqlite3'}")
    parser.add_argument("--database-url", default=default_url)
    parser.add_argument("--small-database-url", help="the database with 10k requests, for the 1M vs 10k target")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--seconds", type=int, default=40, help="length of a round on the big database")
    parser.add_argument("--small-seconds", type=int, default=15, help="length of a round on the small database")
    parser.add_argument("--warmup", type=int, default=8)
    parser.add_argument("--users", type=int, default=2, help="locust users (default: as many as workers)")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--take-charge", type=int, default=5000, help="new requests prepared for take-charge")
    parser.add_argument("--queue-query", default=DEFAULT_QUEUE_QUERY)
    return parser.parse_args(argv)


if __name__ == "__main__":
    arguments = parse(sys.argv[1:])
    if arguments.command == "prepare":
        prepare(arguments.out, arguments.sessions, arguments.take_charge, arguments.partner, arguments.agent)
    else:
        sys.exit(main(arguments))
