"""The outbox against a real SMTP server (aiosmtpd) through the project's SMTP backend (Django's, reporting the
hand-off): an outage, a refused recipient, temporary refusals, a relay that stops answering."""

import logging
from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone

from extranet.notifications import delivery
from extranet.notifications.delivery import deliver, send_pending
from extranet.notifications.models import OutgoingEmail
from tests.extranet.notifications.relays import Relay, ScriptedRelay, free_port

State = OutgoingEmail.State


@pytest.fixture
def smtp(settings):
    """Sending through the project's SMTP backend to a relay on a free port (none listening until started)."""
    settings.EMAIL_BACKEND = "extranet.notifications.smtp.EmailBackend"
    settings.EMAIL_HOST = "127.0.0.1"
    settings.EMAIL_PORT = free_port()
    settings.EMAIL_TIMEOUT = 2
    relay = Relay(port=settings.EMAIL_PORT)
    yield relay
    if relay.controller is not None:
        relay.stop()


def queue(*recipients):
    return [
        OutgoingEmail.objects.create(recipient=recipient, subject=f"Essai {number}", body="Bonjour")
        for number, recipient in enumerate(recipients)
    ]


def states(emails):
    return [OutgoingEmail.objects.get(pk=email.pk).state for email in emails]


@pytest.mark.django_db
class TestRealSmtpServer:
    def test_server_down_keeps_emails_queued_then_each_is_sent_exactly_once(self, smtp):
        emails = queue("a@exemple.fr", "b@exemple.fr", "c@exemple.fr")
        assert [deliver(email.pk) for email in emails] == ["retry"] * 3
        for email in OutgoingEmail.objects.all():
            assert (email.state, email.attempts) == (State.PENDING, 1)
            assert email.last_error.startswith("ConnectionRefusedError")
            assert email.next_attempt_at > timezone.now()

        smtp.start()
        # After an outage, send_pending_emails sends everything now, without waiting for each retry time.
        assert send_pending() == 3
        assert smtp.received == {"Essai 0": 1, "Essai 1": 1, "Essai 2": 1}
        assert states(emails) == [State.SENT] * 3
        assert send_pending() == 0
        assert [deliver(email.pk, force=True) for email in emails] == ["skipped"] * 3
        assert smtp.total() == 3

    def test_a_refused_recipient_fails_at_once_and_the_others_still_go(self, smtp, caplog):
        smtp.start()
        smtp.refuse["refuse@exemple.fr"] = "550 5.1.1 Mailbox unavailable"
        caplog.set_level(logging.WARNING, logger=delivery.__name__)
        emails = queue("a@exemple.fr", "refuse@exemple.fr", "c@exemple.fr")
        assert send_pending() == 2
        assert states(emails) == [State.SENT, State.FAILED, State.SENT]
        refused = OutgoingEmail.objects.get(pk=emails[1].pk)
        assert refused.attempts == 1
        assert refused.last_error == "SMTPRecipientsRefused: 550 5.1.1 Mailbox unavailable"
        assert smtp.received == {"Essai 0": 1, "Essai 2": 1}
        [record] = [record for record in caplog.records if record.name == delivery.__name__]
        assert record.levelname == "ERROR" and "refusé définitivement" in record.getMessage()
        assert "refuse@exemple.fr" not in record.getMessage()

        # Refused for good: never tried again.
        with time_machine.travel(timezone.now() + timedelta(days=1)):
            assert send_pending() == 0
        assert smtp.total() == 2

    def test_a_temporary_refusal_keeps_the_back_off(self, smtp):
        smtp.start()
        smtp.refuse["plein@exemple.fr"] = "452 4.2.2 Mailbox full"
        [email] = queue("plein@exemple.fr")
        start = timezone.now()
        assert deliver(email.pk) == "retry"
        email.refresh_from_db()
        assert (email.state, email.attempts) == (State.PENDING, 1)
        assert email.last_error == "SMTPRecipientsRefused: 452 4.2.2 Mailbox full"
        assert start + timedelta(minutes=1) <= email.next_attempt_at <= timezone.now() + timedelta(minutes=1)
        assert deliver(email.pk) == "skipped"  # not due yet

        del smtp.refuse["plein@exemple.fr"]
        with time_machine.travel(email.next_attempt_at + timedelta(seconds=1)):
            assert deliver(email.pk) == "sent"
        assert smtp.received == {"Essai 0": 1}

    def test_a_silent_relay_fails_the_attempt_after_the_timeout_and_it_is_retried(self, smtp, settings):
        silent = ScriptedRelay(until="greeting")
        settings.EMAIL_PORT, settings.EMAIL_TIMEOUT = silent.port, 0.5
        try:
            [email] = queue("a@exemple.fr")
            assert deliver(email.pk) == "retry"
        finally:
            silent.close()
        email.refresh_from_db()
        assert (email.state, email.attempts, email.handed_off_at) == (State.PENDING, 1, None)
        assert email.last_error.endswith("timed out")

        settings.EMAIL_PORT = smtp.port
        smtp.start()
        assert send_pending() == 1
        assert smtp.received == {"Essai 0": 1}

    def test_a_relay_silent_after_taking_the_message_leaves_it_maybe_sent_never_resent(self, smtp, settings, caplog):
        taker = ScriptedRelay(until="data")
        settings.EMAIL_PORT, settings.EMAIL_TIMEOUT = taker.port, 0.5
        caplog.set_level(logging.WARNING, logger=delivery.__name__)
        try:
            [email] = queue("a@exemple.fr")
            assert deliver(email.pk) == "unknown"
            assert taker.message_received.is_set()
        finally:
            taker.close()
        email.refresh_from_db()
        assert email.state == State.UNKNOWN
        assert email.handed_off_at is not None
        assert email.last_error.endswith("timed out")
        assert any("peut-être envoyé" in record.getMessage() for record in caplog.records)

        settings.EMAIL_PORT = smtp.port
        smtp.start()
        assert send_pending() == 0
        assert deliver(email.pk, force=True) == "skipped"
        assert smtp.total() == 0
