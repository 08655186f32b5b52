import logging
import smtplib
from datetime import timedelta

from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.utils import timezone
from django_tasks import task

from extranet.notifications.models import OutgoingEmail

logger = logging.getLogger(__name__)
MAX_ATTEMPTS = 8


def backoff(attempts):
    """1, 2, 4 … minutes, at most 2 hours between attempts."""
    return timedelta(minutes=min(2 ** (attempts - 1), 120))


@task()
def deliver_email(email_id):
    return deliver(email_id)


def deliver(email_id):
    """Send one queued email. On an SMTP or network failure, count the attempt and plan the next one."""
    with transaction.atomic():
        email = OutgoingEmail.objects.select_for_update().filter(pk=email_id).first()
        if email is None or email.state != OutgoingEmail.State.PENDING:
            return "skipped"
        try:
            send_mail(email.subject, email.body, settings.DEFAULT_FROM_EMAIL, [email.recipient])
        except (smtplib.SMTPException, OSError) as error:
            email.attempts += 1
            email.last_error = f"{type(error).__name__}: {error}"[:300]
            if email.attempts >= MAX_ATTEMPTS:
                email.state = OutgoingEmail.State.FAILED
                logger.error("Courriel %s abandonné après %s tentatives : %s", email.pk, email.attempts, error)
            else:
                email.next_attempt_at = timezone.now() + backoff(email.attempts)
                logger.warning("Courriel %s non envoyé (tentative %s) : %s", email.pk, email.attempts, error)
            email.save(update_fields=["attempts", "last_error", "state", "next_attempt_at"])
            if email.state == OutgoingEmail.State.PENDING:
                transaction.on_commit(lambda: _schedule_retry(email))
            return "retry"
        email.state = OutgoingEmail.State.SENT
        email.sent_at = timezone.now()
        email.attempts += 1
        email.save(update_fields=["state", "sent_at", "attempts"])
        return "sent"


def _schedule_retry(email):
    # Queues that cannot defer (the immediate one of the demo and tests) leave it to `send_pending_emails`.
    if deliver_email.get_backend().supports_defer:
        deliver_email.using(run_after=email.next_attempt_at).enqueue(email.pk)


def send_pending(now=None):
    """Send every email due: retries, and any whose queueing was lost. Returns how many were sent."""
    due = OutgoingEmail.objects.filter(
        state=OutgoingEmail.State.PENDING, next_attempt_at__lte=now or timezone.now()
    ).values_list("pk", flat=True)
    return sum(deliver(email_id) == "sent" for email_id in list(due))
