from dataclasses import dataclass, field

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
