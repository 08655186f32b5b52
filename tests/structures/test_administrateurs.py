"""A caisse's administrateurs see and invite the caisse's other administrateurs (the invitation every account gets),
deactivate them, never delete them, and the caisse always keeps one who can sign in."""

import threading

import pytest
from django.db import connection

from extranet.accounts.models import Session
from structures import services
from structures.models import CaisseMembership
from tests.factories import PASSWORD, CaisseMembershipFactory, UserFactory
from tests.helpers import last_link, path_of, sign_in, text

pytestmark = pytest.mark.django_db

LIST = "/caisse/administrateurs/"
LAST_ADMIN = (
    "La CPAM de la Gironde doit garder au moins un administrateur actif : créez ou réactivez d'abord un autre "
    "administrateur, et attendez qu'il ait activé son compte, avant de désactiver celui-ci."
)


def admin_data(**overrides):
    return {
        "civility": "m",
        "last_name": "Lemoine",
        "first_name": "Paul",
        "email": "paul.lemoine@cpam.fr",
        "phone": "05 56 11 22 33",
    } | overrides


def messages_of(response):
    return [str(message) for message in response.context["messages"]]


def test_the_list_shows_the_caisses_administrateurs_whatever_their_state(
    admin_client, caisse_admin, caisse, other_caisse
):
    invited = CaisseMembershipFactory(caisse=caisse, admin=True, user=UserFactory(invited=True, last_name="Invitée"))
    gone = CaisseMembershipFactory(caisse=caisse, admin=True, is_active=False, user__last_name="Partie")
    agent = CaisseMembershipFactory(caisse=caisse, user__last_name="Agente")
    elsewhere = CaisseMembershipFactory(caisse=other_caisse, admin=True, user__last_name="Ailleurs")
    response = admin_client.get(LIST)
    rows = {membership.pk: membership.account_status for membership in response.context["page"]}
    assert rows == {caisse_admin.caissemembership.pk: "active", invited.pk: "invited", gone.pk: "disabled"}
    page = text(response)
    assert f"{caisse_admin.get_full_name()} (vous)" in page
    assert "Invité" in page and "Retirer l'invitation" in page and "Réactiver" in page
    assert agent.user.get_full_name() not in page and elsewhere.user.get_full_name() not in page


def test_an_administrateur_invites_another_who_activates_and_administers(
    admin_client, caisse, caisse_admin, commit, mailoutbox, client_factory
):
    with commit():
        response = admin_client.post("/caisse/administrateurs/nouveau/", admin_data())
    assert response.status_code == 302 and response["Location"] == LIST
    membership = CaisseMembership.objects.get(user__email="paul.lemoine@cpam.fr")
    assert (membership.caisse, membership.role, membership.created_by) == (
        caisse,
        CaisseMembership.Role.ADMIN,
        caisse_admin,
    )
    assert membership.user.phone == "05 56 11 22 33" and membership.user.is_invited
    assert mailoutbox[-1].to == ["paul.lemoine@cpam.fr"]
    assert "Invité" in text(admin_client.get(LIST))

    newcomer = client_factory()
    password = "Quatre-pommes-vertes-2026"
    activation = path_of(last_link("paul.lemoine@cpam.fr"))
    newcomer.post(activation, {"new_password1": password, "new_password2": password})
    sign_in(newcomer, "paul.lemoine@cpam.fr", password)
    assert newcomer.get("/caisse/structures/").status_code == 200


def test_an_address_already_used_is_refused_next_to_the_field(admin_client, agent):
    response = admin_client.post("/caisse/administrateurs/nouveau/", admin_data(email=agent.email.upper()))
    assert response.context["form"].errors["email"] == ["Cette adresse électronique est déjà associée à un compte."]
    assert not CaisseMembership.objects.filter(role="admin", user__email__iexact=agent.email).exists()


def test_another_administrateur_is_deactivated_never_deleted_then_reactivated(
    admin_client, caisse, caisse_admin, client_factory
):
    other = CaisseMembershipFactory(caisse=caisse, admin=True)
    their_browser = client_factory()
    sign_in(their_browser, other.user.email, PASSWORD)
    response = admin_client.post(f"/caisse/administrateurs/{other.pk}/desactiver/", follow=True)
    assert f"Le compte de {other.user} est désactivé et ses sessions sont fermées." in messages_of(response)
    other.refresh_from_db()
    assert not other.is_active and other.deactivated_by == caisse_admin and not other.user.is_active
    assert not Session.objects.filter(user_id=other.user_id).exists()
    admin_client.post(f"/caisse/administrateurs/{other.pk}/reactiver/")
    other.refresh_from_db()
    assert other.is_active and other.user.is_active


@pytest.mark.parametrize("other_admin", [None, "invited", "deactivated", "account off"])
def test_the_last_administrateur_who_can_sign_in_cannot_deactivate_themselves(
    admin_client, caisse, caisse_admin, other_admin
):
    if other_admin == "invited":
        CaisseMembershipFactory(caisse=caisse, admin=True, user=UserFactory(invited=True))
    elif other_admin == "deactivated":
        CaisseMembershipFactory(caisse=caisse, admin=True, is_active=False)
    elif other_admin == "account off":
        CaisseMembershipFactory(caisse=caisse, admin=True, user__is_active=False)
    own = caisse_admin.caissemembership
    response = admin_client.post(f"/caisse/administrateurs/{own.pk}/desactiver/", follow=True)
    assert messages_of(response) == [LAST_ADMIN]
    own.refresh_from_db()
    assert own.is_active and own.user.is_active


def test_with_another_active_administrateur_one_may_leave(admin_client, caisse, caisse_admin):
    CaisseMembershipFactory(caisse=caisse, admin=True)
    own = caisse_admin.caissemembership
    response = admin_client.post(f"/caisse/administrateurs/{own.pk}/desactiver/")
    own.refresh_from_db()
    assert not own.is_active
    # Their own sessions ended with it: the next page asks them to sign in.
    assert admin_client.get(response["Location"]).status_code == 302


def test_the_service_guards_the_last_administrateur_whoever_calls_it(caisse, caisse_admin):
    with pytest.raises(services.LastAdministrator):
        services.set_caisse_account_active(caisse_admin.caissemembership, False, by=caisse_admin)
    # An agent's deactivation is not concerned.
    agent = CaisseMembershipFactory(caisse=caisse)
    services.set_caisse_account_active(agent, False, by=caisse_admin)
    agent.refresh_from_db()
    assert not agent.is_active


@pytest.mark.parametrize("action", ["desactiver", "reactiver", "renvoyer-activation", "double-authentification"])
def test_another_caisses_administrateur_does_not_exist(admin_client, other_caisse, action):
    other = CaisseMembershipFactory(caisse=other_caisse, admin=True, user=UserFactory(invited=True))
    assert admin_client.post(f"/caisse/administrateurs/{other.pk}/{action}/").status_code == 404
    assert admin_client.get(f"/caisse/administrateurs/{other.pk}/modifier/").status_code == 404
    other.refresh_from_db()
    assert other.is_active


def test_an_invitation_is_resent_and_withdrawn(admin_client, caisse, commit, mailoutbox):
    invited = CaisseMembershipFactory(caisse=caisse, admin=True, user=UserFactory(invited=True))
    with commit():
        admin_client.post(f"/caisse/administrateurs/{invited.pk}/renvoyer-activation/")
    assert mailoutbox[-1].to == [invited.user.email]
    response = admin_client.post(f"/caisse/administrateurs/{invited.pk}/desactiver/", follow=True)
    assert messages_of(response)[-1] == (
        f"L'invitation de {invited.user} est retirée : son lien d'activation ne sert plus."
    )


@pytest.mark.parametrize("role", ["technicien", "gestionnaire", "agent"])
def test_only_administrateurs_reach_the_list(client, request, role):
    client.force_login(request.getfixturevalue(role))
    assert client.get(LIST).status_code == 403
    assert client.get("/caisse/administrateurs/nouveau/").status_code == 403


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_administrateurs_deactivating_each_other_at_once_leave_one(caisse, monkeypatch):
    """Each deactivation counts the others under the caisse's row lock: the second waits for the first, then sees it
    is the last one left. (Each one lingers between its count and its write, where both would otherwise pass.)"""
    first, second = (CaisseMembershipFactory(caisse=caisse, admin=True) for _ in range(2))
    write = services._set_membership_active

    def slow_write(*args, **kwargs):
        threading.Event().wait(0.3)
        write(*args, **kwargs)

    monkeypatch.setattr(services, "_set_membership_active", slow_write)
    barrier = threading.Barrier(2)
    outcomes = []

    def deactivate(membership, by):
        try:
            barrier.wait()
            services.set_caisse_account_active(membership, False, by=by)
            outcomes.append("deactivated")
        except services.LastAdministrator:
            outcomes.append("refused")
        finally:
            connection.close()

    threads = [
        threading.Thread(target=deactivate, args=(first, second.user)),
        threading.Thread(target=deactivate, args=(second, first.user)),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) == ["deactivated", "refused"]
    assert CaisseMembership.objects.filter(caisse=caisse, role="admin", is_active=True).count() == 1
