"""The one path that moves a request: Nouveau → Pris en charge → Résolu, and the reassignments in between.

`move` locks the request's row, asks the FSM whether the request is where the transition starts (`can_proceed`)
and the policy whether the user may (`has_transition_perm`: the transition's `permission`, requests/policy.py),
runs the django-fsm transition, keeps the agent in charge's right to resolve with whoever holds the request,
writes the one log row from the transition's source to its target, and queues the email, which leaves on commit
(requests/notifications.py), and, when the status changed, the webhooks' event. `take_charge`, `resolve` and
`reassign` in requests/services.py are calls of it; the deposit writes the first log row ("" → Nouveau) with the same
`log`.
"""

from collections.abc import Callable
from dataclasses import dataclass

from django.contrib.auth.models import Permission
from django.contrib.contenttypes.models import ContentType
from django.db import transaction
from django.db.models import Subquery
from django.utils import timezone
from django_fsm import can_proceed, has_transition_perm
from guardian.shortcuts import remove_perm

from requests import notifications, policy
from requests.models import Request, RequestUserObjectPermission, Status, StatusChange
from requests.policy import RESOLVE_REQUEST


class WorkflowRefused(Exception):
    """A move the workflow or the user's role does not allow; the message says why, in French."""


class WrongStatus(WorkflowRefused):
    """The request is no longer where the move starts from (someone else moved it first). `status`: where it is,
    read under the row lock (the API answers it, so that a client need not read the request again)."""

    def __init__(self, message, *, status):
        super().__init__(message)
        self.status = status


class NotAllowed(WorkflowRefused):
    """The user's role or object permissions do not allow this move."""


class AlreadyTaken(WrongStatus):
    def __init__(self, demande):
        holder = demande.assigned_to.get_full_name() if demande.assigned_to else "un autre agent"
        super().__init__(
            f"La demande {demande.number} vient d'être prise en charge par {holder}.", status=demande.status
        )
        self.holder = demande.assigned_to


def _not_new(demande):
    if demande.status == Status.RESOLVED:
        return WrongStatus(f"La demande {demande.number} est déjà résolue.", status=demande.status)
    return AlreadyTaken(demande)


@dataclass(frozen=True)
class Edge:
    """What a transition of Request needs besides the FSM: its refusals, in French, and its email."""

    # The refusal when the request is not where the transition starts, told from where it is.
    wrong_status: Callable
    # The refusal when the policy says no.
    not_allowed: str
    # The emails, given the moved request, what the move's own writes returned and who moved it (never told).
    notify: Callable = None
    # What the transition's arguments must be, whoever calls `move`: raises a WorkflowRefused, or returns False when
    # the move would change nothing.
    check_arguments: Callable = None


def _to_an_agent_of_the_caisse(demande, *, to):
    """A reassignment's new holder: someone who could take the request in charge; already them: nothing to do."""
    if not policy.can_take_charge(to, demande):
        raise WorkflowRefused("Choisissez un agent actif de la caisse.")
    return demande.assigned_to_id != to.pk


EDGES = {
    "take_charge": Edge(
        wrong_status=_not_new,
        not_allowed="Seuls les agents de la caisse destinataire prennent en charge ses demandes.",
        notify=lambda demande, _, *, by: notifications.taken_in_charge(demande, by=by),
    ),
    "resolve": Edge(
        wrong_status=lambda demande: WrongStatus(
            f"La demande {demande.number} est « {demande.get_status_display()} » : "
            "seule une demande prise en charge peut être résolue.",
            status=demande.status,
        ),
        not_allowed="Seul l'agent en charge, ou un administrateur de la caisse, résout cette demande.",
        notify=notifications.resolved,
    ),
    "reassign": Edge(
        wrong_status=lambda demande: WrongStatus(
            "Seule une demande prise en charge peut être réattribuée.", status=demande.status
        ),
        not_allowed="Seul un administrateur de la caisse réattribue une demande.",
        check_arguments=_to_an_agent_of_the_caisse,
    ),
    "hand_back": Edge(
        wrong_status=lambda demande: WrongStatus(
            f"La demande {demande.number} est « {demande.get_status_display()} » : "
            "seule une demande prise en charge peut être remise dans la file.",
            status=demande.status,
        ),
        not_allowed="Seul l'agent en charge, ou un administrateur de la caisse, remet cette demande dans la file.",
    ),
    "dispatch": Edge(
        wrong_status=_not_new,
        not_allowed="Seul un administrateur de la caisse attribue une nouvelle demande à un agent.",
        check_arguments=_to_an_agent_of_the_caisse,
        notify=lambda demande, _, *, by: notifications.taken_in_charge(demande, by=by),
    ),
}


def lock(demande):
    """The request's row, locked. Related rows are read after the lock is granted: joined in the locking query,
    they would be those seen before waiting (a loser of the race would not know who won)."""
    demande = Request.objects.select_for_update().get(pk=demande.pk)
    for relation in ("assigned_to", "author", "caisse"):
        getattr(demande, relation)
    return demande


def log(demande, *, source, target, by, at, assigned_to=None, event=StatusChange.Event.MOVE):
    """The status log's row for one move (the deposit's is from ""), or for a wait's start or end (`event`)."""
    return StatusChange.objects.create(
        request=demande, from_status=source, to_status=target, by=by, at=at, assigned_to=assigned_to, event=event
    )


def available_moves(demande, user):
    """The transitions `user` may run on the request as it is now (for the pages: the same FSM and policy)."""
    return {transition.name for transition in demande.get_available_user_status_transitions(user)}


def refusal(demande, name, user):
    """Why `user` may not run the transition `name` on the request as read (the WorkflowRefused `move` would
    raise), or None: for a page that leads to the move in steps. `move` asks again, under the row lock."""
    edge = EDGES[name]
    transition = getattr(demande, name)
    if not can_proceed(transition):
        return edge.wrong_status(demande)
    if not has_transition_perm(transition, user):
        return NotAllowed(edge.not_allowed)
    return None


def move(demande, name, *, by, check=None, effects=None, **arguments):
    """Run the transition `name` of Request on `demande`, done by `by`; returns the request as moved.

    `arguments` go to the transition (with `by` and `at`). `check(demande)` (the locked row), once the FSM and the
    policy agree, refuses what depends on the arguments (by raising), or returns False when the move would change
    nothing: then nothing is written. `effects(demande, at)` writes what belongs to this move (a resolution's
    answer); what it returns goes to the email. Refusals raise a WorkflowRefused and leave everything as it was.
    """
    edge = EDGES[name]
    with transaction.atomic():
        demande = lock(demande)
        transition = getattr(demande, name)
        if not can_proceed(transition):
            raise edge.wrong_status(demande)
        if not has_transition_perm(transition, by):
            raise NotAllowed(edge.not_allowed)
        if edge.check_arguments is not None and edge.check_arguments(demande, **arguments) is False:
            return demande
        if check is not None and check(demande) is False:
            return demande
        source, holder = demande.status, demande.assigned_to
        at = timezone.now()
        transition(by=by, at=at, **arguments)
        if demande.status != source:
            demande.partner_news_at = at  # a status change is news for the structure (requests/news.py)
        demande.updated_at = at  # every move is seen on both sides: the status, the holder or the log changed
        demande.save()
        outcome = effects(demande, at) if effects is not None else None
        _keep_resolve_right_with_holder(demande, source=source, holder=holder)
        log(
            demande,
            source=source,
            target=demande.status,
            by=by,
            at=at,
            assigned_to=demande.assigned_to if demande.assigned_to != holder else None,
        )
        if demande.status != source:
            notifications.status_changed(demande, at=at)
        if edge.notify is not None:
            edge.notify(demande, outcome, by=by)
    return demande


def _keep_resolve_right_with_holder(demande, *, source, holder):
    """The agent in charge holds the right to resolve while the request is in progress, and nobody else: granted
    at take-charge, moved at a reassignment, removed at the resolution (a row that would only linger)."""
    before = holder if source == Status.IN_PROGRESS else None
    after = demande.assigned_to if demande.status == Status.IN_PROGRESS else None
    if before == after:
        return
    if before is not None:
        remove_perm(RESOLVE_REQUEST, before, demande)
    if after is not None:
        _grant_resolve_right(after, demande)


def _grant_resolve_right(agent, demande):
    """guardian's `assign_perm` in one statement: it reads the permission, looks for the row, then writes it in a
    savepoint (six queries of every take-charge). The row's (user, permission, request) is unique: already there,
    the insert does nothing, as `assign_perm` would."""
    permission = (
        Permission.objects.filter(
            content_type=ContentType.objects.get_for_model(Request), codename=RESOLVE_REQUEST.split(".", 1)[1]
        )
        .order_by()
        .values("pk")
    )  # without Permission's ordering, which joins the content types
    RequestUserObjectPermission.objects.bulk_create(
        [RequestUserObjectPermission(permission_id=Subquery(permission), user=agent, content_object=demande)],
        ignore_conflicts=True,
    )
