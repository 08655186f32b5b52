import time
from dataclasses import dataclass, field

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.contrib.auth.views import redirect_to_login
from django.utils.cache import patch_cache_control
from django.utils.functional import SimpleLazyObject

from extranet.roles import caisse_membership, partner_membership
from structures.models import Caisse, Convention

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
        choices = list(
            Caisse.objects.filter(
                conventions__structure_id=partner.structure_id, conventions__status=Convention.Status.ACTIVE
            ).order_by("code")
        )
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


STARTED_AT = "_session_started_at"
LAST_SEEN_AT = "_session_last_seen_at"
# Writing the session on every request would be costly; a minute of imprecision on the idle timeout is not.
LAST_SEEN_RESOLUTION_SECONDS = 60


def stamp_new_session(sender, request, user, **kwargs):
    """At sign-in: both clocks start, so that the first pages do not have to write the session."""
    now = int(time.time())
    request.session[STARTED_AT] = now
    request.session[LAST_SEEN_AT] = now


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
