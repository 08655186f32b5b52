import time
from dataclasses import dataclass, field

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.contrib.auth.views import redirect_to_login
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.cache import patch_cache_control
from django.utils.functional import SimpleLazyObject
from django.utils.http import urlencode

from extranet.accounts.second_factor import has_second_factor
from extranet.accounts.session_store import LAST_SEEN_AT, STARTED_AT
from structures.conventions import active_caisses
from structures.models import Caisse
from structures.policy import caisse_membership, partner_membership

SESSION_KEY = "current_caisse_id"


@dataclass
class CaisseContext:
    """The caisse the user works with now, and, for partners, the caisses they may switch to."""

    current: Caisse | None = None
    choices: list = field(default_factory=list)

    @classmethod
    def for_request(cls, request):
        staff = caisse_membership(request.user)
        if staff:
            return cls(current=staff.caisse)
        partner = partner_membership(request.user)
        if partner is None:
            return cls()
        choices = active_caisses(partner.structure_id)
        chosen_id = request.session.get(SESSION_KEY)
        current = next((caisse for caisse in choices if caisse.pk == chosen_id), choices[0] if choices else None)
        return cls(current=current, choices=choices)


class CurrentCaisseMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        request.caisse_context = SimpleLazyObject(lambda: CaisseContext.for_request(request))
        return self.get_response(request)


class NoStoreMiddleware:
    """No cache (browser or proxy) keeps a page of a signed-in user: every such page may carry personal data.

    The account pages (login, activation, password reset, email change) get the same treatment: their links
    carry one-time secrets and their forms passwords.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        user = getattr(request, "user", None)
        match = getattr(request, "resolver_match", None)
        if (user is not None and user.is_authenticated) or (match is not None and match.namespace == "accounts"):
            patch_cache_control(response, no_store=True)
            response["Pragma"] = "no-cache"
        return response


# Writing the session on every request would be costly; a minute of imprecision on the idle timeout is not.
LAST_SEEN_RESOLUTION_SECONDS = 60


class SessionTimeoutMiddleware:
    """Ends a signed-in session after SESSION_IDLE_TIMEOUT without a request, or SESSION_ABSOLUTE_TIMEOUT after
    sign-in, whatever the activity (the cookie's own age cannot tell idleness from activity)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            now = int(time.time())
            started = request.session.setdefault(STARTED_AT, now)
            last_seen = request.session.get(LAST_SEEN_AT, now)
            if now - last_seen > settings.SESSION_IDLE_TIMEOUT or now - started > settings.SESSION_ABSOLUTE_TIMEOUT:
                logout(request)
                messages.info(request, "Votre session a expiré : reconnectez-vous pour continuer.")
                return redirect_to_login(request.get_full_path())
            if now - last_seen >= LAST_SEEN_RESOLUTION_SECONDS or LAST_SEEN_AT not in request.session:
                request.session[LAST_SEEN_AT] = now
        return self.get_response(request)


class SecondFactorMiddleware:
    """A signed-in account reaches nothing but these pages until its second factor passes (or is set up)."""

    OPEN_VIEWS = {
        "accounts:logout",
        "accounts:login",
        "accounts:second_factor",
        "accounts:second_factor_send_code",
        "accounts:second_factor_setup",
        "accounts:second_factor_setup_totp",
        "accounts:second_factor_setup_email",
        "accounts:second_factor_backup_codes",
        # Links received by email work for anyone holding them, signed in or not.
        "accounts:activate",
        "accounts:password_reset",
        "accounts:password_reset_confirm",
        "accounts:email_change_confirm",
        "legal_notice",
        "personal_data",
        "accessibility",
        "help",
        "help_guide",
    }

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_view(self, request, view_func, view_args, view_kwargs):
        user = getattr(request, "user", None)
        if user is None or not user.is_authenticated or user.is_verified():
            return None
        if request.resolver_match.view_name in self.OPEN_VIEWS:
            return None
        if request.resolver_match.namespace == "api":
            return None  # the API answers 403 in JSON itself (extranet.api.permissions)
        target = "accounts:second_factor" if has_second_factor(user) else "accounts:second_factor_setup"
        return redirect(f"{reverse(target)}?{urlencode({'next': request.get_full_path()})}")
