"""Age and deadlines of requests in the caisse's queue, in working days (extranet/core/workdays.py).

- Age: working days from the deposit date (Europe/Paris) to today; a resolved request's age stops at its
  resolution date.
- A new request is overdue when its age exceeds TAKE_CHARGE_WITHIN_WORKING_DAYS[kind]; a request in progress
  when its age (still counted from the deposit: the person has waited since then, whoever took it and when)
  exceeds RESOLVE_WITHIN_WORKING_DAYS[kind]. A resolved request is never overdue.

The same rule runs in Python for a page of rows (`is_overdue`) and in the database for the "en retard" filter
(`overdue_q`): each deadline becomes a cutoff datetime, so the filter is a comparison on `created_at`.
"""

from collections import defaultdict

from django.conf import settings
from django.db.models import Q
from django.utils import timezone

from extranet.core.dates import start_of_day
from extranet.core.workdays import first_day_within, working_days_between
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


def age(demande, today=None):
    today = today or timezone.localdate()
    if demande.status == Status.RESOLVED and demande.resolved_at:
        today = min(today, timezone.localdate(demande.resolved_at))
    return working_days_between(timezone.localdate(demande.created_at), today)


def is_overdue(demande, today=None, *, age_in_days=None):
    limit = within(demande.status, demande.kind)
    if limit is None:
        return False
    return (age(demande, today) if age_in_days is None else age_in_days) > limit


def overdue_q(today=None):
    """The requests overdue on `today`, as a filter on status, kind and created_at (an index range per clause)."""
    today = today or timezone.localdate()
    clauses = Q()
    for status in DEADLINE_SETTINGS:
        kinds_by_limit = defaultdict(list)
        for kind in Kind.values:
            kinds_by_limit[within(status, kind)].append(kind)
        for limit, kinds in kinds_by_limit.items():
            cutoff = start_of_day(first_day_within(today, limit))
            clause = Q(status=status, created_at__lt=cutoff)
            if len(kinds) < len(Kind.values):
                clause &= Q(kind__in=kinds)
            clauses |= clause
    return clauses
