import pytest
import time_machine
from django.utils import timezone

from extranet.accounts.models import Session
from structures.models import Membership
from tests.factories import PASSWORD, MembershipFactory, UserFactory
from tests.helpers import text


def technicien_data(**overrides):
    return {
        "civility": "m",
        "last_name": "Petit",
        "first_name": "Luc",
        "email": "luc.petit@exemple.fr",
        "phone": "06.12.34.56.78",
    } | overrides


@pytest.mark.django_db
class TestTechniciens:
    def test_list_shows_status_and_last_login(self, gestionnaire_client, structure):
        with time_machine.travel(timezone.datetime(2026, 3, 2, 9, 15, tzinfo=timezone.get_current_timezone())):
            active = MembershipFactory(structure=structure, user__last_login=timezone.now())
        invited = MembershipFactory(structure=structure, user=UserFactory(invited=True))
        disabled = MembershipFactory(structure=structure, is_active=False)
        page = text(gestionnaire_client.get("/structure/techniciens/"))
        assert f"{active.user.get_full_name()} {active.user.email} Actif 02/03/2026 09h15" in page
        assert f"{invited.user.get_full_name()} {invited.user.email} Invité jamais" in page
        assert f"{disabled.user.get_full_name()} {disabled.user.email} Désactivé" in page

    def test_create_technicien(self, gestionnaire_client, gestionnaire, structure, commit, mailoutbox):
        with commit():
            response = gestionnaire_client.post("/structure/techniciens/nouveau/", technicien_data())
        assert response.status_code == 302
        membership = Membership.objects.get(user__email="luc.petit@exemple.fr")
        assert (membership.structure, membership.role, membership.created_by) == (
            structure,
            Membership.Role.TECHNICIEN,
            gestionnaire,
        )
        assert membership.user.phone == "06 12 34 56 78"
        assert mailoutbox[-1].to == ["luc.petit@exemple.fr"]
        assert gestionnaire.get_full_name() in mailoutbox[-1].body

    @pytest.mark.parametrize(
        ("field", "value", "message"),
        [
            ("phone", "12345", "Saisissez un numéro de téléphone français à 10 chiffres"),
            ("email", "pas-une-adresse", "Saisissez une adresse électronique de la forme nom@domaine.fr."),
            ("email", "inès.faure@exemple.fr", "les lettres accentuées (é, è, ç…) et les espaces ne le sont pas"),
            ("last_name", "", "Ce champ est obligatoire."),
        ],
    )
    def test_bad_input_is_explained_next_to_the_field(self, gestionnaire_client, field, value, message, mailoutbox):
        response = gestionnaire_client.post("/structure/techniciens/nouveau/", technicien_data(**{field: value}))
        assert message in response.context["form"].errors[field][0]
        assert 'aria-invalid="true"' in response.content.decode()
        assert not Membership.objects.filter(role=Membership.Role.TECHNICIEN).exists()
        assert mailoutbox == []

    def test_edit_invited_technicien_email_resends_the_link(self, gestionnaire_client, structure, commit, mailoutbox):
        membership = MembershipFactory(structure=structure, user=UserFactory(invited=True))
        with commit():
            gestionnaire_client.post(
                f"/structure/techniciens/{membership.pk}/modifier/", technicien_data(email="corrige@exemple.fr")
            )
        membership.user.refresh_from_db()
        assert membership.user.email == "corrige@exemple.fr"
        assert mailoutbox[-1].to == ["corrige@exemple.fr"]

    def test_activated_technicien_email_is_not_editable_by_the_gestionnaire(self, gestionnaire_client, structure):
        membership = MembershipFactory(structure=structure)
        old_email = membership.user.email
        gestionnaire_client.post(
            f"/structure/techniciens/{membership.pk}/modifier/", technicien_data(email="autre@exemple.fr")
        )
        membership.user.refresh_from_db()
        assert (membership.user.email, membership.user.last_name) == (old_email, "Petit")

    def test_deactivation_ends_sessions_and_keeps_the_account(self, gestionnaire_client, structure, client_factory):
        membership = MembershipFactory(structure=structure)
        technicien_browser = client_factory()
        technicien_browser.post("/connexion/", {"username": membership.user.email, "password": PASSWORD})
        assert Session.objects.filter(user_id=membership.user_id).exists()
        gestionnaire_client.post(f"/structure/techniciens/{membership.pk}/desactiver/")
        assert not Session.objects.filter(user_id=membership.user_id).exists()
        assert technicien_browser.get("/").status_code == 302
        assert Membership.objects.filter(pk=membership.pk, is_active=False).exists()

    def test_resend_activation(self, gestionnaire_client, structure, commit, mailoutbox):
        membership = MembershipFactory(structure=structure, user=UserFactory(invited=True))
        with commit():
            gestionnaire_client.post(f"/structure/techniciens/{membership.pk}/renvoyer-activation/")
        assert mailoutbox[-1].to == [membership.user.email]

    @pytest.mark.parametrize(
        ("method", "path"),
        [
            ("get", "/structure/techniciens/{pk}/modifier/"),
            ("post", "/structure/techniciens/{pk}/modifier/"),
            ("post", "/structure/techniciens/{pk}/desactiver/"),
            ("post", "/structure/techniciens/{pk}/reactiver/"),
            ("post", "/structure/techniciens/{pk}/renvoyer-activation/"),
        ],
    )
    def test_another_structures_technicien_does_not_exist(self, gestionnaire_client, other_structure, method, path):
        # Not the name the form sends, which a random one could be.
        foreign = MembershipFactory(structure=other_structure, user__last_name="Lambert")
        response = getattr(gestionnaire_client, method)(path.format(pk=foreign.pk), technicien_data())
        assert response.status_code == 404
        foreign.refresh_from_db()
        assert foreign.is_active and foreign.user.last_name != "Petit"
        assert foreign.user.email not in text(gestionnaire_client.get("/structure/techniciens/"))

    def test_gestionnaires_are_not_managed_here(self, gestionnaire_client, structure):
        fellow = MembershipFactory(structure=structure, gestionnaire=True)
        assert gestionnaire_client.post(f"/structure/techniciens/{fellow.pk}/desactiver/").status_code == 404

    def test_a_deactivated_gestionnaire_loses_the_permission(self, client, structure):
        membership = MembershipFactory(structure=structure, gestionnaire=True)
        from structures import policy, services

        services.deactivate_partner_account(membership, by=None)
        user = type(membership.user).objects.get(pk=membership.user_id)
        assert not policy.can_manage_technicians(user, structure)


@pytest.mark.django_db
@pytest.mark.parametrize("role", ["technicien", "agent", "caisse_admin"])
def test_only_gestionnaires_manage_techniciens(client, request, role):
    client.force_login(request.getfixturevalue(role))
    assert client.get("/structure/techniciens/").status_code == 403


@pytest.mark.django_db
class TestTheGestionnairesSeenByAGestionnaire:
    def test_the_structures_gestionnaires_and_seats_read_only(
        self, gestionnaire_client, gestionnaire, structure, other_gestionnaire
    ):
        invited = MembershipFactory(structure=structure, gestionnaire=True, user=UserFactory(invited=True))
        gone = MembershipFactory(structure=structure, gestionnaire=True, is_active=False)
        response = gestionnaire_client.get("/structure/techniciens/")
        page = text(response)
        assert "2 gestionnaires actifs sur 2 places (effectif de 5 personnes)." in page
        assert f"{gestionnaire.get_full_name()} (vous) Actif {gestionnaire.email}" in page
        assert f"{invited.user.get_full_name()} Invité {invited.user.email}" in page
        assert gone.user.email not in page
        assert other_gestionnaire.email not in page
        assert "/caisse/gestionnaires/" not in response.content.decode()

    def test_one_gestionnaire_in_the_singular(self, gestionnaire_client):
        assert "1 gestionnaire actif sur 2 places" in text(gestionnaire_client.get("/structure/techniciens/"))


@pytest.mark.django_db
class TestTheTechnicienSearch:
    @pytest.fixture
    def people(self, structure, other_structure):
        return {
            "helene": MembershipFactory(
                structure=structure, user__first_name="Hélène", user__last_name="Lefèvre", user__email="hl@alpha.fr"
            ),
            "paul": MembershipFactory(
                structure=structure, user__first_name="Paul", user__last_name="Martin", user__email="pm@alpha.fr"
            ),
            "foreign": MembershipFactory(
                structure=other_structure,
                user__first_name="Hélène",
                user__last_name="Lefèvre",
                user__email="hl@beta.fr",
            ),
        }

    @pytest.mark.parametrize(
        ("query", "found"),
        [
            ("helene", ["helene"]),
            ("LEFEVRE hélène", ["helene"]),
            ("pm@alpha", ["paul"]),
            ("alpha.fr", ["helene", "paul"]),
        ],
    )
    def test_finds_by_name_or_address_within_the_structure(self, gestionnaire_client, people, query, found):
        page = text(gestionnaire_client.get("/structure/techniciens/", {"q": query}))
        shown = sorted(key for key, membership in people.items() if membership.user.email in page)
        assert shown == found
        assert f"{len(found)} technicien{'s' if len(found) > 1 else ''} trouvé" in page

    def test_nothing_found_is_said(self, gestionnaire_client, people):
        response = gestionnaire_client.get("/structure/techniciens/", {"q": "Dupont"})
        assert "Aucun technicien ne correspond à « Dupont »." in text(response)
        assert 'value="Dupont"' in response.content.decode()

    def test_the_next_page_keeps_the_search(self, gestionnaire_client, structure):
        MembershipFactory.create_batch(26, structure=structure, user__last_name="Roux")
        MembershipFactory(structure=structure, user__last_name="Blanc")
        response = gestionnaire_client.get("/structure/techniciens/", {"q": "roux"})
        assert "26 techniciens trouvés" in text(response)
        assert 'href="?q=roux&amp;page=2"' in response.content.decode()
        assert "ROUX" in text(gestionnaire_client.get("/structure/techniciens/", {"q": "roux", "page": "2"}))
