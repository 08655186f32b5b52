"""Emails about requests. They name the request and link to it, never its content: the person's data and the
exchanges stay behind the login (and internal notes never leave the caisse)."""

from datetime import timedelta

from django.contrib.auth import get_user_model
from django.utils import timezone

from extranet.notifications.emails import absolute_url, send_templated_email
from structures.models import CaisseMembership


def _to_author(demande, template, **context):
    author = demande.author
    if author.is_active:
        send_templated_email(
            author.email,
            template,
            {"user": author, "request": demande, "link": absolute_url("requests:detail", demande.number), **context},
        )


def deposited(demande):
    _to_author(demande, "request_deposited")


def taken_in_charge(demande):
    if demande.author.notify_take_charge:
        _to_author(demande, "request_taken_in_charge")


def resolved(demande, answer):
    _to_author(demande, "request_resolved")


def caisse_message(demande, message):
    _to_author(demande, "request_caisse_message")


def send_daily_digests(now=None):
    """To each agent of each caisse who wants it: the requests deposited in the last 24 hours still new."""
    from requests.models import Request, Status

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
