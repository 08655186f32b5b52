"""An administrateur corrects the name and phone of the caisse's agents and administrateurs and of its structures'
gestionnaires: through the service, logged in the caisse's journal; anyone else's account does not exist."""

import pytest

from extranet.audit.models import AccessLog
from structures import services
from tests.factories import CaisseMembershipFactory, MembershipFactory
from tests.helpers import as_loaded, text

pytestmark = pytest.mark.django_db


def correction(**overrides):
    return {"last_name": "Martin-Roux", "first_name": "Élise", "phone": "0556112233"} | overrides


@pytest.fixture
def gestionnaire_membership(structure):
    return MembershipFactory(
        structure=structure, gestionnaire=True, user__first_name="Elise", user__last_name="Martin", user__phone=""
    )


def test_a_gestionnaires_name_and_phone_are_corrected_and_logged(
    admin_client, caisse, caisse_admin, structure, gestionnaire_membership
):
    user = gestionnaire_membership.user
    url = f"/caisse/gestionnaires/{gestionnaire_membership.pk}/modifier/"
    form_page = text(admin_client.get(url))
    assert "Modifier le compte de Elise MARTIN" in form_page and user.email in form_page
    response = admin_client.post(url, correction(email="autre@exemple.fr", civility="m"))
    assert response.status_code == 302 and response["Location"] == f"/caisse/structures/{structure.pk}/"
    user.refresh_from_db()
    # The phone as every form stores it; the email and the civility are not the administrateur's to change.
    assert (user.first_name, user.last_name, user.phone) == ("Élise", "Martin-Roux", "05 56 11 22 33")
    assert user.email != "autre@exemple.fr" and user.civility == "mme"
    entry = AccessLog.objects.get()
    assert (entry.user, entry.action, entry.caisse, entry.request) == (caisse_admin, "account_edit", caisse, None)
    assert entry.target == (
        f"Gestionnaire {user.email}, Association Alpha : prénom, nom, téléphone (Elise MARTIN → Élise MARTIN-ROUX)"
    )
    assert "0556112233" not in entry.target and "05 56 11 22 33" not in entry.target
    journal = text(admin_client.get("/caisse/journal-des-acces/"))
    assert "Modification d'un compte" in journal and "Elise MARTIN → Élise MARTIN-ROUX" in journal


def test_the_structure_page_offers_the_correction(admin_client, structure, gestionnaire_membership):
    page = text(admin_client.get(f"/caisse/structures/{structure.pk}/"))
    assert "Modifier Elise MARTIN" in page


def test_an_agents_and_an_administrateurs_too(admin_client, caisse):
    for kind, membership in (
        ("agents", CaisseMembershipFactory(caisse=caisse)),
        ("administrateurs", CaisseMembershipFactory(caisse=caisse, admin=True)),
    ):
        assert f"Modifier {membership.user.get_full_name()}" in text(admin_client.get(f"/caisse/{kind}/"))
        response = admin_client.post(f"/caisse/{kind}/{membership.pk}/modifier/", correction(phone=""))
        assert response["Location"] == f"/caisse/{kind}/"
        membership.user.refresh_from_db()
        assert membership.user.get_full_name() == "Élise MARTIN-ROUX"
    assert AccessLog.objects.filter(action="account_edit").count() == 2


def test_nothing_changed_logs_nothing(admin_client, gestionnaire_membership):
    user = gestionnaire_membership.user
    response = admin_client.post(
        f"/caisse/gestionnaires/{gestionnaire_membership.pk}/modifier/",
        {"last_name": user.last_name, "first_name": user.first_name, "phone": ""},
        follow=True,
    )
    assert "Aucune modification." in text(response)
    assert not AccessLog.objects.exists()


def test_bad_input_is_explained_and_nothing_is_written(admin_client, gestionnaire_membership):
    response = admin_client.post(
        f"/caisse/gestionnaires/{gestionnaire_membership.pk}/modifier/", correction(last_name="", phone="12")
    )
    assert response.status_code == 200
    assert set(response.context["form"].errors) == {"last_name", "phone"}
    gestionnaire_membership.user.refresh_from_db()
    assert gestionnaire_membership.user.last_name == "Martin"
    assert not AccessLog.objects.exists()


def test_accounts_out_of_reach_do_not_exist(admin_client, structure, other_structure, other_caisse):
    out_of_reach = [
        f"/caisse/gestionnaires/{MembershipFactory(structure=other_structure, gestionnaire=True).pk}/modifier/",
        # A technicien is their gestionnaire's to edit, not the caisse's.
        f"/caisse/gestionnaires/{MembershipFactory(structure=structure).pk}/modifier/",
        f"/caisse/agents/{CaisseMembershipFactory(caisse=other_caisse).pk}/modifier/",
        f"/caisse/administrateurs/{CaisseMembershipFactory(caisse=other_caisse, admin=True).pk}/modifier/",
    ]
    for url in out_of_reach:
        assert admin_client.get(url).status_code == 404, url
        assert admin_client.post(url, correction()).status_code == 404, url
    assert not AccessLog.objects.exists()


def test_the_service_refuses_anyone_but_the_accounts_administrateurs(
    structure, caisse, other_caisse_admin, gestionnaire, agent, gestionnaire_membership
):
    for by in (other_caisse_admin, gestionnaire, agent):
        with pytest.raises(services.NotAllowed):
            services.correct_identity(gestionnaire_membership, by=as_loaded(by), **correction())
    with pytest.raises(services.NotAllowed):
        services.correct_identity(agent.caissemembership, by=as_loaded(other_caisse_admin), **correction())
    gestionnaire_membership.user.refresh_from_db()
    assert gestionnaire_membership.user.last_name == "Martin"
