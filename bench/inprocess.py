"""In-process benchmark of issue 9: the PDF récapitulatif and the streamed CSV export of the caisse's queue.

    DATABASE_URL=sqlite:////tmp/bench.sqlite3 .venv/bin/python bench/inprocess.py [--renders 300] [--csv-rows 100000]

Targets:
- PDF: median render time of a request's récapitulatif ≤ 25 × the median render time of a blank page by WeasyPrint
  (same process, same URL fetcher, font configuration and PDF options — tagged PDF/UA —, interleaved rounds; the
  bound was 15 × for a one-line-per-field layout, which read poorly: the récapitulatif is now laid out as an official
  document); flat memory over `--renders` renders: the RSS growth between the sample after 50 renders and the last
  sample ≤ max(20 MiB, 10 % of the RSS after warm-up).
- CSV: `--csv-rows` rows of the queue export streamed in ≤ 1 s per 100,000 rows (issue 20: wall time of a pass
  without tracemalloc, the median of `--csv-passes`), with a peak of traced Python memory (tracemalloc, peak minus
  start, a further pass) ≤ 16 MiB. `--csv-personal`: the administrateur's export with the personal data (the NIRs
  decrypted one by one), reported beside it: its memory has the same bound, its time none (issue 20 sets it for the
  agents' export).

Everything the benchmark writes (export log, audit lines, a request or an agent when the database has none) is
written in a transaction rolled back at the end: the benchmark database is left as it was.
Unless the environment sets DEBUG, the settings are read in DEBUG (the development keys the generator encrypted the
NIRs with), then DEBUG is turned off: with DEBUG on, Django keeps the text of the last 9,000 queries, which would
count as a leak.

`measure_pdf()` and `measure_csv()` can be imported (bench/run.py) and return plain dicts.
"""

import argparse
import gc
import os
import resource
import statistics
import sys
import time
import tracemalloc
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "extranet.settings")

import django  # noqa: E402
from django.apps import apps  # noqa: E402

if not apps.ready:
    debug_asked = "DEBUG" in os.environ
    os.environ.setdefault("DEBUG", "true")
    django.setup()
    if not debug_asked:
        # As in production, without asking for a SECRET_KEY: no query log, no template debug (engines not built yet).
        from django.conf import settings

        settings.DEBUG = False

from django.db import transaction  # noqa: E402
from django.db.models import Count  # noqa: E402
from django.test import RequestFactory as HttpRequestFactory  # noqa: E402
from weasyprint import HTML  # noqa: E402

from extranet.core.pdf import FONT_CONFIG, PDF_OPTIONS, RefuseEveryURL  # noqa: E402
from requests.models import Request  # noqa: E402

MIB = 1024 * 1024
PDF_RATIO_TARGET = 25
RSS_GROWTH_FLOOR_MIB = 20
RSS_GROWTH_FRACTION = 0.10
CSV_PEAK_TARGET_MIB = 16
CSV_SECONDS_PER_100K_TARGET = 1.0
BLANK_PAGE = '<html lang="fr"><head><title>Page blanche</title></head><body></body></html>'


class _Rollback(Exception):
    pass


@contextmanager
def rolled_back():
    """Whatever is written inside is undone at the end."""
    try:
        with transaction.atomic():
            yield
            raise _Rollback
    except _Rollback:
        pass


def rss_mib():
    """Resident set size of this process now (Linux /proc), else its peak (getrusage, KiB on Linux)."""
    try:
        with open("/proc/self/statm") as statm:
            return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / MIB
    except OSError:
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def render_summary(pk):
    """What the view `summary_pdf` does, minus the permission check and the access journal: read the request,
    build its context (lazy querysets, evaluated by the template) and render it with WeasyPrint."""
    from requests.documents import render_summary

    demande = Request.objects.select_related("caisse", "structure", "author", "assigned_to").get(pk=pk)
    return render_summary(demande)


def render_blank():
    # The same fetcher, font configuration and options as the application's renders: only the document differs.
    return HTML(string=BLANK_PAGE, base_url=None, url_fetcher=RefuseEveryURL()).write_pdf(
        font_config=FONT_CONFIG, **PDF_OPTIONS
    )


def _a_request_pk():
    """The richest existing request (most messages), or None when the database has none."""
    demande = (
        Request.objects.annotate(exchanges=Count("messages")).order_by("-exchanges", "pk").only("pk").first()
        if Request.objects.filter(messages__isnull=False).exists()
        else Request.objects.order_by("pk").only("pk").first()
    )
    return demande.pk if demande else None


def _made_request_pk():
    """A request with a few exchanges, for an empty database (inside the rolled-back transaction)."""
    from requests.models import Message
    from tests.factories import CaisseMembershipFactory, ConventionFactory, RequestFactory

    convention = ConventionFactory()
    demande = RequestFactory(structure=convention.structure, caisse=convention.caisse)
    agent = CaisseMembershipFactory(caisse=convention.caisse).user
    for index in range(6):
        Message.objects.create(
            request=demande,
            author=demande.author if index % 2 == 0 else agent,
            side=Message.Side.PARTNER if index % 2 == 0 else Message.Side.CAISSE,
            body=f"Échange n° {index} : pièces justificatives envoyées, dossier en cours d'étude.",
        )
    return demande.pk


def measure_pdf(renders=300, rounds=30, warmup=5, sample_every=50, pk=None, verbose=False):
    """Median PDF récapitulatif vs blank page (wall and CPU time, interleaved) and RSS over `renders` renders."""
    with rolled_back():
        pk = pk or _a_request_pk() or _made_request_pk()
        for _ in range(warmup):
            render_blank()
            render_summary(pk)
        pdf_wall, blank_wall, pdf_cpu, blank_cpu = [], [], [], []
        for round_index in range(rounds):
            # Alternate which goes first, so neither always runs on a warmer cache.
            order = (("blank", render_blank), ("pdf", lambda: render_summary(pk)))
            for name, render in order if round_index % 2 == 0 else reversed(order):
                wall, cpu = time.perf_counter(), time.process_time()
                render()
                wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
                (pdf_wall if name == "pdf" else blank_wall).append(wall)
                (pdf_cpu if name == "pdf" else blank_cpu).append(cpu)
        gc.collect()
        warm_rss = rss_mib()
        samples = []
        size = 0
        for index in range(1, renders + 1):
            size = len(render_summary(pk))
            if index % sample_every == 0 or index == renders:
                gc.collect()
                samples.append((index, round(rss_mib(), 1)))
                if verbose:
                    print(f"  RSS after {index} renders: {samples[-1][1]} MiB", flush=True)
    pdf_ms, blank_ms = statistics.median(pdf_wall) * 1000, statistics.median(blank_wall) * 1000
    pdf_cpu_ms, blank_cpu_ms = statistics.median(pdf_cpu) * 1000, statistics.median(blank_cpu) * 1000
    reference = next((rss for index, rss in samples if index >= sample_every), samples[0][1])
    growth = samples[-1][1] - reference
    bound = max(RSS_GROWTH_FLOOR_MIB, RSS_GROWTH_FRACTION * warm_rss)
    ratio = pdf_ms / blank_ms
    return {
        "request_pk": pk,
        "pdf_bytes": size,
        "rounds": rounds,
        "pdf_ms": round(pdf_ms, 2),
        "blank_ms": round(blank_ms, 2),
        "ratio": round(ratio, 2),
        "pdf_cpu_ms": round(pdf_cpu_ms, 2),
        "blank_cpu_ms": round(blank_cpu_ms, 2),
        "cpu_ratio": round(pdf_cpu_ms / blank_cpu_ms, 2),
        "ratio_target": PDF_RATIO_TARGET,
        "ratio_ok": ratio <= PDF_RATIO_TARGET,
        "renders": renders,
        "warm_rss_mib": round(warm_rss, 1),
        "rss_samples_mib": [rss for _, rss in samples],
        "rss_samples_at": [index for index, _ in samples],
        "growth_mib": round(growth, 1),
        "growth_bound_mib": round(bound, 1),
        "memory_ok": growth <= bound,
    }


def _queue_caisse():
    """(caisse id, its number of requests) of the caisse with the most requests."""
    row = Request.objects.values("caisse").annotate(n=Count("pk")).order_by("-n").first()
    return (row["caisse"], row["n"]) if row else (None, 0)


def _an_agent(caisse_id):
    """An active agent of the caisse allowed to handle its requests, made (rolled back) if there is none."""
    from django.core.exceptions import PermissionDenied

    from structures.guards import require_caisse_staff
    from structures.models import CaisseMembership

    for membership in CaisseMembership.objects.filter(caisse_id=caisse_id, is_active=True, user__is_active=True)[:20]:
        try:
            require_caisse_staff(membership.user)
        except PermissionDenied:
            continue
        return membership.user
    from tests.factories import CaisseMembershipFactory

    return CaisseMembershipFactory(caisse_id=caisse_id).user


def copy_request(seed, count, start=0):
    """`count` copies of a request under numbers 9000000000 + start…: rows for the export to stream."""
    Request.objects.bulk_create(
        [
            Request(
                number=f"9{index:09d}",
                kind=seed.kind,
                motif=seed.motif,
                caisse_id=seed.caisse_id,
                structure_id=seed.structure_id,
                author_id=seed.author_id,
                details=seed.details,
                person_civility=seed.person_civility,
                person_last_name=f"Nom {index}",
                person_first_name=seed.person_first_name,
                person_birth_date=seed.person_birth_date,
                person_nir=seed.person_nir,
                person_nir_digest=seed.person_nir_digest,
            )
            for index in range(start, start + count)
        ],
        batch_size=2000,
    )


def _make_rows(rows):
    """A caisse with `rows` requests, for an empty or small database (inside the rolled-back transaction)."""
    from tests.factories import ConventionFactory, RequestFactory

    convention = ConventionFactory()
    RequestFactory(structure=convention.structure, caisse=convention.caisse)
    copy_request(Request.objects.filter(caisse=convention.caisse).get(), rows - 1)
    return convention.caisse_id


def _an_administrateur(caisse_id):
    """An administrateur of the caisse (made, rolled back): the only one who may export the personal data."""
    from tests.factories import CaisseMembershipFactory

    return CaisseMembershipFactory(caisse_id=caisse_id, admin=True).user


def _stream_export(user, rows, personal):
    """(lines, bytes) of the export streamed as `user` until `rows` rows have left."""
    from requests.queue import PERSONAL_DATA_PARAM, queue_export

    http_request = HttpRequestFactory().get(
        "/caisse/demandes/export.csv", {PERSONAL_DATA_PARAM: "1"} if personal else {}
    )
    http_request.user = user
    response = queue_export(http_request)
    assert response.status_code == 200 and response.streaming, response.status_code
    lines = size = 0
    for chunk in response.streaming_content:
        lines += chunk.count(b"\n")
        size += len(chunk)
        if lines > rows:  # the header line, then `rows` rows
            break
    # Not response.close(): it sends request_finished, whose close_old_connections would close the database
    # connection inside the rolled-back transaction. Only the generator is closed (server-side cursor freed).
    for close in response._resource_closers:
        close()
    return lines, size


def measure_csv(rows=100_000, make_rows=False, passes=1, personal=False):
    """Stream the queue export of the biggest caisse as one of its agents (its administrateur with `personal`), `rows`
    rows then stop: the median wall time of `passes` passes, then the peak memory growth traced by tracemalloc from
    just before the view is called to the last row read, in one more pass."""
    with rolled_back():
        caisse_id, available = _queue_caisse()
        if available < rows and make_rows:
            caisse_id, available = _make_rows(rows), rows
        if caisse_id is None:
            return {"rows": 0, "available": 0, "peak_growth_mib": None, "seconds": None, "ok": False}
        user = _an_administrateur(caisse_id) if personal else _an_agent(caisse_id)
        durations = []
        for _ in range(passes):
            gc.collect()
            began = time.perf_counter()
            _stream_export(user, rows, personal)
            durations.append(time.perf_counter() - began)
        gc.collect()
        tracemalloc.start()
        try:
            tracemalloc.reset_peak()
            start, _ = tracemalloc.get_traced_memory()
            lines, size = _stream_export(user, rows, personal)
            _, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
    streamed = min(lines - 1, rows)
    growth = (peak - start) / MIB
    seconds = statistics.median(durations) if durations else None
    seconds_target = None if personal else CSV_SECONDS_PER_100K_TARGET * rows / 100_000
    return {
        "rows": streamed,
        "available": available,
        "personal": personal,
        "bytes": size,
        "peak_growth_mib": round(growth, 2),
        "seconds": round(seconds, 2) if seconds is not None else None,
        "seconds_samples": [round(duration, 2) for duration in durations],
        "seconds_target": round(seconds_target, 2) if seconds_target else None,
        "target_mib": CSV_PEAK_TARGET_MIB,
        "ok": streamed >= rows and growth <= CSV_PEAK_TARGET_MIB and (not seconds_target or seconds <= seconds_target),
    }


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--renders", type=int, default=300)
    parser.add_argument("--rounds", type=int, default=30, help="interleaved rounds for the PDF/blank ratio")
    parser.add_argument("--csv-rows", type=int, default=100_000)
    parser.add_argument("--csv-passes", type=int, default=3, help="timed passes of the export (median)")
    parser.add_argument("--csv-personal", action="store_true", help="also the export with the personal data")
    parser.add_argument(
        "--make-rows", action="store_true", help="when no caisse has enough requests, add them (rolled back)"
    )
    parser.add_argument("--skip-pdf", action="store_true")
    parser.add_argument("--skip-csv", action="store_true")
    args = parser.parse_args(argv)
    from django.conf import settings
    from django.db import connection

    print(f"Database: {connection.vendor} {settings.DATABASES['default']['NAME']} — DEBUG={settings.DEBUG}")
    results = {}
    if not args.skip_pdf:
        pdf = results["pdf"] = measure_pdf(renders=args.renders, rounds=args.rounds, verbose=True)
        print(
            f"PDF récapitulatif (request pk {pdf['request_pk']}, {pdf['pdf_bytes']} bytes): "
            f"median {pdf['pdf_ms']} ms vs blank page {pdf['blank_ms']} ms → ratio {pdf['ratio']} "
            f"(CPU: {pdf['pdf_cpu_ms']} / {pdf['blank_cpu_ms']} ms → {pdf['cpu_ratio']}) "
            f"target ≤ {PDF_RATIO_TARGET}: {'OK' if pdf['ratio_ok'] else 'FAILED'}"
        )
        print(
            f"PDF memory: RSS {pdf['warm_rss_mib']} MiB after warm-up; samples at {pdf['rss_samples_at']} renders: "
            f"{pdf['rss_samples_mib']} MiB; growth {pdf['growth_mib']} MiB (bound {pdf['growth_bound_mib']} MiB): "
            f"{'OK' if pdf['memory_ok'] else 'FAILED'}"
        )
    if not args.skip_csv:
        for key, personal in [("csv", False), ("csv_personal", True)][: 2 if args.csv_personal else 1]:
            csv = results[key] = measure_csv(
                rows=args.csv_rows, make_rows=args.make_rows, passes=args.csv_passes, personal=personal
            )
            name = "CSV export with the personal data" if personal else "CSV export"
            if csv["peak_growth_mib"] is None or csv["rows"] < args.csv_rows:
                print(f"{name}: only {csv['available']} requests in the biggest caisse, {args.csv_rows} wanted.")
            if csv["peak_growth_mib"] is not None:
                print(
                    f"{name}: {csv['rows']} rows, {csv['bytes']} bytes in {csv['seconds']} s (median of "
                    f"{csv['seconds_samples']}, target {_target(csv['seconds_target'], 's')}); peak memory growth "
                    f"{csv['peak_growth_mib']} MiB (target ≤ {CSV_PEAK_TARGET_MIB}): {'OK' if csv['ok'] else 'FAILED'}"
                )
    failed = [
        name
        for name, ok in (
            ("pdf ratio", results.get("pdf", {}).get("ratio_ok", True)),
            ("pdf memory", results.get("pdf", {}).get("memory_ok", True)),
            ("csv", results.get("csv", {}).get("ok", True)),
            ("csv with personal data", results.get("csv_personal", {}).get("ok", True)),
        )
        if not ok
    ]
    print("All targets met." if not failed else f"Targets failed: {', '.join(failed)}")
    results["failed"] = failed
    from bench.run import results_part
    from requests.models import Request

    # Past 1.5M requests, a part of its own, as bench/run.py's (the 1M figures stay beside it).
    write_part(results, results_part({"vendor": connection.vendor, "requests": Request.objects.count()}), args)
    return results


def _target(bound, unit, none="none"):
    return f"≤ {bound} {unit}" if bound else none


def write_part(results, vendor, args):
    """This database's PDF and CSV figures in bench/results.md (bench/report.py)."""
    from bench import report

    verdict = {True: "tenue", False: "**manquée**"}
    lines = ["### PDF et export CSV (dans le processus)", "", "| Mesure | Mesuré | Cible | Résultat |"]
    lines.append("|---|---:|---:|---|")
    if "pdf" in results:
        pdf = results["pdf"]
        lines += [
            f"| PDF récapitulatif / page blanche WeasyPrint (médianes de {pdf['rounds']} tours entrelacés) | "
            f"{pdf['ratio']} ({pdf['pdf_ms']} / {pdf['blank_ms']} ms ; en temps CPU {pdf['cpu_ratio']}) | "
            f"≤ {PDF_RATIO_TARGET} | {verdict[pdf['ratio_ok']]} |",
            f"| Mémoire sur {pdf['renders']} rendus (RSS, après 50 rendus → dernier) | {pdf['growth_mib']} Mio "
            f"(RSS {pdf['warm_rss_mib']} Mio ; relevés {pdf['rss_samples_mib']}) | ≤ {pdf['growth_bound_mib']} Mio | "
            f"{verdict[pdf['memory_ok']]} |",
        ]
    for key, what in [("csv", ""), ("csv_personal", ", avec les données personnelles")]:
        csv = results.get(key)
        if csv is None or csv["peak_growth_mib"] is None:
            continue
        lines.append(
            f"| Export CSV en flux de {csv['rows']:_} lignes{what} : durée (médiane de {csv['seconds_samples']}), "
            f"pic de mémoire Python (tracemalloc) | {csv['seconds']} s ; {csv['peak_growth_mib']} Mio | "
            f"{_target(csv['seconds_target'], 's', 'aucune')} ; ≤ {CSV_PEAK_TARGET_MIB} Mio | {verdict[csv['ok']]} |"
        )
    command = " ".join([f"DATABASE_URL={os.environ.get('DATABASE_URL', '')}", ".venv/bin/python bench/inprocess.py"])
    lines += ["", f"Reproduire : `{' '.join([command, *sys.argv[1:]])}`", ""]
    report.part("inprocess", vendor).write_text("\n".join(lines), encoding="utf-8")
    report.write_index()


if __name__ == "__main__":
    sys.exit(1 if main()["failed"] else 0)
