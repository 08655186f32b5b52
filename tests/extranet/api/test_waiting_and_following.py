"""The pages' « en attente de la réponse de la structure » and star, through the API: an agent's message may wait
for the structure's answer (the same service as the page's composer), and the list reads back what one follows."""

import pytest

from requests import services
from tests.factories import RequestFactory
from tests.helpers import api_client, refusal

pytestmark = pytest.mark.django_db


def messages_url(demande):
    return f"/api/v1/requests/{demande.number}/messages/"


def test_an_agents_question_waits_for_the_structures_answer(structure, caisse, agent, technicien):
    demande = RequestFactory(structure=structure, caisse=caisse, author=technicien, in_progress=agent)
    asked = api_client(agent).post(
        messages_url(demande), {"body": "Pouvez-vous joindre l'avis ?", "awaiting_answer": True}, format="json"
    )
    assert asked.status_code == 201, asked.json()
    detail = api_client(technicien).get(f"/api/v1/requests/{demande.number}/").json()
    assert detail["awaiting_partner_since"] is not None
    api_client(technicien).post(messages_url(demande), {"body": "Voici l'avis."}, format="json")
    assert api_client(agent).get(f"/api/v1/requests/{demande.number}/").json()["awaiting_partner_since"] is None


@pytest.mark.parametrize("who", ["technicien", "note"])
def test_only_a_caisse_message_to_the_structure_waits(who, structure, caisse, agent, technicien):
    demande = RequestFactory(structure=structure, caisse=caisse, author=technicien, in_progress=agent)
    client, extra = (api_client(technicien), {}) if who == "technicien" else (api_client(agent), {"internal": True})
    body = {"body": "Question", "awaiting_answer": True, **extra}
    assert refusal(client.post(messages_url(demande), body, format="json"))[:2] == (403, "not_allowed")
    demande.refresh_from_db()
    assert demande.awaiting_partner_since is None and not demande.messages.exists()


def test_a_new_request_cannot_wait_before_it_is_taken(structure, caisse, agent, technicien):
    demande = RequestFactory(structure=structure, caisse=caisse, author=technicien)
    response = api_client(agent).post(messages_url(demande), {"body": "?", "awaiting_answer": True}, format="json")
    status, code, _ = refusal(response)
    assert (status, code, response.json()["current_status"]) == (409, "wrong_status", "new")


def test_the_list_reads_back_what_one_follows(structure, caisse, technicien):
    followed, other = (RequestFactory(structure=structure, caisse=caisse, author=technicien) for _ in range(2))
    services.set_following(followed, user=technicien, following=True)
    client = api_client(technicien)
    listed = client.get("/api/v1/requests/", {"followed": "true"}).json()["results"]
    assert [row["number"] for row in listed] == [followed.number]
    every = {row["number"] for row in client.get("/api/v1/requests/", {"followed": "false"}).json()["results"]}
    assert every == {followed.number, other.number}


def test_followed_is_true_or_false_nothing_else(technicien):
    response = api_client(technicien).get("/api/v1/requests/", {"followed": "null"})
    assert refusal(response) == (400, "invalid", {"followed": ["« true » ou « false »."]})
