"""The figures of the dashboards: counts, median delays, most active structures, MAS distributions.

Every function takes an already scoped queryset of requests (`Request.objects.visible_to(user)`, restricted to
a period) and runs a fixed number of queries, whatever the number of requests. Nothing here reads a person's
data: the figures stay true after the retention purge, which keeps kinds, dates, structures and MAS lists.
"""

from collections import Counter, defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta
from statistics import median

from django.db import connection
from django.db.models import Aggregate, Count, F, FloatField, Q
from django.utils import timezone

from extranet.core.dates import months_before, start_of_day
from requests import mas
from requests.models import OPEN_STATUSES, Kind, MasReferral, Status

PERIODS = {
    "30j": "30 derniers jours",
    "90j": "90 derniers jours",
    "12m": "12 derniers mois",
    "tout": "Depuis le début",
}
DEFAULT_PERIOD = "12m"
TOP_STRUCTURES = 10


@dataclass(frozen=True)
class Period:
    key: str
    label: str
    start: datetime | None
    end: datetime

    def apply(self, requests):
        return requests if self.start is None else requests.filter(created_at__gte=self.start)


def period(key, now=None):
    """The period named by the `periode` parameter; the last 12 months when it is missing or unknown."""
    key = key if key in PERIODS else DEFAULT_PERIOD
    now = now or timezone.now()
    start = {
        "30j": now - timedelta(days=30),
        "90j": now - timedelta(days=90),
        "12m": months_before(now, 12),
        "tout": None,
    }[key]
    # From midnight of its first day, as the page says it ("du 02/03/2026") and as the lists' "Déposée à partir du"
    # filter counts: a figure's link then lists exactly the requests it counts.
    return Period(key, PERIODS[key], start and start_of_day(timezone.localdate(start)), now)


# Counts


@dataclass(frozen=True)
class Counts:
    cells: dict  # (status, kind) -> count

    @property
    def total(self):
        return sum(self.cells.values())

    @property
    def by_status(self):
        return [(status, sum(n for (s, _), n in self.cells.items() if s == status)) for status in Status]

    @property
    def by_kind(self):
        return [(kind, sum(n for (_, k), n in self.cells.items() if k == kind)) for kind in Kind]

    @property
    def open(self):
        return sum(n for (status, _), n in self.cells.items() if status in OPEN_STATUSES)

    @property
    def matrix(self):
        """One row per kind: (kind, [count per status], total)."""
        return [
            (kind, [self.cells.get((status, kind), 0) for status in Status], total) for kind, total in self.by_kind
        ]


def counts(requests):
    """Requests per status and kind, in one grouped query (at most 15 rows come back)."""
    rows = requests.order_by().values("status", "kind").annotate(n=Count("pk"))
    return Counts({(row["status"], row["kind"]): row["n"] for row in rows})


# Median delays


class MedianSeconds(Aggregate):
    """PostgreSQL: the median of an interval, in seconds. NULL intervals (step not reached yet) are ignored."""

    function = "PERCENTILE_CONT"
    name = "MedianSeconds"
    template = "%(function)s(0.5) WITHIN GROUP (ORDER BY EXTRACT(EPOCH FROM %(expressions)s))"
    output_field = FloatField()
    arity = 1


@dataclass(frozen=True)
class Delays:
    """Median delays in seconds (None without data) and how many requests each one is computed on."""

    take_charge: float | None = None
    resolution: float | None = None
    taken: int = 0
    resolved: int = 0


@dataclass(frozen=True)
class DelayReport:
    by_kind: dict  # Kind -> Delays, every kind present
    overall: Delays


STEPS = {"take_charge": ("taken_at", "taken"), "resolution": ("resolved_at", "resolved")}


def median_delays(requests, *, vendor=None):
    """Median time from deposit to taking charge and to resolution, per kind and over all kinds.

    PostgreSQL computes the medians (percentile_cont); elsewhere (SQLite, the demo database) they are computed
    here from the dates of the requests already taken in charge. Both give the same results.
    """
    vendor = vendor or connection.vendor
    if vendor == "postgresql":
        by_kind, overall = _median_delays_in_database(requests)
    else:
        by_kind, overall = _median_delays_in_python(requests)
    return DelayReport({kind: by_kind.get(kind, Delays()) for kind in Kind}, overall)


def _delay_aggregates():
    aggregates = {}
    for name, (field, count_name) in STEPS.items():
        aggregates[name] = MedianSeconds(F(field) - F("created_at"))
        aggregates[count_name] = Count(field)
    return aggregates


def _median_delays_in_database(requests):
    requests = requests.order_by()
    rows = requests.values("kind").annotate(**_delay_aggregates())
    by_kind = {row.pop("kind"): Delays(**row) for row in rows}
    return by_kind, Delays(**requests.aggregate(**_delay_aggregates()))


def _median_delays_in_python(requests):
    rows = (
        requests.order_by()
        .filter(Q(taken_at__isnull=False) | Q(resolved_at__isnull=False))
        .values_list("kind", "created_at", "taken_at", "resolved_at")
    )
    seconds = defaultdict(lambda: defaultdict(list))  # kind (None: all) -> step -> durations
    for kind, created_at, taken_at, resolved_at in rows:
        for step, reached_at in (("take_charge", taken_at), ("resolution", resolved_at)):
            if reached_at is not None:
                duration = (reached_at - created_at).total_seconds()
                seconds[kind][step].append(duration)
                seconds[None][step].append(duration)

    def delays(steps):
        return Delays(
            take_charge=median(steps["take_charge"]) if steps["take_charge"] else None,
            resolution=median(steps["resolution"]) if steps["resolution"] else None,
            taken=len(steps["take_charge"]),
            resolved=len(steps["resolution"]),
        )

    overall = delays(seconds.pop(None, defaultdict(list)))
    return {kind: delays(steps) for kind, steps in seconds.items()}, overall


def format_delay(seconds):
    """A delay as French readers write it: "45 min", "5 h 30 min", "2 j 4 h"."""
    if seconds is None:
        return "aucune donnée"
    minutes = round(seconds / 60)
    if minutes < 60:
        return f"{minutes} min"
    if minutes < 24 * 60:
        hours, minutes = divmod(minutes, 60)
        return f"{hours} h {minutes} min" if minutes else f"{hours} h"
    days, hours = divmod(round(seconds / 3600), 24)
    return f"{days} j {hours} h" if hours else f"{days} j"


# Structures


def most_active_structures(requests, limit=TOP_STRUCTURES):
    """[(structure id, name, count)] of the structures with the most requests, most first."""
    rows = (
        requests.order_by()
        .values("structure_id", "structure__name")
        .annotate(n=Count("pk"))
        .order_by("-n", "structure__name", "structure_id")[:limit]
    )
    return [(row["structure_id"], row["structure__name"], row["n"]) for row in rows]


# MAS referrals


@dataclass(frozen=True)
class Distribution:
    """How many referrals ticked each choice, among `base` referrals (those the question was asked of)."""

    rows: list  # [(slug, label, count)] in the order of the form
    base: int


@dataclass(frozen=True)
class MasReport:
    total: int
    contexts: Distribution
    cares: Distribution
    durations: Distribution
    causes: Distribution


def mas_distributions(requests):
    """Contexts, cares, durations and causes of the MAS referrals among `requests`, in one query.

    The lists are JSON (a few slugs per referral), counted here. Purged referrals keep them and are counted.
    """
    rows = MasReferral.objects.filter(request__in=requests.mas_referrals())
    rows = rows.values_list("contexts", "cares", "renunciation_duration", "causes")
    contexts, cares, durations, causes = Counter(), Counter(), Counter(), Counter()
    total = renunciations = 0
    for row_contexts, row_cares, duration, row_causes in rows:
        total += 1
        contexts.update(set(row_contexts or []))
        if mas.RENUNCIATION_CONTEXTS & set(row_contexts or []):
            renunciations += 1
        cares.update(set(row_cares or []))
        if duration:
            durations[duration] += 1
        causes.update(set(row_causes or []))

    def distribution(choices, counter, base):
        return Distribution([(slug, label, counter[slug]) for slug, label in choices], base)

    return MasReport(
        total=total,
        contexts=distribution(mas.CONTEXTS, contexts, total),
        cares=distribution(mas.CARES, cares, renunciations),
        durations=distribution(mas.DURATIONS, durations, renunciations),
        causes=distribution(mas.CAUSES, causes, renunciations),
    )


# Open requests


def oldest_open(requests, limit=5):
    return requests.open().order_by("created_at", "pk")[:limit]
