"""Sending the webhooks' outbox (WebhookDelivery), as the emails' (extranet/notifications/delivery.py): each attempt
claims the delivery (row lock, skipping those another worker holds; state "sending", `attempting_since`), posts it
without a database transaction open, then records the outcome and the attempt (status, error, duration, the start
of the answer). A 2xx is "reçu"; anything else, a redirect included (never followed), a timeout or a refused address
is retried after 1, 2, 4… minutes, and abandoned after MAX_ATTEMPTS. A worker killed mid-attempt leaves a delivery
taken back once its lease (WEBHOOK_SENDING_LEASE) has run out, and sent again: receivers deduplicate on
`X-Espace-Delivery` (the same id at every attempt), so a delivery may arrive twice but is never lost.

The posting itself is the standard library's http.client: it follows no redirect, and it connects to the address
checked a moment before (the host still named for TLS and `Host`), so that a name cannot resolve to a public address
for the check and to a private one for the connection.
"""

import hashlib
import hmac
import http.client
import ipaddress
import logging
import socket
import ssl
import time
from datetime import timedelta
from urllib.parse import urlsplit

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django_tasks import TaskResultStatus, task

from extranet.core import crypto
from extranet.notifications.delivery import backoff
from extranet.notifications.models import WebhookAttempt, WebhookDelivery

logger = logging.getLogger(__name__)
MAX_ATTEMPTS = 8
State = WebhookDelivery.State

SECRET_PURPOSE = b"webhook-secret"
SIGNATURE_HEADER = "X-Espace-Signature"


class UnsafeAddress(Exception):
    """An address the service will not post to; the message says why, in French."""


# Addresses


def secret_of(endpoint):
    return crypto.unseal(endpoint.sealed_secret, purpose=SECRET_PURPOSE).decode()


def _allowed_http(host):
    return host in settings.WEBHOOK_ALLOWED_HTTP_HOSTS


def _public(address):
    ip = ipaddress.ip_address(address.split("%", 1)[0])  # an IPv6 scope ("fe80::1%eth0") is not part of it
    if ip.version == 6 and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return ip.is_global and not ip.is_multicast


def check_url(url):
    """The address split as (scheme, host, port, path), refused with UnsafeAddress unless it is https (or http to an
    allowed host), names a host, and carries neither credentials nor a fragment. Where it resolves is `resolve`'s."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as error:
        raise UnsafeAddress("Adresse invalide.") from error
    host = parts.hostname or ""
    if parts.scheme != "https" and not (parts.scheme == "http" and _allowed_http(host)):
        raise UnsafeAddress("L'adresse doit commencer par https:// (les événements partent chiffrés).")
    if not host:
        raise UnsafeAddress("L'adresse ne nomme aucun serveur.")
    if parts.username is not None or parts.password is not None:
        raise UnsafeAddress("L'adresse ne doit pas contenir d'identifiant ni de mot de passe.")
    if parts.fragment:
        raise UnsafeAddress("L'adresse ne doit pas contenir de fragment (#…).")
    port = port or (443 if parts.scheme == "https" else 80)
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    return parts.scheme, host, port, path


def resolve(host, port):
    """The addresses to connect to: all of the host's, each checked public (unless the host is allowed)."""
    try:
        found = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as error:
        raise UnsafeAddress(f"Le serveur {host} est introuvable.") from error
    addresses = list(dict.fromkeys(info[4][0] for info in found))
    if not _allowed_http(host) and not all(_public(address) for address in addresses):
        raise UnsafeAddress(
            f"Le serveur {host} a une adresse privée, locale ou réservée : les événements ne partent que vers "
            "Internet."
        )
    return addresses


def check_destination(url):
    """An address checked as at registration: its form, then where its host resolves now."""
    scheme, host, port, path = check_url(url)
    return scheme, host, port, path, resolve(host, port)


# Signing


def signature(secret, timestamp, body):
    return hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()


def signed_headers(secret, delivery, *, timestamp):
    body = delivery.body.encode()
    return {
        "Content-Type": "application/json",
        "User-Agent": "EspacePartenaires-Webhooks/1",
        SIGNATURE_HEADER: f"t={timestamp},v1={signature(secret, timestamp, body)}",
        "X-Espace-Event": delivery.event,
        "X-Espace-Delivery": str(delivery.pk),
    }


# Posting


class _PinnedConnection(http.client.HTTPConnection):
    """Connects to `address` (already checked) rather than resolving the host again; reads with `read_timeout`."""

    def __init__(self, host, port, *, address, connect_timeout, read_timeout):
        super().__init__(host, port, timeout=connect_timeout)
        self.address, self.read_timeout = address, read_timeout

    def connect(self):
        self.sock = socket.create_connection((self.address, self.port), self.timeout)
        self.sock.settimeout(self.read_timeout)


class _PinnedTLSConnection(_PinnedConnection):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.context = ssl.create_default_context()

    def connect(self):
        super().connect()
        self.sock = self.context.wrap_socket(self.sock, server_hostname=self.host)


def post(url, body, headers):
    """POST `body` to `url` once: (status, the start of the answer). Raises UnsafeAddress, OSError (timeouts and
    TLS errors included), ValueError or http.client.HTTPException."""
    scheme, host, port, path, addresses = check_destination(url)
    connection_class = _PinnedTLSConnection if scheme == "https" else _PinnedConnection
    connection = connection_class(
        host,
        port,
        address=addresses[0],
        connect_timeout=settings.WEBHOOK_CONNECT_TIMEOUT,
        read_timeout=settings.WEBHOOK_READ_TIMEOUT,
    )
    try:
        connection.request("POST", path, body=body, headers=headers)
        response = connection.getresponse()
        answer = response.read(WebhookAttempt.RESPONSE_KEPT)
    finally:
        connection.close()
    # The receiver's text, kept for its owner: a NUL byte would not be storable (PostgreSQL's text refuses it).
    return response.status, answer.decode(errors="replace").replace("\x00", "")


# The outbox


@task()
def deliver_webhook(delivery_id):
    return deliver(delivery_id)


def deliver(delivery_id, *, force=False):
    """One attempt at one delivery, if it is pending and due (any time with `force`). Returns "delivered", "retry",
    "failed" or "skipped" (not pending, not due, or held by another worker)."""
    delivery = _claim(delivery_id, force=force)
    if delivery is None:
        return "skipped"
    endpoint = delivery.endpoint
    if not endpoint.is_active:
        _finish(delivery, state=State.FAILED, last_error="Point de réception désactivé")
        return "failed"
    started = time.monotonic()
    status, answer, error = None, "", ""
    try:
        headers = signed_headers(secret_of(endpoint), delivery, timestamp=int(time.time()))
        status, answer = post(endpoint.url, delivery.body.encode(), headers)
    except UnsafeAddress as refused:
        error = str(refused)
    # OSError: refused, timed out, TLS refused (certificate); ValueError: a host name TLS cannot encode.
    except (OSError, ValueError, http.client.HTTPException) as failure:
        error = describe(failure)
    duration_ms = int((time.monotonic() - started) * 1000)
    if status is not None and not 200 <= status < 300:
        error = f"Réponse HTTP {status}" + (" (redirection non suivie)" if 300 <= status < 400 else "")
    WebhookAttempt.objects.create(
        delivery=delivery, status_code=status, error=error, response_body=answer, duration_ms=duration_ms
    )
    if not error:
        _finish(delivery, state=State.DELIVERED, delivered_at=timezone.now(), last_status_code=status, last_error="")
        return "delivered"
    return _record_failure(delivery, status, error)


def describe(error):
    """The kind of network failure, never the payload."""
    return f"{type(error).__name__}: {error}"[:300]


def _claim(delivery_id, *, force):
    now = timezone.now()
    with transaction.atomic():
        delivery = (
            WebhookDelivery.objects.select_for_update(skip_locked=True)
            .filter(pk=delivery_id, state=State.PENDING)
            .first()
        )
        if delivery is None or (not force and delivery.next_attempt_at > now):
            return None
        delivery.state = State.SENDING
        delivery.attempts += 1
        delivery.attempting_since = now
        delivery.save(update_fields=["state", "attempts", "attempting_since"])
    return WebhookDelivery.objects.select_related("endpoint").get(pk=delivery.pk)


def _finish(delivery, **fields):
    # `attempts` grows at every claim: an attempt taken back (lease run out) and claimed again is not this one.
    return WebhookDelivery.objects.filter(pk=delivery.pk, attempts=delivery.attempts, state=State.SENDING).update(
        attempting_since=None, **fields
    )


def _record_failure(delivery, status, error):
    if delivery.attempts >= MAX_ATTEMPTS:
        _finish(delivery, state=State.FAILED, last_status_code=status, last_error=error)
        logger.error("Webhook %s abandonné après %s tentatives : %s", delivery.pk, delivery.attempts, error)
        return "failed"
    next_attempt_at = timezone.now() + backoff(delivery.attempts)
    retried = _finish(
        delivery, state=State.PENDING, next_attempt_at=next_attempt_at, last_status_code=status, last_error=error
    )
    if retried:
        logger.warning("Webhook %s non reçu (tentative %s) : %s", delivery.pk, delivery.attempts, error)
        # Queues that cannot defer (the immediate one of the demo and tests) leave it to the sweep or `send_pending`.
        if deliver_webhook.get_backend().supports_defer:
            deliver_webhook.using(run_after=next_attempt_at).enqueue(str(delivery.pk))
    return "retry"


def send_pending():
    """Send every pending delivery now, whatever its next retry time. Returns how many were received."""
    pending = WebhookDelivery.objects.filter(state=State.PENDING).order_by("created_at").values_list("pk", flat=True)
    return sum(deliver(delivery_id, force=True) == "delivered" for delivery_id in list(pending))


def reclaim_stale(now=None):
    """Take back the deliveries of attempts that outlived their lease (their worker was killed): sent again."""
    now = now or timezone.now()
    retried = WebhookDelivery.objects.filter(
        state=State.SENDING, attempting_since__lt=now - timedelta(seconds=settings.WEBHOOK_SENDING_LEASE)
    ).update(state=State.PENDING, next_attempt_at=now, attempting_since=None)
    if retried:
        logger.warning("%s webhook(s) interrompu(s) : envoi repris.", retried)
    return retried


def enqueue_orphans(now=None):
    """Queue an attempt for each due pending delivery that no waiting task will make (lost with a worker, or never
    queued); a spare task is harmless: the claim lets one attempt through."""
    from django_tasks_db.models import DBTaskResult

    due = {
        str(pk)
        for pk in WebhookDelivery.objects.filter(
            state=State.PENDING, next_attempt_at__lte=now or timezone.now()
        ).values_list("pk", flat=True)
    }
    if not due:
        return 0
    waiting = DBTaskResult.objects.filter(status=TaskResultStatus.READY, task_path=deliver_webhook.module_path)
    queued = {call["args"][0] for call in waiting.values_list("args_kwargs", flat=True) if call.get("args")}
    orphans = sorted(due - queued)
    for delivery_id in orphans:
        deliver_webhook.enqueue(delivery_id)
    return len(orphans)
