"""Issue 17.12: every error a visitor or an API client can meet is in French, and names none of our models."""

import pytest
from django.apps import apps
from django.test import Client, override_settings

from tests.factories import RequestFactory
from tests.helpers import api_client, text

NOT_FOUND = "Introuvable."


def model_names():
    return {model.__name__ for model in apps.get_models()}


def assert_no_model_name(body):
    named = {name for name in model_names() if name in body}
    assert not named, body


@pytest.fixture
def foreign_request(other_structure, caisse):
    return RequestFactory(structure=other_structure, caisse=caisse)


@pytest.mark.django_db
@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/requests/{number}/",
        "/api/v1/requests/{number}/messages/",
        "/api/v1/requests/{number}/attachments/",
        "/api/v1/requests/2600000000/",
        "/api/v1/requests/pas-un-numero/",
        "/api/v1/structure/members/999999/deactivate/",
    ],
)
def test_api_not_found_is_french_and_names_no_model(technicien, gestionnaire, foreign_request, path):
    client = api_client(gestionnaire)
    url = path.format(number=foreign_request.number)
    response = client.post(url) if url.endswith("/deactivate/") else client.get(url)
    assert response.status_code == 404
    assert response.json() == {"code": "not_found", "message": NOT_FOUND}
    assert_no_model_name(response.content.decode())


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("body", "content_type"),
    [
        ('{"kind": ', "application/json"),
        ("--sans-fin", "multipart/form-data"),
    ],
    ids=["json", "multipart"],
)
def test_api_unreadable_body_is_refused_in_french(technicien, body, content_type):
    response = api_client(technicien).generic("POST", "/api/v1/requests/", body, content_type=content_type)
    assert response.status_code == 400
    assert response.json()["code"] == "parse_error"
    detail = response.json()["message"]
    assert detail.startswith("Corps de la requête illisible"), detail
    assert "error" not in detail.lower()


@pytest.mark.django_db
def test_api_csrf_refusal_of_a_browser_session_is_french(technicien):
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(technicien)
    response = browser.post("/api/v1/requests/", {}, content_type="application/json")
    assert response.status_code == 403
    assert response.json()["code"] == "csrf_failed"
    assert "CSRF" in response.json()["message"] and "Failed" not in response.json()["message"]
    assert response.json()["message"].startswith("Vérification CSRF")


@pytest.mark.django_db
@override_settings(DEBUG=False)
def test_csrf_failure_is_a_french_page_in_our_layout(technicien):
    browser = Client(enforce_csrf_checks=True)
    response = browser.post("/connexion/", {"username": technicien.email, "password": "x"})
    assert response.status_code == 403
    page = text(response)
    assert "Espace Partenaires" in page and "La page a expiré" in page
    assert "Forbidden" not in page and "CSRF verification failed" not in page


@pytest.mark.django_db
@override_settings(DEBUG=False, ALLOWED_HOSTS=["extranet.exemple.fr"])
@pytest.mark.parametrize("path", ["/connexion/", "/api/v1/me/"])
def test_a_bad_host_gets_a_french_answer(client, path):
    response = client.get(path, HTTP_HOST="attaquant.exemple.com")
    assert response.status_code == 400
    if path.startswith("/api/"):
        assert response.json() == {"code": "bad_request", "message": "Requête invalide."}
    else:
        page = text(response)
        assert "Espace Partenaires" in page and "Requête invalide" in page
        assert "Bad Request" not in page
        # Nothing links to the host the request claimed.
        assert "attaquant" not in response.content.decode()


@pytest.mark.django_db
@override_settings(DEBUG=False)
@pytest.mark.parametrize("path", ["/demandes/", "/api/v1/requests/"])
def test_an_unexpected_error_is_french_and_json_under_the_api(technicien, monkeypatch, path):
    """A fault after the request's checks (here the list's query): the page is ours, the API answers JSON."""
    from requests.models import RequestQuerySet

    def broken(*args, **kwargs):
        raise RuntimeError("panne simulée")

    monkeypatch.setattr(RequestQuerySet, "visible_to", broken)
    client = api_client(technicien) if path.startswith("/api/") else Client()
    client.raise_request_exception = False
    if not path.startswith("/api/"):
        client.force_login(technicien)
    response = client.get(path)
    assert response.status_code == 500
    if path.startswith("/api/"):
        assert response["Content-Type"] == "application/json"
        assert response.json()["code"] == "server_error"
        assert response.json()["message"].startswith("Le service n'a pas pu traiter la requête.")
    else:
        assert "Une erreur est survenue" in text(response)
    assert "panne simulée" not in response.content.decode()
