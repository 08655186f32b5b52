"""« Aide »: a mode d'emploi per role, illustrated with the screenshots the browser journeys take."""

import re

import pytest
from django.conf import settings
from django.contrib.staticfiles import finders

from tests.helpers import text

GUIDES = ["technicien", "gestionnaire", "agent", "administrateur"]


@pytest.mark.django_db
def test_the_aide_link_leads_to_one_guide_per_role(client, technicien):
    assert 'href="/aide/"' in client.get("/connexion/").content.decode()
    client.force_login(technicien)
    home = client.get("/").content.decode()
    assert home.count('href="/aide/"') == 2  # header and footer
    index = client.get("/aide/").content.decode()
    assert [f"/aide/{role}/" in index for role in GUIDES] == [True] * 4


@pytest.mark.django_db
@pytest.mark.parametrize("role", GUIDES)
def test_each_guide_is_illustrated_and_its_images_are_there(client, role):
    response = client.get(f"/aide/{role}/")
    assert response.status_code == 200
    page = response.content.decode()
    images = re.findall(rf'src="{re.escape(settings.STATIC_URL)}(guide/[^"]+\.png)" alt="([^"]+)"', page)
    assert len(images) >= 2, "a mode d'emploi shows the screens it describes"
    missing = [path for path, _ in images if finders.find(path) is None]
    assert missing == [], "run `make guide-images` after the browser journeys"
    assert all(alt.strip() for _, alt in images)
    assert "Mode d'emploi : " in text(response)


@pytest.mark.django_db
def test_an_unknown_guide_does_not_exist(client):
    assert client.get("/aide/pirate/").status_code == 404
