import time

from django.contrib import messages
from django.contrib.auth import update_session_auth_hash
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.core.exceptions import NON_FIELD_ERRORS
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods, require_POST

from extranet.accounts import second_factor, services, throttling
from extranet.accounts.forms import (
    ApiTokenForm,
    EmailChangeForm,
    LoginForm,
    NotificationPreferencesForm,
    PasswordChangeForm,
    PasswordResetRequestForm,
    SetPasswordForm,
)
from extranet.accounts.models import AccountToken, ApiToken
from extranet.accounts.session_store import LAST_SEEN_AT
from structures.policy import may_create_api_tokens


class LoginView(auth_views.LoginView):
    form_class = LoginForm
    template_name = "accounts/login.html"
    redirect_authenticated_user = True

    def form_invalid(self, form):
        # Locked before the check (LoginThrottleBackend), or by this failure: the same page whatever the password,
        # and whether or not the email belongs to an account.
        lock = getattr(self.request, "login_lock", None)
        email = form.data.get("username", "")
        if lock is None and form.has_error(NON_FIELD_ERRORS, "invalid_login"):
            lock = throttling.current_lock(email=email, address=throttling.client_ip(self.request))
        if lock is None:
            return super().form_invalid(form)
        form = LoginForm(self.request, initial={"username": throttling.attempted_email(email)})
        context = self.get_context_data(form=form, locked_out=lock.message)
        return self.render_to_response(context, status=429)


class LogoutView(auth_views.LogoutView):
    pass


def _set_password_with_link(request, secret, purpose, *, template, success_message):
    token = services.find_usable_token(secret, purpose)
    if token is None:
        return render(request, "accounts/link_invalid.html", {"purpose": purpose}, status=410)
    form = SetPasswordForm(token.user, request.POST or None)
    if request.method == "POST" and form.is_valid():
        if services.set_password_with_token(secret, purpose, form.cleaned_data["new_password1"]) is None:
            return render(request, "accounts/link_invalid.html", {"purpose": purpose}, status=410)
        messages.success(request, success_message)
        return redirect("accounts:login")
    return render(request, template, {"form": form, "account": token.user})


@require_http_methods(["GET", "POST"])
def activate(request, secret):
    return _set_password_with_link(
        request,
        secret,
        AccountToken.Purpose.ACTIVATION,
        template="accounts/activate.html",
        success_message="Votre compte est activé. Connectez-vous avec votre adresse électronique et "
        "votre mot de passe.",
    )


@require_http_methods(["GET", "POST"])
def password_reset_confirm(request, secret):
    return _set_password_with_link(
        request,
        secret,
        AccountToken.Purpose.PASSWORD_RESET,
        template="accounts/password_reset_confirm.html",
        success_message="Votre mot de passe est modifié. Connectez-vous avec le nouveau mot de passe.",
    )


@require_http_methods(["GET", "POST"])
def password_reset(request):
    form = PasswordResetRequestForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        services.request_password_reset(form.cleaned_data["email"])
        return render(request, "accounts/password_reset_sent.html", {"email": form.cleaned_data["email"]})
    return render(request, "accounts/password_reset.html", {"form": form})


@login_required
@require_http_methods(["GET", "POST"])
def account(request):
    form = NotificationPreferencesForm(request.POST if request.method == "POST" else None, instance=request.user)
    if request.method == "POST" and form.is_valid():
        form.save()
        messages.success(request, "Vos préférences de courriel sont enregistrées.")
        return redirect("accounts:account")
    return render_account_page(request, preferences_form=form)


def render_account_page(request, *, preferences_form=None, api_token_form=None):
    """« Mon compte », with the forms as submitted when one of them comes back with errors."""
    return render(
        request,
        "accounts/account.html",
        {
            "preferences_form": preferences_form or NotificationPreferencesForm(instance=request.user),
            "second_factor_device": second_factor.primary_device(request.user),
            "backup_codes_remaining": second_factor.remaining_backup_codes(request.user),
            "api_tokens": ApiToken.objects.active().filter(user=request.user),
            "may_create_api_tokens": may_create_api_tokens(request.user),
            "api_token_form": api_token_form or ApiTokenForm(user=request.user),
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def password_change(request):
    form = PasswordChangeForm(request.user, request.POST or None)
    if request.method == "POST" and form.is_valid():
        services.change_password(
            request.user, form.cleaned_data["new_password1"], current_session_key=request.session.session_key
        )
        update_session_auth_hash(request, request.user)
        messages.success(request, "Votre mot de passe est modifié. Vos autres sessions ont été fermées.")
        return redirect("accounts:account")
    return render(request, "accounts/password_change.html", {"form": form})


@login_required
@require_http_methods(["GET", "POST"])
def email_change(request):
    form = EmailChangeForm(request.POST or None, user=request.user)
    if request.method == "POST" and form.is_valid():
        services.request_email_change(request.user, form.cleaned_data["new_email"])
        messages.success(
            request,
            f"Un lien de confirmation a été envoyé à {form.cleaned_data['new_email']}. "
            "Votre adresse changera quand vous l'ouvrirez.",
        )
        return redirect("accounts:account")
    return render(request, "accounts/email_change.html", {"form": form})


def email_change_confirm(request, secret):
    # A GET only shows a button: mail scanners that follow links must not apply the change.
    if request.method == "POST":
        user = services.confirm_email_change(secret)
        if user is None:
            return render(
                request, "accounts/link_invalid.html", {"purpose": AccountToken.Purpose.EMAIL_CHANGE}, status=410
            )
        messages.success(request, f"Votre adresse électronique est désormais {user.email}.")
        return redirect("accounts:account" if request.user.is_authenticated else "accounts:login")
    token = services.find_usable_token(secret, AccountToken.Purpose.EMAIL_CHANGE)
    if token is None:
        return render(
            request, "accounts/link_invalid.html", {"purpose": AccountToken.Purpose.EMAIL_CHANGE}, status=410
        )
    return render(request, "accounts/email_change_confirm.html", {"new_email": token.new_email})


@login_required
@require_POST
def session_keepalive(request):
    """« Rester connecté » (static/js/session.js): the idle clock starts again now. Written whatever its age, where
    other requests write it once a minute at most (extranet/middleware.py): the page counts from this very moment.
    The absolute timeout stays where it was. Past either, the middleware has already signed the user out."""
    request.session[LAST_SEEN_AT] = int(time.time())
    return HttpResponse(status=204)
