import re

import pytest

from structures.models import Convention
from tests.factories import CaisseFactory, ConventionFactory, change_convention_status
from tests.helpers import text, visible_text


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("role", "nav", "absent"),
    [
        (
            "technicien",
            ["Accueil", "Historique des demandes", "Rechercher une personne", "Mon compte"],
            ["Techniciens", "Structures", "Agents", "Modèles de réponse"],
        ),
        (
            "gestionnaire",
            [
                "Accueil",
                "Historique des demandes",
                "Rechercher une personne",
                "Tableau de bord",
                "Techniciens",
                "Mon compte",
            ],
            ["Structures", "Agents"],
        ),
        (
            "agent",
            ["Accueil", "File des demandes", "Rechercher une personne", "Tableau de bord", "Mon compte"],
            ["Techniciens", "Structures", "Agents", "Modèles de réponse"],
        ),
        (
            "caisse_admin",
            [
                "Accueil",
                "File des demandes",
                "Rechercher une personne",
                "Tableau de bord",
                "Structures",
                "Agents",
                "Modèles de réponse",
                "Mon compte",
            ],
            ["Techniciens"],
        ),
    ],
)
def test_header_and_navigation_per_role(client, request, role, nav, absent):
    user = request.getfixturevalue(role)
    client.force_login(user)
    html = client.get("/").content.decode()
    navigation = re.search(r'<ul class="navbar-nav.*?</ul>', html, re.S).group(0)
    labels = re.findall(r'class="nav-link[^"]*"[^>]*>([^<]+)</a>', navigation)
    assert labels == nav
    assert not set(absent) & set(labels)
    identity = visible_text(re.search(r'data-testid="header-identity">(.*?)</p>', html, re.S).group(1))
    assert identity.startswith(f"CPAM DE LA GIRONDE — {user.first_name} {user.last_name.upper()}")


@pytest.mark.django_db
def test_every_page_has_skip_link_footer_and_local_assets_only(client, technicien):
    client.force_login(technicien)
    html = client.get("/").content.decode()
    assert '<html lang="fr">' in html
    assert '<a class="skip-link visually-hidden-focusable" href="#contenu">Aller au contenu</a>' in html
    assert 'id="contenu"' in html
    for label in ["Mentions légales", "Données personnelles", "Accessibilité"]:
        assert label in text(client.get("/"))
    assets = re.findall(r'(?:src|href)="([^"]+)"', html)
    assert all(not re.match(r"^(https?:)?//", url) for url in assets), assets
    assert "/static/bootstrap/css/bootstrap.min.css" in assets


@pytest.mark.django_db
@pytest.mark.parametrize("path", ["/mentions-legales/", "/donnees-personnelles/", "/accessibilite/"])
def test_footer_pages_are_public(client, path):
    response = client.get(path)
    assert response.status_code == 200
    assert len(re.findall(r"<h1", response.content.decode())) == 1


@pytest.mark.django_db
class TestCaisseSwitch:
    @pytest.fixture
    def two_caisses_partner(self, client, technicien, structure, other_caisse):
        ConventionFactory(structure=structure, caisse=other_caisse)
        client.force_login(technicien)
        return client

    def test_partner_with_two_conventions_switches_and_the_choice_persists(self, two_caisses_partner, other_caisse):
        client = two_caisses_partner
        assert "CPAM DE LA GIRONDE" in text(client.get("/"))
        response = client.post("/caisse/choisir/", {"caisse": other_caisse.pk, "next": "/compte/"})
        assert response["Location"] == "/compte/"
        assert "CPAM DE LA LOIRE —" in text(client.get("/compte/"))
        assert "CPAM DE LA LOIRE —" in text(client.get("/"))

    def test_cannot_switch_to_a_caisse_without_active_convention(self, two_caisses_partner, structure, other_caisse):
        stranger = CaisseFactory(code="972", name="CGSS de la Martinique")
        assert two_caisses_partner.post("/caisse/choisir/", {"caisse": stranger.pk}).status_code == 404
        change_convention_status(structure.conventions.get(caisse=other_caisse), Convention.Status.SUSPENDED)
        assert two_caisses_partner.post("/caisse/choisir/", {"caisse": other_caisse.pk}).status_code == 404

    def test_suspended_choice_falls_back_to_an_active_convention(self, two_caisses_partner, structure, other_caisse):
        two_caisses_partner.post("/caisse/choisir/", {"caisse": other_caisse.pk})
        assert "CPAM DE LA LOIRE —" in text(two_caisses_partner.get("/"))
        # Ended on another application server: this one's header follows at its next page.
        change_convention_status(
            structure.conventions.get(caisse=other_caisse), Convention.Status.ENDED, in_another_process=True
        )
        assert "CPAM DE LA GIRONDE —" in text(two_caisses_partner.get("/"))

    def test_a_convention_changed_by_the_services_shows_at_once(self, two_caisses_partner, structure, other_caisse):
        convention = structure.conventions.get(caisse=other_caisse)
        assert "Changer" in text(two_caisses_partner.get("/"))
        change_convention_status(convention, Convention.Status.ENDED)
        assert "Changer" not in text(two_caisses_partner.get("/"))

    def test_switch_refuses_foreign_redirects(self, two_caisses_partner, other_caisse):
        response = two_caisses_partner.post(
            "/caisse/choisir/", {"caisse": other_caisse.pk, "next": "https://evil.example/"}
        )
        assert response["Location"] == "/"

    def test_single_convention_has_no_switch(self, client, technicien):
        client.force_login(technicien)
        assert "Caisse avec laquelle vous travaillez" not in text(client.get("/"))


@pytest.mark.django_db
def test_partner_without_active_convention_gets_a_clear_page(client, technicien, structure):
    for convention in structure.conventions.all():
        change_convention_status(convention, Convention.Status.SUSPENDED)
    client.force_login(technicien)
    page = text(client.get("/"))
    assert "Aucune convention active" in page
    assert "Aucune demande ne peut être déposée" in page
