"""The caisse's queue ("File des demandes"): every request of the agent's caisse, filtered, by age, and its CSV export.

The queue of a big caisse is a hot list: no COUNT(*) of the filtered rows, a page is `size + 1` rows read from an
index (the extra row tells whether a next page exists), and the export streams from a server-side cursor.
"""

import datetime

from django.contrib.auth import get_user_model
from django.contrib.auth.decorators import login_required
from django.db.models import Func, OuterRef, Subquery, TextField
from django.http import StreamingHttpResponse
from django.shortcuts import render
from django.utils import timezone

from extranet.audit.models import AccessLog, record_access
from extranet.core.pagination import link_query, page_number
from requests import deadlines, news, waiting
from requests.catalog import KINDS, Kind
from requests.filters import QueueFilter
from requests.models import ExportLog, Request, Status
from requests.nir import format_nir
from requests.rows import queue_rows
from structures.guards import require_caisse_staff
from structures.models import Structure
from structures.policy import can_administer_caisse

PAGE_SIZES = (20, 50, 100)
ORDERS = {
    "anciennes": (("created_at", "pk"), "Les plus anciennes d'abord"),
    "recentes": (("-created_at", "-pk"), "Les plus récentes d'abord"),
}
DEFAULT_ORDER = "anciennes"
PERSONAL_DATA_PARAM = "donnees_personnelles"
PERSONAL_DATA_REFUSED = (
    "L'export avec les données personnelles (nom, prénom, date de naissance, NIR) est réservé aux "
    "administrateurs de la caisse. Aucun fichier n'a été produit : vous pouvez exporter la file sans ces données."
)
INVALID_FILTERS = "Corrigez les filtres signalés ci-dessous : aucun fichier n'a été produit."
EXPORT_CHUNK_SIZE = 2000

CSV_COLUMNS = [
    "Numéro",
    "Type de demande",
    "Motif",
    "Structure",
    "Caisse",
    "Statut",
    "Déposée le",
    "Prise en charge le",
    "Résolue le",
    "Agent en charge",
    "Âge (jours ouvrés)",
    "En retard",
]
CSV_PERSONAL_COLUMNS = ["Nom", "Prénom", "Date de naissance", "NIR"]


def _filtered(request, staff, today):
    filterset = QueueFilter(
        request.GET,
        queryset=Request.objects.visible_to(request.user),
        caisse=staff.caisse_id,
        calendar=staff.caisse.calendar,
        user=request.user,
        today=today,
    )
    order = request.GET.get("ordre") if request.GET.get("ordre") in ORDERS else DEFAULT_ORDER
    return filterset, order


def _with_names(requests):
    """The structure's and the author's names read by subqueries, not joins: with those inner joins, SQLite planned
    the 1,000 structures first and then each one's requests of the kind, then sorted (0.7 s a page at a million)."""
    users = get_user_model().objects
    return requests.select_related("assigned_to").annotate(
        structure_name=Subquery(Structure.objects.filter(pk=OuterRef("structure_id")).values("name")),
        author_first_name=Subquery(users.filter(pk=OuterRef("author_id")).values("first_name")),
        author_last_name=Subquery(users.filter(pk=OuterRef("author_id")).values("last_name")),
    )


@login_required
def queue(request):
    staff = require_caisse_staff(request.user)
    return _queue_page(request, staff)


def _queue_page(request, staff, *, error=None, status=200):
    today = timezone.localdate()
    filterset, order = _filtered(request, staff, today)
    size = int(request.GET["taille"]) if request.GET.get("taille") in {str(s) for s in PAGE_SIZES} else PAGE_SIZES[0]
    page = page_number(request.GET.get("page"))
    offset = (page - 1) * size
    listed = news.with_news(_with_names(filterset.qs), request.user).order_by(*ORDERS[order][0])
    rows = list(listed[offset : offset + size + 1])
    has_next = len(rows) > size
    rows = rows[:size]
    for row in rows:
        row.caisse = staff.caisse  # the queue is the caisse's own: its calendar counts the ages, with no query
        row.age = deadlines.age(row, today)
        row.overdue = deadlines.is_overdue(row, today, age_in_days=row.age)
        row.unanswered = waiting.is_unanswered(row, today)
        # Written here rather than by the template's date filter, twice per row: a twentieth of the page's time.
        deposited = timezone.localtime(row.created_at)
        row.deposited_day, row.deposited_time = f"{deposited:%d/%m/%Y}", f"{deposited:%H}h{deposited:%M}"
    params = link_query(request.GET, {*filterset.filters, "ordre", "taille"})
    export_params = params.copy()
    export_params.pop("taille", None)
    return render(
        request,
        "requests/queue.html",
        {
            "filterset": filterset,
            "rows": rows,
            "rows_html": queue_rows(rows),
            "page": page,
            "has_previous": page > 1,
            "has_next": has_next,
            "first_index": offset + 1,
            "last_index": offset + len(rows),
            "size": size,
            "page_sizes": PAGE_SIZES,
            "order": order,
            "orders": [(key, label) for key, (_, label) in ORDERS.items()],
            "query": params.urlencode(),
            "quick_filters": filterset.quick_filters(params),
            "active_filters": filterset.active_count(),
            "export_params": [(name, value) for name, values in export_params.lists() for value in values],
            "personal_data_param": PERSONAL_DATA_PARAM,
            "can_export_personal_data": can_administer_caisse(request.user, staff.caisse),
            "error": error,
            "caisse": staff.caisse,
        },
        status=status,
    )


@login_required
def queue_export(request):
    """The filtered queue as CSV for Excel (UTF-8 with BOM, ";"), streamed; logged before the first row leaves.

    Personal data (name, birth date, NIR) only when asked for, and only for administrateurs caisse: an agent who
    asks gets the queue page with a refusal and no file. Message bodies and internal notes are never exported.
    """
    staff = require_caisse_staff(request.user)
    personal = request.GET.get(PERSONAL_DATA_PARAM, "") not in ("", "0", "false", "off")
    if personal and not can_administer_caisse(request.user, staff.caisse):
        return _queue_page(request, staff, error=PERSONAL_DATA_REFUSED, status=403)
    today = timezone.localdate()
    filterset, order = _filtered(request, staff, today)
    if not filterset.is_valid():
        return _queue_page(request, staff, error=INVALID_FILTERS, status=400)
    log = ExportLog.objects.create(
        user=request.user,
        caisse_id=staff.caisse_id,
        filters=filterset.applied() | {"ordre": order},
        with_personal_data=personal,
    )
    if personal:
        record_access(
            request.user, AccessLog.Action.EXPORT, caisse=staff.caisse, target=f"export n° {log.pk} de la file"
        )
    rows = filterset.qs.order_by(*ORDERS[order][0]).values_list(*EXPORT_FIELDS + (PERSONAL_FIELDS if personal else ()))
    clock = deadlines.Clock(calendar=staff.caisse.calendar, today=today)
    response = StreamingHttpResponse(
        _csv_stream(rows, log, staff.caisse, clock, personal), content_type="text/csv; charset=utf-8"
    )
    response["Content-Disposition"] = (
        f'attachment; filename="file-des-demandes-{staff.caisse.code}-{timezone.localtime():%Y%m%d-%H%M}.csv"'
    )
    response["Cache-Control"] = "no-store"
    return response


_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def _cell(value):
    """Text as typed by users cannot become a spreadsheet formula."""
    if value is None:
        return ""
    value = str(value)
    return f"'{value}" if value.startswith(_FORMULA_STARTS) else value


def _quoted(text):
    """The field as csv.writer writes it for Excel (";", minimal quoting), by hand: csv.writer took a third of the
    export's time (5 µs a row; joining the fields, 0.2 µs). The tests compare the two over any text."""
    if ";" in text or '"' in text or "\n" in text or "\r" in text:
        return '"' + text.replace('"', '""') + '"'
    return text


def _text(value):
    """A text users typed (a name), as a field of the file: guarded, then quoted."""
    return _quoted(_cell(value))


def _line(fields):
    return ";".join(fields) + "\r\n"


class _WallClock(Func):
    """A moment as the wall-clock time of the current time zone (Europe/Paris), naive, converted by PostgreSQL: its
    driver reads a naive timestamp three times faster than an aware one, whose time zone Django's loader sets in
    Python (0.6 s of the 100,000 rows' three moments, measured). SQLite has no time zones: there, the stored text
    (UTC), parsed and converted by `_local`. Read as text, not as a DateTimeField, so that neither the driver's parser
    nor Django's SQLite converter (a regular expression, then the time zone set, then checked, per value) runs: they
    were half of the export's time on SQLite (bench/inprocess.py under cProfile); PostgreSQL's driver still gives its
    naive timestamps."""

    template = "%(expressions)s"
    output_field = TextField()

    def as_postgresql(self, compiler, connection, **extra_context):
        sql, params = compiler.compile(self.source_expressions[0])
        return f"({sql} AT TIME ZONE %s)", (*params, timezone.get_current_timezone_name())

    def as_sqlite(self, compiler, connection, **extra_context):
        # An expression, not the column: the driver parses a column declared datetime itself (naive, UTC).
        sql, params = compiler.compile(self.source_expressions[0])
        return f"CAST({sql} AS TEXT)", params


def _local(moment, zone):
    """The wall-clock time of a `_WallClock` value: PostgreSQL's already is; SQLite's text is UTC."""
    if isinstance(moment, str):
        moment = datetime.datetime.fromisoformat(moment)
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=datetime.UTC)
    return moment if moment.tzinfo is None else moment.astimezone(zone)


# What the export reads of each request, as values (no model instance: at 100,000 rows, building them was most of the
# time): the structure's and the agent's names by joins, the labels from the catalogue, the caisse is the queue's.
EXPORT_FIELDS = (
    "number",
    "kind",
    "motif",
    "structure__name",
    "status",
    _WallClock("created_at"),
    _WallClock("taken_at"),
    _WallClock("resolved_at"),
    "assigned_to__first_name",
    "assigned_to__last_name",
    "clock_from",
    "awaiting_partner_since",
)
PERSONAL_FIELDS = ("person_last_name", "person_first_name", "person_birth_date", "person_nir")
# The labels as the model gives them (get_kind_display, motif_label, get_status_display), as fields, made once.
KIND_FIELDS = {kind: _text(label) for kind, label in Kind.choices}
MOTIF_FIELDS = {
    (spec.value, motif.value): _text(spec.motif_display(motif.value))
    for spec in KINDS.values()
    for motif in spec.motifs
}
STATUS_FIELDS = {status: _text(label) for status, label in Status.choices}


def _minute(local):
    """As strftime("%d/%m/%Y %H:%M") writes it, four times faster (and the f-string's specifiers are slower)."""
    return "%02d/%02d/%d %02d:%02d" % (local.day, local.month, local.year, local.hour, local.minute)  # noqa: UP031


def _agent(agents, first_name, last_name):
    """The agent's name as User.get_full_name writes it, as a field, remembered."""
    agents[first_name, last_name] = field = _text(f"{first_name} {last_name.upper()}".strip())
    return field


def _csv_lines(rows, caisse, clock, personal):
    """Each row's line, as it was written from each request: the model's labels, dates in Europe/Paris, the age and
    overdue flag by the caisse's calendar (deadlines.Clock), the formula guard on every text users typed. Numbers,
    dates and flags are digits and letters: no guard or quote changes them."""
    zone = timezone.get_current_timezone()
    caisse_name = _text(caisse.name)
    # The fields of the queue's structures and agents, made once each (hundreds of structures, a few agents).
    structures, agents = {}, {}
    for row in rows:
        number, kind, motif, structure, status, created, taken, resolved, first_name, last_name, clock_from = row[:11]
        deposited = _local(created, zone)
        resolved = resolved and _local(resolved, zone)
        age = clock.age(status, clock_from or deposited.date(), resolved and resolved.date())
        fields = [
            number,
            KIND_FIELDS.get(kind) or _text(kind),
            MOTIF_FIELDS.get((kind, motif)) or _text(motif),
            structures.get(structure) or structures.setdefault(structure, _text(structure)),
            caisse_name,
            STATUS_FIELDS.get(status) or _text(status),
            _minute(deposited),
            _minute(_local(taken, zone)) if taken else "",
            _minute(resolved) if resolved else "",
            # The left join's None: no agent.
            "" if first_name is None else agents.get((first_name, last_name)) or _agent(agents, first_name, last_name),
            str(age),
            "Oui" if clock.is_overdue(status, kind, age, row[11]) else "Non",
        ]
        if personal:
            last, first, birth, nir = row[12:]
            fields += [
                _text(last),
                _text(first),
                f"{birth.day:02d}/{birth.month:02d}/{birth.year}" if birth else "",
                # Spaced as the pages show it (1 61 03 75 612 345 67): Excel and LibreOffice read a bare NIR as a
                # 15-digit number, shown as 1,61E+14. Spaced groups of one or two digits are no thousands grouping
                # to either, so both keep the cell as text; it starts with a digit, so the formula guard leaves it
                # as is. Not the usual tricks: a leading apostrophe or tab stays visible (and is what the guard adds
                # to formulas), and `="…"` is itself a formula.
                _text(format_nir(nir)),
            ]
        yield _line(fields)


def _csv_stream(rows, log, caisse, clock, personal, lines_per_chunk=200):
    chunk = ["\ufeff", _line([_quoted(name) for name in CSV_COLUMNS + (CSV_PERSONAL_COLUMNS if personal else [])])]
    count = 0
    for line in _csv_lines(rows.iterator(chunk_size=EXPORT_CHUNK_SIZE), caisse, clock, personal):
        chunk.append(line)
        count += 1
        if len(chunk) >= lines_per_chunk:
            yield "".join(chunk)
            chunk = []
    yield "".join(chunk)
    ExportLog.objects.filter(pk=log.pk).update(row_count=count, finished_at=timezone.now())
