"""Permission matrix: every URL of the site, for every role, against objects of S1/C1 and of S2/C2.

Roles: anonymous; technicien and gestionnaire of structure S1; technicien of S2; agent and administrateur of caisse
C1; agent of C2. S1 has a convention with C1, S2 with C2. Each side has a request (with an attachment and a MAS
referral), techniciens, gestionnaires and agents to act on (active and invited, or deactivated).

Outcomes: "ok" (2xx, or a redirect that is not to the login page), "login" (redirect to the login page with
`next`), "forbidden" (403: the page is not for this role, whatever the object), "missing" (404: the object does not
exist for this user — someone else's object is indistinguishable from a non-existent one), "gone" (410: a bogus
single-use link).

Besides the status, every attempt that is not expected to succeed must leave the database as it was, and no
successful response may carry anything of the other side (request number, person's name, structure, caisse,
file name or content, emails of its accounts).

A URL added to the URLconf without an entry here fails `test_every_url_has_an_entry`.
"""

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from urllib.parse import parse_qs, urlparse

import pytest
from django.contrib.auth import get_user_model
from django.core import mail
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test import override_settings
from django.test.utils import CaptureQueriesContext
from django.urls import URLResolver, get_resolver, reverse
from guardian.models import UserObjectPermission

from extranet.accounts.models import AccountToken, ApiToken
from extranet.audit.models import AccessLog
from extranet.notifications import webhooks
from extranet.notifications.models import OutgoingEmail, WebhookDelivery, WebhookEndpoint
from requests.models import (
    AnswerTemplate,
    Attachment,
    Draft,
    ExportLog,
    Follow,
    MasReferral,
    Message,
    Request,
    RequestUserObjectPermission,
    StatusChange,
)
from structures.models import Caisse, CaisseMembership, Convention, ConventionChange, Membership, Structure
from tests.factories import (
    CaisseFactory,
    CaisseMembershipFactory,
    ConventionFactory,
    MembershipFactory,
    RequestFactory,
    UserFactory,
)
from tests.helpers import built_once
from tests.requests.builders import pdf_bytes

ANONYMOUS = "anonyme"
ROLES = [ANONYMOUS, "technicien_s1", "gestionnaire_s1", "technicien_s2", "agent_c1", "admin_c1", "agent_c2"]
SIDE_OF_ROLE = {
    "technicien_s1": 0,
    "gestionnaire_s1": 0,
    "technicien_s2": 1,
    "agent_c1": 0,
    "admin_c1": 0,
    "agent_c2": 1,
}
PARTNERS = ("technicien_s1", "gestionnaire_s1", "technicien_s2")
GESTIONNAIRES = ("gestionnaire_s1",)
STAFF = ("agent_c1", "admin_c1", "agent_c2")
ADMINS = ("admin_c1",)

# The Django admin is the technical staff's tool (is_staff accounts only, no service role): its own login guards
# every page. It is left out of the matrix; `test_django_admin_is_for_staff_only` checks the guard.
EXCLUDED_NAMESPACES = {"admin": "Django admin: staff-only technical tool, guarded by is_staff"}


# Expectations


def everyone(outcome):
    return dict.fromkeys(ROLES, outcome)


def logged_in():
    """Any account, for its own data (no object of anyone else in the URL)."""
    return everyone("ok") | {ANONYMOUS: "login"}


def only(allowed, refused="forbidden"):
    """A page without object: these roles get it, the others are refused."""
    return {role: "login" if role == ANONYMOUS else "ok" if role in allowed else refused for role in ROLES}


def scoped(allowed, refused="forbidden"):
    """An object of S1/C1 and one of S2/C2: these roles reach their own side's only; the other side does not exist."""
    expected = {}
    for role in ROLES:
        if role == ANONYMOUS:
            expected[role] = ("login", "login")
        elif role in allowed:
            expected[role] = ("ok", "missing") if SIDE_OF_ROLE[role] == 0 else ("missing", "ok")
        else:
            expected[role] = (refused, refused)
    return expected


@dataclass(frozen=True)
class Entry:
    """How to call a URL and what each role gets. `expect[role]` is an outcome, or a pair (S1/C1 object, S2/C2
    object) when the URL names an object; `args(side)` and `data(side, scene)` build the call for a side."""

    expect: dict
    args: Callable = field(default=lambda side: [])
    methods: tuple = ("GET",)
    data: Callable = field(default=lambda side, scene: {})
    # The same document for everyone, built from the code (the API's schema): its examples name the demo's caisses,
    # which are the scene's too. Not a leak, provided it is the same bytes whoever asks (checked instead).
    same_for_everyone: bool = False
    # An API operation that reads JSON only (its schema offers one body: extranet/api/parsers.py JSON_ONLY).
    json: bool = False

    @property
    def scoped(self):
        return isinstance(next(iter(self.expect.values())), tuple)


def bogus_secret(side):
    return ["jeton-inexistant-0000"]


def request_number(side):
    return [side.request.number]


def by_pk(attribute):
    return lambda side: [getattr(side, attribute).pk]


def someone_elses_api_token(side):
    """An API token of an account that plays no role here (the side's invited technicien): nobody may revoke it."""
    token, _key = ApiToken.objects.issue(side.technicien.user, name="Jeton de la matrice")
    return [token.pk]


SHOWN_TO_BOTH_SIDES = PARTNERS + STAFF  # partners of the structure, staff of the caisse


def api(expected):
    """The API answers an anonymous caller 401 (JSON), where pages redirect to the login page."""
    anonymous = expected[ANONYMOUS]
    return expected | {ANONYMOUS: ("unauthenticated",) * 2 if isinstance(anonymous, tuple) else "unauthenticated"}


def own_side(outcome, allowed, refused="missing"):
    """Like `scoped`, with another outcome than "ok" on one's own side (e.g. a conflict)."""
    return {
        role: pair if role == ANONYMOUS or role not in allowed else tuple(outcome if o == "ok" else o for o in pair)
        for role, pair in scoped(allowed, refused).items()
    }


def own_draft():
    """Each side's draft is its technicien's (the author): everyone else, of either side, finds nothing."""
    authors = {"technicien_s1": ("ok", "missing"), "technicien_s2": ("missing", "ok")}
    return {
        role: ("login", "login") if role == ANONYMOUS else authors.get(role, ("missing", "missing")) for role in ROLES
    }


def an_upload(side, scene):
    return {"files": SimpleUploadedFile("matrice.pdf", pdf_bytes("Matrice"), content_type="application/pdf")}


def a_webhook(side, scene):
    """A new endpoint's form: an address given by its public IP, which registration accepts without DNS."""
    return {"name": "Crochet de la matrice", "url": "https://8.8.8.8/", "events": webhooks.STATUS_CHANGED}


def an_identity_correction(side, scene):
    return {"last_name": "Corrigé", "first_name": "Compte", "phone": "05 56 00 00 00"}


def structure_webhook_only():
    return scoped(GESTIONNAIRES) | {"admin_c1": ("missing", "missing")}


MATRIX = {
    # Site
    "home": Entry(logged_in()),
    "switch_caisse": Entry(
        scoped(PARTNERS, refused="missing"), methods=("POST",), data=lambda side, scene: {"caisse": side.caisse.pk}
    ),
    "legal_notice": Entry(everyone("ok")),
    "personal_data": Entry(everyone("ok")),
    "accessibility": Entry(everyone("ok")),
    "help": Entry(everyone("ok")),
    "help_guide": Entry(everyone("ok"), args=lambda side: ["technicien"]),
    # Accounts: public pages, bogus links, and one's own account
    "accounts:login": Entry(everyone("ok")),
    "accounts:logout": Entry(everyone("ok"), methods=("POST",)),
    # « Rester connecté » before the idle timeout (204): any session's own.
    "accounts:session_keepalive": Entry(logged_in(), methods=("POST",)),
    "accounts:activate": Entry(everyone("gone"), args=bogus_secret, methods=("GET", "POST")),
    "accounts:password_reset": Entry(everyone("ok")),
    "accounts:password_reset_confirm": Entry(everyone("gone"), args=bogus_secret, methods=("GET", "POST")),
    "accounts:account": Entry(logged_in()),
    "accounts:password_change": Entry(logged_in()),
    "accounts:email_change": Entry(logged_in()),
    "accounts:email_change_confirm": Entry(everyone("gone"), args=bogus_secret, methods=("GET", "POST")),
    # Second factor: the matrix's accounts have passed it (an application); its own tests cover the sign-in.
    "accounts:second_factor": Entry(logged_in(), methods=("GET", "POST")),
    "accounts:second_factor_send_code": Entry(
        everyone("missing") | {ANONYMOUS: "login"}, methods=("POST",), data=lambda side, scene: {"enrolment": "0"}
    ),
    "accounts:second_factor_setup": Entry(logged_in()),
    "accounts:second_factor_setup_totp": Entry(logged_in(), methods=("GET", "POST")),
    "accounts:second_factor_setup_email": Entry(
        only(PARTNERS, refused="missing"), methods=("GET", "POST"), data=lambda side, scene: {"code": "000000"}
    ),
    "accounts:second_factor_backup_codes": Entry(logged_in()),
    "accounts:second_factor_regenerate_backup_codes": Entry(logged_in(), methods=("POST",)),
    # API tokens: gestionnaires and caisse staff create theirs (structures.policy.may_create_api_tokens); each
    # account revokes its own only.
    "accounts:api_token_create": Entry(
        only(GESTIONNAIRES + STAFF), methods=("POST",), data=lambda side, scene: {"name": "Jeton de la matrice"}
    ),
    "accounts:api_token_created": Entry(logged_in()),
    "accounts:api_token_revoke": Entry(
        everyone("missing") | {ANONYMOUS: "login"}, args=someone_elses_api_token, methods=("POST",)
    ),
    # Administrateur caisse: structures, conventions, gestionnaires, agents
    "structures:structure_list": Entry(only(ADMINS)),
    "structures:structure_create": Entry(only(ADMINS), methods=("GET", "POST")),
    "structures:structure_add_convention": Entry(only(ADMINS), methods=("GET", "POST")),
    "structures:structure_detail": Entry(scoped(ADMINS), args=by_pk("structure")),
    "structures:structure_edit": Entry(scoped(ADMINS), args=by_pk("structure"), methods=("GET", "POST")),
    # The confirmed suspension: logged and told to the gestionnaires on one's own side, nothing anywhere else.
    "structures:convention_edit": Entry(
        scoped(ADMINS),
        args=by_pk("structure"),
        methods=("GET", "POST"),
        data=lambda side, scene: {"signed_on": "2024-01-15", "status": "suspended", "confirm": "1"},
    ),
    "structures:gestionnaire_create": Entry(scoped(ADMINS), args=by_pk("structure"), methods=("GET", "POST")),
    "structures:gestionnaire_deactivate": Entry(scoped(ADMINS), args=by_pk("gestionnaire"), methods=("POST",)),
    "structures:gestionnaire_reactivate": Entry(
        scoped(ADMINS), args=by_pk("inactive_gestionnaire"), methods=("POST",)
    ),
    "structures:gestionnaire_resend": Entry(scoped(ADMINS), args=by_pk("gestionnaire"), methods=("POST",)),
    "structures:gestionnaire_reset_second_factor": Entry(
        scoped(ADMINS), args=by_pk("gestionnaire"), methods=("POST",)
    ),
    "structures:caisse_calendar": Entry(only(ADMINS), methods=("GET", "POST")),
    "structures:gestionnaire_edit": Entry(
        scoped(ADMINS), args=by_pk("gestionnaire"), methods=("GET", "POST"), data=an_identity_correction
    ),
    "structures:agent_list": Entry(only(ADMINS)),
    "structures:agent_edit": Entry(
        scoped(ADMINS), args=by_pk("agent"), methods=("GET", "POST"), data=an_identity_correction
    ),
    # The caisse's other administrateurs (the scene's own administrateur is not the object: the last one stays).
    "structures:administrateur_list": Entry(only(ADMINS)),
    "structures:administrateur_create": Entry(only(ADMINS), methods=("GET", "POST")),
    "structures:administrateur_edit": Entry(
        scoped(ADMINS), args=by_pk("administrateur"), methods=("GET", "POST"), data=an_identity_correction
    ),
    "structures:administrateur_deactivate": Entry(scoped(ADMINS), args=by_pk("administrateur"), methods=("POST",)),
    "structures:administrateur_reactivate": Entry(
        scoped(ADMINS), args=by_pk("inactive_administrateur"), methods=("POST",)
    ),
    "structures:administrateur_resend": Entry(scoped(ADMINS), args=by_pk("administrateur"), methods=("POST",)),
    "structures:administrateur_reset_second_factor": Entry(
        scoped(ADMINS), args=by_pk("administrateur"), methods=("POST",)
    ),
    "structures:agent_create": Entry(only(ADMINS), methods=("GET", "POST")),
    "structures:agent_deactivate": Entry(scoped(ADMINS), args=by_pk("agent"), methods=("POST",)),
    "structures:agent_reactivate": Entry(scoped(ADMINS), args=by_pk("inactive_agent"), methods=("POST",)),
    "structures:agent_resend": Entry(scoped(ADMINS), args=by_pk("agent"), methods=("POST",)),
    "structures:agent_reset_second_factor": Entry(scoped(ADMINS), args=by_pk("agent"), methods=("POST",)),
    # Gestionnaire: the structure's techniciens
    "structures:technicien_list": Entry(only(GESTIONNAIRES)),
    "structures:technicien_create": Entry(only(GESTIONNAIRES), methods=("GET", "POST")),
    "structures:technicien_edit": Entry(scoped(GESTIONNAIRES), args=by_pk("technicien"), methods=("GET", "POST")),
    "structures:technicien_deactivate": Entry(scoped(GESTIONNAIRES), args=by_pk("technicien"), methods=("POST",)),
    # The deactivation page with the handover of the technicien's open requests (requests/handover.py).
    "requests:technicien_departure": Entry(scoped(GESTIONNAIRES), args=by_pk("technicien"), methods=("GET", "POST")),
    "structures:technicien_reactivate": Entry(
        scoped(GESTIONNAIRES), args=by_pk("inactive_technicien"), methods=("POST",)
    ),
    "structures:technicien_resend": Entry(scoped(GESTIONNAIRES), args=by_pk("technicien"), methods=("POST",)),
    "structures:technicien_reset_second_factor": Entry(
        scoped(GESTIONNAIRES), args=by_pk("technicien"), methods=("POST",)
    ),
    # Administrateur caisse: the caisse's canned messages and answers
    "requests:answer_templates": Entry(only(ADMINS)),
    "requests:answer_template_create": Entry(only(ADMINS), methods=("GET", "POST")),
    "requests:answer_template_edit": Entry(
        scoped(ADMINS),
        args=by_pk("answer_template"),
        methods=("GET", "POST"),
        data=lambda side, scene: {"purpose": "message", "kind": "", "title": "Modèle modifié", "body": "Bonjour."},
    ),
    "requests:answer_template_deactivate": Entry(scoped(ADMINS), args=by_pk("answer_template"), methods=("POST",)),
    "requests:answer_template_reactivate": Entry(
        scoped(ADMINS), args=by_pk("inactive_answer_template"), methods=("POST",)
    ),
    # Administrateur caisse: the access journal of the caisse
    "audit:journal": Entry(only(ADMINS)),
    # Administrateur caisse: the background work (queue, nightly jobs, emails refused or maybe sent)
    "background:tasks": Entry(only(ADMINS)),
    # Requests: lists, forms, dashboards
    "requests:history": Entry(only(PARTNERS)),
    "requests:queue": Entry(only(STAFF)),
    "requests:queue_export": Entry(only(STAFF)),
    "requests:mas_create": Entry(only(PARTNERS), methods=("GET", "POST")),
    "requests:create": Entry(only(PARTNERS), args=lambda side: ["contacter"], methods=("GET", "POST")),
    # A draft is its author's only (requests/policy.py draft_scope): not even the structure's gestionnaire sees it.
    "requests:draft_delete": Entry(own_draft(), args=by_pk("draft"), methods=("GET", "POST")),
    "requests:dashboard": Entry(only(STAFF)),
    "requests:structure_dashboard": Entry(only(GESTIONNAIRES)),
    # Both sides' persons are named "Canari…": each role finds its own side's only (the leak check below).
    "requests:search": Entry(
        only(SHOWN_TO_BOTH_SIDES), methods=("GET", "POST"), data=lambda side, scene: {"last_name": "Canari"}
    ),
    # Requests: one request
    "requests:detail": Entry(scoped(SHOWN_TO_BOTH_SIDES), args=request_number),
    "requests:confirmation": Entry(scoped(SHOWN_TO_BOTH_SIDES), args=request_number),
    "requests:summary_pdf": Entry(scoped(SHOWN_TO_BOTH_SIDES), args=request_number),
    "requests:mas_sheet": Entry(scoped(SHOWN_TO_BOTH_SIDES), args=request_number),
    "requests:attachment": Entry(
        scoped(SHOWN_TO_BOTH_SIDES), args=lambda side: [side.request.number, side.attachment.public_id]
    ),
    "requests:follow": Entry(scoped(SHOWN_TO_BOTH_SIDES), args=request_number, methods=("POST",)),
    "requests:post_message": Entry(
        scoped(SHOWN_TO_BOTH_SIDES),
        args=request_number,
        methods=("POST",),
        data=lambda side, scene: {"body": "Message de la matrice des droits.", "action": "send"},
    ),
    # Caisse actions: partners get a 404 even on their own structure's request.
    "requests:take_charge": Entry(scoped(STAFF, refused="missing"), args=request_number, methods=("POST",)),
    # The request is new: its caisse's staff are sent back to it, told why; nobody else finds it.
    "requests:resolve": Entry(
        scoped(STAFF, refused="missing"),
        args=request_number,
        methods=("GET", "POST"),
        data=lambda side, scene: {"answer": "Réponse de la matrice des droits.", "confirm": "1"},
    ),
    "requests:reassign": Entry(
        scoped(STAFF, refused="missing"),
        args=request_number,
        methods=("POST",),
        data=lambda side, scene: {"agent": side.staff_user.pk},
    ),
    "requests:hand_back": Entry(scoped(STAFF, refused="missing"), args=request_number, methods=("POST",)),
    "requests:dispatch": Entry(
        scoped(STAFF, refused="missing"),
        args=request_number,
        methods=("POST",),
        data=lambda side, scene: {"agent": side.staff_user.pk},
    ),
    "requests:mas_letter_sent": Entry(scoped(STAFF, refused="missing"), args=request_number, methods=("POST",)),
    # REST API (the session of the matrix's accounts; tokens are tested in tests/extranet/api/)
    "api:me": Entry(api(logged_in())),
    # The catalogue of requests: no personal data, any account.
    "api:kinds": Entry(api(logged_in())),
    "api:request-list": Entry(api(only(SHOWN_TO_BOTH_SIDES))),
    "api:request-detail": Entry(api(scoped(SHOWN_TO_BOTH_SIDES)), args=request_number),
    "api:request-take-charge": Entry(api(scoped(STAFF, refused="missing")), args=request_number, methods=("POST",)),
    # The request is new: resolving it is a conflict for its caisse, and it does not exist for anyone else.
    "api:request-resolve": Entry(
        api(own_side("conflict", STAFF)),
        args=request_number,
        methods=("POST",),
        data=lambda side, scene: {"answer": "Réponse de la matrice des droits."},
    ),
    "api:request-summary-pdf": Entry(api(scoped(SHOWN_TO_BOTH_SIDES)), args=request_number),
    "api:request-mas-sheet": Entry(api(scoped(SHOWN_TO_BOTH_SIDES)), args=request_number),
    # Giving a request to an agent is the administrateurs': the caisse's agents are refused, the others do not find it.
    "api:request-assign": Entry(
        api(own_side("forbidden", STAFF) | {"admin_c1": ("ok", "missing")}),
        args=request_number,
        methods=("POST",),
        data=lambda side, scene: {"agent": side.staff_user.pk},
        json=True,
    ),
    # The request is new: handing it back is a conflict for its caisse.
    "api:request-hand-back": Entry(api(own_side("conflict", STAFF)), args=request_number, methods=("POST",)),
    "api:request-follow": Entry(api(scoped(SHOWN_TO_BOTH_SIDES)), args=request_number, methods=("POST", "DELETE")),
    "api:request-mas-letter-sent": Entry(
        api(scoped(STAFF, refused="missing")), args=request_number, methods=("POST",)
    ),
    "api:request-messages": Entry(
        api(scoped(SHOWN_TO_BOTH_SIDES)),
        args=request_number,
        methods=("GET", "POST"),
        data=lambda side, scene: {"body": "Message de la matrice des droits."},
    ),
    "api:request-attachments": Entry(
        api(scoped(SHOWN_TO_BOTH_SIDES)), args=request_number, methods=("GET", "POST"), data=an_upload
    ),
    "api:request-attachment": Entry(
        api(scoped(SHOWN_TO_BOTH_SIDES)), args=lambda side: [side.request.number, side.attachment.public_id]
    ),
    "api:members": Entry(
        api(only(GESTIONNAIRES)),
        methods=("GET", "POST"),
        data=lambda side, scene: {
            "civility": "m",
            "last_name": "Matrice",
            "first_name": "Test",
            "email": "technicien-matrice@exemple.fr",
        },
        json=True,
    ),
    "api:member-deactivate": Entry(api(scoped(GESTIONNAIRES)), args=by_pk("technicien"), methods=("POST",)),
    "api:member-reactivate": Entry(api(scoped(GESTIONNAIRES)), args=by_pk("inactive_technicien"), methods=("POST",)),
    "api:caisse-agents": Entry(api(only(STAFF))),
    # Webhooks: a gestionnaire's for the structure, an administrateur's for the caisse (not the other's side)
    "webhooks:structure_list": Entry(only(GESTIONNAIRES)),
    "webhooks:structure_create": Entry(only(GESTIONNAIRES), methods=("GET", "POST"), data=a_webhook),
    "webhooks:structure_detail": Entry(scoped(GESTIONNAIRES), args=by_pk("structure_webhook")),
    "webhooks:structure_secret": Entry(scoped(GESTIONNAIRES), args=by_pk("structure_webhook")),
    **{
        f"webhooks:structure_{action}": Entry(
            scoped(GESTIONNAIRES), args=by_pk("structure_webhook"), methods=("POST",)
        )
        for action in ("rotate", "test", "deactivate", "reactivate", "delete")
    },
    "webhooks:caisse_list": Entry(only(ADMINS)),
    "webhooks:caisse_create": Entry(only(ADMINS), methods=("GET", "POST"), data=a_webhook),
    "webhooks:caisse_detail": Entry(scoped(ADMINS), args=by_pk("caisse_webhook")),
    "webhooks:caisse_secret": Entry(scoped(ADMINS), args=by_pk("caisse_webhook")),
    **{
        f"webhooks:caisse_{action}": Entry(scoped(ADMINS), args=by_pk("caisse_webhook"), methods=("POST",))
        for action in ("rotate", "test", "deactivate", "reactivate", "delete")
    },
    "api:webhooks": Entry(
        api(only(GESTIONNAIRES + ADMINS)),
        methods=("GET", "POST"),
        data=lambda side, scene: a_webhook(side, scene) | {"events": [webhooks.STATUS_CHANGED]},
        json=True,
    ),
    # A structure's endpoint: not the caisse administrateur's to manage either (a 404, as any endpoint not theirs).
    "api:webhook-detail": Entry(api(structure_webhook_only()), args=by_pk("structure_webhook")),
    **{
        f"api:webhook-{action}": Entry(
            api(structure_webhook_only()), args=by_pk("structure_webhook"), methods=("POST",)
        )
        for action in ("rotate-secret", "test", "deactivate", "reactivate")
    },
    "api:schema": Entry(everyone("ok"), same_for_everyone=True),
    "api:docs": Entry(everyone("ok")),
}


# URLconf


def url_names(patterns=None, prefix=""):
    """Every "namespace:name" of the URLconf; unnamed patterns are returned as such (they cannot have an entry)."""
    for pattern in get_resolver().url_patterns if patterns is None else patterns:
        if isinstance(pattern, URLResolver):
            if pattern.namespace in EXCLUDED_NAMESPACES:
                continue
            namespace = f"{prefix}{pattern.namespace}:" if pattern.namespace else prefix
            yield from url_names(pattern.url_patterns, namespace)
        elif pattern.name:
            yield prefix + pattern.name
        else:
            yield f"<unnamed pattern {prefix}{pattern.pattern}>"


def test_every_url_has_an_entry():
    names = set(url_names())
    missing = sorted(names - MATRIX.keys())
    stale = sorted(MATRIX.keys() - names)
    assert not missing, f"URLs without an entry in the permission matrix: {missing}"
    assert not stale, f"Entries of the permission matrix no longer in the URLconf: {stale}"


def test_every_entry_covers_every_role():
    for name, entry in MATRIX.items():
        assert set(entry.expect) == set(ROLES), name


def test_markers_are_found_where_they_belong(client, scene):
    """The leak check looks for each side's markers: they do show on that side's own pages."""
    own = scene.sides[0]
    client.force_login(scene.users["technicien_s1"])
    page = body(client.get(reverse("requests:detail", args=[own.request.number])))
    for marker in (own.request.number, own.request.person_last_name, own.attachment.original_name):
        assert marker.lower() in page.lower()
    client.force_login(scene.users["agent_c1"])
    export = body(client.get(reverse("requests:queue_export")))
    assert own.request.number in export
    assert scene.sides[1].request.number not in export
    client.force_login(scene.users["admin_c1"])
    assert own.request.number in body(client.get(reverse("audit:journal")))


@pytest.mark.parametrize("role", [ANONYMOUS, "technicien_s1", "admin_c1"])
def test_django_admin_is_for_staff_only(client, scene, role):
    if role != ANONYMOUS:
        client.force_login(scene.users[role])
    for url in (reverse("admin:index"), reverse("admin:accounts_user_changelist")):
        response = client.get(url)
        assert response.status_code == 302, url
        assert urlparse(response["Location"]).path == reverse("admin:login"), url
    login_page = client.get(reverse("admin:login"))
    assert login_page.status_code == 200


# Objects


@dataclass
class Side:
    """The objects of one side: S1/C1 or S2/C2, and what of them must never reach the other side."""

    structure: Structure
    caisse: Caisse
    staff_user: object  # an active agent of the caisse (target of a reassignment)
    request: Request = None
    attachment: Attachment = None
    technicien: Membership = None
    inactive_technicien: Membership = None
    gestionnaire: Membership = None
    inactive_gestionnaire: Membership = None
    agent: CaisseMembership = None
    inactive_agent: CaisseMembership = None
    administrateur: CaisseMembership = None
    inactive_administrateur: CaisseMembership = None
    answer_template: AnswerTemplate = None
    inactive_answer_template: AnswerTemplate = None
    structure_webhook: WebhookEndpoint = None
    caisse_webhook: WebhookEndpoint = None
    draft: Draft = None
    markers: list = field(default_factory=list)


def build_side(label, structure, caisse, author, staff_user):
    side = Side(structure=structure, caisse=caisse, staff_user=staff_user)
    side.request = RequestFactory(
        structure=structure,
        caisse=caisse,
        author=author,
        motif="mas_referral",
        person_last_name=f"Canari{label}Nom",
        person_first_name=f"Canari{label}Prenom",
    )
    content = pdf_bytes(f"CanariFichier{label}")
    side.attachment = Attachment(
        request=side.request,
        original_name=f"piece-canari-{label.lower()}.pdf",
        content_type="application/pdf",
        size=len(content),
        sha256="0" * 64,
        uploaded_by=author,
    )
    side.attachment.file.save("piece.pdf", ContentFile(content), save=False)
    side.attachment.save()
    MasReferral.objects.create(
        request=side.request,
        referral_date=side.request.created_at.date(),
        contexts=["renunciation"],
        detector_name=f"Detecteur{label}",
        detector_email=f"detecteur-{label.lower()}@exemple.fr",
        detector_structure=structure.name,
        consent_mode=MasReferral.ConsentMode.REMOTE,
        consent_collected_by=author,
        consent_collected_at=side.request.created_at,
        notice_version="2026-01",
    )

    # An access by the caisse's agent: the other caisse's journal must not show it.
    AccessLog.objects.create(
        user=staff_user, action="detail", caisse=caisse, request=side.request, target=side.request.number
    )

    def invited(kind):
        return UserFactory(invited=True, email=f"{kind}-cible-{label.lower()}@exemple.fr")

    def deactivated(kind):
        return UserFactory(is_active=False, email=f"{kind}-inactif-{label.lower()}@exemple.fr")

    side.technicien = MembershipFactory(structure=structure, user=invited("technicien"))
    side.inactive_technicien = MembershipFactory(structure=structure, user=deactivated("technicien"), is_active=False)
    side.gestionnaire = MembershipFactory(structure=structure, gestionnaire=True, user=invited("gestionnaire"))
    side.inactive_gestionnaire = MembershipFactory(
        structure=structure, gestionnaire=True, user=deactivated("gestionnaire"), is_active=False
    )
    side.agent = CaisseMembershipFactory(caisse=caisse, user=invited("agent"))
    side.inactive_agent = CaisseMembershipFactory(caisse=caisse, user=deactivated("agent"), is_active=False)
    side.administrateur = CaisseMembershipFactory(caisse=caisse, admin=True, user=invited("administrateur"))
    side.inactive_administrateur = CaisseMembershipFactory(
        caisse=caisse, admin=True, user=deactivated("administrateur"), is_active=False
    )
    side.answer_template = AnswerTemplate.objects.create(
        caisse=caisse, title=f"ModeleCanari{label}", body=f"TexteModeleCanari{label} pour {{numero}}."
    )
    side.inactive_answer_template = AnswerTemplate.objects.create(
        caisse=caisse, title=f"ModeleInactifCanari{label}", body="Ancien texte.", is_active=False
    )
    side.structure_webhook, side.caisse_webhook = (
        webhooks.register(
            owner=owner,
            name=f"Crochet{kind}Canari{label}",
            url=f"https://crochet-{kind.lower()}-{label.lower()}.exemple.fr/",
            events=list(webhooks.EVENTS),
            by=None,
        )[0]
        for kind, owner in (("Structure", {"structure": structure}), ("Caisse", {"caisse": caisse}))
    )
    side.draft = Draft.objects.create(
        author=author,
        structure=structure,
        kind="access_difficulty",
        motif="rights",
        values={"person_last_name": f"Brouillon{label}Canari"},
        person_nir=side.request.person_nir,
    )
    side.markers = [
        side.request.number,
        f"Brouillon{label}Canari",
        *(f"Crochet{kind}Canari{label}" for kind in ("Structure", "Caisse")),
        *(f"crochet-{kind}-{label.lower()}" for kind in ("structure", "caisse")),
        f"ModeleCanari{label}",
        f"TexteModeleCanari{label}",
        f"ModeleInactifCanari{label}",
        side.request.person_last_name,
        side.request.person_first_name,
        structure.name,
        caisse.name,
        side.attachment.original_name,
        f"CanariFichier{label}",
        f"Detecteur{label}",
        *(
            membership.user.email
            for membership in (
                side.technicien,
                side.inactive_technicien,
                side.gestionnaire,
                side.inactive_gestionnaire,
                side.agent,
                side.inactive_agent,
                side.administrateur,
                side.inactive_administrateur,
            )
        ),
    ]
    return side


# The tables a refused attempt must not write to. Every statement the attempt runs is captured (the test client runs
# the view on the test's own connection): an INSERT, UPDATE or DELETE on one of them is a change, even one undone
# before the response or one leaving the same values. Stricter than comparing the rows before and after, and reading
# the 24 tables twice per attempt was 60 % of the module's time.
GUARDED_MODELS = [
    Request,
    StatusChange,
    Message,
    Follow,
    Attachment,
    MasReferral,
    Structure,
    Convention,
    ConventionChange,
    Caisse,
    Membership,
    CaisseMembership,
    get_user_model(),
    AccountToken,
    ApiToken,
    UserObjectPermission,
    RequestUserObjectPermission,
    OutgoingEmail,
    ExportLog,
    AccessLog,
    AnswerTemplate,
    WebhookEndpoint,
    WebhookDelivery,
    Draft,
]


class Scene:
    def __init__(self, structure, other_structure, caisse, other_caisse):
        self.users = {ANONYMOUS: None}
        self.users["technicien_s1"] = MembershipFactory(structure=structure).user
        self.users["gestionnaire_s1"] = MembershipFactory(structure=structure, gestionnaire=True).user
        self.users["technicien_s2"] = MembershipFactory(structure=other_structure).user
        self.users["agent_c1"] = CaisseMembershipFactory(caisse=caisse).user
        self.users["admin_c1"] = CaisseMembershipFactory(caisse=caisse, admin=True).user
        self.users["agent_c2"] = CaisseMembershipFactory(caisse=other_caisse).user
        self.sides = (
            build_side("Alpha", structure, caisse, self.users["technicien_s1"], self.users["agent_c1"]),
            build_side("Beta", other_structure, other_caisse, self.users["technicien_s2"], self.users["agent_c2"]),
        )

    def foreign_markers(self, role):
        if role == ANONYMOUS:
            return self.sides[0].markers + self.sides[1].markers
        return self.sides[1 - SIDE_OF_ROLE[role]].markers


@pytest.fixture(scope="module")
def scene_files(tmp_path_factory):
    return tmp_path_factory.mktemp("matrix-private")


@pytest.fixture(scope="module")
def built_scene(django_db_setup, django_db_blocker, scene_files):
    """The scene, built once for the module's hundreds of tests (a third of the suite's setup time on PostgreSQL
    when each built its own), in a transaction rolled back at the end of the module. Each test runs in a savepoint
    of it (pytest-django's `db`, see `scene`) rolled back after it: every test starts from the very same rows, as
    when it built them itself, whatever an earlier one changed (tests/helpers.py `built_once`)."""

    def build():
        caisse = CaisseFactory(code="331", name="CPAM de la Gironde")
        other_caisse = CaisseFactory(code="421", name="CPAM de la Loire")
        structure = ConventionFactory(caisse=caisse, structure__name="Association Alpha").structure
        other_structure = ConventionFactory(caisse=other_caisse, structure__name="Association Beta").structure
        return Scene(structure, other_structure, caisse, other_caisse)

    with override_settings(PRIVATE_MEDIA_ROOT=scene_files):
        yield from built_once(django_db_blocker, build)


@pytest.fixture
def private_media(settings, scene_files):
    """The scene's attachments stay where it was built (the suite's `private_media` gives each test a new folder)."""
    settings.PRIVATE_MEDIA_ROOT = scene_files
    return scene_files


@pytest.fixture
def scene(built_scene, db):
    return built_scene


# The matrix


def outcome(response):
    status = response.status_code
    if 300 <= status < 400:
        location = urlparse(response["Location"])
        if location.path == reverse("accounts:login") and "next" in parse_qs(location.query):
            return "login"
        return "ok"
    if 200 <= status < 300:
        return "ok"
    return {401: "unauthenticated", 403: "forbidden", 404: "missing", 409: "conflict", 410: "gone"}.get(
        status, f"HTTP {status}"
    )


def body(response):
    content = b"".join(response.streaming_content) if getattr(response, "streaming", False) else response.content
    return content.decode("utf-8", errors="replace")


GUARDED_TABLES = {model._meta.db_table for model in GUARDED_MODELS}
WRITE = re.compile(r'^\s*(?:INSERT\s+INTO|UPDATE|DELETE\s+FROM)\s+"?(\w+)"?', re.IGNORECASE)


def written_tables(queries):
    """The guarded tables the captured statements write to."""
    return sorted(
        {match[1] for query in queries if (match := WRITE.match(query["sql"])) and match[1] in GUARDED_TABLES}
    )


CASES = [(name, role) for name in MATRIX for role in ROLES]


@pytest.mark.parametrize(("name", "role"), CASES, ids=[f"{name}-{role}" for name, role in CASES])
def test_permission_matrix(client, scene, name, role):
    entry = MATRIX[name]
    expected = entry.expect[role]
    if scene.users[role] is not None:
        client.force_login(scene.users[role])
    attempts = list(zip(scene.sides, expected, strict=True)) if entry.scoped else [(scene.sides[0], expected)]
    foreign = scene.foreign_markers(role)
    failures = []
    for index, (side, wanted) in enumerate(attempts):
        url = reverse(name, args=entry.args(side))
        where = ("S1/C1 object" if index == 0 else "S2/C2 object") if entry.scoped else "page"
        for method in entry.methods:
            emails_before = len(mail.outbox)
            with CaptureQueriesContext(connection) as statements:
                if method != "POST":
                    response = client.generic(method, url)
                elif entry.json:
                    response = client.post(url, entry.data(side, scene), content_type="application/json")
                else:
                    response = client.post(url, entry.data(side, scene))
            got = outcome(response)
            label = f"{method} {url} ({where}) as {role}"
            if got != wanted:
                failures.append(f"{label}: expected {wanted}, got {got} (HTTP {response.status_code})")
            if wanted != "ok":
                changed = written_tables(statements.captured_queries)
                if len(mail.outbox) != emails_before:
                    changed.append("outbox")
                if changed:
                    failures.append(f"{label}: refused attempt changed {changed}")
            if got == "ok" and entry.same_for_everyone:
                client.logout()
                if body(client.get(url)) != body(response):
                    failures.append(f"{label}: differs from what an anonymous visitor gets")
                if scene.users[role] is not None:
                    client.force_login(scene.users[role])
            elif got == "ok":
                leaked = [marker for marker in foreign if marker.lower() in body(response).lower()]
                if leaked:
                    failures.append(f"{label}: response reveals the other side: {leaked}")
    assert not failures, "\n".join(failures)
