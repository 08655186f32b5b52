"""A person who lost their second factor: their gestionnaire (techniciens) or their caisse's administrateur
(gestionnaires, agents) resets it; the person sets it up again at the next sign-in."""

import pytest
from django_otp.plugins.otp_static.models import StaticDevice
from django_otp.plugins.otp_totp.models import TOTPDevice

from extranet.accounts.models import Session
from tests.factories import PASSWORD, CaisseMembershipFactory, MembershipFactory
from tests.helpers import sign_in, text

pytestmark = pytest.mark.django_db


def reset_button_shown(page, user):
    return f"Réinitialiser la double authentification de {user.get_full_name()}" in text(page)


@pytest.mark.parametrize(
    ("manager_fixture", "make_member", "list_url", "reset_url"),
    [
        (
            "gestionnaire",
            lambda structure, caisse: MembershipFactory(structure=structure),
            "/structure/techniciens/",
            "/structure/techniciens/{pk}/double-authentification/",
        ),
        (
            "caisse_admin",
            lambda structure, caisse: MembershipFactory(structure=structure, gestionnaire=True),
            "/caisse/structures/{structure}/",
            "/caisse/gestionnaires/{pk}/double-authentification/",
        ),
        (
            "caisse_admin",
            lambda structure, caisse: CaisseMembershipFactory(caisse=caisse),
            "/caisse/agents/",
            "/caisse/agents/{pk}/double-authentification/",
        ),
    ],
)
def test_manager_resets_a_lost_second_factor(
    request,
    client,
    client_factory,
    structure,
    caisse,
    commit,
    mailoutbox,
    manager_fixture,
    make_member,
    list_url,
    reset_url,
):
    membership = make_member(structure, caisse)
    person = membership.user
    person_browser = client_factory()
    sign_in(person_browser, person.email, PASSWORD)
    assert TOTPDevice.objects.filter(user=person).exists() and StaticDevice.objects.filter(user=person).exists()

    client.force_login(request.getfixturevalue(manager_fixture))
    assert reset_button_shown(client.get(list_url.format(structure=structure.pk)), person)
    with commit():
        response = client.post(reset_url.format(pk=membership.pk), follow=True)
    assert "est réinitialisée" in text(response)

    assert not TOTPDevice.objects.filter(user=person).exists()
    assert not StaticDevice.objects.filter(user=person).exists()
    assert not Session.objects.filter(user_id=person.pk).exists()
    assert person_browser.get("/").status_code == 302
    assert any(person.email in message.to and "réinitialisée" in message.subject for message in mailoutbox)

    # Next sign-in: the password leads to the set-up of a new second factor.
    person_browser.post("/connexion/", {"username": person.email, "password": PASSWORD})
    assert person_browser.get("/")["Location"].startswith("/double-authentification/")


def test_an_invited_account_has_nothing_to_reset(client, gestionnaire, structure):
    invited = MembershipFactory(structure=structure, user__invited=True)
    client.force_login(gestionnaire)
    assert not reset_button_shown(client.get("/structure/techniciens/"), invited.user)
    response = client.post(f"/structure/techniciens/{invited.pk}/double-authentification/", follow=True)
    assert "Seul un compte actif" in text(response)
