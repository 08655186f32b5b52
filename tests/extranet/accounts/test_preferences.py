import pytest

from tests.helpers import text


@pytest.mark.django_db
def test_partner_turns_off_take_charge_emails(client, technicien):
    client.force_login(technicien)
    response = client.get("/compte/")
    assert "<title>Mon compte — Espace Partenaires</title>" in response.content.decode()
    page = text(response)
    assert "Me prévenir quand la caisse prend en charge ma demande" in page
    client.post("/compte/", {})
    technicien.refresh_from_db()
    assert technicien.notify_take_charge is False
    client.post("/compte/", {"notify_take_charge": "on"})
    technicien.refresh_from_db()
    assert technicien.notify_take_charge is True


@pytest.mark.django_db
def test_agent_turns_off_the_daily_digest(client, agent):
    client.force_login(agent)
    page = text(client.get("/compte/"))
    assert "Recevoir chaque matin la liste des nouvelles demandes de ma caisse" in page
    assert "Me prévenir quand la caisse prend en charge" not in page
    client.post("/compte/", {})
    agent.refresh_from_db()
    assert agent.notify_daily_digest is False and agent.notify_take_charge is True


@pytest.mark.django_db
def test_new_accounts_defaults_agent_in_charge_told_the_rest_asked_for(agent, technicien):
    """The agent in charge waits for the structure's answer: on. The messages on new requests concern the whole
    caisse, and a star is a bookmark first: asked for."""
    assert agent.notify_partner_reply is True
    assert agent.notify_new_request_messages is False
    assert agent.notify_followed is False and technicien.notify_followed is False


@pytest.mark.django_db
def test_agent_chooses_the_structures_replies_new_requests_messages_and_followed_requests(client, agent):
    client.force_login(agent)
    page = text(client.get("/compte/"))
    for label in (
        "Me prévenir quand une structure répond sur une demande dont j'ai la charge",
        "Me prévenir quand une structure écrit sur une demande nouvelle, pas encore prise en charge",
        "Recevoir les changements de statut et les messages des demandes que je suis (étoile)",
    ):
        assert label in page
    assert "Une note interne ne produit jamais de courriel." in page
    client.post("/compte/", {"notify_new_request_messages": "on", "notify_followed": "on"})
    agent.refresh_from_db()
    assert (agent.notify_partner_reply, agent.notify_new_request_messages, agent.notify_followed) == (
        False,
        True,
        True,
    )
    assert agent.notify_daily_digest is False


@pytest.mark.django_db
def test_partner_chooses_followed_requests_only_besides_take_charge(client, gestionnaire):
    client.force_login(gestionnaire)
    page = text(client.get("/compte/"))
    assert "Recevoir les changements de statut et les messages des demandes que je suis (étoile)" in page
    assert "une structure répond" not in page and "demande nouvelle" not in page
    client.post("/compte/", {"notify_followed": "on", "notify_new_request_messages": "on"})
    gestionnaire.refresh_from_db()
    assert gestionnaire.notify_followed is True
    assert gestionnaire.notify_new_request_messages is False  # not a partner's field: ignored
    assert gestionnaire.notify_take_charge is False
