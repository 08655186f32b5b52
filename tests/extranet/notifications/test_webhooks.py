"""Webhooks, against a real HTTP receiver on 127.0.0.1 (receiver.py): what an action sends, signed as the
documentation says, retried, abandoned, never redirected, never to a private address, never with personal data."""

import hashlib
import hmac
import json
import re
import socket
from datetime import timedelta
from pathlib import Path

import pytest
import time_machine
from django.utils import timezone

from extranet.notifications import webhook_delivery, webhooks
from extranet.notifications.models import WebhookAttempt, WebhookDelivery, WebhookEndpoint
from extranet.notifications.webhook_delivery import MAX_ATTEMPTS, deliver
from extranet.worker import reclaim_stale_tasks
from requests import services
from tests.factories import CaisseMembershipFactory, RequestFactory

pytestmark = pytest.mark.django_db
State = WebhookDelivery.State


def at(moment):
    return time_machine.travel(moment, tick=False)


def verified(secret, received, *, now):
    """The receiver's check exactly as docs/webhooks.md gives it: HMAC-SHA256 of `t.body`, within 5 minutes."""
    fields = dict(part.split("=", 1) for part in received.headers["X-Espace-Signature"].split(","))
    timestamp = int(fields["t"])
    expected = hmac.new(secret.encode(), f"{timestamp}.".encode() + received.body, hashlib.sha256).hexdigest()
    return abs(now - timestamp) <= 300 and hmac.compare_digest(expected, fields["v1"])


def documented_check():
    """The verification function docs/webhooks.md gives client developers, as written there."""
    document = (Path(__file__).resolve().parents[3] / "docs" / "webhooks.md").read_text()
    [code] = re.findall(r"```python\n(.*?)```", document, re.DOTALL)
    namespace = {}
    exec(code, namespace)  # noqa: S102 (the project's own documentation)
    return namespace["webhook_authentique"]


def register(owner, url, events=tuple(webhooks.EVENTS), by=None):
    return webhooks.register(owner=owner, name="Logiciel de suivi", url=url, events=list(events), by=by)


@pytest.fixture
def start():
    return timezone.now().replace(microsecond=0) + timedelta(minutes=5)


def test_a_take_charge_arrives_signed_with_the_number_and_no_personal_data(
    commit, receiver, demande, structure, gestionnaire, agent, start
):
    endpoint, secret = register({"structure": structure}, receiver.url, by=gestionnaire)
    with at(start), commit():
        services.take_charge(demande, agent=agent)

    [received] = receiver.received
    assert received.path == "/evenements"
    assert verified(secret, received, now=int(start.timestamp()))
    payload = json.loads(received.body)
    delivery = WebhookDelivery.objects.get()
    assert payload == {
        "event": "request.status_changed",
        "request": demande.number,
        "occurred_at": payload["occurred_at"],
        "delivery": str(delivery.pk),
    }
    assert payload["occurred_at"] == start.isoformat()
    assert received.headers["X-Espace-Event"] == "request.status_changed"
    assert received.headers["X-Espace-Delivery"] == str(delivery.pk)
    assert received.headers["Content-Type"] == "application/json"
    everything_sent = received.body.decode() + json.dumps(received.headers)
    for personal in (demande.person_last_name, demande.person_first_name, demande.person_nir, agent.last_name):
        assert personal not in everything_sent
    assert (delivery.state, delivery.attempts, delivery.last_status_code) == (State.DELIVERED, 1, 200)
    [attempt] = delivery.attempt_log.all()
    assert (attempt.status_code, attempt.error, attempt.response_body) == (200, "", "réponse 200")
    # The secret is kept sealed: signing needs it in clear, the database never holds it so.
    assert secret not in WebhookEndpoint.objects.values_list("sealed_secret", flat=True).get(pk=endpoint.pk)


def test_the_documented_check_accepts_a_delivery_and_refuses_a_replay_or_an_altered_body(
    commit, receiver, demande, structure, agent, start
):
    _, secret = register({"structure": structure}, receiver.url)
    with at(start), commit():
        services.take_charge(demande, agent=agent)
    [received] = receiver.received
    authentic = documented_check()
    header = received.headers["X-Espace-Signature"]
    with at(start + timedelta(minutes=4)):
        assert authentic(secret, header, received.body)
        assert not authentic(secret, header, received.body.replace(b"status_changed", b"message_from_caisse"))
        assert not authentic("whsec_autre", header, received.body)
    with at(start + timedelta(minutes=5, seconds=1)):
        assert not authentic(secret, header, received.body)


def test_each_moment_gives_its_event_to_the_structure_and_to_the_caisse(
    commit, receiver, demande, structure, caisse, technicien, agent
):
    register({"structure": structure}, f"{receiver.url}/structure")
    register({"caisse": caisse}, f"{receiver.url}/caisse")
    with commit():
        services.take_charge(demande, agent=agent)
        services.post_message(demande, author=agent, body="Pouvez-vous nous transmettre l'attestation ?")
        services.post_message(demande, author=technicien, body="La voici.")
        services.resolve(demande, agent=agent, answer="Droits rouverts.")
    seen = [(hit.path.rsplit("/", 1)[1], json.loads(hit.body)["event"]) for hit in receiver.received]
    events = [
        "request.status_changed",
        "request.message_from_caisse",
        "request.message_from_structure",
        "request.status_changed",
    ]
    assert sorted(seen) == sorted((owner, event) for owner in ("structure", "caisse") for event in events)


def test_the_deposit_is_a_status_change(commit, receiver, structure, caisse, technicien):
    register({"caisse": caisse}, receiver.url)
    with commit():
        demande = services.deposit_request(
            kind="contact",
            motif="technical",
            structure=structure,
            caisse=caisse,
            author=technicien,
            details={"channel": "phone", "availabilities": "Lundi matin", "message": "Question d'accès."},
            person={},
            files=[],
        )
    [received] = receiver.received
    assert json.loads(received.body)["request"] == demande.number
    assert json.loads(received.body)["event"] == "request.status_changed"


def test_an_internal_note_sends_nothing(commit, receiver, structure, caisse, agent):
    demande = RequestFactory(structure=structure, caisse=caisse, in_progress=agent)
    register({"structure": structure}, receiver.url)
    register({"caisse": caisse}, receiver.url)
    with commit():
        services.post_message(demande, author=agent, body="Entre nous : dossier incomplet.", internal=True)
    assert WebhookDelivery.objects.count() == 0
    assert receiver.received == []


def test_another_structure_or_caisse_receives_nothing(
    commit, receiver, demande, structure, other_structure, other_caisse, agent
):
    register({"structure": structure}, f"{receiver.url}/alpha")
    register({"structure": other_structure}, f"{receiver.url}/beta")
    register({"caisse": other_caisse}, f"{receiver.url}/loire")
    with commit():
        services.take_charge(demande, agent=agent)
    assert [hit.path for hit in receiver.received] == ["/evenements/alpha"]


def test_only_the_events_asked_for_and_only_while_active(commit, receiver, demande, structure, agent):
    messages_only, _ = register({"structure": structure}, f"{receiver.url}/messages", [webhooks.MESSAGE_FROM_CAISSE])
    switched_off, _ = register({"structure": structure}, f"{receiver.url}/off")
    webhooks.set_active(switched_off, False)
    with commit():
        services.take_charge(demande, agent=agent)
        services.post_message(demande, author=agent, body="Une question.")
    assert [(hit.path, json.loads(hit.body)["event"]) for hit in receiver.received] == [
        ("/evenements/messages", "request.message_from_caisse")
    ]


def test_a_500_is_retried_later_with_the_same_delivery_then_received(
    commit, receiver, demande, structure, agent, start, gestionnaire_client
):
    endpoint, secret = register({"structure": structure}, receiver.url)
    receiver.answers = [500, 200]
    with at(start), commit():
        services.take_charge(demande, agent=agent)
    delivery = WebhookDelivery.objects.get()
    assert (delivery.state, delivery.attempts, delivery.last_status_code) == (State.PENDING, 1, 500)
    assert delivery.last_error == "Réponse HTTP 500"
    assert delivery.next_attempt_at == start + timedelta(minutes=1)

    with at(start + timedelta(seconds=30)):
        assert deliver(delivery.pk) == "skipped"  # not due yet
    assert len(receiver.received) == 1

    retried_at = start + timedelta(minutes=1, seconds=1)
    with at(retried_at):
        assert deliver(delivery.pk) == "delivered"
    first, second = receiver.received
    assert first.body == second.body
    assert first.headers["X-Espace-Delivery"] == second.headers["X-Espace-Delivery"] == str(delivery.pk)
    assert verified(secret, second, now=int(retried_at.timestamp()))
    delivery.refresh_from_db()
    assert (delivery.state, delivery.attempts, delivery.last_status_code) == (State.DELIVERED, 2, 200)
    assert delivery.delivered_at == retried_at
    assert [attempt.status_code for attempt in delivery.attempt_log.all()] == [200, 500]

    # The delivery log, as the endpoint's owner reads it.
    page = gestionnaire_client.get(f"/structure/webhooks/{endpoint.pk}/").content.decode()
    assert "HTTP 500" in page and "HTTP 200" in page and "réponse 500" in page


def test_the_delay_doubles_and_the_delivery_is_abandoned_after_the_maximum(
    commit, receiver, demande, structure, agent, start
):
    register({"structure": structure}, receiver.url)
    receiver.answers = [503]
    with at(start), commit():
        services.take_charge(demande, agent=agent)
    delivery = WebhookDelivery.objects.get()
    delays = [delivery.next_attempt_at - start]
    for _ in range(MAX_ATTEMPTS - 2):
        tried_at = delivery.next_attempt_at + timedelta(seconds=1)
        with at(tried_at):
            assert deliver(delivery.pk) == "retry"
        delivery.refresh_from_db()
        delays.append(delivery.next_attempt_at - tried_at)
    assert delays[:4] == [timedelta(minutes=minutes) for minutes in (1, 2, 4, 8)]
    with at(delivery.next_attempt_at + timedelta(seconds=1)):
        assert deliver(delivery.pk) == "failed"
    delivery.refresh_from_db()
    assert (delivery.state, delivery.attempts, delivery.last_status_code) == (State.FAILED, MAX_ATTEMPTS, 503)
    assert len(receiver.received) == MAX_ATTEMPTS == WebhookAttempt.objects.count()
    with at(start + timedelta(days=2)):
        assert webhook_delivery.send_pending() == 0
    assert len(receiver.received) == MAX_ATTEMPTS


def test_a_long_answer_is_kept_truncated_and_storable(commit, receiver, demande, structure, agent):
    register({"structure": structure}, receiver.url)
    receiver.text = "\x00début " + "x" * 2000
    with commit():
        services.take_charge(demande, agent=agent)
    attempt = WebhookAttempt.objects.get()
    assert attempt.response_body.startswith("début x")
    assert len(attempt.response_body.encode()) == WebhookAttempt.RESPONSE_KEPT - 1  # the bytes kept, less the NUL


def test_a_redirect_is_not_followed(commit, receiver, demande, structure, agent):
    register({"structure": structure}, receiver.url)
    receiver.answers = [302]
    with commit():
        services.take_charge(demande, agent=agent)
    assert [hit.path for hit in receiver.received] == ["/evenements"]
    delivery = WebhookDelivery.objects.get()
    assert (delivery.state, delivery.last_status_code) == (State.PENDING, 302)
    assert delivery.last_error == "Réponse HTTP 302 (redirection non suivie)"


def test_an_address_that_now_resolves_to_a_private_one_is_refused_at_delivery(
    commit, monkeypatch, demande, structure, agent
):
    """Registered while its name pointed to a public address; the name changed since (DNS rebinding)."""
    resolved_to = {"address": "93.184.215.14"}
    real_getaddrinfo = socket.getaddrinfo

    def fake_getaddrinfo(host, port, *args, **kwargs):
        if host != "crochet.exemple.fr":
            return real_getaddrinfo(host, port, *args, **kwargs)
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (resolved_to["address"], port))]

    monkeypatch.setattr(webhook_delivery.socket, "getaddrinfo", fake_getaddrinfo)
    connections = []
    monkeypatch.setattr(webhook_delivery.socket, "create_connection", lambda *args, **kwargs: connections.append(args))
    assert webhook_delivery.check_destination("https://crochet.exemple.fr/evenements")[4] == ["93.184.215.14"]
    register({"structure": structure}, "https://crochet.exemple.fr/evenements")

    resolved_to["address"] = "10.0.0.7"
    with commit():
        services.take_charge(demande, agent=agent)
    delivery = WebhookDelivery.objects.get()
    assert connections == []
    assert (delivery.state, delivery.last_status_code) == (State.PENDING, None)
    assert "adresse privée" in delivery.last_error
    assert delivery.attempt_log.get().error == delivery.last_error


@pytest.mark.parametrize(
    "url",
    [
        "https://10.0.0.5/evenements",
        "https://192.168.1.20/",
        "https://169.254.169.254/latest/meta-data/",
        "https://[::1]/",
        "https://[::ffff:10.0.0.1]/",
        "https://localhost/evenements",
        "http://crochet.exemple.fr/evenements",
        "https://utilisateur:motdepasse@crochet.exemple.fr/",
    ],
)
def test_unsafe_addresses_are_refused_at_registration(url):
    with pytest.raises(webhook_delivery.UnsafeAddress):
        webhook_delivery.check_destination(url)


def test_a_new_secret_invalidates_the_old_signature(commit, receiver, demande, structure, agent, start):
    endpoint, old_secret = register({"structure": structure}, receiver.url)
    with at(start), commit():
        services.take_charge(demande, agent=agent)
    new_secret = webhooks.rotate_secret(endpoint)
    assert new_secret != old_secret
    with at(start), commit():
        services.post_message(demande, author=agent, body="Une question.")
    before, after = receiver.received
    now = int(start.timestamp())
    assert verified(old_secret, before, now=now)
    assert not verified(old_secret, after, now=now)
    assert verified(new_secret, after, now=now)
    # And a signature older than the replay window no longer verifies, even with the right secret.
    assert not verified(new_secret, after, now=now + 301)


def test_a_deactivated_endpoint_abandons_what_it_had_pending(commit, receiver, demande, structure, agent, start):
    endpoint, _ = register({"structure": structure}, receiver.url)
    receiver.answers = [500]
    with at(start), commit():
        services.take_charge(demande, agent=agent)
    webhooks.set_active(endpoint, False)
    with at(start + timedelta(hours=1)):
        assert deliver(WebhookDelivery.objects.get().pk) == "failed"
    assert len(receiver.received) == 1
    assert WebhookDelivery.objects.get().last_error == "Point de réception désactivé"


def test_the_test_event_has_no_request(commit, receiver, structure, start):
    endpoint, secret = register({"structure": structure}, receiver.url)
    with at(start), commit():
        webhooks.send_test(endpoint)
    [received] = receiver.received
    assert json.loads(received.body)["event"] == received.headers["X-Espace-Event"] == "webhook.test"
    assert json.loads(received.body)["request"] is None
    assert verified(secret, received, now=int(start.timestamp()))


class TestLease:
    def test_a_delivery_whose_worker_died_is_sent_again_after_its_lease(self, settings):
        endpoint, _ = register({"caisse": CaisseMembershipFactory().caisse}, "https://crochet.exemple.fr/")
        now = timezone.now()
        lease = timedelta(seconds=settings.WEBHOOK_SENDING_LEASE)
        stale, alive = (
            WebhookDelivery.objects.create(
                endpoint=endpoint,
                event=webhooks.STATUS_CHANGED,
                body="{}",
                state=State.SENDING,
                attempts=1,
                attempting_since=since,
            )
            for since in (now - lease - timedelta(seconds=1), now - lease + timedelta(seconds=5))
        )
        assert webhook_delivery.reclaim_stale(now) == 1
        stale.refresh_from_db()
        alive.refresh_from_db()
        assert (stale.state, stale.attempting_since) == (State.PENDING, None)
        assert alive.state == State.SENDING

    def test_a_due_pending_delivery_without_a_waiting_task_is_queued_again(self, settings):
        from django_tasks import TaskResultStatus
        from django_tasks_db.models import DBTaskResult

        settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
        endpoint, _ = register({"caisse": CaisseMembershipFactory().caisse}, "https://crochet.exemple.fr/")
        orphan, queued = (
            WebhookDelivery.objects.create(endpoint=endpoint, event=webhooks.STATUS_CHANGED, body="{}")
            for _ in range(2)
        )
        webhook_delivery.deliver_webhook.enqueue(str(queued.pk))
        assert webhook_delivery.enqueue_orphans() == 1
        waiting = DBTaskResult.objects.filter(status=TaskResultStatus.READY).values_list("args_kwargs", flat=True)
        assert sorted(call["args"][0] for call in waiting) == sorted([str(orphan.pk), str(queued.pk)])

    def test_a_webhook_task_is_stale_after_the_webhooks_lease(self, settings):
        from django_tasks import TaskResultStatus
        from django_tasks_db.models import DBTaskResult

        now = timezone.now()
        settings.EMAIL_SENDING_LEASE = 3600
        task = DBTaskResult.objects.create(
            task_path=webhook_delivery.deliver_webhook.module_path,
            args_kwargs={"args": ["x"], "kwargs": {}},
            run_after=now,
            status=TaskResultStatus.RUNNING,
            started_at=now - timedelta(seconds=settings.WEBHOOK_SENDING_LEASE + 1),
            backend_name="default",
        )
        assert reclaim_stale_tasks(now) == 1
        task.refresh_from_db()
        assert task.status == TaskResultStatus.FAILED
