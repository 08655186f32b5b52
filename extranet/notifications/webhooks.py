"""Webhooks: the events of a request told to a structure's or a caisse's software, through an outbox like emails.

An event writes one WebhookDelivery per active endpoint that asked for it, in the transaction of the action (a
rolled-back action tells nothing, a committed one cannot lose its event); the worker posts it once the action commits
(extranet/notifications/webhook_delivery.py). The payload names the request by its number, never its content: the
client reads the rest with its API token, under the API's rules (second factor, scope, access journal).

Each delivery is signed with its endpoint's secret: `X-Espace-Signature: t=<unix time>,v1=<hex>`, where v1 is
HMAC-SHA256 of `t + "." + body` keyed by the secret (as shown, UTF-8). A receiver recomputes it, compares in constant
time and refuses a `t` more than 5 minutes away from its clock: a captured delivery cannot be replayed later.

Addresses are https (but the hosts of WEBHOOK_ALLOWED_HTTP_HOSTS, for tests and local development) and must resolve
to public addresses only, checked when registered and again at each attempt (a name may point elsewhere later).
"""

import json
import secrets
from datetime import timedelta

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from extranet.core import crypto
from extranet.notifications.models import WebhookDelivery, WebhookEndpoint
from extranet.notifications.webhook_delivery import SECRET_PURPOSE, deliver_webhook

STATUS_CHANGED = "request.status_changed"
MESSAGE_FROM_CAISSE = "request.message_from_caisse"
MESSAGE_FROM_STRUCTURE = "request.message_from_structure"
EVENTS = {
    STATUS_CHANGED: "Changement de statut d'une demande (dépôt, prise en charge, remise dans la file, résolution)",
    MESSAGE_FROM_CAISSE: "Message de la caisse à la structure",
    MESSAGE_FROM_STRUCTURE: "Message de la structure à la caisse",
}
# Sent on demand from the endpoint's page or the API, to try a receiver: no request.
TEST_EVENT = "webhook.test"

SECRET_PREFIX = "whsec_"  # noqa: S105 (the prefix that tells a secret of this service, not a secret)


def new_secret():
    return SECRET_PREFIX + secrets.token_urlsafe(32)


# Events


def _queue(endpoint, event, number, occurred_at):
    delivery = WebhookDelivery(endpoint=endpoint, event=event, created_at=occurred_at)
    payload = {"event": event, "request": number, "occurred_at": occurred_at.isoformat(), "delivery": str(delivery.pk)}
    delivery.body = json.dumps(payload, separators=(",", ":"))
    delivery.save(force_insert=True)

    def hand_to_the_worker():
        deliver_webhook.enqueue(str(delivery.pk))

    # As for emails: the hand-off failing leaves the row, which the worker's sweep queues again.
    transaction.on_commit(hand_to_the_worker, robust=True)
    return delivery


def emit(event, *, number, structure_id, caisse_id, at=None):
    """Queue `event` of the request `number` for the active endpoints of its structure and of its caisse that asked
    for it. Returns the deliveries written."""
    assert event in EVENTS, event
    at = at or timezone.now()
    endpoints = (
        WebhookEndpoint.objects.filter(Q(structure_id=structure_id) | Q(caisse_id=caisse_id), is_active=True)
        .only("pk", "events")
        .order_by("pk")
    )
    # The events are a short JSON list, filtered here: SQLite's JSON fields have no "contains".
    return [_queue(endpoint, event, number, at) for endpoint in endpoints if event in endpoint.events]


# The owner's actions (the policy, structures/policy.py, says who may; these only write)


def register(*, owner, name, url, events, by):
    """A new endpoint; returns it and its secret in clear (shown once). `url` must pass check_destination."""
    secret = new_secret()
    endpoint = WebhookEndpoint.objects.create(
        **owner,
        name=name,
        url=url,
        events=sorted(events),
        sealed_secret=crypto.seal(secret.encode(), purpose=SECRET_PURPOSE),
        created_by=by,
    )
    return endpoint, secret


def rotate_secret(endpoint):
    """A new secret, at once: what is sent from now on (retries included) is signed with it only."""
    secret = new_secret()
    endpoint.sealed_secret = crypto.seal(secret.encode(), purpose=SECRET_PURPOSE)
    endpoint.secret_rotated_at = timezone.now()
    endpoint.save(update_fields=["sealed_secret", "secret_rotated_at"])
    return secret


def set_active(endpoint, active):
    """A deactivated endpoint receives nothing more; what it had pending is abandoned when its turn comes."""
    endpoint.is_active = active
    endpoint.save(update_fields=["is_active"])
    return endpoint


def send_test(endpoint):
    """A test event, through the outbox like any other (signed, retried, logged)."""
    with transaction.atomic():
        return _queue(endpoint, TEST_EVENT, None, timezone.now())


def purge_old_deliveries(now=None):
    """Deliveries delivered or abandoned more than WEBHOOK_DELIVERY_RETENTION_DAYS ago, with their attempts: one
    set-based delete (the attempts go by cascade), never one still to send."""
    from django.conf import settings

    before = (now or timezone.now()) - timedelta(days=settings.WEBHOOK_DELIVERY_RETENTION_DAYS)
    done = [WebhookDelivery.State.DELIVERED, WebhookDelivery.State.FAILED]
    deleted, by_model = WebhookDelivery.objects.filter(state__in=done, created_at__lt=before).delete()
    return by_model.get(WebhookDelivery._meta.label, 0)
