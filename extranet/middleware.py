from dataclasses import dataclass, field

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
