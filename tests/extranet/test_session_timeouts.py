from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone

from extranet.accounts.models import Session
from tests.factories import PASSWORD
from tests.helpers import sign_in, text


@pytest.fixture
def signed_in(client, technicien):
    sign_in(client, technicien.email, PASSWORD)
    return client


@pytest.mark.django_db
def test_login_gives_a_new_session_key(client, technicien):
    client.get("/connexion/")
    client.session.save()
    before = client.session.session_key
    client.post("/connexion/", {"username": technicien.email, "password": PASSWORD})
    assert client.session.session_key != before


@pytest.mark.django_db
@pytest.mark.parametrize(("idle_minutes", "still_signed_in"), [(29, True), (31, False)])
def test_idle_timeout_of_30_minutes(signed_in, idle_minutes, still_signed_in):
    start = timezone.now()
    with time_machine.travel(start):
        assert signed_in.get("/").status_code == 200
    with time_machine.travel(start + timedelta(minutes=idle_minutes)):
        response = signed_in.get("/compte/")
    assert (response.status_code == 200) is still_signed_in
    if not still_signed_in:
        assert response["Location"].startswith("/connexion/?next=/compte/")
        assert "Votre session a expiré" in text(signed_in.get(response["Location"]))


@pytest.mark.django_db
def test_absolute_timeout_of_12_hours_even_when_active(signed_in, technicien):
    start = timezone.now()
    for minutes in range(0, 12 * 60, 20):
        with time_machine.travel(start + timedelta(minutes=minutes)):
            assert signed_in.get("/").status_code == 200
    with time_machine.travel(start + timedelta(hours=12, minutes=1)):
        assert signed_in.get("/").status_code == 302
    assert not Session.objects.filter(user_id=technicien.pk).exists()
