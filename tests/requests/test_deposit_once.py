"""A deposit sent twice is one request: the API's `Idempotency-Key`, the deposit page's one-time form token."""

import json
import re
import threading

import pytest
from django.db import connection

from requests import services
from requests.models import Attachment, DepositKey, Request
from tests.factories import MembershipFactory
from tests.helpers import api_client
from tests.requests.builders import a_pdf, api_body, create_url, form_data

pytestmark = pytest.mark.django_db

KEY = "5f0c7c1e-2b1a-4d3e-9a4f-0c2d7e1b9a10"
CONTACT = api_body("contact", form_data("contacter"))
TOKEN = re.compile(r'name="deposit_token" value="([^"]+)"')


def deposit(client, data=CONTACT, key=KEY, **extra):
    """`data`: the API's body (JSON), or its multipart parts."""
    headers = {"Idempotency-Key": key} if key is not None else {}
    return client.post("/api/v1/requests/", data, headers=headers, **extra)


class TestIdempotencyKey:
    def test_the_same_deposit_sent_twice_answers_the_same_request(self, technicien):
        partner = api_client(technicien)
        first = deposit(partner, format="json")
        again = deposit(partner, format="json")

        assert first.status_code == again.status_code == 201
        assert again.json()["number"] == first.json()["number"]
        assert again["Location"] == first["Location"]
        assert Request.objects.count() == 1

    def test_a_retried_multipart_deposit_stores_its_files_once(self, technicien, stored_files):
        partner = api_client(technicien)
        data = json.dumps(api_body("case_review", form_data("etude-de-dossier")))
        first = deposit(partner, {"data": data, "attachments": [a_pdf()]}, format="multipart")
        again = deposit(partner, {"data": data, "attachments": [a_pdf()]}, format="multipart")

        assert first.status_code == again.status_code == 201
        assert again.json()["number"] == first.json()["number"]
        assert Request.objects.count() == 1 and Attachment.objects.count() == 1 and len(stored_files()) == 1

    def test_the_same_key_with_another_content_is_refused(self, technicien):
        partner = api_client(technicien)
        first = deposit(partner, format="json")
        other = deposit(
            partner, {**CONTACT, "details": {**CONTACT["details"], "message": "Une autre question."}}, format="json"
        )

        assert other.status_code == 422
        number = first.json()["number"]
        assert other.json() == {
            "code": "deposit_key_reused",
            "message": f"Cette clé a déjà servi à déposer la demande n° {number}, avec un autre contenu : rien n'a "
            "été déposé. Utilisez une nouvelle clé pour une nouvelle demande.",
            "existing": number,
        }
        assert Request.objects.count() == 1

    def test_a_key_is_the_authors_own(self, technicien, structure):
        colleague = MembershipFactory(structure=structure).user
        mine = deposit(api_client(technicien), format="json")
        theirs = deposit(api_client(colleague), format="json")

        assert mine.status_code == theirs.status_code == 201
        assert mine.json()["number"] != theirs.json()["number"]

    def test_without_a_key_each_post_deposits(self, technicien):
        partner = api_client(technicien)
        assert deposit(partner, key=None, format="json").status_code == 201
        assert deposit(partner, key=None, format="json").status_code == 201
        assert Request.objects.count() == 2

    @pytest.mark.parametrize("key", ["", "a" * 65, "clé avec espaces"])
    def test_a_malformed_key_is_refused(self, technicien, key):
        response = deposit(api_client(technicien), key=key, format="json")

        assert response.status_code == 400
        assert response.json() == {
            "code": "bad_idempotency_key",
            "message": "L'en-tête Idempotency-Key compte de 1 à 64 caractères ASCII imprimables, sans espace (par "
            "exemple un UUID).",
        }
        assert not Request.objects.exists()

    def test_a_refused_deposit_does_not_use_up_its_key(self, technicien):
        partner = api_client(technicien)
        refused = deposit(partner, {**CONTACT, "motif": "pizza"}, format="json")
        assert refused.status_code == 400
        assert not DepositKey.objects.exists()
        assert deposit(partner, format="json").status_code == 201


class TestFormToken:
    def shown_token(self, client, slug="contacter"):
        return TOKEN.search(client.get(create_url(slug)).content.decode()).group(1)

    def test_each_form_shown_carries_its_own_token(self, technicien_client):
        assert len(self.shown_token(technicien_client)) >= 32
        assert self.shown_token(technicien_client) != self.shown_token(technicien_client)

    def test_the_form_posted_twice_leads_to_the_request_created_the_first_time(self, technicien_client):
        data = form_data("contacter", deposit_token=self.shown_token(technicien_client))
        first = technicien_client.post(create_url("contacter"), data)
        again = technicien_client.post(create_url("contacter"), data)

        demande = Request.objects.get()
        assert first.status_code == again.status_code == 302
        assert first["Location"] == again["Location"] == f"/demandes/{demande.number}/confirmation/"

    def test_two_forms_make_two_requests(self, technicien_client):
        for _ in range(2):
            data = form_data("contacter", deposit_token=self.shown_token(technicien_client))
            assert technicien_client.post(create_url("contacter"), data).status_code == 302
        assert Request.objects.count() == 2

    def test_the_mas_referral_form_carries_one_too(self, technicien_client):
        page = technicien_client.get("/demandes/nouvelle/saisine-mas/").content.decode()
        assert TOKEN.search(page)


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_simultaneous_posts_with_the_same_key_make_one_request(technicien, structure, caisse):
    """A double click: the second waits on the key's unique index for the first to commit, then finds its request."""
    barrier = threading.Barrier(2)
    outcomes = []

    def post():
        try:
            barrier.wait()
            demande = services.deposit_request(
                kind="contact",
                motif="technical",
                structure=structure,
                caisse=caisse,
                author=technicien,
                details={"channel": "phone", "availabilities": "Lundi matin", "message": "Une question."},
                person={},
                files=[],
                once=services.Once(KEY, "même contenu"),
            )
            outcomes.append(demande.number)
        except Exception as error:  # reported in the assertion, not swallowed
            outcomes.append(repr(error))
        finally:
            connection.close()

    threads = [threading.Thread(target=post) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=20)

    assert len(outcomes) == 2 and outcomes[0] == outcomes[1] and outcomes[0].isdigit(), outcomes
    assert Request.objects.count() == 1 and DepositKey.objects.get().request.number == outcomes[0]
