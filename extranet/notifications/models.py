from django.db import models
from django.utils import timezone


class OutgoingEmail(models.Model):
    """Every email, written in the transaction of the action that causes it (an outbox): a crash or an SMTP
    failure cannot lose it; the worker sends it, retries it, and records the outcome."""

    class State(models.TextChoices):
        PENDING = "pending", "À envoyer"
        SENT = "sent", "Envoyé"
        FAILED = "failed", "Abandonné"

    recipient = models.EmailField()
    subject = models.CharField(max_length=255)
    body = models.TextField()
    created_at = models.DateTimeField(default=timezone.now)
    state = models.CharField(max_length=10, choices=State.choices, default=State.PENDING)
    attempts = models.PositiveSmallIntegerField(default=0)
    next_attempt_at = models.DateTimeField(default=timezone.now)
    last_error = models.CharField(max_length=300, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["state", "next_attempt_at"])]

    def __str__(self):
        return f"{self.subject} → {self.recipient} ({self.get_state_display()})"
