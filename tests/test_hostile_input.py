"""Input crafted to break the server, from a signed-in user: each is refused in French at its field (JSON 400 under
/api/), nothing is stored, and nothing of the content reaches the logs. Bidirectional controls are removed from
every text stored, the same way by the pages, the API and the services (extranet/core/text.py)."""

import base64
import logging
from datetime import date
from importlib import import_module
from types import SimpleNamespace

import pytest
from django.contrib.auth import get_user_model
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from extranet.accounts.forms import LoginForm
from extranet.core.text import UNSTORABLE
from requests import deposit_rules, services
from requests.forms import MessageForm
from requests.models import Message, Request
from tests.factories import RequestFactory, make_nir
from tests.helpers import api_client, refusal
from tests.requests.builders import PERSON, create_url, form_data

pytestmark = pytest.mark.django_db

MARKER = "Texteconfidentiel"
RLO, LRI, PDI = "\u202e", "\u2066", "\u2069"
BIDI = "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u200e\u200f\u061c"
CONTACT = {"kind": "contact", "motif": "technical", "details": {"channel": "phone", "availabilities": "Lundi"}}


@pytest.fixture
def logs(caplog):
    caplog.set_level(logging.DEBUG)
    return caplog


def assert_nothing_of(marker, logs):
    for record in logs.records:
        text = record.getMessage() + (logging.Formatter().formatException(record.exc_info) if record.exc_info else "")
        assert marker not in text and "\\ud800" not in text, f"{record.name}: {text[:200]}"
    assert "Internal Server Error" not in logs.text


@pytest.fixture
def partner(technicien):
    client = api_client(technicien)
    client.raise_request_exception = False
    return client


def nested(depth):
    return "[" * depth + "]" * depth


class TestDeepJson:
    @pytest.mark.parametrize("depth", [33, 1000, 100_000])
    def test_deposit_and_message_refuse_a_body_nested_too_deep(self, partner, demande, logs, depth):
        for url in ["/api/v1/requests/", f"/api/v1/requests/{demande.number}/messages/"]:
            response = partner.post(url, nested(depth), content_type="application/json")
            assert response.status_code == 400, (url, response.content[:200])
            assert response.json() == {
                "code": "parse_error",
                "message": "Corps de la requête trop imbriqué : 32 niveaux au plus.",
            }
        assert Request.objects.count() == 1 and not Message.objects.exists()
        assert_nothing_of(MARKER, logs)

    def test_a_body_within_the_limit_is_read_as_before(self, partner):
        response = partner.post("/api/v1/requests/", {**CONTACT, "motif": [[["x"]]]}, format="json")
        assert refusal(response) == (
            400,
            "invalid",
            {"motif": ["Une chaîne de caractères est attendue."], "details.message": ["Ce champ est obligatoire."]},
        )


class TestLoneSurrogate:
    """JSON's \\ud800 escape is the one way to send a lone surrogate (a page's bytes that are not UTF-8 are
    replaced): PostgreSQL's jsonb and the UTF-8 encoder refused it with a 500 quoting the text."""

    def test_api_message_refused_at_its_field(self, partner, demande, logs):
        body = '{"body": "' + MARKER + ' \\ud800 fin"}'
        response = partner.post(f"/api/v1/requests/{demande.number}/messages/", body, content_type="application/json")
        assert refusal(response) == (400, "invalid", {"body": [UNSTORABLE]})
        assert not Message.objects.exists()
        assert_nothing_of(MARKER, logs)

    @pytest.mark.parametrize(
        ("field", "message", "motif"),
        [("details.message", f"{MARKER} \\ud800", "technical"), ("motif", "Bonjour", "\\ud800")],
    )
    def test_api_deposit_refused_at_its_field(self, partner, logs, field, message, motif):
        body = (
            f'{{"kind": "contact", "motif": "{motif}", '
            f'"details": {{"channel": "phone", "availabilities": "Lundi", "message": "{message}"}}}}'
        )
        response = partner.post("/api/v1/requests/", body, content_type="application/json")
        assert refusal(response) == (400, "invalid", {field: [UNSTORABLE]})
        assert not Request.objects.exists()
        assert_nothing_of(MARKER, logs)

    def test_inside_a_list_or_as_a_key(self, partner, logs):
        inside = '{"kind": "access_difficulty", "motif": "mas_referral", "mas_referral": {"contexts": ["\\ud800"]}}'
        response = partner.post("/api/v1/requests/", inside, content_type="application/json")
        assert refusal(response) == (400, "invalid", {"mas_referral.contexts": [UNSTORABLE]})
        response = partner.post("/api/v1/requests/", '{"\\ud800": "x"}', content_type="application/json")
        assert refusal(response) == (400, "invalid", {"non_field_errors": [UNSTORABLE]})

    def test_every_form_refuses_it_at_the_field(self):
        form = MessageForm({"body": f"{MARKER} \ud800"}, staff=False)
        assert not form.is_valid()
        assert form.errors["body"] == [UNSTORABLE]

    def test_the_deposit_rules_refuse_it_whoever_deposits(self, structure):
        person = {**PERSON, "person_birth_date": None, "person_last_name": "Dupont\ud800"}
        refused = deposit_rules.refusals(
            kind="access_difficulty",
            motif="rights",
            structure=structure,
            person=person,
            details={"description": "Rupture \ud800"},
        )
        assert refused["person_last_name"] == [UNSTORABLE] and refused["description"] == [UNSTORABLE]

    def test_the_message_service_refuses_it(self, demande, technicien):
        with pytest.raises(services.WorkflowRefused, match="caractère invalide"):
            services.post_message(demande, author=technicien, body="Bonjour \ud800")
        assert not Message.objects.exists()


def cursor(text):
    return base64.b64encode(text.encode()).decode()


class TestForgedCursor:
    @pytest.mark.parametrize(
        "forged",
        [
            "cD0yMDI2",
            cursor("p=2026-13-45 10:00:00+00:00"),
            cursor("p=0001-01-01 00:00:00+01:00"),
            cursor("p=2026-03-01 10:00:00"),
            cursor("o=-4"),
        ],
    )
    def test_refused_in_french(self, partner, demande, logs, forged):
        response = partner.get("/api/v1/requests/", {"cursor": forged})
        assert response.status_code == 400, response.content[:300]
        assert refusal(response) == (
            400,
            "invalid_cursor",
            {"cursor": ["Curseur non valide : reprenez le lien « next » d'une réponse."]},
        )
        assert "Internal Server Error" not in logs.text

    def test_the_cursors_the_api_gives_still_work(self, partner, structure, caisse, technicien):
        made = RequestFactory.create_batch(3, structure=structure, caisse=caisse, author=technicien)
        first = partner.get("/api/v1/requests/", {"page_size": 2}).json()
        second = partner.get(first["next"]).json()
        listed = [row["number"] for row in first["results"] + second["results"]]
        assert sorted(listed) == sorted(demande.number for demande in made)


@pytest.mark.parametrize(
    ("role", "path"),
    [("technicien", "/demandes/"), ("agent", "/caisse/demandes/"), ("admin", "/caisse/journal-des-acces/")],
)
def test_a_page_number_beyond_any_list(client, technicien, agent, caisse_admin, demande, role, path, logs):
    """Its offset overflowed the database's integers: a server error."""
    client.force_login({"technicien": technicien, "agent": agent, "admin": caisse_admin}[role])
    client.raise_request_exception = False
    assert client.get(path, {"page": "9" * 30}).status_code == 200
    assert "Internal Server Error" not in logs.text


class TestDayBounds:
    """A day turned into a moment must exist: the 1st of January of year 1 in Paris is in year 0 in UTC."""

    @pytest.mark.parametrize("day", ["0001-01-01", "9999-12-31"])
    def test_history_filters(self, technicien_client, day, logs):
        for name in ["deposited_from", "deposited_to"]:
            response = technicien_client.get("/demandes/", {name: day})
            assert response.status_code == 200
            assert "Saisissez une date entre le 01/01/1900 et le 31/12/2100." in response.content.decode()
        assert "Internal Server Error" not in logs.text

    @pytest.mark.parametrize("day", ["0001-01-01", "9999-12-31"])
    def test_queue_filters(self, agent_client, day):
        response = agent_client.get("/caisse/demandes/", {"deposited_from": day, "deposited_to": day})
        assert response.status_code == 200
        assert "Saisissez une date entre le 01/01/1900 et le 31/12/2100." in response.content.decode()

    @pytest.mark.parametrize("day", ["0001-01-01", "9999-12-31"])
    def test_api_filters(self, partner, day):
        for name in ["created_after", "created_before"]:
            response = partner.get("/api/v1/requests/", {name: day})
            assert refusal(response) == (
                400,
                "invalid",
                {name: ["Saisissez une date entre le 01/01/1900 et le 31/12/2100."]},
            )


class TestBidirectionalControls:
    """U+202E made « Élodie » read « eidolÉ » in pages and PDFs: every text is stored without these controls."""

    def test_page_deposit(self, technicien_client):
        data = form_data(
            "signaler",
            person_last_name=f"{RLO}eidolÉ",
            person_first_name=f"Lé{BIDI}a",
            description=f"Rupture {LRI}de droits{PDI}.",
        )
        response = technicien_client.post(create_url("signaler"), data)
        assert response.status_code == 302, response.content.decode()[:500]
        stored = Request.objects.get()
        assert (stored.person_last_name, stored.person_first_name) == ("eidolÉ", "Léa")
        assert stored.details["description"] == "Rupture de droits."

    def test_api_deposit_and_message(self, partner, demande):
        body = {**CONTACT, "details": {**CONTACT["details"], "message": f"Bon{BIDI}jour"}}
        response = partner.post("/api/v1/requests/", body, format="json")
        assert response.status_code == 201, response.json()
        assert Request.objects.get(number=response.json()["number"]).details["message"] == "Bonjour"
        body = {"body": f"{RLO}Merci{LRI} beaucoup{PDI}"}
        response = partner.post(f"/api/v1/requests/{demande.number}/messages/", body, format="json")
        assert response.status_code == 201, response.json()
        assert Message.objects.get().body == "Merci beaucoup"

    def test_page_message(self, technicien_client, demande):
        response = technicien_client.post(f"/demandes/{demande.number}/messages/", {"body": f"{RLO}Bonjour"})
        assert response.status_code == 302
        assert Message.objects.get().body == "Bonjour"

    def test_a_text_of_controls_only_is_empty(self, technicien_client, demande):
        response = technicien_client.post(f"/demandes/{demande.number}/messages/", {"body": RLO + PDI})
        assert response.status_code == 400
        assert "Ce champ est obligatoire." in response.content.decode()
        assert not Message.objects.exists()

    def test_services_clean_whoever_calls(self, structure, caisse, technicien, demande):
        made = services.deposit_request(
            kind="contact",
            motif="technical",
            structure=structure,
            caisse=caisse,
            author=technicien,
            details={"channel": "phone", "availabilities": "Lundi", "message": f"{RLO}Bonjour"},
            person={},
            files=[],
        )
        assert made.details["message"] == "Bonjour"
        person = {**PERSON, "person_last_name": f"{RLO}Martin", "person_birth_date": date(1985, 5, 12)}
        person["person_nir"] = make_nir(order="777")  # not the person of `demande`
        other = services.deposit_request(
            kind="access_difficulty",
            motif="rights",
            structure=structure,
            caisse=caisse,
            author=technicien,
            details={"description": "Droits"},
            person=person,
            files=[],
        )
        assert other.person_last_name == "Martin" and other.person_last_name_key == "martin"
        assert services.post_message(demande, author=technicien, body=f"Oui{PDI}").body == "Oui"

    def test_account_names(self, gestionnaire_client, structure):
        data = {"civility": "mme", "last_name": f"{RLO}Durand", "first_name": "Zoé", "email": "zoe@exemple.fr"}
        response = gestionnaire_client.post("/structure/techniciens/nouveau/", data)
        assert response.status_code == 302, response.content.decode()[:500]
        assert get_user_model().objects.get(email="zoe@exemple.fr").last_name == "Durand"

    @pytest.mark.django_db(transaction=True)
    def test_the_migration_cleans_what_was_stored_before(self, demande, technicien):
        message = services.post_message(demande, author=technicien, body="Bonjour")
        Request.objects.filter(pk=demande.pk).update(
            person_last_name=f"{RLO}eidolÉ", details={"description": f"Rupture {LRI}de droits{PDI}"}
        )
        Message.objects.filter(pk=message.pk).update(body=f"{RLO}Bonjour")
        # The migration's own function, on the models as of that migration, without taking the schema back: the
        # tables keep today's columns (taking them back and forth left SQLite's without them for the next tests).
        migration = import_module("requests.migrations.0016_strip_bidi_controls")
        state = MigrationExecutor(connection).loader.project_state(("requests", "0016_strip_bidi_controls"))
        migration.strip_bidi_controls(state.apps, SimpleNamespace(connection=connection))  # all it reads of its editor
        demande.refresh_from_db()
        assert (demande.person_last_name, demande.details["description"]) == ("eidolÉ", "Rupture de droits")
        assert Message.objects.get().body == "Bonjour"

    def test_passwords_are_kept_as_typed(self):
        form = LoginForm(data={"username": "a@exemple.fr", "password": f"secret{RLO}"})
        assert form.data["password"] == f"secret{RLO}"
        assert form.data["username"] == "a@exemple.fr"
