"""Pages of the second factor: code after the password, enrolment, backup codes."""

import base64
from urllib.parse import urlencode

import segno
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.html import format_html
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_http_methods, require_POST
from django_otp import login as otp_login
from django_otp.plugins.otp_static.models import StaticDevice

from extranet.accounts import second_factor
from extranet.accounts.forms import EnrolmentCodeForm, SecondFactorCodeForm
from structures.policy import may_receive_codes_by_email

NEW_BACKUP_CODES = "_new_backup_codes"


def _next_url(request):
    candidate = request.POST.get("next") or request.GET.get("next") or ""
    safe = url_has_allowed_host_and_scheme(
        candidate, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    )
    if safe:
        return candidate
    return reverse("home")


def _with_next(viewname, next_url):
    return f"{reverse(viewname)}?{urlencode({'next': next_url})}"


def _sign_in_with(request, device):
    otp_login(request, device)
    # The session gains access to personal data: a new key, so that a key seen before this point is worthless.
    request.session.cycle_key()


def _may_enrol(user):
    """Setting up a device needs the current one, if there is one: a password alone must not replace it."""
    return user.is_verified() or not second_factor.has_second_factor(user)


WRONG_CODE = "Code incorrect ou expiré. Vérifiez-le et réessayez."


@login_required
@require_http_methods(["GET", "POST"])
def verify(request):
    next_url = _next_url(request)
    if request.user.is_verified():
        return redirect(next_url)
    device = second_factor.primary_device(request.user)
    if device is None:
        return redirect(_with_next("accounts:second_factor_setup", next_url))
    by_email = second_factor.method_of(device) == second_factor.EMAIL
    form = SecondFactorCodeForm(request.POST or None, by_email=by_email)
    sent_now = False
    if request.method == "POST" and form.is_valid():
        try:
            accepted = second_factor.verify(request.user, form.cleaned_data["code"])
        except second_factor.TooManyTries as refusal:
            form.add_error("code", str(refusal))
        else:
            if accepted is None:
                form.add_error("code", WRONG_CODE)
            else:
                return _signed_in(request, accepted, next_url)
    elif request.method == "GET" and by_email and not second_factor.email_code_pending(device):
        sent_now = second_factor.send_email_code(device)
    return render(
        request,
        "accounts/second_factor/verify.html",
        {"form": form, "by_email": by_email, "next": next_url, **_email_code_status(device, by_email, sent_now)},
    )


def _email_code_status(device, by_email, sent_now):
    """What the page says of the emailed code, truthfully: sent by this very page, sent earlier and valid until
    when, or none valid any more (expired, or already used on another page)."""
    if not by_email:
        return {}
    pending = second_factor.email_code_pending(device)
    return {"code_sent_now": sent_now, "code_valid_until": device.valid_until if pending else None}


def _signed_in(request, device, next_url):
    _sign_in_with(request, device)
    if second_factor.remaining_backup_codes(request.user) == 0:
        # Without them, a lost telephone or mailbox locks the account until someone resets it: asked at each
        # sign-in until done.
        messages.warning(
            request,
            format_html(
                "Vous n'avez aucun code de secours : si vous perdez votre téléphone ou l'accès à votre messagerie, "
                'vous ne pourrez plus vous connecter. <a href="{}">Générez vos codes de secours</a> depuis '
                "« Mon compte ».",
                f"{reverse('accounts:account')}#double-authentification-titre",
            ),
        )
    elif isinstance(device, StaticDevice):
        messages.warning(
            request,
            f"Vous avez utilisé un code de secours ; il vous en reste "
            f"{second_factor.remaining_backup_codes(request.user)}. "
            "Vous pouvez en générer de nouveaux depuis « Mon compte ».",
        )
    return redirect(next_url)


@login_required
@require_POST
def send_code(request):
    """Another email code, for a sign-in or for the enrolment of the email method."""
    next_url = _next_url(request)
    enrolling = request.POST.get("enrolment") == "1"
    if enrolling:
        if not _may_enrol(request.user) or not may_receive_codes_by_email(request.user):
            raise Http404
        device = second_factor.pending_enrolment(request.user, second_factor.EMAIL)
        target = "accounts:second_factor_setup_email"
    else:
        device = second_factor.primary_device(request.user)
        if device is None or second_factor.method_of(device) != second_factor.EMAIL:
            raise Http404
        target = "accounts:second_factor"
    if second_factor.send_email_code(device, on_request=True):
        messages.success(request, f"Un nouveau code a été envoyé à {request.user.email}.")
    else:
        messages.warning(request, "Un code vient d'être envoyé : attendez une minute avant d'en demander un autre.")
    return redirect(_with_next(target, next_url))


@login_required
def setup(request):
    next_url = _next_url(request)
    if not _may_enrol(request.user):
        return redirect(_with_next("accounts:second_factor", next_url))
    if not may_receive_codes_by_email(request.user):
        return redirect(_with_next("accounts:second_factor_setup_totp", next_url))
    return render(
        request,
        "accounts/second_factor/setup.html",
        {"next": next_url, "current": second_factor.primary_device(request.user)},
    )


def _finish_enrolment(request, device, form, next_url):
    try:
        outcome = second_factor.confirm_enrolment(request.user, device, form.cleaned_data["code"])
    except second_factor.TooManyTries as refusal:
        form.add_error("code", str(refusal))
        return None
    if outcome is None:
        form.add_error("code", WRONG_CODE)
        return None
    confirmed, codes = outcome
    _sign_in_with(request, confirmed)
    request.session[NEW_BACKUP_CODES] = codes
    return redirect(_with_next("accounts:second_factor_backup_codes", next_url))


@login_required
@require_http_methods(["GET", "POST"])
def setup_totp(request):
    next_url = _next_url(request)
    if not _may_enrol(request.user):
        return redirect(_with_next("accounts:second_factor", next_url))
    device = second_factor.pending_enrolment(request.user, second_factor.TOTP)
    form = EnrolmentCodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        done = _finish_enrolment(request, device, form, next_url)
        if done is not None:
            return done
    key = base64.b32encode(device.bin_key).decode()
    qr_code = segno.make(device.config_url, error="m").svg_inline(
        scale=5, border=3, light="#fff", title="QR code à scanner avec votre application d'authentification"
    )
    return render(
        request,
        "accounts/second_factor/setup_totp.html",
        {
            "form": form,
            "next": next_url,
            "qr_code": qr_code,
            "key_groups": [key[index : index + 4] for index in range(0, len(key), 4)],
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def setup_email(request):
    next_url = _next_url(request)
    if not _may_enrol(request.user):
        return redirect(_with_next("accounts:second_factor", next_url))
    if not may_receive_codes_by_email(request.user):
        raise Http404
    device = second_factor.pending_enrolment(request.user, second_factor.EMAIL)
    form = EnrolmentCodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        done = _finish_enrolment(request, device, form, next_url)
        if done is not None:
            return done
    sent_now = False
    if request.method == "GET" and not second_factor.email_code_pending(device):
        sent_now = second_factor.send_email_code(device)
    return render(
        request,
        "accounts/second_factor/setup_email.html",
        {"form": form, "next": next_url, **_email_code_status(device, True, sent_now)},
    )


@login_required
def backup_codes(request):
    codes = request.session.pop(NEW_BACKUP_CODES, None)
    if not codes:
        return redirect("accounts:account")
    return render(request, "accounts/second_factor/backup_codes.html", {"codes": codes, "next": _next_url(request)})


@login_required
@require_POST
def regenerate_backup_codes(request):
    request.session[NEW_BACKUP_CODES] = second_factor.regenerate_backup_codes(request.user)
    return redirect(_with_next("accounts:second_factor_backup_codes", reverse("accounts:account")))
