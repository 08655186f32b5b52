"""Sending the outbox (OutgoingEmail), at most once per email.

An attempt is three short steps, none holding a database transaction across the network: claim the email (row lock,
skipping those another worker holds; state "sending", `attempting_since`), talk to the SMTP relay, record the
outcome. Just before the relay is given the end of the message (the "." line that makes it the relay's),
`handed_off_at` is written: a worker that dies
after that point leaves an email the relay may have kept, which is marked "peut-être envoyé", logged and shown to
the administrateurs, never resent on its own. A worker that dies before leaves an email sent again once its lease
(`EMAIL_SENDING_LEASE`) has run out (`reclaim_stale`, run by every `db_worker`)."""

import logging
import smtplib
from datetime import timedelta
from functools import partial

from django.conf import settings
from django.core.mail import EmailMessage, get_connection
from django.db import transaction
from django.utils import timezone
from django_tasks import TaskResultStatus, task

from extranet.notifications.models import OutgoingEmail

logger = logging.getLogger(__name__)
MAX_ATTEMPTS = 8
# The relay's refusals of this message (sender, recipient, content): a 5xx there is final. A 5xx greeting or
# authentication failure is the relay's state or our configuration, not the message's: those are retried.
MESSAGE_REFUSALS = (smtplib.SMTPRecipientsRefused, smtplib.SMTPSenderRefused, smtplib.SMTPDataError)
State = OutgoingEmail.State


class LeaseLost(Exception):
    """The email was taken back from this attempt (its lease ran out): another attempt owns it now."""


def backoff(attempts):
    """1, 2, 4 … minutes, at most 2 hours between attempts."""
    return timedelta(minutes=min(2 ** (attempts - 1), 120))


@task()
def deliver_email(email_id):
    return deliver(email_id)


def deliver(email_id, *, force=False):
    """One attempt at one email, if it is pending and due (any time with `force`). Returns "sent", "retry",
    "failed", "unknown" (the relay may hold it) or "skipped" (not pending, not due, or held by another worker)."""
    email = _claim(email_id, force=force)
    if email is None:
        return "skipped"
    connection = get_connection(before_handoff=partial(_mark_handed_off, email))
    message = EmailMessage(
        email.subject, email.body, settings.DEFAULT_FROM_EMAIL, [email.recipient], connection=connection
    )
    try:
        message.send()
    except LeaseLost:
        logger.warning(
            "Courriel %s repris par un autre envoi avant sa remise au serveur : cet essai s'arrête.", email.pk
        )
        return "skipped"
    except (smtplib.SMTPException, OSError) as error:
        # Only the relay's "250" after the message says it took it; a failure after that (closing) changes nothing.
        if not getattr(connection, "accepted", 0):
            return _record_failure(email, error, handed_off=getattr(connection, "handoff_started", False))
    _finish(email, state=State.SENT, sent_at=timezone.now(), last_error="")
    return "sent"


def _claim(email_id, *, force):
    now = timezone.now()
    with transaction.atomic():
        email = (
            OutgoingEmail.objects.select_for_update(skip_locked=True).filter(pk=email_id, state=State.PENDING).first()
        )
        if email is None or (not force and email.next_attempt_at > now):
            return None
        email.state = State.SENDING
        email.attempts += 1
        email.attempting_since = now
        email.handed_off_at = None
        email.save(update_fields=["state", "attempts", "attempting_since", "handed_off_at"])
    return email


def _this_attempt(email):
    # `attempts` grows at every claim: it tells this attempt from a later one after a reclaim.
    return OutgoingEmail.objects.filter(pk=email.pk, attempts=email.attempts)


def _mark_handed_off(email):
    if not _this_attempt(email).filter(state=State.SENDING).update(handed_off_at=timezone.now()):
        raise LeaseLost


def _finish(email, **fields):
    # An attempt taken back as "peut-être envoyé" while it was slow still records what the relay answered.
    return (
        _this_attempt(email).filter(state__in=[State.SENDING, State.UNKNOWN]).update(attempting_since=None, **fields)
    )


def smtp_code(error):
    if isinstance(error, smtplib.SMTPRecipientsRefused):
        return min(code for code, _ in error.recipients.values())
    return getattr(error, "smtp_code", None)


def describe(error):
    """The relay's code and answer, or the kind of network failure; never the recipient's address."""
    if isinstance(error, smtplib.SMTPRecipientsRefused):
        code, answer = min(error.recipients.values())
    elif isinstance(error, smtplib.SMTPResponseException):
        code, answer = error.smtp_code, error.smtp_error
    else:
        return f"{type(error).__name__}: {error}"[:300]
    answer = answer.decode(errors="replace") if isinstance(answer, bytes) else str(answer)
    return f"{type(error).__name__}: {code} {answer}"[:300]


def _record_failure(email, error, *, handed_off):
    detail, code = describe(error), smtp_code(error)
    if handed_off and code is None:
        _finish(email, state=State.UNKNOWN, last_error=detail)
        logger.error(
            "Courriel %s peut-être envoyé : la connexion au serveur SMTP s'est interrompue pendant la remise du "
            "message (%s) ; il n'est pas renvoyé automatiquement.",
            email.pk,
            detail,
        )
        return "unknown"
    if isinstance(error, MESSAGE_REFUSALS) and code is not None and code >= 500:
        _finish(email, state=State.FAILED, last_error=detail)
        logger.error("Courriel %s refusé définitivement par le serveur SMTP (%s) : abandonné.", email.pk, detail)
        return "failed"
    if email.attempts >= MAX_ATTEMPTS:
        _finish(email, state=State.FAILED, last_error=detail)
        logger.error("Courriel %s abandonné après %s tentatives : %s", email.pk, email.attempts, detail)
        return "failed"
    next_attempt_at = timezone.now() + backoff(email.attempts)
    if _finish(email, state=State.PENDING, next_attempt_at=next_attempt_at, last_error=detail):
        logger.warning("Courriel %s non envoyé (tentative %s) : %s", email.pk, email.attempts, detail)
        # Queues that cannot defer (the immediate one of the demo and tests) leave it to `send_pending_emails`.
        if deliver_email.get_backend().supports_defer:
            deliver_email.using(run_after=next_attempt_at).enqueue(email.pk)
    return "retry"


def send_pending():
    """Send every pending email now, whatever its next retry time (after an outage, for instance). Returns how
    many were sent."""
    pending = OutgoingEmail.objects.filter(state=State.PENDING).order_by("pk").values_list("pk", flat=True)
    return sum(deliver(email_id, force=True) == "sent" for email_id in list(pending))


def reclaim_stale(now=None):
    """Take back the emails of attempts that outlived their lease (their worker was killed or lost its machine):
    sent again when the relay was never given them, "peut-être envoyé" when it may have been. Returns both
    counts."""
    now = now or timezone.now()
    stale = OutgoingEmail.objects.filter(
        state=State.SENDING, attempting_since__lt=now - timedelta(seconds=settings.EMAIL_SENDING_LEASE)
    )
    retried = stale.filter(handed_off_at__isnull=True).update(
        state=State.PENDING, next_attempt_at=now, attempting_since=None
    )
    if retried:
        logger.warning("%s courriel(s) interrompu(s) avant leur remise au serveur SMTP : envoi repris.", retried)
    uncertain = 0
    for email_id in list(stale.filter(handed_off_at__isnull=False).values_list("pk", flat=True)):
        if stale.filter(pk=email_id, handed_off_at__isnull=False).update(
            state=State.UNKNOWN,
            attempting_since=None,
            last_error="Envoi interrompu pendant la remise du message au serveur SMTP",
        ):
            uncertain += 1
            logger.error(
                "Courriel %s peut-être envoyé : son envoi s'est interrompu pendant la remise au serveur SMTP ; il "
                "n'est pas renvoyé automatiquement.",
                email_id,
            )
    return retried, uncertain


def enqueue_orphans(now=None):
    """Queue a delivery for each due pending email that no waiting task will send (its task was lost with a
    worker, or its queueing failed). A spare task is harmless: the claim lets one attempt through."""
    from django_tasks_db.models import DBTaskResult

    due = set(
        OutgoingEmail.objects.filter(state=State.PENDING, next_attempt_at__lte=now or timezone.now()).values_list(
            "pk", flat=True
        )
    )
    if not due:
        return 0
    waiting = DBTaskResult.objects.filter(status=TaskResultStatus.READY, task_path=deliver_email.module_path)
    queued = {call["args"][0] for call in waiting.values_list("args_kwargs", flat=True) if call.get("args")}
    orphans = sorted(due - queued)
    for email_id in orphans:
        deliver_email.enqueue(email_id)
    return len(orphans)
