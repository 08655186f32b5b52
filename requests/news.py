"""« Du nouveau »: what happened on a request since a user last opened its page.

Each side notices what the other side did. For the structure's partners: a caisse message (never an internal note),
a status change, the answer; for the caisse's staff: the structure's message (« réponse reçue »). Those moments are
kept on the request (`partner_news_at`, `caisse_news_at`, written by the services and the workflow), and each user's
last visit of the request's page in `Visit`: the request is new for them when its side's moment is after their
visit, or when they never opened it. One subquery per list, whatever its length: the badge costs no query per row.

Home-page counts are bounded (COUNT_CAP): a count of a few rows, never of a million.
"""

from django.db.models import BooleanField, Exists, ExpressionWrapper, OuterRef, Q, Subquery
from django.utils import timezone

from requests import policy
from requests.deadlines import overdue_q
from requests.models import Request, Status, Visit

# Beyond this, a count says "plus de 99": the home page reads at most COUNT_CAP + 1 rows per count.
COUNT_CAP = 99


def news_field(user):
    """The request's field holding what is new for this user's side (None: the user sees no request)."""
    scope = policy.request_scope(user)
    if scope is None:
        return None
    return "partner_news_at" if "structure_id" in scope else "caisse_news_at"


def _seen_since(user, field):
    return Exists(Visit.objects.filter(user=user, request=OuterRef("pk"), seen_at__gte=OuterRef(field)))


def unseen_q(user):
    """The requests with something new for `user` (a condition on Request)."""
    field = news_field(user)
    if field is None:
        return Q(pk__in=[])
    return Q(**{f"{field}__isnull": False}) & ~_seen_since(user, field)


def with_news(requests, user):
    """The requests annotated with `has_news` for `user` (the lists' badge)."""
    return requests.annotate(has_news=ExpressionWrapper(unseen_q(user), output_field=BooleanField()))


def with_last_visit(requests, user):
    """The requests annotated with `last_seen_at`, this user's last recorded visit (None: never)."""
    return requests.annotate(
        last_seen_at=Subquery(Visit.objects.filter(user=user, request=OuterRef("pk")).values("seen_at")[:1])
    )


def record_visit(*, user, demande, at=None):
    """The user opened the request's page (read `with_last_visit`): what happened before is no longer new for them.

    Written only when it changes what is new, in one upsert: when the side's news is after the last recorded visit.
    Otherwise the visit recorded already says "seen", and the hot detail page writes nothing."""
    field = news_field(user)
    news_at = getattr(demande, field) if field else None
    if news_at is None or (demande.last_seen_at is not None and demande.last_seen_at >= news_at):
        return False
    Visit.objects.bulk_create(
        [Visit(user=user, request=demande, seen_at=at or timezone.now())],
        update_conflicts=True,
        unique_fields=["user", "request"],
        update_fields=["seen_at"],
    )
    return True


def bounded_count(requests):
    """How many, up to COUNT_CAP + 1 (shown "plus de COUNT_CAP"): a LIMIT inside the count."""
    return requests[: COUNT_CAP + 1].count()


def caisse_counts(user, caisse, today):
    """The agent's home page: the counts that link to the queue's filtered views (requests/filters.py QueueFilter)."""
    open_requests = Request.objects.visible_to(user).filter(caisse=caisse).open()
    return {
        "mine": bounded_count(open_requests.filter(assigned_to=user)),
        "new": bounded_count(open_requests.filter(status=Status.NEW)),
        "overdue": bounded_count(open_requests.filter(overdue_q(today, calendar=caisse.calendar))),
        "replied": bounded_count(open_requests.filter(assigned_to=user).filter(unseen_q(user))),
    }


def partner_counts(user, caisse):
    """The partner's home page: what the caisse did since their last visit, and what waits for their answer."""
    scoped = Request.objects.visible_to(user).filter(caisse=caisse)
    return {
        "news": bounded_count(scoped.filter(unseen_q(user))),
        "awaiting": bounded_count(scoped.open().filter(awaiting_partner_since__isnull=False)),
    }
