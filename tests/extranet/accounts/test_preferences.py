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
