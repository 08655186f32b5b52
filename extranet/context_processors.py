import time

from django.conf import settings
from django.urls import reverse

from extranet.accounts.session_store import LAST_SEEN_AT, STARTED_AT
from structures.policy import caisse_membership, can_administer_caisse, can_manage_technicians, partner_membership


def navigation(request):
    """Header and navigation for the logged-in user's role."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    # A page an API token reads (/api/docs/) has a user without django-otp's flag: the token's own rule applied.
    is_verified = getattr(user, "is_verified", None)
    if is_verified is not None and not is_verified():
        # Every page but the second factor's sends the session back to it (SecondFactorMiddleware): a menu would
        # only loop there. The header shows the brand and the way out.
        return {"second_factor_pending": True}
    items = [("Accueil", reverse("home"))]
    partner = partner_membership(user)
    staff = caisse_membership(user)
    if staff:
        items.append(("File des demandes", reverse("requests:queue")))
    if partner:
        items.append(("Historique des demandes", reverse("requests:history")))
    if partner or staff:
        items.append(("Rechercher une personne", reverse("requests:search")))
    if partner and can_manage_technicians(user, partner.structure):
        items.append(("Tableau de bord", reverse("requests:structure_dashboard")))
        items.append(("Techniciens", reverse("structures:technicien_list")))
    if staff:
        items.append(("Tableau de bord", reverse("requests:dashboard")))
    if staff and can_administer_caisse(user, staff.caisse):
        items += [
            ("Structures", reverse("structures:structure_list")),
            ("Agents", reverse("structures:agent_list")),
            ("Modèles de réponse", reverse("requests:answer_templates")),
        ]
    items.append(("Mon compte", reverse("accounts:account")))
    return {
        "session_timer": _session_timer(request),
        "nav_items": items,
        "role_label": (partner or staff).get_role_display() if (partner or staff) else "",
        "caisse_context": request.caisse_context,
    }


def _session_timer(request):
    """What the page's warning before the idle timeout counts with (static/js/session.js, read from <body>): the
    seconds left now, as SessionTimeoutMiddleware will count them (its last-seen moment is up to a minute old), and
    the settings. Signing in again is the way past the absolute timeout: staying signed in does not push it back."""
    now = int(time.time())
    session = request.session
    ends_in = settings.SESSION_ABSOLUTE_TIMEOUT - (now - session.get(STARTED_AT, now))
    idle_ends_in = settings.SESSION_IDLE_TIMEOUT - (now - session.get(LAST_SEEN_AT, now))
    return {
        "expires_in": max(0, min(idle_ends_in, ends_in)),
        "ends_in": max(0, ends_in),
        "idle_timeout": settings.SESSION_IDLE_TIMEOUT,
        "warning": settings.SESSION_IDLE_WARNING,
        "draft_save": settings.SESSION_IDLE_DRAFT_SAVE,
    }
