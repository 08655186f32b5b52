import hashlib
import secrets
from datetime import timedelta

from django.contrib.auth.base_user import AbstractBaseUser, BaseUserManager
from django.contrib.auth.models import PermissionsMixin
from django.contrib.sessions.base_session import AbstractBaseSession
from django.db import models
from django.db.models.functions import Lower
from django.utils import timezone
from django_otp.plugins.otp_static.models import StaticDevice
from django_otp.plugins.otp_totp.models import TOTPDevice

from extranet.core import crypto


class Civility(models.TextChoices):
    MADAME = "mme", "Madame"
    MONSIEUR = "m", "Monsieur"


class UserManager(BaseUserManager):
    use_in_migrations = True

    def get_by_natural_key(self, email):
        return self.get(email__iexact=email)

    def create_user(self, email, password=None, **fields):
        user = self.model(email=self.normalize_email(email), **fields)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_superuser(self, email, password=None, **fields):
        fields.update(is_staff=True, is_superuser=True)
        return self.create_user(email, password, **fields)


class User(AbstractBaseUser, PermissionsMixin):
    """A person: login by email. Partners belong to one structure, agents to one caisse."""

    # unique=True for Django's checks; the constraint below makes it case-insensitive.
    email = models.EmailField("adresse électronique", max_length=254, unique=True)
    civility = models.CharField("civilité", max_length=3, choices=Civility.choices, blank=True)
    last_name = models.CharField("nom", max_length=150)
    first_name = models.CharField("prénom", max_length=150)
    phone = models.CharField("téléphone", max_length=20, blank=True)
    is_active = models.BooleanField("actif", default=True)
    is_staff = models.BooleanField("accès à l'administration technique", default=False)
    date_joined = models.DateTimeField("date de création", default=timezone.now)
    # Emails one may turn on or off. Answers and messages from the caisse are always sent to the author (or, the
    # author gone, to the structure's gestionnaires): they carry the reply. requests/notifications.py reads them.
    notify_take_charge = models.BooleanField("me prévenir quand la caisse prend en charge ma demande", default=True)
    notify_daily_digest = models.BooleanField(
        "recevoir chaque matin la liste des nouvelles demandes de ma caisse", default=True
    )
    # The agent in charge asked the structure something: they wait for the answer, so it reaches them by default.
    notify_partner_reply = models.BooleanField(
        "me prévenir quand une structure répond sur une demande dont j'ai la charge", default=True
    )
    # A message on a request nobody has taken yet concerns the whole caisse: only those who triage opt in, or every
    # agent would receive each one (the daily digest already lists the new requests).
    notify_new_request_messages = models.BooleanField(
        "me prévenir quand une structure écrit sur une demande nouvelle, pas encore prise en charge", default=False
    )
    # The star is a bookmark first: its emails are asked for, not imposed.
    notify_followed = models.BooleanField(
        "recevoir les changements de statut et les messages des demandes que je suis (étoile)", default=False
    )

    objects = UserManager()

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS = ["last_name", "first_name"]

    class Meta:
        verbose_name = "utilisateur"
        constraints = [
            models.UniqueConstraint(
                Lower("email"),
                name="user_email_ci_unique",
                violation_error_message="Cette adresse électronique est déjà associée à un compte.",
            )
        ]

    def __str__(self):
        return self.get_full_name() or self.email

    def get_full_name(self):
        return f"{self.first_name} {self.last_name.upper()}".strip()

    def get_short_name(self):
        return self.first_name

    @property
    def structure_membership(self):
        try:
            return self.membership
        except models.ObjectDoesNotExist:
            return None

    @property
    def caisse_membership(self):
        try:
            return self.caissemembership
        except models.ObjectDoesNotExist:
            return None

    @property
    def is_invited(self):
        """Created by someone else and never activated (no password chosen yet)."""
        return not self.has_usable_password()


class Session(AbstractBaseSession):
    """Database session that knows its user, so that every session of a user can be ended."""

    user_id = models.BigIntegerField(null=True, db_index=True)

    @classmethod
    def get_session_store_class(cls):
        from extranet.accounts.session_store import SessionStore

        return SessionStore


class AccountToken(models.Model):
    """A single-use link sent by email. Only a hash of the secret is stored."""

    class Purpose(models.TextChoices):
        ACTIVATION = "activation", "Activation du compte"
        PASSWORD_RESET = "password_reset", "Réinitialisation du mot de passe"
        EMAIL_CHANGE = "email_change", "Changement d'adresse électronique"

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="account_tokens")
    purpose = models.CharField(max_length=20, choices=Purpose.choices)
    token_hash = models.CharField(max_length=64, unique=True)
    new_email = models.EmailField(blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["user", "purpose"])]

    def __str__(self):
        return f"{self.get_purpose_display()} — {self.user}"

    @staticmethod
    def hash(secret):
        return hashlib.sha256(secret.encode()).hexdigest()

    @classmethod
    def issue(cls, user, purpose, *, validity: timedelta, new_email=""):
        """Create a token, revoking the user's earlier unused ones for the same purpose; returns the secret."""
        now = timezone.now()
        cls.objects.filter(user=user, purpose=purpose, used_at__isnull=True).update(used_at=now)
        secret = secrets.token_urlsafe(32)
        cls.objects.create(
            user=user,
            purpose=purpose,
            token_hash=cls.hash(secret),
            new_email=new_email,
            created_at=now,
            expires_at=now + validity,
        )
        return secret

    @property
    def is_usable(self):
        return self.used_at is None and self.expires_at > timezone.now() and self.user.is_active


# API keys are an account's credentials: they live with the account, and the API (above) reads them.
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
        "accounts.User", on_delete=models.CASCADE, related_name="api_tokens", verbose_name="compte"
    )
    name = models.CharField("nom", max_length=100)
    prefix = models.CharField("début de la clé", max_length=PREFIX_LENGTH)
    digest = models.CharField("empreinte de la clé", max_length=64, unique=True)
    created_at = models.DateTimeField("créé le", default=timezone.now)
    last_used_at = models.DateTimeField("dernière utilisation", null=True, blank=True)
    revoked_at = models.DateTimeField("révoqué le", null=True, blank=True)
    created_by = models.ForeignKey(
        "accounts.User",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name="créé par",
        help_text="Vide pour un jeton émis par l'exploitant (commande issue_api_token).",
    )

    objects = ApiTokenQuerySet.as_manager()

    class Meta:
        # The table of the api app, which held the model until accounts 0003 (renamed by a later release, once no
        # serving version reads it under this name).
        db_table = "api_apitoken"
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


class LoginFailure(models.Model):
    """A password attempt not known to have succeeded (extranet/accounts/throttling.py). It is written before the
    password is checked, so that concurrent attempts count each other, and removed when the password is right."""

    # A keyed digest of the email as typed: the table never holds what someone typed in the email field.
    account = models.CharField("compte visé (empreinte)", max_length=64)
    address = models.GenericIPAddressField("adresse", null=True)
    created_at = models.DateTimeField("le", default=timezone.now)

    class Meta:
        verbose_name = "échec de connexion"
        verbose_name_plural = "échecs de connexion"
        indexes = [
            models.Index(fields=["account", "created_at"], name="login_failure_account"),
            models.Index(fields=["address", "created_at"], name="login_failure_address"),
            models.Index(fields=["created_at"], name="login_failure_created"),
        ]

    def __str__(self):
        return f"{self.address} — {self.created_at:%Y-%m-%d %H:%M}"


# Second factor secrets at rest. django-otp stores the TOTP secret and the backup codes as they are: whoever reads
# the database (a backup, a replica) could then generate an account's codes.
TOTP_SECRET_PURPOSE = b"totp-secret"
BACKUP_CODE_PURPOSE = b"backup-code"
# What a stored backup code starts with once hashed; django-otp's codes are 8 letters and digits, never a colon.
BACKUP_CODE_PREFIX = "h:"


def seal_totp_key(hex_key):
    """django-otp's hex key, sealed (AES-256-GCM, extranet/core/crypto.py): 67 characters for the default 20-byte
    key, within the column's 80."""
    return crypto.seal(bytes.fromhex(hex_key), purpose=TOTP_SECRET_PURPOSE)


def backup_code_digest(code):
    """A backup code as stored: a keyed digest (it is only ever compared), cut to fit the column's 16 characters,
    56 bits, more than the code's own 40."""
    return BACKUP_CODE_PREFIX + crypto.keyed_digest(code, purpose=BACKUP_CODE_PURPOSE)[:14]


class AuthenticatorApp(TOTPDevice):
    """django-otp's TOTP device, whose secret is stored sealed; django-otp reads it through `bin_key` only (codes,
    the set-up's QR code). Every device of the application is handled through this class."""

    class Meta:
        proxy = True
        verbose_name = "application d'authentification"
        verbose_name_plural = "applications d'authentification"

    @property
    def bin_key(self):
        return crypto.unseal(self.key, purpose=TOTP_SECRET_PURPOSE)


class BackupCodes(StaticDevice):
    """django-otp's static device, whose codes are stored hashed: the code typed is hashed the same way, then
    django-otp looks it up and consumes it as before (row lock, throttling)."""

    class Meta:
        proxy = True
        verbose_name = "codes de secours"
        verbose_name_plural = "codes de secours"

    def verify_token(self, token):
        return super().verify_token(backup_code_digest(token))


def seal_totp_secret(sender, instance, **kwargs):
    """`pre_save` of TOTP devices, whichever class saves them: no secret reaches the database in clear."""
    if not instance.key.startswith(crypto.PREFIX):
        instance.key = seal_totp_key(instance.key)


def hash_backup_code(sender, instance, **kwargs):
    """`pre_save` of backup codes (bulk creation hashes them itself: second_factor.regenerate_backup_codes)."""
    if not instance.token.startswith(BACKUP_CODE_PREFIX):
        instance.token = backup_code_digest(instance.token)
