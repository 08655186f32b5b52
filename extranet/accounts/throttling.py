"""Login throttling hooks for django-axes."""

from django.conf import settings
from django.shortcuts import render

from extranet.accounts.forms import LoginForm

LOCKED_MESSAGE = (
    "Trop de tentatives de connexion ont échoué. Par sécurité, la connexion est bloquée pendant 15 minutes ; "
    "réessayez plus tard ou utilisez « Mot de passe oublié ? »."
)


def attempted_email(request, credentials):
    """The account an attempt aims at, as the login form would find it: case and spaces do not make a new one."""
    value = (credentials or {}).get("username")
    if value is None and request is not None:
        value = getattr(request, "POST", {}).get("username")
    return (value or "").strip().lower() or None


def client_ip(request):
    forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
    count = settings.TRUSTED_PROXY_COUNT
    if count:
        hops = [hop.strip() for hop in forwarded.split(",") if hop.strip()]
        # Each trusted proxy appends the address it saw: the client is `count` entries from the end.
        if len(hops) >= count:
            return hops[-count]
    return request.META.get("REMOTE_ADDR")


def lockout_response(request, original_response=None, credentials=None):
    """The login page again, with the same message whether or not the email belongs to an account."""
    email = attempted_email(request, credentials) or ""
    form = LoginForm(request, initial={"username": email})
    return render(
        request,
        "accounts/login.html",
        {"form": form, "locked_out": LOCKED_MESSAGE, "next": request.POST.get("next", "")},
        status=429,
    )
