"""In-process profile of the hot pages (issue 20): what each signed-in page costs above the floor, and where.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/extranet_bench .venv/bin/python bench/profile_pages.py \
        [--rounds 200] [--profile history,queue,detail,take_charge] [--top 40]

One process, the settings bench/run.py serves with (DEBUG off, production cookies and database cache, the floor view
mounted: bench/run.server_env), the bench accounts of bench/generate.py signed in as a completed sign-in leaves them
(bench/run.prepare's sessions, second factor included), requests sent by Django's test Client with the CSRF check on
(the middleware stack runs in full, as under gunicorn, without the network and the WSGI server). Every round renders
the floor and each page once, in an order rotated round after round; the report gives each page's median wall time,
its ratio to the floor's median, its CPU time and its number of queries. Then, with --profile, each named page is run
--profile-rounds more times under cProfile and the --top functions by cumulative time are printed. With --breakdown N,
every page is profiled N times and the share of the ORM, the database, the templates and the sign-in checks is
written to bench/breakdown-<vendor>.md, which bench/results.md shows (bench/report.py).

The take-charge POST commits, as in bench/run.py: each round takes a new request of the agent's caisse in charge
(bench/run.py's prepared numbers); run it on a benchmark database only.
"""

import argparse
import cProfile
import io
import json
import os
import pstats
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.report import BENCH_DIR, write_index  # noqa: E402
from bench.run import BENCH_AGENT, BENCH_PARTNER, DEFAULT_QUEUE_QUERY, prepare, server_env  # noqa: E402

PAGES = ("floor", "history", "queue", "detail", "take_charge")


def setup(database_url):
    os.environ.update(server_env(database_url))
    os.environ["DJANGO_SETTINGS_MODULE"] = "extranet.settings"
    import django

    django.setup()


def load_config(partner, agent, take_charge):
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "config.json"
        prepare(out, 1, take_charge, partner, agent)
        return json.loads(out.read_text(encoding="utf-8"))


class Pages:
    """The measured requests, each a callable returning the response (checked like bench/locustfile.py)."""

    def __init__(self, config, queue_query):
        from django.test import Client

        names = config["cookie_names"]
        self.csrf = config["csrf_secret"]
        self.partner = Client(enforce_csrf_checks=True, HTTP_HOST="127.0.0.1")
        self.agent = Client(enforce_csrf_checks=True, HTTP_HOST="127.0.0.1")
        for client, session in (
            (self.partner, config["partner_sessions"][0]),
            (self.agent, config["agent_sessions"][0]),
        ):
            client.cookies[names["session"]] = session
            client.cookies[names["csrf"]] = self.csrf
        self.queue_query = queue_query
        self.detail_numbers = config["detail_numbers"]
        self.take_charge_numbers = iter(config["take_charge_numbers"])
        self.count = 0

    def _get(self, client, url):
        response = client.get(url)
        if response.status_code != 200:
            raise SystemExit(f"{url}: HTTP {response.status_code}")
        return response

    def floor(self):
        return self._get(self.partner, "/bench/floor/")

    def history(self):
        return self._get(self.partner, "/demandes/")

    def queue(self):
        return self._get(self.agent, f"/caisse/demandes/?{self.queue_query}")

    def detail(self):
        self.count += 1
        return self._get(self.partner, f"/demandes/{self.detail_numbers[self.count % len(self.detail_numbers)]}/")

    def take_charge(self):
        number = next(self.take_charge_numbers, None)
        if number is None:
            raise SystemExit("No new request left to take in charge: generate the benchmark database again.")
        response = self.agent.post(f"/demandes/{number}/prendre-en-charge/", {"csrfmiddlewaretoken": self.csrf})
        if response.status_code != 302 or not response["Location"].endswith(f"/demandes/{number}/"):
            raise SystemExit(f"take-charge {number}: HTTP {response.status_code}")
        # The session's cookie is set again when the session changes (the flash message): keep the same session.
        return response


def captured_queries(pages, name):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as queries:
        getattr(pages, name)()
    return [query["sql"] for query in queries.captured_queries]


def measure(pages, names, rounds, warmup):
    for _ in range(warmup):
        for name in names:
            getattr(pages, name)()
    wall = {name: [] for name in names}
    cpu = {name: [] for name in names}
    for index in range(rounds):
        shift = index % len(names)
        for name in names[shift:] + names[:shift]:
            started, started_cpu = time.perf_counter(), time.process_time()
            getattr(pages, name)()
            wall[name].append(time.perf_counter() - started)
            cpu[name].append(time.process_time() - started_cpu)
    return {name: (statistics.median(wall[name]) * 1000, statistics.median(cpu[name]) * 1000) for name in names}


def _profiled(pages, name, rounds):
    """The profiler that watched `rounds` requests of the page."""
    profiler = cProfile.Profile()
    call = getattr(pages, name)
    profiler.enable()
    for _ in range(rounds):
        call()
    profiler.disable()
    return profiler


def profile(pages, name, rounds, top, sort):
    out = io.StringIO()
    stats = pstats.Stats(_profiled(pages, name, rounds), stream=out)
    stats.sort_stats(sort).print_stats(top)
    return out.getvalue()


# Where a page's time goes (--breakdown): cumulative times of these functions under cProfile, per request. They nest
# (the ORM's queries include the database's replies; a template may run a lazy query), so each line reads "of which".
BREAKDOWN = (
    (
        "Requêtes de l'ORM (compilation, envoi, lecture des lignes)",
        [("django/db/models/sql/compiler.py", "execute_sql")],
    ),
    (
        "  dont l'attente de la base",
        # psycopg waits on its socket; SQLite runs in the process, in its cursor's C methods.
        [
            ("psycopg/connection.py", "wait"),
            ("~", "<method 'execute' of 'sqlite3.Cursor' objects>"),
            ("~", "<method 'fetchmany' of 'sqlite3.Cursor' objects>"),
            ("~", "<method 'fetchone' of 'sqlite3.Cursor' objects>"),
        ],
    ),
    ("  dont la compilation du SQL", [("django/db/models/sql/compiler.py", "as_sql")]),
    ("Gabarits (processeurs de contexte compris)", [("django/template/backends/django.py", "render")]),
    ("Session, utilisateur et second facteur (django-otp)", [("django_otp/middleware.py", "_verify_user_sync")]),
)


def _cumulative(stats, path, function):
    """The function's cumulative time: that of its outermost entry (pstats counts nested calls once)."""
    entries = (
        entry[3] for (filename, _, func), entry in stats.items() if func == function and filename.endswith(path)
    )
    return max(entries, default=0.0)


def breakdown(pages, names, rounds):
    """Per page, the profiled time per request and that of each BREAKDOWN part: rows of (label, values by page)."""
    values = {}
    for name in names:
        stats = pstats.Stats(_profiled(pages, name, rounds)).stats
        total = sum(tottime for _, _, tottime, _, _ in stats.values())
        parts = [sum(_cumulative(stats, path, function) for path, function in functions) for _, functions in BREAKDOWN]
        values[name] = [total / rounds * 1000] + [part / rounds * 1000 for part in parts]
    labels = ["Requête entière"] + [label for label, _ in BREAKDOWN]
    rows = [(label, [values[name][index] for name in names]) for index, label in enumerate(labels)]
    rows.append(("Requête entière, au-dessus du plancher", [values[name][0] - values["floor"][0] for name in names]))
    return rows


def breakdown_part(database, names, medians, queries, rows, rounds, command):
    """bench/breakdown-<vendor>.md, which bench/results.md shows under that database's figures (bench/report.py)."""
    floor_wall, floor_cpu = medians["floor"]
    lines = [
        "### Où va le temps (dans le processus)",
        "",
        f"Mesuré le {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())} par `bench/profile_pages.py` : le client de "
        "test de Django, tous les intergiciels, les réglages du banc, sans le réseau ni gunicorn ; "
        f"{database['requests']:_} demandes ({database['vendor']}).",
        "",
        "| Page | Médiane (ms) | / plancher | Temps CPU (ms) | / plancher | Requêtes SQL |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for name in names:
        wall, cpu = medians[name]
        lines.append(
            f"| {name} | {wall:.2f} | {wall / floor_wall:.2f} | {cpu:.2f} | {cpu / floor_cpu:.2f} | {queries[name]} |"
        )
    lines += [
        "",
        f"Sous cProfile ({rounds} requêtes par page ; ms par requête, gonflées par le profileur : les proportions "
        "comptent). Les lignes s'emboîtent : « dont » fait partie de la ligne du dessus, et un gabarit peut lancer "
        "une requête.",
        "",
        "| Part | " + " | ".join(names) + " |",
        "|---|" + "---:|" * len(names),
    ]
    lines += [f"| {label.strip()} | " + " | ".join(f"{value:.2f}" for value in row) + " |" for label, row in rows]
    lines += ["", f"Reproduire : `{command}`", ""]
    return "\n".join(lines)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument(
        "--database-url", default=os.environ.get("DATABASE_URL"), required="DATABASE_URL" not in os.environ
    )
    parser.add_argument("--partner", default=BENCH_PARTNER)
    parser.add_argument("--agent", default=BENCH_AGENT)
    parser.add_argument("--queue-query", default=DEFAULT_QUEUE_QUERY)
    parser.add_argument("--rounds", type=int, default=200)
    parser.add_argument("--warmup", type=int, default=20)
    parser.add_argument("--pages", default=",".join(PAGES), help="pages measured (the floor always is)")
    parser.add_argument("--profile", default="", help="pages to profile with cProfile, comma-separated")
    parser.add_argument("--profile-rounds", type=int, default=100)
    parser.add_argument("--top", type=int, default=40)
    parser.add_argument("--sort", default="cumulative", help="cProfile order: cumulative, tottime…")
    parser.add_argument("--sql", action="store_true", help="print each page's queries")
    parser.add_argument(
        "--breakdown",
        type=int,
        default=0,
        metavar="N",
        help="where the time goes, N profiled requests each; written to bench/breakdown-<vendor>.md",
    )
    args = parser.parse_args(argv)
    names = ["floor"] + [name for name in args.pages.split(",") if name and name != "floor"]
    profiled = [name for name in args.profile.split(",") if name]
    unknown = set(names + profiled) - set(PAGES)
    if unknown:
        parser.error(f"unknown pages: {', '.join(sorted(unknown))} (known: {', '.join(PAGES)})")
    setup(args.database_url)
    take_charges = (args.warmup + args.rounds + 1 + args.breakdown) * ("take_charge" in names) + (
        args.profile_rounds * ("take_charge" in profiled)
    )
    config = load_config(args.partner, args.agent, take_charges)
    pages = Pages(config, args.queue_query)
    database = config["database"]
    print(
        f"Database: {database['vendor']} {database['name']}, {database['requests']:,} requests "
        f"({database['structure_requests']:,} in the partner's history, {database['caisse_requests']:,} in the "
        f"agent's caisse); load: {os.getloadavg()[0]:.2f}"
    )
    medians = measure(pages, names, args.rounds, args.warmup)
    # After the warm-up: what every request asks, not what a process reads once (content types, remembered lists).
    sql = {name: captured_queries(pages, name) for name in names}
    queries = {name: len(sql[name]) for name in names}
    floor_wall, floor_cpu = medians["floor"]
    print(f"{args.rounds} interleaved rounds ({args.warmup} warm-up), medians:")
    print(f"  {'page':<12} {'wall ms':>8} {'ratio':>6} {'cpu ms':>8} {'ratio':>6} {'queries':>8}")
    for name in names:
        wall, cpu = medians[name]
        print(
            f"  {name:<12} {wall:8.2f} {wall / floor_wall:6.2f} {cpu:8.2f} {cpu / floor_cpu:6.2f} {queries[name]:8d}"
        )
    print(f"load after: {os.getloadavg()[0]:.2f}")
    for name in names if args.sql else ():
        print(f"\n===== queries: {name} =====")
        print("\n".join(f"{index}. {query}" for index, query in enumerate(sql[name], 1)))
    if args.breakdown:
        rows = breakdown(pages, names, args.breakdown)
        command = " ".join(
            [".venv/bin/python", "bench/profile_pages.py", *(argv if argv is not None else sys.argv[1:])]
        )
        text = breakdown_part(database, names, medians, queries, rows, args.breakdown, command)
        print("\n" + text)
        (BENCH_DIR / f"breakdown-{database['vendor']}.md").write_text(text, encoding="utf-8")
        write_index()
    for name in profiled:
        print(f"\n===== cProfile: {name}, {args.profile_rounds} requests =====")
        print(profile(pages, name, args.profile_rounds, args.top, args.sort))


if __name__ == "__main__":
    main()
