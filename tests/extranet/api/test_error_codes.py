"""Every code of extranet/api/errors.py's CODES, answered to a real request, and listed in the schema for the
operation and the status that answered it: no code is documented but dead, none is answered undocumented (the
exception handler only answers codes of CODES)."""

import errno
import os
import re
from pathlib import Path

import pytest
from django.test import Client
from drf_spectacular.generators import SchemaGenerator
from rest_framework import exceptions
from rest_framework.test import APIClient

from extranet.api.errors import ATTACHMENT_REASONS, CODES, exception_handler
from extranet.api.throttling import PerTokenThrottle
from requests import services
from tests.factories import CaisseMembershipFactory, ConventionFactory, MembershipFactory
from tests.helpers import api_client
from tests.requests.builders import a_pdf, api_body, form_data, upload

pytestmark = pytest.mark.django_db

MESSAGES = "/api/v1/requests/{number}/messages/"
REQUESTS = "/api/v1/requests/"


@pytest.fixture(scope="module")
def schema():
    return SchemaGenerator().get_schema(request=None, public=True)


@pytest.fixture(autouse=True)
def generous_rate(monkeypatch):
    monkeypatch.setattr(PerTokenThrottle, "THROTTLE_RATES", {"token": "10000/minute"})


def document(**overrides):
    """A valid deposit: a prevention document for a person, in the API's shape."""
    data = form_data("document", **overrides)
    data.pop("kind", None)
    return api_body("document", data)


class Calls:
    """The callers and objects each case needs: a technicien and an agent of the same structure and caisse."""

    def __init__(self, technicien, gestionnaire, agent, demande, other_caisse, monkeypatch, settings, private_media):
        self.technicien, self.gestionnaire, self.agent, self.demande = technicien, gestionnaire, agent, demande
        self.other_caisse = other_caisse
        self.private_media = private_media
        self.monkeypatch, self.settings = monkeypatch, settings
        self.partner, self.caisse = api_client(technicien), api_client(agent)

    def url(self, template):
        return template.format(number=self.demande.number)

    def message(self, client, body, **options):
        return client.post(self.url(MESSAGES), body, **({"format": "json"} | options))


def invalid(calls):
    return calls.message(calls.partner, {"body": ""}), "post", MESSAGES


def unknown_fields(calls):
    return calls.partner.get(REQUESTS, {"nom": "Durand"}), "get", REQUESTS


def parse_error(calls):
    return calls.message(calls.partner, "{", format=None, content_type="application/json"), "post", MESSAGES


def bad_request(calls):
    return calls.partner.get("/api/v1/me/", HTTP_HOST="ailleurs.example"), "get", "/api/v1/me/"


def unsupported_media_type(calls):
    return calls.message(calls.partner, "Bonjour", format=None, content_type="text/plain"), "post", MESSAGES


def not_authenticated(calls):
    return APIClient().get(REQUESTS), "get", REQUESTS


def authentication_failed(calls):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION="Token pas-un-jeton")
    return client.get(REQUESTS), "get", REQUESTS


def csrf_failed(calls):
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(calls.technicien)
    return browser.post(calls.url(MESSAGES), {"body": "?"}, content_type="application/json"), "post", MESSAGES


def permission_denied(calls):
    return calls.caisse.post(REQUESTS, document(), format="json"), "post", REQUESTS


def second_factor_required(calls):
    colleague = MembershipFactory(structure=calls.demande.structure).user
    return api_client(colleague, second_factor=False).get(REQUESTS), "get", REQUESTS


def not_found(calls):
    return calls.partner.get("/api/v1/requests/2600000000/"), "get", "/api/v1/requests/{number}/"


def method_not_allowed(calls):
    return calls.partner.put(REQUESTS, {}, format="json"), None, None


def not_acceptable(calls):
    return calls.partner.get("/api/v1/me/", HTTP_ACCEPT="application/xml"), "get", "/api/v1/me/"


def throttled(calls):
    calls.monkeypatch.setattr(PerTokenThrottle, "THROTTLE_RATES", {"token": "1/minute"})
    calls.partner.get("/api/v1/me/")
    return calls.partner.get("/api/v1/me/"), "get", "/api/v1/me/"


def bad_idempotency_key(calls):
    response = calls.partner.post(REQUESTS, document(), format="json", HTTP_IDEMPOTENCY_KEY="clé avec espaces")
    return response, "post", REQUESTS


def deposit_key_reused(calls):
    first = calls.partner.post(REQUESTS, document(), format="json", HTTP_IDEMPOTENCY_KEY="cle-1")
    other = document(comment="Un autre contenu.")
    response = calls.partner.post(REQUESTS, other, format="json", HTTP_IDEMPOTENCY_KEY="cle-1")
    assert response.json()["existing"] == first.json()["number"]
    return response, "post", REQUESTS


def duplicate_open_request(calls):
    first = calls.partner.post(REQUESTS, document(), format="json")
    response = calls.partner.post(REQUESTS, document(), format="json")
    assert response.json()["existing"] == first.json()["number"]
    assert first.json()["number"] in response.json()["message"]
    return response, "post", REQUESTS


def caisse_required(calls):
    ConventionFactory(structure=calls.demande.structure, caisse=calls.other_caisse)
    return calls.partner.post(REQUESTS, document(caisse=""), format="json"), "post", REQUESTS


def unknown_caisse(calls):
    return calls.partner.post(REQUESTS, document(caisse="999"), format="json"), "post", REQUESTS


def no_active_convention(calls):
    return calls.partner.post(REQUESTS, document(caisse=calls.other_caisse.code), format="json"), "post", REQUESTS


def habilitation_required(calls):
    assert not calls.demande.structure.insured_documents_habilitation
    return calls.partner.post(REQUESTS, document(motif="ceam"), format="json"), "post", REQUESTS


def attachment_refused(calls):
    sent = {"files": [upload("photo.pdf", b"GIF89a pas un PDF")]}
    response = calls.partner.post(calls.url("/api/v1/requests/{number}/attachments/"), sent, format="multipart")
    assert response.json()["refused_files"][0] | {"message": ""} == {
        "field": "files",
        "name": "photo.pdf",
        "reason": "content",
        "message": "",
    }
    return response, "post", "/api/v1/requests/{number}/attachments/"


def too_many_attachments(calls):
    calls.settings.MAX_ATTACHMENTS_PER_REQUEST = 1
    sent = {"files": [a_pdf("a.pdf"), a_pdf("b.pdf")]}
    response = calls.partner.post(calls.url("/api/v1/requests/{number}/attachments/"), sent, format="multipart")
    return response, "post", "/api/v1/requests/{number}/attachments/"


def storage_unavailable(calls):
    real_open = os.open

    def refusing_open(path, flags, *args, **kwargs):
        if str(path).startswith(str(calls.private_media)) and flags & (os.O_WRONLY | os.O_RDWR):
            raise OSError(errno.EROFS, os.strerror(errno.EROFS), str(path))
        return real_open(path, flags, *args, **kwargs)

    calls.monkeypatch.setattr(os, "open", refusing_open)
    sent = {"files": [a_pdf()]}
    response = calls.partner.post(calls.url("/api/v1/requests/{number}/attachments/"), sent, format="multipart")
    return response, "post", "/api/v1/requests/{number}/attachments/"


def wrong_status(calls):
    calls.caisse.post(calls.url("/api/v1/requests/{number}/take-charge/"))
    response = calls.caisse.post(calls.url("/api/v1/requests/{number}/take-charge/"))
    assert response.json()["current_status"] == "in_progress"
    return response, "post", "/api/v1/requests/{number}/take-charge/"


def not_allowed(calls):
    calls.caisse.post(calls.url("/api/v1/requests/{number}/take-charge/"))
    colleague = api_client(CaisseMembershipFactory(caisse=calls.demande.caisse).user)
    response = colleague.post(calls.url("/api/v1/requests/{number}/resolve/"), {"answer": "Ok"}, format="json")
    return response, "post", "/api/v1/requests/{number}/resolve/"


def internal_note_forbidden(calls):
    return calls.message(calls.partner, {"body": "Note", "internal": True}), "post", MESSAGES


def email_already_used(calls):
    member = {"civility": "m", "last_name": "Ferreira", "first_name": "Hugo", "email": calls.technicien.email}
    return (
        api_client(calls.gestionnaire).post("/api/v1/structure/members/", member, format="json"),
        "post",
        "/api/v1/structure/members/",
    )


def webhook_address_refused(calls):
    endpoint = {"name": "Logiciel de suivi", "url": "https://10.0.0.1/", "events": ["request.status_changed"]}
    return (
        api_client(calls.gestionnaire).post("/api/v1/webhooks/", endpoint, format="json"),
        "post",
        "/api/v1/webhooks/",
    )


def webhook_inactive(calls):
    manager = api_client(calls.gestionnaire)
    endpoint = {"name": "Logiciel de suivi", "url": "https://8.8.8.8/", "events": ["request.status_changed"]}
    created = manager.post("/api/v1/webhooks/", endpoint, format="json").json()
    manager.post(f"/api/v1/webhooks/{created['id']}/deactivate/")
    return manager.post(f"/api/v1/webhooks/{created['id']}/test/"), "post", "/api/v1/webhooks/{id}/test/"


def invalid_cursor(calls):
    return calls.partner.get(REQUESTS, {"cursor": "fait-main"}), "get", REQUESTS


def server_error(calls):
    def failing(*args, **kwargs):
        raise RuntimeError("panne")

    calls.monkeypatch.setattr(services, "post_message", failing)
    calls.partner.raise_request_exception = False
    return calls.message(calls.partner, {"body": "Bonjour"}), "post", MESSAGES


CASES = {
    case.__name__: case
    for case in [
        invalid,
        unknown_fields,
        invalid_cursor,
        parse_error,
        bad_request,
        unsupported_media_type,
        not_authenticated,
        authentication_failed,
        csrf_failed,
        permission_denied,
        second_factor_required,
        not_found,
        method_not_allowed,
        not_acceptable,
        throttled,
        bad_idempotency_key,
        deposit_key_reused,
        duplicate_open_request,
        caisse_required,
        unknown_caisse,
        no_active_convention,
        habilitation_required,
        attachment_refused,
        too_many_attachments,
        storage_unavailable,
        wrong_status,
        not_allowed,
        internal_note_forbidden,
        email_already_used,
        webhook_address_refused,
        webhook_inactive,
        server_error,
    ]
}


def test_every_code_has_its_case_and_the_schema_lists_them_all(schema):
    assert sorted(CASES) == sorted(CODES)
    assert schema["components"]["schemas"]["ErrorCodeEnum"]["enum"] == list(CODES)


@pytest.mark.parametrize("code", CODES)
def test_each_code_is_answered_to_a_real_request_as_the_schema_says(
    code, schema, technicien, gestionnaire, agent, demande, other_caisse, monkeypatch, settings, private_media
):
    calls = Calls(technicien, gestionnaire, agent, demande, other_caisse, monkeypatch, settings, private_media)
    response, method, path = CASES[code](calls)
    body = response.json()
    assert body["code"] == code, body
    assert body["message"] and body.keys() <= set(schema["components"]["schemas"]["Error"]["properties"])
    assert response.status_code >= 400
    if method is not None:  # 405: the method has no operation to document it
        responses = schema["paths"][path][method]["responses"]
        assert f"`{code}`" in responses[str(response.status_code)]["description"], (path, method, responses.keys())


UNKNOWN_FIELD = ["Champ inconnu : l'opération ne le lit pas (voir son schéma)."]


def test_a_message_field_the_operation_does_not_read_is_refused_by_name(technicien, demande):
    response = api_client(technicien).post(
        f"/api/v1/requests/{demande.number}/messages/", {"body": "Bonjour", "files": "x"}, format="json"
    )
    assert (response.status_code, response.json()["code"]) == (400, "unknown_fields")
    assert response.json()["fields"] == {"files": UNKNOWN_FIELD}
    assert not demande.messages.exists()


def test_a_resolution_field_the_operation_does_not_read_is_refused_by_name(agent, demande):
    caisse = api_client(agent)
    caisse.post(f"/api/v1/requests/{demande.number}/take-charge/")
    response = caisse.post(
        f"/api/v1/requests/{demande.number}/resolve/", {"answer": "Ok", "notify": False}, format="json"
    )
    assert (response.status_code, response.json()["code"]) == (400, "unknown_fields")
    assert response.json()["fields"] == {"notify": UNKNOWN_FIELD}
    demande.refresh_from_db()
    assert demande.status == "in_progress"


def test_a_member_field_the_operation_does_not_read_is_refused_by_name(gestionnaire, structure):
    member = {"civility": "m", "last_name": "Ferreira", "first_name": "Hugo", "email": "hugo@exemple.fr"}
    response = api_client(gestionnaire).post(
        "/api/v1/structure/members/", {**member, "role": "gestionnaire", "nir": "x"}, format="json"
    )
    assert (response.status_code, response.json()["code"]) == (400, "unknown_fields")
    assert response.json()["fields"] == {"nir": UNKNOWN_FIELD, "role": UNKNOWN_FIELD}
    assert not structure.memberships.filter(user__email="hugo@exemple.fr").exists()


DOCS = Path(__file__).resolve().parents[3] / "docs" / "api-errors.md"
ROW = re.compile(r"^\| `(\w+)` \|", re.MULTILINE)
CODE_ROW = re.compile(r"^\| `(\w+)` \| (\d{3}) \|", re.MULTILINE)
LISTED = re.compile(r"^- `(\w+)`", re.MULTILINE)


def test_the_api_documentation_tables_every_code_with_the_status_the_schema_gives(schema):
    text = DOCS.read_text()
    assert ROW.findall(text) == [*CODES, *ATTACHMENT_REASONS]
    in_schema = {}
    for item in schema["paths"].values():
        for operation in item.values():
            for status, response in operation["responses"].items():
                for code in LISTED.findall(response.get("description", "")):
                    in_schema.setdefault(code, set()).add(status)
    documented = {code: {status} for code, status in CODE_ROW.findall(text)}
    assert {code: statuses for code, statuses in documented.items() if code in in_schema} == in_schema
    assert documented.keys() - in_schema.keys() == {"method_not_allowed"}  # no operation answers it: no method


def test_a_nested_input_s_errors_are_named_by_their_path():
    """No operation nests its input yet but the deposit's person is meant to be: each message under its field's
    path, the valid items of a list left out."""
    refused = exceptions.ValidationError({"person": {"nir": ["Clé fausse."]}, "items": [{}, {"name": ["Vide."]}]})
    response = exception_handler(refused, {})
    assert response.data == {
        "code": "invalid",
        "message": "Certaines valeurs sont invalides : voir « fields ».",
        "fields": {"person.nir": ["Clé fausse."], "items.1.name": ["Vide."]},
    }
