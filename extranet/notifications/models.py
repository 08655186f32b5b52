import json
import uuid

from django.conf import settings
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


class WebhookEndpoint(models.Model):
    """An HTTPS address where a structure's or a caisse's software is told of its requests' events (exactly one
    owner). The signing secret is stored sealed (extranet/core/crypto.py): signing needs it in clear, so a digest
    would not do; it is shown once, at creation and at each rotation."""

    structure = models.ForeignKey("structures.Structure", null=True, blank=True, on_delete=models.CASCADE)
    caisse = models.ForeignKey("structures.Caisse", null=True, blank=True, on_delete=models.CASCADE)
    name = models.CharField("nom", max_length=100)
    url = models.URLField("adresse", max_length=500)
    events = models.JSONField("événements", default=list)
    sealed_secret = models.CharField(max_length=200)
    is_active = models.BooleanField("actif", default=True)
    created_at = models.DateTimeField(default=timezone.now)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    secret_rotated_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=models.Q(structure__isnull=False, caisse__isnull=True)
                | models.Q(structure__isnull=True, caisse__isnull=False),
                name="webhook_endpoint_one_owner",
            )
        ]

    def __str__(self):
        return f"{self.name} ({self.url})"


class WebhookDelivery(models.Model):
    """One event for one endpoint: the webhooks' outbox row, written in the transaction of the action, sent by the
    worker like an email (extranet/notifications/webhook_delivery.py). Its body is fixed when it is written, so
    that every attempt sends the same bytes; its id is the `X-Espace-Delivery` a receiver deduplicates on."""

    class State(models.TextChoices):
        PENDING = "pending", "À envoyer"
        SENDING = "sending", "En cours d'envoi"
        DELIVERED = "delivered", "Reçu"
        FAILED = "failed", "Abandonné"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    endpoint = models.ForeignKey(WebhookEndpoint, on_delete=models.CASCADE, related_name="deliveries")
    event = models.CharField(max_length=50)
    body = models.TextField()
    created_at = models.DateTimeField(default=timezone.now)
    state = models.CharField(max_length=10, choices=State.choices, default=State.PENDING)
    attempts = models.PositiveSmallIntegerField(default=0)
    next_attempt_at = models.DateTimeField(default=timezone.now)
    attempting_since = models.DateTimeField(null=True, blank=True)
    last_status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    last_error = models.CharField(max_length=300, blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [
            models.Index(fields=["state", "next_attempt_at"]),
            models.Index(fields=["endpoint", "-created_at"]),
        ]

    def __str__(self):
        return f"{self.event} → {self.endpoint_id} ({self.get_state_display()})"

    @property
    def request_number(self):
        return json.loads(self.body).get("request")


class WebhookAttempt(models.Model):
    """What one attempt got: the HTTP status, or the failure; the start of the answer (the receiver's text, never
    ours: the payload holds no personal data); how long it took."""

    RESPONSE_KEPT = 500

    delivery = models.ForeignKey(WebhookDelivery, on_delete=models.CASCADE, related_name="attempt_log")
    at = models.DateTimeField(default=timezone.now)
    status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    error = models.CharField(max_length=300, blank=True)
    response_body = models.CharField(max_length=RESPONSE_KEPT, blank=True)
    duration_ms = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["-at", "-pk"]

    def __str__(self):
        return f"{self.delivery_id} : {self.status_code or self.error}"
