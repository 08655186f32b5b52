from datetime import timedelta

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone

from extranet.accounts.models import AccountToken, ApiToken, Session
from extranet.notifications.emails import absolute_url, send_templated_email

Purpose = AccountToken.Purpose


def end_sessions(user, *, keep_session_key=None):
    sessions = Session.objects.filter(user_id=user.pk)
    if keep_session_key:
        sessions = sessions.exclude(session_key=keep_session_key)
    sessions.delete()


def revoke_api_tokens(user):
    """For good: a deactivated account that is reactivated later starts without API tokens (its software has to
    be given a new key, by someone who can again vouch for it)."""
    ApiToken.objects.active().filter(user=user).update(revoked_at=timezone.now())


def send_activation_link(user, *, invited_by=None):
    secret = AccountToken.issue(
        user, Purpose.ACTIVATION, validity=timedelta(hours=settings.ACTIVATION_LINK_VALIDITY_HOURS)
    )
    send_templated_email(
        user.email,
        "activation",
        {
            "user": user,
            "invited_by": invited_by,
            "link": absolute_url("accounts:activate", secret),
            "validity_days": settings.ACTIVATION_LINK_VALIDITY_HOURS // 24,
        },
    )


@transaction.atomic
def request_password_reset(email):
    """Send a reset link if an active account has this email; the caller tells the user the same thing either way."""
    user = get_user_model().objects.filter(email__iexact=email.strip(), is_active=True).first()
    if user is None:
        return
    secret = AccountToken.issue(
        user, Purpose.PASSWORD_RESET, validity=timedelta(minutes=settings.PASSWORD_RESET_LINK_VALIDITY_MINUTES)
    )
    send_templated_email(
        user.email,
        "password_reset",
        {
            "user": user,
            "link": absolute_url("accounts:password_reset_confirm", secret),
            "validity_minutes": settings.PASSWORD_RESET_LINK_VALIDITY_MINUTES,
        },
    )


def find_usable_token(secret, purpose):
    """The token behind a link, or None when it is unknown, used, expired or its account deactivated."""
    token = (
        AccountToken.objects.select_related("user")
        .filter(token_hash=AccountToken.hash(secret), purpose=purpose)
        .first()
    )
    return token if token and token.is_usable else None


@transaction.atomic
def set_password_with_token(secret, purpose, password):
    """Consume an activation or reset link. Returns the user, or None if the link cannot be used (any more)."""
    token = (
        AccountToken.objects.select_for_update()
        .select_related("user")
        .filter(token_hash=AccountToken.hash(secret), purpose=purpose)
        .first()
    )
    if token is None or not token.is_usable:
        return None
    user = token.user
    user.set_password(password)
    user.save(update_fields=["password"])
    token.used_at = timezone.now()
    token.save(update_fields=["used_at"])
    # Whoever knew the old password is logged out everywhere.
    end_sessions(user)
    return user


@transaction.atomic
def change_password(user, password, *, current_session_key):
    user.set_password(password)
    user.save(update_fields=["password"])
    end_sessions(user, keep_session_key=current_session_key)


@transaction.atomic
def request_email_change(user, new_email):
    """Send a confirmation link to the new address. If another account uses it, that address is told instead,
    so that this form does not reveal which addresses have an account."""
    new_email = get_user_model().objects.normalize_email(new_email.strip())
    if get_user_model().objects.filter(email__iexact=new_email).exclude(pk=user.pk).exists():
        send_templated_email(new_email, "email_change_taken", {"user": user})
        return
    secret = AccountToken.issue(
        user,
        Purpose.EMAIL_CHANGE,
        validity=timedelta(hours=settings.EMAIL_CHANGE_LINK_VALIDITY_HOURS),
        new_email=new_email,
    )
    send_templated_email(
        new_email,
        "email_change",
        {
            "user": user,
            "new_email": new_email,
            "link": absolute_url("accounts:email_change_confirm", secret),
            "validity_hours": settings.EMAIL_CHANGE_LINK_VALIDITY_HOURS,
        },
    )


@transaction.atomic
def confirm_email_change(secret):
    """Apply a confirmed email change. Returns the user, or None if the link cannot be used."""
    token = (
        AccountToken.objects.select_for_update()
        .select_related("user")
        .filter(token_hash=AccountToken.hash(secret), purpose=Purpose.EMAIL_CHANGE)
        .first()
    )
    if token is None or not token.is_usable:
        return None
    user = token.user
    token.used_at = timezone.now()
    token.save(update_fields=["used_at"])
    if get_user_model().objects.filter(email__iexact=token.new_email).exclude(pk=user.pk).exists():
        return None
    old_email = user.email
    user.email = token.new_email
    user.save(update_fields=["email"])
    send_templated_email(old_email, "email_changed_notice", {"user": user, "new_email": user.email})
    return user
