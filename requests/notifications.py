"""Emails about requests. They name the request and link to it, never its content: the person's data and the
exchanges stay behind the login (and internal notes never leave the caisse: they produce no email at all).

Who is told what (/work/shared/DESIGN.md §9), for each event, in one query of the accounts concerned:

- the partner side of a caisse event (take charge, caisse message, resolution): the author, or the colleague the
  request was handed to at the author's departure (`handled_by`), while their account and their place in the
  structure are active; that person gone, the structure's active gestionnaires instead;
- a partner message: the agent in charge; nobody in charge (a new request, or its agent gone), the caisse's staff
  who asked for the messages on new requests;
- followers (the star) who asked for it, while they still see the request: status changes and public messages.

The same moments are told to the software of the request's structure and caisse, through their webhooks
(extranet/notifications/webhooks.py): every status change, and every public message, whoever acted; never an
internal note.

Each person once per event, by their most specific role that wants it (its own preference decides, and a star
with its preference on is a wish for this request too); never the person who acted. The deposit's acknowledgement
is the exception: it is the author's receipt of their own action.
"""

from datetime import timedelta

from django.contrib.auth import get_user_model
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone

from extranet.notifications import webhooks
from extranet.notifications.emails import absolute_url, send_templated_email
from requests import policy
from requests.models import Follow, Status
from structures.models import CaisseMembership, Membership
from structures.policy import member_of_structure


def _send(user, template, demande, **context):
    send_templated_email(
        user.email,
        template,
        {"user": user, "request": demande, "link": absolute_url("requests:detail", demande.number), **context},
    )


def _to_author(demande, template, **context):
    author = demande.author
    if author.is_active:
        _send(author, template, demande, **context)


def _concerned(demande, *, by, wanted):
    """The active accounts `wanted` selects, and the followers who asked for emails, except `by`: with their
    memberships (the policy reads them without a query) and whether they follow the request."""
    follows = Follow.objects.filter(request=demande, user=OuterRef("pk"))
    return (
        get_user_model()
        .objects.filter(wanted | Q(Exists(follows), notify_followed=True), is_active=True)
        .exclude(pk=by.pk if by is not None else None)
        .select_related("membership", "caissemembership")
        .annotate(follows_it=Exists(follows))
        .order_by("pk")
    )


def _follows(user, demande):
    return user.follows_it and user.notify_followed and policy.can_see(user, demande)


def _tell_each_once(demande, people, choose):
    """`choose(user)` returns the (template, context) the user's most specific role wants, or None."""
    told = 0
    for user in people:
        if chosen := choose(user):
            template, context = chosen
            _send(user, template, demande, **context)
            told += 1
    return told


def _partner_side(demande, *, by, template, follower_template, wants=lambda user: True, **context):
    """A caisse event: the author or who the request was handed to (or, gone, the structure's gestionnaires) and
    the followers."""
    followed_by_id = demande.handled_by_id or demande.author_id
    people = list(
        _concerned(
            demande,
            by=by,
            wanted=Q(pk=followed_by_id)
            | Q(
                membership__structure_id=demande.structure_id,
                membership__role=Membership.Role.GESTIONNAIRE,
                membership__is_active=True,
            ),
        )
    )
    author_present = any(
        user.pk == followed_by_id and member_of_structure(user, demande.structure_id) for user in people
    )

    def stands_for_the_author(user):
        if author_present:
            return user.pk == followed_by_id
        membership = member_of_structure(user, demande.structure_id)
        return membership is not None and membership.is_gestionnaire

    def choose(user):
        if stands_for_the_author(user) and wants(user):
            return template, {"for_structure": not author_present, **context}
        if follower_template is not None and _follows(user, demande):
            return follower_template, context
        return None

    return _tell_each_once(demande, people, choose)


def awaiting_partner_reminder(demande):
    """The nightly reminder of a caisse question left unanswered: the author, or gone, the gestionnaires (not the
    followers: it asks the structure to act)."""
    return _partner_side(demande, by=None, template="request_awaiting_reminder", follower_template=None)


def _webhook(event, demande, at=None):
    webhooks.emit(event, number=demande.number, structure_id=demande.structure_id, caisse_id=demande.caisse_id, at=at)


def status_changed(demande, *, at):
    """Any move that changed the status (workflow.move), the deposit's too: for webhooks only, the emails being
    each move's own."""
    _webhook(webhooks.STATUS_CHANGED, demande, at)


def deposited(demande):
    _to_author(demande, "request_deposited")
    status_changed(demande, at=demande.created_at)


def taken_in_charge(demande, *, by):
    return _partner_side(
        demande,
        by=by,
        template="request_taken_in_charge",
        follower_template="request_followed_status",
        wants=lambda user: user.notify_take_charge,
    )


def resolved(demande, answer, *, by):
    return _partner_side(demande, by=by, template="request_resolved", follower_template="request_followed_status")


def caisse_message(demande, message, *, by):
    if message.is_internal:
        return 0
    _webhook(webhooks.MESSAGE_FROM_CAISSE, demande, message.created_at)
    return _partner_side(
        demande, by=by, template="request_caisse_message", follower_template="request_followed_message"
    )


def partner_message(demande, message, *, by):
    """A structure wrote: the agent in charge, or, nobody in charge, the caisse's staff who asked; the followers."""
    if message.is_internal:
        return 0
    _webhook(webhooks.MESSAGE_FROM_STRUCTURE, demande, message.created_at)
    in_charge_id = demande.assigned_to_id if demande.status == Status.IN_PROGRESS else None
    people = list(
        _concerned(
            demande,
            by=by,
            wanted=Q(pk=in_charge_id)
            | Q(
                caissemembership__caisse_id=demande.caisse_id,
                caissemembership__is_active=True,
                notify_new_request_messages=True,
            ),
        )
    )
    in_charge = next(
        (user for user in people if user.pk == in_charge_id and policy.is_caisse_side(user, demande)), None
    )

    def choose(user):
        if in_charge is not None and user.pk == in_charge.pk and user.notify_partner_reply:
            return "request_partner_message", {"in_charge": True}
        if in_charge is None and user.notify_new_request_messages and policy.is_caisse_side(user, demande):
            return "request_partner_message", {"in_charge": False}
        if _follows(user, demande):
            return "request_followed_message", {}
        return None

    return _tell_each_once(demande, people, choose)


def send_daily_digests(now=None):
    """To each agent of each caisse who wants it: the requests deposited in the last 24 hours still new."""
    from requests.models import Request

    now = now or timezone.now()
    since = now - timedelta(days=1)
    recipients = (
        get_user_model()
        .objects.filter(
            is_active=True,
            notify_daily_digest=True,
            caissemembership__is_active=True,
            caissemembership__role=CaisseMembership.Role.AGENT,
        )
        .select_related("caissemembership__caisse")
    )
    sent = 0
    for agent in recipients:
        caisse = agent.caissemembership.caisse
        new = Request.objects.filter(caisse=caisse, status=Status.NEW, created_at__gte=since).order_by("created_at")
        count = new.count()
        if count:
            send_templated_email(
                agent.email,
                "daily_digest",
                {"user": agent, "caisse": caisse, "count": count, "requests": new[:50], "link": absolute_url("home")},
            )
            sent += 1
    return sent
