import hashlib
import secrets

from django.conf import settings
from django.db import models
from django.utils import timezone

PREFIX_LENGTH = 8
# Active tokens an account may hold at once (a new one is refused beyond that; revoking frees a place).
MAX_ACTIVE_TOKENS = 10


class ApiTokenQuerySet(models.QuerySet):
    def active(self):
        return self.filter(revoked_at__isnull=True)

    def issue(self, user, *, name, created_by=None):
        """Create a token for this user; returns `(token, key)`. The key is shown once: only its digest is kept.

        `created_by` is the account that asked for it (the user, from « Mon compte »); None for a token issued by
        the operator with `manage.py issue_api_token`."""
        key = secrets.token_urlsafe(32)
        token = self.create(
            user=user,
            name=name,
            prefix=key[:PREFIX_LENGTH],
            digest=ApiToken.digest_of(key),
            created_by=created_by,
        )
        return token, key


class ApiToken(models.Model):
    """A personal key for the API (`Authorization: Token <key>`). Only a SHA-256 of the key is stored: keys are
    32 random bytes, too much entropy for a slow hash to add anything."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_tokens", verbose_name="compte"
    )
    name = models.CharField("nom", max_length=100)
    prefix = models.CharField("début de la clé", max_length=PREFIX_LENGTH)
    digest = models.CharField("empreinte de la clé", max_length=64, unique=True)
    created_at = models.DateTimeField("créé le", default=timezone.now)
    last_used_at = models.DateTimeField("dernière utilisation", null=True, blank=True)
    revoked_at = models.DateTimeField("révoqué le", null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name="créé par",
        help_text="Vide pour un jeton émis par l'exploitant (commande issue_api_token).",
    )

    objects = ApiTokenQuerySet.as_manager()

    class Meta:
        verbose_name = "jeton d'API"
        verbose_name_plural = "jetons d'API"
        ordering = ["-created_at", "-pk"]
        indexes = [models.Index(fields=["user", "revoked_at"], name="api_token_user_revoked")]

    def __str__(self):
        return f"{self.name} ({self.prefix}…) — {self.user}"

    @staticmethod
    def digest_of(key):
        return hashlib.sha256(key.encode()).hexdigest()

    @property
    def is_active(self):
        return self.revoked_at is None

    def revoke(self):
        """Revoke the token (idempotent: the first revocation date is kept)."""
        if self.revoked_at is None:
            self.revoked_at = timezone.now()
            type(self).objects.filter(pk=self.pk, revoked_at__isnull=True).update(revoked_at=self.revoked_at)
