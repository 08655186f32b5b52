from django.contrib.auth.decorators import login_required
from django.http import Http404, JsonResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.views import defaults
from django.views.decorators.http import require_POST

from extranet.api import errors as api_errors
from extranet.api.authentication import CSRF_REFUSED
from extranet.middleware import SESSION_KEY
from extranet.pages.background.views import background_needs_attention
from requests import drafts, news
from requests.catalog import KINDS
from requests.models import Request
from requests.rows import request_rows
from structures import conventions
from structures.guards import no_convention
from structures.models import Convention, Membership
from structures.policy import caisse_membership, can_administer_caisse, can_manage_technicians, partner_membership


@login_required
def home(request):
    partner = partner_membership(request.user)
    if partner:
        caisse = request.caisse_context.current
        if caisse is None:
            return no_convention(request, partner.structure)
        latest = news.with_news(
            Request.objects.visible_to(request.user).filter(caisse=caisse).select_related("author"), request.user
        ).order_by("-created_at", "-pk")[:5]
        return render(
            request,
            "home/partner.html",
            {
                "membership": partner,
                "offers": KINDS.values(),
                "latest": latest,
                "latest_rows": request_rows(latest, followed=None, next_url=request.path, csrf_token=""),
                "counts": news.partner_counts(request.user, caisse),
                "count_cap": news.COUNT_CAP,
                "can_manage_technicians": can_manage_technicians(request.user, partner.structure),
                "drafts": drafts.home_list(request.user),
            },
        )
    staff = caisse_membership(request.user)
    if staff:
        administers = can_administer_caisse(request.user, staff.caisse)
        context = {
            "membership": staff,
            "can_administer_caisse": administers,
            "counts": news.caisse_counts(request.user, staff.caisse, timezone.localdate()),
            "count_cap": news.COUNT_CAP,
        }
        if administers:
            caisse = staff.caisse
            context |= {
                "active_convention_count": caisse.conventions.filter(status=Convention.Status.ACTIVE).count(),
                "agent_count": caisse.memberships.filter(is_active=True).count(),
                "gestionnaire_count": Membership.objects.filter(
                    structure__conventions__caisse=caisse, role=Membership.Role.GESTIONNAIRE, is_active=True
                ).count(),
                "background_needs_attention": background_needs_attention(caisse),
            }
        return render(request, "home/caisse.html", context)
    # Technical staff (Django admin) have no role in the service.
    return render(request, "home/no_role.html")


@login_required
@require_POST
def switch_caisse(request):
    partner = partner_membership(request.user)
    if partner is None:
        raise Http404
    # Asked afresh, not from the remembered list of the header (structures/conventions.py).
    choices = {str(caisse.pk): caisse for caisse in conventions.active_caisses(partner.structure_id, fresh=True)}
    caisse = choices.get(request.POST.get("caisse", ""))
    if caisse is None:
        raise Http404
    request.session[SESSION_KEY] = caisse.pk
    next_url = request.POST.get("next", "")
    if not url_has_allowed_host_and_scheme(next_url, allowed_hosts={request.get_host()}):
        next_url = "home"
    return redirect(next_url)


def legal_page(request, page):
    return render(request, f"pages/{page}.html")


def bad_request(request, exception):
    """A request Django refuses (a Host outside ALLOWED_HOSTS, a suspicious operation): French, in our layout,
    JSON under /api/. Django's own page is in English."""
    if request.path.startswith("/api/"):
        return JsonResponse(api_errors.body("bad_request", "Requête invalide."), status=400)
    return render(request, "400.html", status=400)


def csrf_failure(request, reason=""):
    """CSRF_FAILURE_VIEW: a form sent without its token, mostly a page left open too long or cookies refused.
    Django's page is in English and speaks to developers."""
    if request.path.startswith("/api/"):
        return JsonResponse(api_errors.body("csrf_failed", CSRF_REFUSED), status=403)
    return render(request, "403_csrf.html", status=403)


def not_found(request, exception):
    """Page introuvable; under /api/, the API's JSON answer (a client of the API reads no HTML)."""
    if request.path.startswith("/api/"):
        return JsonResponse(api_errors.body("not_found", api_errors.NOT_FOUND), status=404)
    return defaults.page_not_found(request, exception)


SERVER_ERROR = (
    "Le service n'a pas pu traiter la requête. Elle a pu être enregistrée malgré tout : vérifiez avant de la "
    "refaire (un dépôt renvoyé avec le même en-tête Idempotency-Key ne crée pas de seconde demande)."
)


def server_error(request):
    """Erreur du serveur; under /api/, JSON as every other answer of the API (the page would be HTML)."""
    if request.path.startswith("/api/"):
        return JsonResponse(api_errors.body("server_error", SERVER_ERROR), status=500)
    return defaults.server_error(request)


GUIDES = {
    "technicien": "Technicien",
    "gestionnaire": "Gestionnaire",
    "agent": "Agent de la caisse",
    "administrateur": "Administrateur caisse",
}


def help_index(request):
    return render(request, "help/index.html", {"guides": GUIDES})


def help_guide(request, role):
    if role not in GUIDES:
        raise Http404
    return render(request, f"help/{role}.html", {"guides": GUIDES, "role": role, "role_label": GUIDES[role]})
