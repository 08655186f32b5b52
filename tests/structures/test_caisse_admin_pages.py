import pytest

from structures.models import CaisseMembership, Convention, Structure
from tests.factories import CaisseMembershipFactory, ConventionFactory, MembershipFactory
from tests.helpers import text


def structure_data(**overrides):
    return {
        "name": "Association Gamma",
        "siret": "73282932000074",
        "kind": "association",
        "headcount": "12",
        "insured_documents_habilitation": "on",
        "signed_on": "2025-03-01",
        "convention_status": "active",
    } | overrides


@pytest.mark.django_db
class TestStructures:
    def test_list_shows_only_structures_of_the_admins_caisse(self, admin_client, structure, other_structure):
        page = text(admin_client.get("/caisse/structures/"))
        assert structure.name in page
        assert other_structure.name not in page

    def test_list_shows_seats_and_convention(self, admin_client, structure):
        MembershipFactory(structure=structure, gestionnaire=True)
        page = text(admin_client.get("/caisse/structures/"))
        assert "1 / 2" in page
        assert "Active" in page

    def test_search_by_name_or_siret(self, admin_client, caisse):
        alpha = ConventionFactory(caisse=caisse, structure__name="CCAS de Pessac").structure
        beta = ConventionFactory(caisse=caisse, structure__name="Secours Santé").structure
        assert beta.name not in text(admin_client.get("/caisse/structures/?q=pessac"))
        assert alpha.name not in text(admin_client.get(f"/caisse/structures/?q={beta.siret[:9]}"))

    def test_create_structure_with_its_convention(self, admin_client, caisse):
        response = admin_client.post("/caisse/structures/nouvelle/", structure_data(), follow=True)
        structure = Structure.objects.get(siret="73282932000074")
        assert structure.insured_documents_habilitation and structure.headcount == 12
        convention = structure.conventions.get()
        assert (convention.caisse, convention.status) == (caisse, Convention.Status.ACTIVE)
        assert "Créer un gestionnaire" in text(response)

    def test_bad_input_is_explained_and_nothing_is_written(self, admin_client):
        response = admin_client.post(
            "/caisse/structures/nouvelle/", structure_data(siret="73282932000075", headcount="0", name="")
        )
        assert response.status_code == 200
        form = response.context["form"]
        assert set(form.errors) == {"siret", "headcount", "name"}
        assert "L'effectif compte au moins une personne." in form.errors["headcount"]
        assert not Structure.objects.exists()

    def test_edit_structure(self, admin_client, structure):
        response = admin_client.post(
            f"/caisse/structures/{structure.pk}/modifier/",
            {"name": "Nouveau nom", "siret": structure.siret, "kind": "ccas", "headcount": 14},
        )
        assert response.status_code == 302
        structure.refresh_from_db()
        assert (structure.name, structure.kind, structure.headcount) == ("Nouveau nom", "ccas", 14)

    def test_suspend_convention(self, admin_client, structure, caisse):
        url = f"/caisse/structures/{structure.pk}/convention/"
        admin_client.post(url, {"signed_on": "2024-01-15", "status": "suspended"})
        assert structure.conventions.get(caisse=caisse).status == Convention.Status.ACTIVE  # asked to confirm first
        admin_client.post(url, {"signed_on": "2024-01-15", "status": "suspended", "confirm": "1"})
        assert structure.conventions.get(caisse=caisse).status == Convention.Status.SUSPENDED

    @pytest.mark.parametrize("day", ["0001-01-01", "1999-12-31", "2205-01-01"])
    def test_the_signature_date_of_a_convention_is_plausible(
        self, admin_client, structure, caisse, other_structure, day
    ):
        bounds = "Saisissez une date entre le 01/01/2000 et le "
        response = admin_client.post("/caisse/structures/nouvelle/", structure_data(signed_on=day))
        assert response.context["form"].errors["signed_on"][0].startswith(bounds)
        response = admin_client.post(
            f"/caisse/structures/{structure.pk}/convention/", {"signed_on": day, "status": "active"}
        )
        assert response.context["form"].errors["signed_on"][0].startswith(bounds)
        response = admin_client.post(
            "/caisse/structures/conventionner/", {"siret": other_structure.siret, "signed_on": day, "status": "active"}
        )
        assert response.context["form"].errors["signed_on"][0].startswith(bounds)
        assert Structure.objects.count() == 2 and Convention.objects.count() == 2

    def test_convention_with_a_structure_of_another_caisse(self, admin_client, caisse, other_structure):
        response = admin_client.post(
            "/caisse/structures/conventionner/",
            {"siret": other_structure.siret, "signed_on": "2025-06-01", "status": "active"},
        )
        assert response.status_code == 302
        assert other_structure.conventions.count() == 2
        again = admin_client.post(
            "/caisse/structures/conventionner/",
            {"siret": other_structure.siret, "signed_on": "2025-06-01", "status": "active"},
        )
        assert "a déjà une convention avec votre caisse" in text(again)

    def test_unknown_siret_for_convention(self, admin_client):
        response = admin_client.post(
            "/caisse/structures/conventionner/",
            {"siret": "73282932000074", "signed_on": "2025-06-01", "status": "active"},
        )
        assert "Aucune structure n'est inscrite avec ce SIRET" in text(response)

    @pytest.mark.parametrize(
        "path",
        [
            "/caisse/structures/{pk}/",
            "/caisse/structures/{pk}/modifier/",
            "/caisse/structures/{pk}/convention/",
            "/caisse/structures/{pk}/gestionnaires/nouveau/",
        ],
    )
    def test_another_caisses_structure_does_not_exist(self, admin_client, other_structure, path):
        assert admin_client.get(path.format(pk=other_structure.pk)).status_code == 404
        assert admin_client.post(path.format(pk=other_structure.pk), {}).status_code == 404

    @pytest.mark.parametrize("action", ["desactiver", "reactiver", "renvoyer-activation"])
    def test_another_caisses_gestionnaire_does_not_exist(self, admin_client, other_structure, action):
        membership = MembershipFactory(structure=other_structure, gestionnaire=True)
        assert admin_client.post(f"/caisse/gestionnaires/{membership.pk}/{action}/").status_code == 404
        membership.refresh_from_db()
        assert membership.is_active

    def test_deactivate_and_reactivate_gestionnaire(self, admin_client, structure):
        membership = MembershipFactory(structure=structure, gestionnaire=True)
        admin_client.post(f"/caisse/gestionnaires/{membership.pk}/desactiver/")
        membership.refresh_from_db()
        assert not membership.is_active and not membership.user.is_active
        assert "Désactivé" in text(admin_client.get(f"/caisse/structures/{structure.pk}/"))
        admin_client.post(f"/caisse/gestionnaires/{membership.pk}/reactiver/")
        membership.refresh_from_db()
        assert membership.is_active and membership.user.is_active


@pytest.mark.django_db
class TestAgents:
    def agent_data(self):
        return {
            "civility": "mme",
            "last_name": "Roux",
            "first_name": "Anne",
            "email": "anne.roux@cpam.fr",
            "phone": "",
        }

    def test_create_agent_sends_activation(self, admin_client, caisse, commit, mailoutbox):
        with commit():
            response = admin_client.post("/caisse/agents/nouveau/", self.agent_data())
        assert response.status_code == 302
        membership = CaisseMembership.objects.get(user__email="anne.roux@cpam.fr")
        assert (membership.caisse, membership.role) == (caisse, CaisseMembership.Role.AGENT)
        assert mailoutbox[-1].to == ["anne.roux@cpam.fr"]
        assert "Invité" in text(admin_client.get("/caisse/agents/"))

    def test_duplicate_email_is_refused_next_to_the_field(self, admin_client, agent):
        response = admin_client.post("/caisse/agents/nouveau/", self.agent_data() | {"email": agent.email.upper()})
        assert response.context["form"].errors["email"] == [
            "Cette adresse électronique est déjà associée à un compte."
        ]

    def test_deactivate_agent(self, admin_client, agent):
        admin_client.post(f"/caisse/agents/{agent.caissemembership.pk}/desactiver/")
        agent.refresh_from_db()
        assert not agent.is_active

    def test_agent_of_another_caisse_does_not_exist(self, admin_client, other_caisse):
        other_agent = CaisseMembershipFactory(caisse=other_caisse)
        for action in ["desactiver", "reactiver", "renvoyer-activation"]:
            assert admin_client.post(f"/caisse/agents/{other_agent.pk}/{action}/").status_code == 404
        assert other_agent.user.get_full_name() not in text(admin_client.get("/caisse/agents/"))


@pytest.mark.django_db
@pytest.mark.parametrize("role", ["technicien", "gestionnaire", "agent"])
@pytest.mark.parametrize("path", ["/caisse/structures/", "/caisse/agents/", "/caisse/structures/nouvelle/"])
def test_only_caisse_administrators_reach_these_pages(client, request, role, path):
    client.force_login(request.getfixturevalue(role))
    assert client.get(path).status_code == 403
