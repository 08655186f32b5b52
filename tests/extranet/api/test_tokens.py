"""Personal API tokens: created and revoked from « Mon compte » or by the operator's command, stored hashed, and
accepted as `Authorization: Token <key>` by the API."""

import hashlib
import re
from datetime import UTC, datetime, timedelta
from io import StringIO

import pytest
import time_machine
from django.conf import settings
from django.core.management import CommandError, call_command
from django_otp.plugins.otp_totp.models import TOTPDevice
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.test import APIRequestFactory
from rest_framework.views import APIView
from rest_framework.views import exception_handler as drf_exception_handler

from extranet.accounts.models import MAX_ACTIVE_TOKENS, ApiToken, Session
from extranet.api.authentication import ApiTokenAuthentication
from extranet.pages.accounts.api_token_views import NEW_API_KEY
from tests.factories import UserFactory
from tests.helpers import text

pytestmark = pytest.mark.django_db

INVALID = "Jeton invalide ou révoqué."


class Probe(APIView):
    """The smallest API view: only the token scheme, signed-in accounts only."""

    authentication_classes = [ApiTokenAuthentication]
    permission_classes = [IsAuthenticated]
    throttle_classes = []

    def get_exception_handler(self):
        return drf_exception_handler

    def get(self, request):
        membership = request.user.structure_membership
        return Response(
            {
                "email": request.user.email,
                "token": request.auth.pk,
                "structure": membership.structure.name if membership else None,
            }
        )


def call_api(authorization=None):
    headers = {} if authorization is None else {"HTTP_AUTHORIZATION": authorization}
    return Probe.as_view()(APIRequestFactory().get("/api/v1/sonde/", **headers))


def assert_refused(response, detail=INVALID):
    assert response.status_code == 401
    assert response.data["detail"] == detail
    assert response["WWW-Authenticate"] == "Token"


def create_from_account_page(client, name="Logiciel de suivi"):
    response = client.post("/compte/jetons-api/", {"name": name})
    assert response.status_code == 302
    assert response["Location"] == "/compte/jetons-api/nouveau/"
    page = client.get(response["Location"])
    assert page.status_code == 200
    return page, re.search(r'data-testid="api-key">([^<]+)<', page.content.decode()).group(1)


# « Mon compte »


def test_a_token_is_created_from_the_account_page_and_its_key_shown_once(client, gestionnaire):
    client.force_login(gestionnaire)
    page, key = create_from_account_page(client)

    shown = text(page)
    assert "ne sera plus affichée" in shown
    assert f'curl -H "Authorization: Token {key}" {settings.SITE_URL}/api/v1/me/' in shown
    assert "no-store" in page["Cache-Control"]
    assert len(re.findall(r"<h1", page.content.decode())) == 1
    again = client.get("/compte/jetons-api/nouveau/")
    assert again.status_code == 302
    assert again["Location"] == "/compte/"

    token = ApiToken.objects.get(user=gestionnaire)
    assert (token.name, token.prefix, token.created_by) == ("Logiciel de suivi", key[:8], gestionnaire)
    account = text(client.get("/compte/"))
    assert "Accès à l'API" in account
    assert f"Logiciel de suivi {key[:8]}…" in account
    assert "jamais" in account
    assert key not in account


def test_the_key_is_stored_hashed_only(client, gestionnaire):
    client.force_login(gestionnaire)
    _page, key = create_from_account_page(client)

    token = ApiToken.objects.get(user=gestionnaire)
    assert token.digest == hashlib.sha256(key.encode()).hexdigest()
    assert all(key not in str(value) for value in ApiToken.objects.values().get().values())
    # Once shown, the key leaves the session too.
    assert NEW_API_KEY not in client.session
    assert all(key not in str(session.get_decoded()) for session in Session.objects.all())


def test_the_account_page_lists_active_tokens_only(client, technicien):
    ApiToken.objects.issue(technicien, name="Ancien logiciel")[0].revoke()
    used, _key = ApiToken.objects.issue(technicien, name="Tableur de suivi")
    ApiToken.objects.filter(pk=used.pk).update(last_used_at=datetime(2026, 3, 2, 9, 5, tzinfo=UTC))
    client.force_login(technicien)
    page = text(client.get("/compte/"))
    assert "Tableur de suivi" in page
    assert "02/03/2026 à 10h05" in page  # Europe/Paris
    assert "Ancien logiciel" not in page


def test_the_name_is_required_and_limited(client, gestionnaire):
    client.force_login(gestionnaire)
    response = client.post("/compte/jetons-api/", {"name": "  "})
    assert response.status_code == 200
    assert "Donnez un nom au jeton." in text(response)
    response = client.post("/compte/jetons-api/", {"name": "x" * 101})
    assert "Le nom ne doit pas dépasser 100 caractères (il en compte 101)." in text(response)
    assert 'id="jeton_name"' in response.content.decode()
    assert 'aria-invalid="true"' in response.content.decode()
    assert not ApiToken.objects.exists()


def test_an_account_holds_at_most_ten_active_tokens(client, gestionnaire):
    tokens = [ApiToken.objects.issue(gestionnaire, name=f"Jeton {n}")[0] for n in range(MAX_ACTIVE_TOKENS)]
    client.force_login(gestionnaire)
    response = client.post("/compte/jetons-api/", {"name": "Un de trop"})
    assert response.status_code == 200
    assert "Vous avez déjà 10 jetons actifs" in text(response)
    assert ApiToken.objects.filter(user=gestionnaire).count() == MAX_ACTIVE_TOKENS

    client.post(f"/compte/jetons-api/{tokens[0].pk}/revoquer/")
    create_from_account_page(client, name="À la place")
    assert ApiToken.objects.active().filter(user=gestionnaire).count() == MAX_ACTIVE_TOKENS


@pytest.mark.parametrize("role", ["gestionnaire", "agent", "caisse_admin"])
def test_those_who_connect_software_see_and_create_tokens(client, request, role):
    user = request.getfixturevalue(role)
    client.force_login(user)
    page = client.get("/compte/").content.decode()
    assert 'data-testid="api-section"' in page and "Créer un jeton" in page
    create_from_account_page(client)
    assert ApiToken.objects.active().filter(user=user).count() == 1


def test_a_technicien_is_neither_shown_nor_given_tokens(client, technicien):
    client.force_login(technicien)
    page = client.get("/compte/")
    assert 'data-testid="api-section"' not in page.content.decode()
    assert "jeton" not in text(page).casefold() and "API" not in text(page)

    response = client.post("/compte/jetons-api/", {"name": "Logiciel de suivi"})
    assert response.status_code == 403
    assert not ApiToken.objects.exists()


def test_a_technicien_still_sees_and_revokes_the_tokens_held_already(client, technicien):
    token, _key = ApiToken.objects.issue(technicien, name="Logiciel d'avant")
    client.force_login(technicien)
    page = client.get("/compte/")
    assert "Logiciel d'avant" in text(page)
    assert "Créer un jeton" not in text(page)
    assert client.post(f"/compte/jetons-api/{token.pk}/revoquer/").status_code == 302
    assert not ApiToken.objects.active().exists()


def test_a_token_is_revoked_from_the_account_page(client, technicien):
    token, key = ApiToken.objects.issue(technicien, name="Logiciel de suivi")
    client.force_login(technicien)
    assert call_api(f"Token {key}").status_code == 200

    response = client.post(f"/compte/jetons-api/{token.pk}/revoquer/", follow=True)
    assert "Le jeton « Logiciel de suivi » est révoqué" in text(response)
    token.refresh_from_db()
    assert token.revoked_at is not None
    assert_refused(call_api(f"Token {key}"))
    assert client.post(f"/compte/jetons-api/{token.pk}/revoquer/").status_code == 404


def test_another_accounts_token_cannot_be_revoked(client, technicien, gestionnaire):
    token, key = ApiToken.objects.issue(gestionnaire, name="Logiciel de la gestionnaire")
    client.force_login(technicien)
    assert client.post(f"/compte/jetons-api/{token.pk}/revoquer/").status_code == 404
    assert client.get(f"/compte/jetons-api/{token.pk}/revoquer/").status_code == 405
    token.refresh_from_db()
    assert token.revoked_at is None
    assert call_api(f"Token {key}").status_code == 200
    assert "Logiciel de la gestionnaire" not in text(client.get("/compte/"))


def test_the_pages_need_a_signed_in_account(client, technicien):
    token, _key = ApiToken.objects.issue(technicien, name="Logiciel de suivi")
    for url in ("/compte/jetons-api/", "/compte/jetons-api/nouveau/", f"/compte/jetons-api/{token.pk}/revoquer/"):
        response = client.post(url, {"name": "Intrus"}) if "nouveau" not in url else client.get(url)
        assert response.status_code == 302
        assert response["Location"].startswith("/connexion/?next=")
    assert ApiToken.objects.active().count() == 1


# Authentication of the API


def test_a_valid_token_authenticates_with_the_user_and_memberships_in_one_query(
    technicien, structure, django_assert_num_queries
):
    token, key = ApiToken.objects.issue(technicien, name="Logiciel de suivi")
    with django_assert_num_queries(2):  # the token with its account and memberships, then its last use
        response = call_api(f"Token {key}")
    assert response.status_code == 200
    assert response.data == {"email": technicien.email, "token": token.pk, "structure": structure.name}
    with django_assert_num_queries(1):  # used a moment ago: no write
        assert call_api(f"Token {key}").status_code == 200


def test_revoked_unknown_and_deactivated_get_the_same_refusal(technicien):
    revoked, revoked_key = ApiToken.objects.issue(technicien, name="Révoqué")
    revoked.revoke()
    assert_refused(call_api(f"Token {revoked_key}"))
    assert_refused(call_api("Token " + "x" * 43))

    _token, key = ApiToken.objects.issue(technicien, name="Compte désactivé")
    technicien.is_active = False
    technicien.save()
    assert_refused(call_api(f"Token {key}"))


@pytest.mark.parametrize("kind", ["partner", "agent"])
def test_deactivation_revokes_the_tokens_for_good(kind, technicien, agent, gestionnaire, caisse_admin):
    """Issue 17.5: reactivating the account does not bring its old tokens back."""
    from structures import services

    user = technicien if kind == "partner" else agent
    token, key = ApiToken.objects.issue(user, name="Logiciel de suivi")
    if kind == "partner":
        services.deactivate_partner_account(user.membership, by=gestionnaire)
        services.reactivate_partner_account(user.membership, by=gestionnaire)
    else:
        services.set_caisse_account_active(user.caissemembership, False, by=caisse_admin)
        services.set_caisse_account_active(user.caissemembership, True, by=caisse_admin)
    assert_refused(call_api(f"Token {key}"))
    token.refresh_from_db()
    assert token.revoked_at is not None
    # A new token works: the account is active again.
    _token, new_key = ApiToken.objects.issue(user, name="Nouveau jeton")
    assert call_api(f"Token {new_key}").status_code == 200


@pytest.mark.parametrize(
    ("header", "detail"),
    [
        ("Token", "En-tête Authorization invalide : aucune clé après « Token »."),
        ("Token abc def", "En-tête Authorization invalide : la clé ne doit contenir ni espace ni caractère spécial."),
    ],
)
def test_a_malformed_header_is_refused(technicien, header, detail):
    assert_refused(call_api(header), detail=detail)


@pytest.mark.parametrize("header", [None, "", "Bearer abcdef", "Basic dXNlcjpwYXNz"])
def test_without_a_token_the_scheme_steps_aside_and_the_answer_is_401(header):
    request = APIRequestFactory().get("/", **({} if header is None else {"HTTP_AUTHORIZATION": header}))
    assert ApiTokenAuthentication().authenticate(request) is None
    response = call_api(header)
    assert response.status_code == 401
    assert response["WWW-Authenticate"] == "Token"


def test_last_use_is_written_at_most_once_a_minute(technicien):
    token, key = ApiToken.objects.issue(technicien, name="Logiciel de suivi")
    start = datetime(2026, 5, 4, 8, 0, tzinfo=UTC)
    with time_machine.travel(start, tick=False) as traveller:
        call_api(f"Token {key}")
        token.refresh_from_db()
        assert token.last_used_at == start
        traveller.shift(timedelta(seconds=59))
        call_api(f"Token {key}")
        token.refresh_from_db()
        assert token.last_used_at == start
        traveller.shift(timedelta(seconds=2))
        call_api(f"Token {key}")
        token.refresh_from_db()
        assert token.last_used_at == start + timedelta(seconds=61)


def test_the_openapi_schema_documents_the_scheme():
    extension = OpenApiAuthenticationExtension.get_match(ApiTokenAuthentication())
    assert extension is not None
    assert extension.name == "tokenAuth"
    assert extension.get_security_definition(None) == {
        "type": "apiKey",
        "in": "header",
        "name": "Authorization",
        "description": "« Token <clé> » : clé créée depuis « Mon compte ».",
    }


# The operator's command


def issue_with_command(*args):
    out, err = StringIO(), StringIO()
    call_command("issue_api_token", *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def test_the_command_prints_a_working_key_on_its_last_line(technicien):
    TOTPDevice.objects.create(user=technicien, name="Application d'authentification", confirmed=True)
    with time_machine.travel(datetime(2026, 4, 7, 10, 0, tzinfo=UTC)):
        out, err = issue_with_command(technicien.email.upper())
    lines = out.strip().splitlines()
    assert len(lines) == 2
    assert "ne sera plus affichée" in lines[0]
    key = lines[-1]
    assert err == ""
    token = ApiToken.objects.get(user=technicien)
    assert token.name == "Émis par l'exploitant le 07/04/2026"
    assert token.created_by is None
    assert token.digest == hashlib.sha256(key.encode()).hexdigest()
    assert call_api(f"Token {key}").data["email"] == technicien.email


def test_the_command_takes_a_name(technicien):
    issue_with_command(technicien.email, "--name", "Logiciel de suivi")
    assert ApiToken.objects.get(user=technicien).name == "Logiciel de suivi"


def test_the_command_warns_when_the_account_has_no_second_factor(technicien):
    out, err = issue_with_command(technicien.email)
    assert "n'a pas encore configuré la double authentification" in err
    assert call_api(f"Token {out.strip().splitlines()[-1]}").status_code == 200


def test_the_command_refuses_an_unknown_or_deactivated_account(db):
    with pytest.raises(CommandError, match="Aucun compte n'a l'adresse inconnu@exemple.fr"):
        issue_with_command("inconnu@exemple.fr")
    former = UserFactory(is_active=False, email="ancien@exemple.fr")
    with pytest.raises(CommandError, match="désactivé"):
        issue_with_command(former.email)
    assert not ApiToken.objects.exists()


def test_the_command_respects_the_limit_of_active_tokens(technicien):
    for n in range(MAX_ACTIVE_TOKENS):
        ApiToken.objects.issue(technicien, name=f"Jeton {n}")
    with pytest.raises(CommandError, match="déjà 10 jetons actifs"):
        issue_with_command(technicien.email)
