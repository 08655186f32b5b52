"""The error summary of the deposit forms lists the fields in error in the order the page shows them (its sections),
not in the form's order: the MAS referral's person block comes after its date and context, the caisse first."""

import re

import pytest

from tests.requests.builders import MAS_REFERRAL_URL


@pytest.fixture
def partner(client, technicien):
    client.force_login(technicien)
    return client


def summary_and_page_order(html):
    """The targets of the summary's links, and the same ids sorted by where they are in the page."""
    summary = re.search(r"<ul class=\"error-summary-list[^>]*>(.*?)</ul>", html, re.S).group(1)
    targets = re.findall(r'href="#([^"]+)"', summary)
    positions = {target: html.index(f'id="{target}"') for target in targets}
    return targets, sorted(targets, key=positions.get)


@pytest.mark.django_db
@pytest.mark.parametrize("url", [MAS_REFERRAL_URL, "/demandes/nouvelle/etude-de-dossier/"])
def test_the_summary_follows_the_page(partner, url):
    # An unknown caisse as well: its error belongs to the block at the top of the form.
    html = partner.post(url, {"caisse": "999", "referral_date": ""}).content.decode()
    targets, in_page = summary_and_page_order(html)
    assert len(targets) > 3
    assert targets[0] == "id_caisse_group"
    assert targets == in_page
