"""No personal data of a person concerned in any URL: addresses land in the access logs of every server and proxy on
the way (gunicorn's among them). The history used to filter by the person's name in its query string
(`/demandes/?person=…`) and every list wrote its query string back into its links; a person is now found by the
posted person search (requests/search.py).

Every route of the site without a path parameter is asked with parameters naming a person: no page applies them, none
writes them back (pagination, sort or export links, form values, redirects), and the API's list refuses them.
"""

import re

import pytest
from django.urls import NoReverseMatch, URLResolver, get_resolver, reverse

from tests.factories import RequestFactory, make_nir
from tests.helpers import api_client
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


@pytest.fixture
def people(structure, caisse, technicien):
    """The canary person's request and another one's, so that a filter applied would show."""
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
    return canary, other


def client_for(path, clients):
    if path.startswith("/api/"):
        return clients["api"]
    if path.startswith("/caisse/"):
        return clients["admin"]
    if path.startswith("/structure/"):
        return clients["gestionnaire"]
    return clients["technicien"]


@pytest.fixture
def clients(client_factory, technicien, gestionnaire, caisse_admin):
    signed_in = {}
    for role, user in [("technicien", technicien), ("gestionnaire", gestionnaire), ("admin", caisse_admin)]:
        signed_in[role] = client_factory()
        signed_in[role].force_login(user)
    signed_in["api"] = api_client(technicien)
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
