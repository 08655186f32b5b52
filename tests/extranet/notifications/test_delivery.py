"""Delivery of the OutgoingEmail outbox (extranet/notifications/delivery.py): an SMTP failure leaves the email pending,
retried later with a doubling delay, abandoned and logged after MAX_ATTEMPTS."""

import logging
from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone

from extranet.notifications import delivery
from extranet.notifications.delivery import MAX_ATTEMPTS, send_pending
from extranet.notifications.models import OutgoingEmail
from requests import services

FAILING_BACKEND = "tests.helpers.FailingBackend"
LOCMEM_BACKEND = "django.core.mail.backends.locmem.EmailBackend"


def at(moment):
    return time_machine.travel(moment, tick=False)


@pytest.mark.django_db
class TestSmtpFailures:
    @pytest.fixture
    def start(self):
        return timezone.now().replace(microsecond=0) + timedelta(minutes=5)

    def queue_one_email(self, commit, demande, agent, start):
        with at(start), commit():
            services.take_charge(demande, agent=agent)
        return OutgoingEmail.objects.get()

    def test_a_failed_email_stays_pending_and_is_sent_once_later(
        self, settings, commit, mailoutbox, demande, agent, start, caplog
    ):
        settings.EMAIL_BACKEND = FAILING_BACKEND
        caplog.set_level(logging.WARNING, logger=delivery.__name__)
        email = self.queue_one_email(commit, demande, agent, start)
        assert email.state == OutgoingEmail.State.PENDING
        assert email.attempts == 1
        assert email.last_error == "SMTPServerDisconnected: Connection unexpectedly closed"
        assert email.next_attempt_at == start + timedelta(minutes=1)
        assert email.sent_at is None
        assert mailoutbox == []
        assert [record.levelname for record in caplog.records if record.name == delivery.__name__] == ["WARNING"]

        # Not due yet: the queued retry tries nothing.
        settings.EMAIL_BACKEND = LOCMEM_BACKEND
        with at(start + timedelta(seconds=30)):
            assert delivery.deliver(email.pk) == "skipped"
        email.refresh_from_db()
        assert (email.state, email.attempts) == (OutgoingEmail.State.PENDING, 1)
        assert mailoutbox == []

        with at(email.next_attempt_at + timedelta(seconds=1)):
            assert delivery.deliver(email.pk) == "sent"
        email.refresh_from_db()
        assert email.state == OutgoingEmail.State.SENT
        assert email.attempts == 2
        assert email.sent_at == email.next_attempt_at + timedelta(seconds=1)
        assert [(sent.to, sent.subject) for sent in mailoutbox] == [([email.recipient], email.subject)]

        with at(start + timedelta(days=1)):
            assert send_pending() == 0
        assert len(mailoutbox) == 1

    def test_the_delay_between_attempts_doubles(self, settings, commit, demande, agent, start):
        settings.EMAIL_BACKEND = FAILING_BACKEND
        email = self.queue_one_email(commit, demande, agent, start)
        delays = [email.next_attempt_at - start]
        for _ in range(3):
            tried_at = email.next_attempt_at + timedelta(seconds=1)
            with at(tried_at):
                assert send_pending() == 0
            email.refresh_from_db()
            delays.append(email.next_attempt_at - tried_at)
        assert delays == [timedelta(minutes=minutes) for minutes in (1, 2, 4, 8)]
        assert email.attempts == 4

    def test_after_max_attempts_the_email_is_abandoned_and_the_error_logged(
        self, settings, commit, mailoutbox, demande, agent, start, caplog
    ):
        settings.EMAIL_BACKEND = FAILING_BACKEND
        caplog.set_level(logging.WARNING, logger=delivery.__name__)
        email = self.queue_one_email(commit, demande, agent, start)
        while email.state == OutgoingEmail.State.PENDING:
            assert email.attempts < MAX_ATTEMPTS
            with at(email.next_attempt_at + timedelta(seconds=1)):
                assert send_pending() == 0
            email.refresh_from_db()
        assert email.state == OutgoingEmail.State.FAILED
        assert email.attempts == MAX_ATTEMPTS
        assert email.last_error.startswith("SMTPServerDisconnected")
        ours = [record for record in caplog.records if record.name == delivery.__name__]
        assert [record.levelname for record in ours] == ["WARNING"] * (MAX_ATTEMPTS - 1) + ["ERROR"]
        assert str(email.pk) in ours[-1].getMessage()
        assert f"{MAX_ATTEMPTS} tentatives" in ours[-1].getMessage()

        # Abandoned for good: a working server later sends nothing.
        settings.EMAIL_BACKEND = LOCMEM_BACKEND
        with at(start + timedelta(days=30)):
            assert send_pending() == 0
        assert mailoutbox == []
        email.refresh_from_db()
        assert (email.state, email.attempts) == (OutgoingEmail.State.FAILED, MAX_ATTEMPTS)
