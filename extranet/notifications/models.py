from django.db import models
from django.utils import timezone


class OutgoingEmail(models.Model):
    """Every email, written in the transaction of the action that causes it (an outbox): a crash or an SMTP
    failure cannot lose it; the worker sends it, retries it, and records the outcome.

    A worker claims an email before the SMTP exchange (state "sending", `attempting_since`) and notes the moment it
    hands the message over (`handed_off_at`, just before the line that ends it in SMTP's DATA): a claim older than
    the lease whose hand-off never started is sent again, one whose hand-off had started is "peut-être envoyé" and
    never resent automatically (the relay may hold it: resending could deliver it twice)."""

    class State(models.TextChoices):
        PENDING = "pending", "À envoyer"
        SENDING = "sending", "En cours d'envoi"
        SENT = "sent", "Envoyé"
        FAILED = "failed", "Abandonné"
        UNKNOWN = "unknown", "Peut-être envoyé"

    recipient = models.EmailField()
    subject = models.CharField(max_length=255)
    body = models.TextField()
    created_at = models.DateTimeField(default=timezone.now)
    state = models.CharField(max_length=10, choices=State.choices, default=State.PENDING)
    attempts = models.PositiveSmallIntegerField(default=0)
    next_attempt_at = models.DateTimeField(default=timezone.now)
    attempting_since = models.DateTimeField(null=True, blank=True)
    handed_off_at = models.DateTimeField(null=True, blank=True)
    last_error = models.CharField(max_length=300, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["state", "next_attempt_at"])]

    def __str__(self):
        return f"{self.subject} → {self.recipient} ({self.get_state_display()})"
