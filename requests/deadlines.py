"""Age and deadlines of requests in the caisse's queue, in working days of the request's caisse's calendar
(extranet/core/workdays.py: a caisse of Moselle does not work on Good Friday, one of Martinique on 22 May).

- Age: working days from the deposit date (Europe/Paris) to today; a resolved request's age stops at its
  resolution date.
- A new request is overdue when its age exceeds TAKE_CHARGE_WITHIN_WORKING_DAYS[kind]; a request in progress
  when its age (still counted from the deposit: the person has waited since then, whoever took it and when)
  exceeds RESOLVE_WITHIN_WORKING_DAYS[kind]. A resolved request is never overdue.

The clock pauses while the request waits for the structure's answer (requests/waiting.py): a waiting request is
never overdue, and when the answer comes the days waited are given back: `clock_from` (null: the deposit date) moves
forward by the working days waited, and the age counts from it. Its limit: a wait's days are given back whole, the
day of the answer included (an answer on the day asked gives nothing back).

The same rule runs in Python for a page of rows (`is_overdue`) and in the database for the "en retard" filter
(`overdue_q`): each deadline becomes a cutoff datetime, so the filter is a comparison on `created_at`. The cutoffs
are the caisse's calendar's: a filter over several caisses has one clause per calendar (`per_calendar`).

The queue's export runs the same rules over 100,000 rows read as plain values, not requests (`Clock`): proven equal
to `age` and `is_overdue` row by row (tests/requests/test_export.py).
"""

import operator
from collections import defaultdict
from functools import reduce

from django.conf import settings
from django.db.models import Q
from django.utils import timezone

from extranet.core.dates import start_of_day
from extranet.core.workdays import Calendar, first_day_within, working_days_between
from requests.models import Kind, Status

DEADLINE_SETTINGS = {
    Status.NEW: "TAKE_CHARGE_WITHIN_WORKING_DAYS",
    Status.IN_PROGRESS: "RESOLVE_WITHIN_WORKING_DAYS",
}


def within(status, kind):
    """Working days allowed for a request of this kind in this status; None when it has no deadline."""
    setting = DEADLINE_SETTINGS.get(status)
    if setting is None:
        return None
    table = getattr(settings, setting)
    return int(table.get(kind, table["default"]))


def calendar_of(demande):
    """The calendar of the request's caisse (read with the request: the lists select or set its caisse)."""
    return demande.caisse.calendar


def age(demande, today=None):
    today = today or timezone.localdate()
    if demande.status == Status.RESOLVED and demande.resolved_at:
        today = min(today, timezone.localdate(demande.resolved_at))
    return working_days_between(clock_start(demande), today, calendar=calendar_of(demande))


def clock_start(demande):
    """The day the working-day clock counts from: the deposit date, moved forward by the waits already answered."""
    return demande.clock_from or timezone.localdate(demande.created_at)


def is_overdue(demande, today=None, *, age_in_days=None):
    limit = within(demande.status, demande.kind)
    if limit is None or demande.awaiting_partner_since is not None:
        return False
    return (age(demande, today) if age_in_days is None else age_in_days) > limit


class Clock:
    """`age` and `is_overdue` for many requests of one calendar seen on one day, from their stored values: the
    queue's export reads rows, not requests (a model instance per row was most of its time). Each (start, end) pair's
    working days are counted once: a queue's requests share their deposit days, and its open ones end today."""

    # Pairs kept at most (a few hundred bytes each): an export of every resolved request has many end days.
    REMEMBERED = 4096

    def __init__(self, *, calendar, today):
        self.calendar = calendar
        self.today = today
        self._working_days = {}
        self._limits = {(status, kind): within(status, kind) for status in Status.values for kind in Kind.values}

    def age(self, status, start, resolved_on):
        """`start`: the clock's start (`clock_start`); `resolved_on`: the local date of `resolved_at`, or None."""
        end = self.today
        if status == Status.RESOLVED and resolved_on is not None and resolved_on < end:
            end = resolved_on
        pair = (start, end)
        days = self._working_days.get(pair)
        if days is None:
            if len(self._working_days) >= self.REMEMBERED:
                self._working_days.clear()
            days = self._working_days[pair] = working_days_between(start, end, calendar=self.calendar)
        return days

    def is_overdue(self, status, kind, age_in_days, awaiting_partner_since):
        limit = self._limits[status, kind] if (status, kind) in self._limits else within(status, kind)
        return limit is not None and awaiting_partner_since is None and age_in_days > limit


def per_calendar(clause):
    """A filter over the requests of every caisse: `clause(calendar)` for the requests of the caisses with that
    calendar. A caisse's own list passes its calendar to the clause directly."""
    return reduce(operator.or_, (Q(caisse__calendar=calendar) & clause(calendar) for calendar in Calendar.values))


def overdue_q(today=None, *, calendar):
    """The requests overdue on `today` for a caisse of this calendar, as a filter on status, kind and created_at (an
    index range per clause); a request whose clock was paused compares its `clock_from` instead, and a waiting
    request is never overdue."""
    today = today or timezone.localdate()
    clauses = Q()
    for status in DEADLINE_SETTINGS:
        kinds_by_limit = defaultdict(list)
        for kind in Kind.values:
            kinds_by_limit[within(status, kind)].append(kind)
        for limit, kinds in kinds_by_limit.items():
            first_day = first_day_within(today, limit, calendar=calendar)
            clause = Q(status=status) & (
                Q(clock_from__isnull=True, created_at__lt=start_of_day(first_day)) | Q(clock_from__lt=first_day)
            )
            if len(kinds) < len(Kind.values):
                clause &= Q(kind__in=kinds)
            clauses |= clause
    return clauses & Q(awaiting_partner_since__isnull=True)
