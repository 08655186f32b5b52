"""Second factor: enrolment, verification and backup codes (django-otp devices).

Every account has one primary device, a TOTP application or (partners only) codes sent by email, and a set of
single-use backup codes. Codes cannot be replayed: TOTP refuses a time step already used, email and backup codes
are consumed when accepted, and each device slows down repeated failures (django-otp's throttling), from the second
one on: a first typo is retried at once.
"""

import math

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django_otp import verify_token
from django_otp.plugins.otp_email.models import EmailDevice
from django_otp.plugins.otp_static.models import StaticToken

from extranet.accounts.models import AuthenticatorApp, BackupCodes, backup_code_digest
from extranet.notifications.emails import send_templated_email

TOTP = "totp"
EMAIL = "email"
METHOD_LABELS = {TOTP: "Application d'authentification", EMAIL: "Code envoyé par courriel"}
BACKUP_DEVICE_NAME = "Codes de secours"


def primary_device(user, *, confirmed=True):
    for model in (AuthenticatorApp, EmailDevice):
        device = model.objects.filter(user=user, confirmed=confirmed).order_by("-pk").first()
        if device is not None:
            return device
    return None


def method_of(device):
    return EMAIL if isinstance(device, EmailDevice) else TOTP


def has_second_factor(user):
    return primary_device(user) is not None


def remaining_backup_codes(user):
    return StaticToken.objects.filter(device__user=user, device__confirmed=True).count()


def pending_enrolment(user, method):
    """The device being set up for this method, created on first call; the account's current device, if any,
    keeps working until the new one is confirmed."""
    model = AuthenticatorApp if method == TOTP else EmailDevice
    device = model.objects.filter(user=user, confirmed=False).order_by("-pk").first()
    if device is None:
        device = model.objects.create(user=user, name=METHOD_LABELS[method], confirmed=False)
    return device


def send_email_code(device, *, on_request=False):
    """Email a fresh code. Asked for again (`on_request`), not more than once a minute; the first code of a sign-in
    always goes, since that sign-in already got past the password and its throttling. Returns False when it had
    to wait."""
    if on_request and not device.generate_is_allowed()[0]:
        return False
    with transaction.atomic():
        device.generate_token(valid_secs=settings.OTP_EMAIL_TOKEN_VALIDITY)
        device.cooldown_set(commit=True)
        send_templated_email(
            device.user.email,
            "second_factor_code",
            {
                "user": device.user,
                "code": device.token,
                "validity_minutes": settings.OTP_EMAIL_TOKEN_VALIDITY // 60,
            },
        )
    return True


def email_code_pending(device):
    return bool(device.token) and device.valid_until is not None and device.valid_until > timezone.now()


def confirm_enrolment(user, device, code):
    """Checks the first code of a new device; on success the device replaces any previous one and a new set of
    backup codes is issued. Returns (device, backup codes to show once), or None when the code is wrong; raises
    TooManyTries while the device is throttled."""
    _refuse_while_throttled(device)
    with transaction.atomic():
        # Through django_otp.verify_token: it locks the device row, so a code cannot be accepted twice.
        verified = verify_token(user, device.persistent_id, code.strip())
        if verified is None:
            _forgive_a_first_typo(device)
            return None
        for model in (AuthenticatorApp, EmailDevice):
            model.objects.filter(user=user).exclude(pk=verified.pk if isinstance(verified, model) else None).delete()
        verified.confirmed = True
        verified.save(update_fields=["confirmed"])
        codes = regenerate_backup_codes(user)
    return verified, codes


def regenerate_backup_codes(user):
    """A new set of backup codes; the previous ones stop working."""
    with transaction.atomic():
        device, _ = BackupCodes.objects.get_or_create(user=user, name=BACKUP_DEVICE_NAME, defaults={"confirmed": True})
        device.token_set.all().delete()
        codes = [StaticToken.random_token() for _ in range(settings.BACKUP_CODES_COUNT)]
        # Stored hashed, shown once: no one can read them again, not even from the database.
        StaticToken.objects.bulk_create(StaticToken(device=device, token=backup_code_digest(code)) for code in codes)
    return codes


class TooManyTries(Exception):
    """The device refuses every code for a while after wrong ones (django-otp's throttling, from the second wrong
    one: 2 s, 4 s, 8 s…)."""

    def __init__(self, seconds):
        self.seconds = seconds
        unit = "secondes" if seconds > 1 else "seconde"
        super().__init__(f"Trop d'essais : patientez {seconds} {unit} avant de réessayer.")


def _refuse_while_throttled(device):
    seconds = wait_seconds(device)
    if seconds:
        raise TooManyTries(seconds)


def verify(user, code):
    """The device that accepts this code (application or email, or backup codes), or None. Raises TooManyTries
    while the device is throttled, without looking at the code."""
    code = "".join(code.split()).lower()
    # Six digits come from the application or the email; backup codes have eight letters and digits. Trying a
    # code on one kind only keeps a typo from counting as a failure on the other.
    if len(code) == 6 and code.isdigit():
        device = primary_device(user)
    else:
        device = BackupCodes.objects.filter(user=user, confirmed=True).first()
    if device is None:
        return None
    _refuse_while_throttled(device)
    verified = verify_token(user, device.persistent_id, code)
    if verified is None:
        _forgive_a_first_typo(device)
    return verified


def _forgive_a_first_typo(device):
    """django-otp makes even the first wrong code wait a second, which a user correcting a typo meets as a penalty.
    The first failure stays counted (the next one waits 2 s, then 4 s, 8 s…: guessing stays as slow) but starts no
    wait: without its timestamp, django-otp's throttling lets the next try through. Conditional, so that a failure
    counted meanwhile by a concurrent try keeps its wait."""
    type(device).objects.filter(pk=device.pk, throttling_failure_count=1).update(throttling_failure_timestamp=None)


def wait_seconds(device):
    """How long before the device accepts another try (django-otp's throttling), 0 if it does now."""
    if device is None:
        return 0
    device.refresh_from_db()
    allowed, data = device.verify_is_allowed()
    if allowed or not data or not data.get("locked_until"):
        return 0
    return max(1, math.ceil((data["locked_until"] - timezone.now()).total_seconds()))


def reset(user):
    """Remove every device: the account sets up a second factor again at its next sign-in, and its sessions,
    verified by a device that no longer exists, lose access to every page until then."""
    with transaction.atomic():
        for model in (AuthenticatorApp, EmailDevice, BackupCodes):
            model.objects.filter(user=user).delete()
