"""The queue's export at database speed (requests/queue.py): rows read as values, lines written by hand, ages by
`deadlines.Clock`. Pinned here: the file is byte for byte what the request-by-request export wrote (the reference
below, the code it replaced), the ages and overdue flags are `deadlines.age` and `deadlines.is_overdue`, the queries
do not grow with the rows, and no request is built from a row."""

import csv
import io
import random
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from hypothesis import given
from hypothesis import strategies as st

from bench.inprocess import copy_request
from extranet.core.workdays import Calendar
from requests import deadlines, queue
from requests.catalog import KINDS
from requests.models import Request, Status
from requests.nir import nir_digest
from structures.models import Caisse
from tests.factories import (
    CaisseFactory,
    CaisseMembershipFactory,
    ConventionFactory,
    MembershipFactory,
    RequestFactory,
    make_nir,
)

PARIS = ZoneInfo("Europe/Paris")
EXPORT = "/caisse/demandes/export.csv"
# Names that a formula guard or csv's quoting must change: a formula, the delimiter, quotes, line breaks.
HOSTILE = ['=HYPERLINK("http://x")', "Alpha ; Beta", 'Dite "la Ruche"', "Ligne\nsuivante", "-Retour\r", "Simple"]


def reference_line(writer, demande, personal, today):
    """A row as the export wrote it from a Request (select_related structure, caisse, assigned_to) before it read
    values: the definition the fast export must match."""
    age = deadlines.age(demande, today)

    def when(moment):
        return timezone.localtime(moment).strftime("%d/%m/%Y %H:%M") if moment else ""

    values = [
        demande.number,
        demande.get_kind_display(),
        demande.motif_label,
        demande.structure.name,
        demande.caisse.name,
        demande.get_status_display(),
        when(demande.created_at),
        when(demande.taken_at),
        when(demande.resolved_at),
        demande.assigned_to.get_full_name() if demande.assigned_to else "",
        age,
        "Oui" if deadlines.is_overdue(demande, today, age_in_days=age) else "Non",
    ]
    if personal:
        birth = demande.person_birth_date
        values += [
            demande.person_last_name,
            demande.person_first_name,
            birth.strftime("%d/%m/%Y") if birth else "",
            demande.formatted_nir,
        ]
    return writer.writerow([queue._cell(value) for value in values])


def reference_body(caisse, personal, today):
    class Line:
        def write(self, value):
            return value

    writer = csv.writer(Line(), delimiter=";")
    header = queue.CSV_COLUMNS + (queue.CSV_PERSONAL_COLUMNS if personal else [])
    requests = Request.objects.filter(caisse=caisse).select_related("structure", "caisse", "assigned_to")
    lines = [reference_line(writer, demande, personal, today) for demande in requests.order_by("created_at", "pk")]
    return "".join(["\ufeff", writer.writerow(header), *lines])


def generated_requests(caisse, rng, count, first_day):
    """`count` requests of the caisse over about two years from `first_day`: every kind and motif, every status,
    taken and resolved at various delays, waits running or answered (`clock_from`), hostile names."""
    structures = [ConventionFactory(caisse=caisse, structure__name=name).structure for name in HOSTILE[:3]]
    authors = {structure.pk: MembershipFactory(structure=structure).user for structure in structures}
    agents = [
        CaisseMembershipFactory(caisse=caisse, user__first_name=first, user__last_name=last).user
        for first, last in [("Léa", "Martin"), ("=Zoé", "d'Arc"), ("Jean", 'Du "Pont" ; fils')]
    ]
    kinds = [(spec, motif) for spec in KINDS.values() for motif in spec.motifs]
    made = []
    start = datetime.combine(first_day, datetime.min.time(), PARIS)
    for index in range(count):
        spec, motif = rng.choice(kinds)
        structure = rng.choice(structures)
        created = start + timedelta(minutes=rng.randrange(760 * 1440))
        person = spec.has_person
        nir = make_nir(order=f"{index % 1000:03d}") if person else ""
        made.append(
            Request(
                number=f"{caisse.code[:2]}{caisse.code}{index:05d}",
                kind=spec.value,
                motif=motif.value,
                caisse=caisse,
                structure=structure,
                author=authors[structure.pk],
                created_at=created,
                person_civility="mme" if person else "",
                person_last_name=rng.choice(HOSTILE) if person else "",
                person_first_name=rng.choice(["Léa", "@Léo", "Anne-Marie"]) if person else "",
                person_birth_date=date(1950 + index % 60, 1 + index % 12, 1 + index % 28) if person else None,
                person_nir=nir,
                person_nir_digest=nir_digest(nir) if person else "",
            )
        )
    Request.objects.bulk_create(made)
    for demande in Request.objects.filter(caisse=caisse):
        status = rng.choice(Status.values)
        changes = {"status": status}
        if status != Status.NEW:
            changes["taken_at"] = demande.created_at + timedelta(hours=rng.randrange(1, 24 * 20))
            changes["assigned_to"] = rng.choice(agents)
        if status == Status.RESOLVED:
            changes["resolved_at"] = changes["taken_at"] + timedelta(hours=rng.randrange(0, 24 * 40))
        elif rng.random() < 0.2:
            changes["awaiting_partner_since"] = demande.created_at + timedelta(days=rng.randrange(1, 10))
        if rng.random() < 0.3:
            changes["clock_from"] = timezone.localdate(demande.created_at) + timedelta(days=rng.randrange(1, 15))
        Request.objects.filter(pk=demande.pk).update(**changes)


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("code", "today"),
    [
        ("331", date(2026, 3, 12)),
        # Bas-Rhin, on the Tuesday after Easter (Good Friday and Easter Monday just before) ...
        ("671", date(2026, 4, 7)),
        # ... and on 26 December (Saint-Étienne, a holiday there), and Martinique on the abolition of slavery day.
        ("671", date(2025, 12, 26)),
        ("972", date(2025, 5, 22)),
    ],
)
@pytest.mark.parametrize("personal", [False, True], ids=["without-personal-data", "with-personal-data"])
def test_the_file_is_the_request_by_request_one(client, time_machine, code, today, personal):
    """Every status, kind, motif, wait and resolution delay, over two years of the caisse's calendar seen on a
    day around its holidays: the same bytes as the export that built each request (labels, Europe/Paris dates across
    the clock changes, working-day ages, overdue flags, formula guard, quoting, spaced NIR)."""
    time_machine.move_to(datetime.combine(today, datetime.min.time(), PARIS) + timedelta(hours=10), tick=False)
    caisse = CaisseFactory(code=code)
    generated_requests(caisse, random.Random(f"{code}{today}"), 160, today - timedelta(days=700))
    client.force_login(CaisseMembershipFactory(caisse=caisse, admin=True).user)
    response = client.get(EXPORT + "?status=all" + ("&donnees_personnelles=1" if personal else ""))
    body = b"".join(response.streaming_content).decode()
    assert body == reference_body(Caisse.objects.get(pk=caisse.pk), personal, today)
    assert body.count("Oui") > 5 and body.count("\r\n") > 160  # overdue rows, and line breaks inside fields


@given(
    calendar=st.sampled_from(Calendar.values),
    status=st.sampled_from(Status.values),
    kind=st.sampled_from(list(KINDS)),
    created=st.datetimes(datetime(2023, 1, 1), datetime(2027, 12, 31), timezones=st.just(UTC)),
    resolution=st.one_of(st.none(), st.timedeltas(timedelta(0), timedelta(days=400))),
    clock_moved=st.one_of(st.none(), st.integers(0, 60)),
    awaiting=st.booleans(),
    seen=st.integers(-30, 800),
)
def test_the_clock_is_age_and_is_overdue(calendar, status, kind, created, resolution, clock_moved, awaiting, seen):
    """deadlines.Clock from a row's values gives what deadlines.age and is_overdue give from the request."""
    demande = Request(
        status=status,
        kind=kind,
        created_at=created,
        resolved_at=created + resolution if resolution is not None else None,
        clock_from=timezone.localdate(created) + timedelta(days=clock_moved) if clock_moved is not None else None,
        awaiting_partner_since=created if awaiting else None,
        caisse=Caisse(code="000", calendar=calendar),
    )
    today = timezone.localdate(created) + timedelta(days=seen)
    clock = deadlines.Clock(calendar=calendar, today=today)
    resolved_on = timezone.localdate(demande.resolved_at) if demande.resolved_at else None
    age = clock.age(status, deadlines.clock_start(demande), resolved_on)
    assert age == deadlines.age(demande, today)
    assert clock.is_overdue(status, kind, age, demande.awaiting_partner_since) == deadlines.is_overdue(demande, today)


@given(st.lists(st.text(), min_size=2, max_size=4))
def test_fields_are_quoted_as_csv_writer_quotes_them(texts):
    written = io.StringIO()
    csv.writer(written, delimiter=";").writerow(texts)
    assert queue._line([queue._quoted(text) for text in texts]) == written.getvalue()


def test_the_clock_forgets_pairs_past_its_bound(monkeypatch):
    """A long export of resolved requests (many end days) keeps at most REMEMBERED pairs, and still counts right."""
    monkeypatch.setattr(deadlines.Clock, "REMEMBERED", 3)
    clock = deadlines.Clock(calendar=Calendar.METROPOLE, today=date(2026, 3, 12))
    ages = [clock.age(Status.RESOLVED, date(2026, 3, 2), date(2026, 3, 2) + timedelta(days=day)) for day in range(8)]
    assert ages == [0, 1, 2, 3, 4, 4, 4, 5]
    assert len(clock._working_days) <= 3


@pytest.mark.django_db
class TestAtDatabaseSpeed:
    @pytest.fixture
    def fill(self, caisse, structure, technicien):
        def add(count):
            seed = RequestFactory(caisse=caisse, structure=structure, author=technicien)
            copy_request(seed, count - 1, start=Request.objects.count())

        return add

    def export_queries(self, client, user, monkeypatch, personal=False):
        client.force_login(user)
        monkeypatch.setattr(queue, "EXPORT_CHUNK_SIZE", 100)  # 300 rows: three fetches of the cursor
        with CaptureQueriesContext(connection) as queries:
            response = client.get(EXPORT + ("?donnees_personnelles=1" if personal else ""))
            body = b"".join(response.streaming_content)
        return len(queries), body.count(b"\r\n") - 1

    @pytest.mark.parametrize("personal", [False, True])
    def test_the_queries_do_not_grow_with_the_rows(self, client, caisse_admin, fill, monkeypatch, personal):
        fill(10)
        few, rows = self.export_queries(client, caisse_admin, monkeypatch, personal)
        assert rows == 10
        fill(290)
        many, rows = self.export_queries(client, caisse_admin, monkeypatch, personal)
        assert (rows, many) == (300, few)

    def test_no_request_is_built_from_a_row(self, client, agent, fill, monkeypatch):
        fill(120)

        def refused(*args, **kwargs):
            raise AssertionError("the export builds a Request per row")

        monkeypatch.setattr(Request, "__init__", refused)
        monkeypatch.setattr(Request, "from_db", classmethod(refused))
        assert self.export_queries(client, agent, monkeypatch)[1] == 120
