"""Waiting for the structure's answer: the delays, read in working days from the day the agent asked.

An agent's message to the structure may ask for an answer (requests/services.py `post_message`): the request stays
"Pris en charge" and waits (`awaiting_partner_since`), which pauses the working-day clock (requests/deadlines.py).
After AWAITING_PARTNER_REMINDER_WORKING_DAYS the structure is reminded, once per wait (`reminded_at`; the nightly
job, services.remind_awaiting_partners); after AWAITING_PARTNER_UNANSWERED_WORKING_DAYS the queue shows the request
"sans réponse", so that the agent may resolve it saying so. The delays are filters on `awaiting_partner_since`,
counted in the working days of the request's caisse's calendar (requests/deadlines.py).
"""

from django.conf import settings
from django.db.models import Q
from django.utils import timezone

from extranet.core.dates import start_of_day
from extranet.core.workdays import first_day_within, working_days_between
from requests.deadlines import calendar_of


def waited(demande, today=None):
    """Working days since the agent asked (0 when not waiting)."""
    if demande.awaiting_partner_since is None:
        return 0
    today = today or timezone.localdate()
    return working_days_between(
        timezone.localdate(demande.awaiting_partner_since), today, calendar=calendar_of(demande)
    )


def _waited_at_least(days, today, calendar):
    """Waiting since at least `days` working days on `today` (asked before the first day within `days - 1`)."""
    today = today or timezone.localdate()
    return Q(awaiting_partner_since__lt=start_of_day(first_day_within(today, days - 1, calendar=calendar)))


def reminder_due_q(today=None, *, calendar):
    return _waited_at_least(settings.AWAITING_PARTNER_REMINDER_WORKING_DAYS, today, calendar) & Q(
        reminded_at__isnull=True
    )


def reminder_due(demande, today=None):
    """`reminder_due_q`, on one request as read."""
    return (
        demande.awaiting_partner_since is not None
        and demande.reminded_at is None
        and waited(demande, today) >= settings.AWAITING_PARTNER_REMINDER_WORKING_DAYS
    )


def unanswered_q(today=None, *, calendar):
    return _waited_at_least(settings.AWAITING_PARTNER_UNANSWERED_WORKING_DAYS, today, calendar)


def is_unanswered(demande, today=None):
    return (
        demande.awaiting_partner_since is not None
        and waited(demande, today) >= settings.AWAITING_PARTNER_UNANSWERED_WORKING_DAYS
    )
