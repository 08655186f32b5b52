"""No personal data of a person concerned in any URL: addresses land in the access logs of every server and proxy on
the way (gunicorn's among them). The history used to filter by the person's name in its query string
(`/demandes/?person=…`) and every list wrote its query string back into its links; a person is now found by the
posted person search (requests/search.py).

Every route of the site without a path parameter is asked with parameters naming a person: no page applies them, none
writes them back (pagination, sort or export links, form values, redirects), and the API's list refuses them.
"""

import re
from typing import NamedTuple

import pytest
from django.conf import settings
from django.test import Client
from django.urls import NoReverseMatch, URLResolver, get_resolver, reverse
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.plugins.otp_totp.models import TOTPDevice
from rest_framework.test import APIClient

from extranet.accounts.models import ApiToken
from tests.factories import (
    CaisseFactory,
    CaisseMembershipFactory,
    ConventionFactory,
    MembershipFactory,
    RequestFactory,
    make_nir,
)
from tests.helpers import built_once, log_in_with_password_only
from tests.requests.builders import listed_numbers

pytestmark = pytest.mark.django_db

LAST_NAME, FIRST_NAME, BIRTH_DATE = "Canarivaldo", "Orianette", "1993-11-07"
NIR = make_nir(sex="2", year="93", month="11", department="69", commune="387", order="947")
PERSON_PARAMS = {
    "person": LAST_NAME,
    "personne": LAST_NAME,
    "nom": LAST_NAME,
    "last_name": LAST_NAME,
    "person_last_name": LAST_NAME,
    "first_name": FIRST_NAME,
    "person_first_name": FIRST_NAME,
    "birth_date": BIRTH_DATE,
    "person_birth_date": BIRTH_DATE,
    "nir": NIR,
    "person_nir": NIR,
}
CANARIES = [LAST_NAME, FIRST_NAME, BIRTH_DATE, NIR, NIR[:13]]


def routes_without_parameters(patterns=None, prefix=""):
    """Every "namespace:name" that reverses without arguments (the Django admin aside: a technical tool)."""
    for pattern in get_resolver().url_patterns if patterns is None else patterns:
        if isinstance(pattern, URLResolver):
            if pattern.namespace != "admin":
                namespace = f"{prefix}{pattern.namespace}:" if pattern.namespace else prefix
                yield from routes_without_parameters(pattern.url_patterns, namespace)
        elif pattern.name:
            try:
                yield prefix + pattern.name, reverse(prefix + pattern.name)
            except NoReverseMatch:
                continue


ROUTES = sorted(routes_without_parameters())


def test_the_list_routes_are_among_them():
    names = {name for name, _ in ROUTES}
    assert {
        "requests:history",
        "requests:queue",
        "requests:queue_export",
        "requests:search",
        "api:request-list",
    } <= names
    assert len(ROUTES) > 30


class Scene(NamedTuple):
    people: tuple  # the canary person's request and another one's
    sessions: dict  # role: the session key of a complete sign-in
    api_key: str  # a personal API token of the technicien


def signed_in_session(user):
    """The session key of a complete sign-in, second factor included: what the suite's `client.force_login` leaves
    (tests/conftest.py; patched in for each test only, so not yet when the module's scene is built)."""
    client = Client()
    log_in_with_password_only(client, user)
    device = TOTPDevice.objects.create(user=user, name="Application d'authentification")
    session = client.session
    session[DEVICE_ID_SESSION_KEY] = device.persistent_id
    session.save()
    return session.session_key


@pytest.fixture(scope="module")
def built_scene(django_db_setup, django_db_blocker):
    """The requests and the signed-in accounts, built once for the module's seventy tests (most of their time when
    each built its own), in a transaction rolled back at the end of the module. Each test runs in a savepoint of it
    (pytest-django's `db`, see `people`) rolled back after it, sessions included (they are rows): a page that signs
    out or writes the session leaves the next test the very same accounts."""

    def build():
        caisse = CaisseFactory(code="331", name="CPAM de la Gironde")
        structure = ConventionFactory(caisse=caisse, structure__name="Association Alpha").structure
        technicien = MembershipFactory(structure=structure).user
        gestionnaire = MembershipFactory(structure=structure, gestionnaire=True).user
        caisse_admin = CaisseMembershipFactory(caisse=caisse, admin=True).user
        canary = RequestFactory(
            structure=structure,
            caisse=caisse,
            author=technicien,
            person_last_name=LAST_NAME,
            person_first_name=FIRST_NAME,
            person_nir=NIR,
        )
        other = RequestFactory(structure=structure, caisse=caisse, author=technicien, person_last_name="Martin")
        # Enough requests for a next page, whose link would carry the query string on.
        RequestFactory.create_batch(10, structure=structure, caisse=caisse, author=technicien)
        sessions = {
            role: signed_in_session(user)
            for role, user in [("technicien", technicien), ("gestionnaire", gestionnaire), ("admin", caisse_admin)]
        }
        # As tests.helpers.api_client makes it: the second factor set up (done above), a fresh personal token.
        _, api_key = ApiToken.objects.issue(technicien, name="Logiciel de suivi")
        return Scene((canary, other), sessions, api_key)

    yield from built_once(django_db_blocker, build)


@pytest.fixture
def people(built_scene, db):
    """The canary person's request and another one's, so that a filter applied would show."""
    return built_scene.people


def client_for(path, clients):
    if path.startswith("/api/"):
        return clients["api"]
    if path.startswith("/caisse/"):
        return clients["admin"]
    if path.startswith("/structure/"):
        return clients["gestionnaire"]
    return clients["technicien"]


@pytest.fixture
def clients(built_scene, db):
    """New clients for each test (cookies of their own) on the scene's sessions."""
    signed_in = {}
    for role, session_key in built_scene.sessions.items():
        signed_in[role] = Client()
        signed_in[role].cookies[settings.SESSION_COOKIE_NAME] = session_key
    signed_in["api"] = APIClient()
    signed_in["api"].credentials(HTTP_AUTHORIZATION=f"Token {built_scene.api_key}")
    for each in signed_in.values():
        each.raise_request_exception = False
    return signed_in


# Where a page writes an address or a value back: links, forms, fields; the API's links; a redirect.
WRITTEN_BACK = re.compile(r'(?:href|action|src|value|data-[\w-]+)="([^"]*)"|"(?:next|previous|url)":\s*"([^"]*)"')


def echoed(response):
    """The canaries in what the response writes back, not in the data it shows (a list shows the person's name)."""
    content = b"" if getattr(response, "streaming", False) else response.content
    written = [response.get("Location", "")]
    written += ["".join(match) for match in WRITTEN_BACK.findall(content.decode(errors="replace"))]
    text = "\n".join(written).lower()
    return [canary for canary in CANARIES if canary.lower() in text]


@pytest.mark.parametrize(("name", "path"), ROUTES, ids=[name for name, _ in ROUTES])
def test_no_route_writes_a_persons_data_back(clients, people, name, path):
    response = client_for(path, clients).get(path, PERSON_PARAMS)
    assert response.status_code < 500, response.status_code
    assert response.wsgi_request.user.is_authenticated, f"{name} was asked signed out"
    assert echoed(response) == [], f"{name} wrote the person's data back"


def test_the_history_neither_filters_by_the_person_nor_links_with_it(clients, people):
    canary, other = people
    history = clients["technicien"]
    response = history.get("/demandes/", {"person": LAST_NAME, "status": "new", "taille": "10"})
    assert response.status_code == 200
    html = response.content.decode()
    links = re.findall(r'href="\?([^"]*)"', html)
    assert links and all("status=new" in link and "taille=10" in link and "person" not in link for link in links)
    everyone = listed_numbers(history.get("/demandes/", {"taille": "50"}))
    assert canary.number in everyone and other.number in everyone
    assert listed_numbers(history.get("/demandes/", {"person": LAST_NAME, "taille": "50"})) == everyone
    assert 'href="/recherche/"' in html


def test_the_queue_links_only_with_its_own_filters(clients, people):
    response = clients["admin"].get("/caisse/demandes/", {"kind": "access_difficulty", "taille": "20", "nir": NIR})
    html = response.content.decode()
    assert '<input type="hidden" name="kind" value="access_difficulty">' in html
    assert 'name="nir"' not in html and NIR not in html


@pytest.mark.parametrize("parameter", sorted(PERSON_PARAMS))
def test_the_api_list_refuses_a_person_parameter(clients, people, parameter):
    response = clients["api"].get("/api/v1/requests/", {parameter: PERSON_PARAMS[parameter]})
    assert (response.status_code, response.json()["code"], list(response.json()["fields"])) == (
        400,
        "unknown_fields",
        [parameter],
    )
    assert echoed(response) == []


def test_the_api_next_link_carries_only_its_filters(clients, people):
    response = clients["api"].get("/api/v1/requests/", {"status": "new", "page_size": 5})
    assert response.status_code == 200
    assert "status=new" in response.json()["next"] and "page_size=5" in response.json()["next"]
