"""Object permissions (django-guardian): the services that change memberships and requests grant and revoke them,
and the pages refuse an account whose membership is active but whose permission is gone."""

import pytest
from guardian.shortcuts import remove_perm

from extranet.roles import ADMINISTER_CAISSE, DEPOSIT_REQUESTS, HANDLE_REQUESTS, MANAGE_TECHNICIANS
from requests import services as request_services
from requests.models import RESOLVE_REQUEST
from structures import services
from structures.models import CaisseMembership, Membership
from tests.factories import CaisseMembershipFactory, RequestFactory

IDENTITY = {"civility": "mme", "last_name": "Roux", "first_name": "Anne", "phone": ""}

pytestmark = pytest.mark.django_db


def perms_on(user, target, candidates):
    user = type(user).objects.get(pk=user.pk)  # a fresh object: Django caches permissions on the instance
    return {perm for perm in candidates if user.has_perm(perm, target)}


PARTNER_PERMS = (DEPOSIT_REQUESTS, MANAGE_TECHNICIANS)
CAISSE_PERMS = (HANDLE_REQUESTS, ADMINISTER_CAISSE)


@pytest.mark.parametrize(
    ("role", "expected"),
    [(Membership.Role.TECHNICIEN, {DEPOSIT_REQUESTS}), (Membership.Role.GESTIONNAIRE, set(PARTNER_PERMS))],
)
def test_partner_account_lifecycle_grants_and_revokes(structure, gestionnaire, role, expected):
    membership = services.create_partner_account(
        structure, role=role, by=gestionnaire, email=f"{role}@exemple.fr", **IDENTITY
    )
    assert perms_on(membership.user, structure, PARTNER_PERMS) == expected
    services.deactivate_partner_account(membership, by=gestionnaire)
    assert perms_on(membership.user, structure, PARTNER_PERMS) == set()
    services.reactivate_partner_account(membership, by=gestionnaire)
    assert perms_on(membership.user, structure, PARTNER_PERMS) == expected


@pytest.mark.parametrize(
    ("role", "expected"),
    [(CaisseMembership.Role.AGENT, {HANDLE_REQUESTS}), (CaisseMembership.Role.ADMIN, set(CAISSE_PERMS))],
)
def test_caisse_account_lifecycle_grants_and_revokes(caisse, caisse_admin, role, expected):
    membership = services.create_caisse_account(
        caisse, role=role, by=caisse_admin, email=f"{role}@exemple.fr", **IDENTITY
    )
    assert perms_on(membership.user, caisse, CAISSE_PERMS) == expected
    services.set_caisse_account_active(membership, False, by=caisse_admin)
    assert perms_on(membership.user, caisse, CAISSE_PERMS) == set()
    services.set_caisse_account_active(membership, True, by=caisse_admin)
    assert perms_on(membership.user, caisse, CAISSE_PERMS) == expected


def test_permissions_apply_to_ones_own_structure_and_caisse_only(
    technicien, agent, structure, other_structure, caisse, other_caisse
):
    assert perms_on(technicien, other_structure, PARTNER_PERMS) == set()
    assert perms_on(agent, other_caisse, CAISSE_PERMS) == set()
    assert perms_on(technicien, structure, PARTNER_PERMS) == {DEPOSIT_REQUESTS}
    assert perms_on(agent, caisse, CAISSE_PERMS) == {HANDLE_REQUESTS}


@pytest.mark.parametrize(
    ("user_fixture", "perm", "target", "url"),
    [
        ("technicien", DEPOSIT_REQUESTS, "structure", "/demandes/"),
        ("technicien", DEPOSIT_REQUESTS, "structure", "/demandes/nouvelle/saisine-mas/"),
        ("gestionnaire", MANAGE_TECHNICIANS, "structure", "/structure/techniciens/"),
        ("agent", HANDLE_REQUESTS, "caisse", "/caisse/demandes/"),
        ("caisse_admin", ADMINISTER_CAISSE, "caisse", "/caisse/structures/"),
        ("caisse_admin", ADMINISTER_CAISSE, "caisse", "/caisse/journal-des-acces/"),
    ],
)
def test_pages_check_the_permission_not_only_the_membership(client, request, user_fixture, perm, target, url):
    user = request.getfixturevalue(user_fixture)
    client.force_login(user)
    assert client.get(url).status_code == 200
    remove_perm(perm, user, request.getfixturevalue(target))
    assert client.get(url).status_code == 403


def test_only_the_agent_in_charge_holds_the_right_to_resolve(caisse, structure, technicien, agent, caisse_admin):
    colleague = CaisseMembershipFactory(caisse=caisse).user
    deposited = RequestFactory(caisse=caisse, structure=structure, author=technicien)

    request_services.take_charge(deposited, agent=agent)
    assert perms_on(agent, deposited, [RESOLVE_REQUEST]) == {RESOLVE_REQUEST}
    assert perms_on(colleague, deposited, [RESOLVE_REQUEST]) == set()
    with pytest.raises(request_services.WorkflowRefused):
        request_services.resolve(deposited, agent=colleague, answer="Réponse.")

    request_services.reassign(deposited, admin=caisse_admin, agent=colleague)
    assert perms_on(agent, deposited, [RESOLVE_REQUEST]) == set()
    assert perms_on(colleague, deposited, [RESOLVE_REQUEST]) == {RESOLVE_REQUEST}
    with pytest.raises(request_services.WorkflowRefused):
        request_services.resolve(deposited, agent=agent, answer="Réponse.")

    request_services.resolve(deposited, agent=colleague, answer="Réponse.")
    assert perms_on(colleague, deposited, [RESOLVE_REQUEST]) == set()


def test_agent_in_charge_without_the_permission_cannot_resolve(caisse, structure, technicien, agent):
    deposited = RequestFactory(caisse=caisse, structure=structure, author=technicien)
    request_services.take_charge(deposited, agent=agent)
    remove_perm(RESOLVE_REQUEST, agent, deposited)
    with pytest.raises(request_services.WorkflowRefused):
        request_services.resolve(deposited, agent=type(agent).objects.get(pk=agent.pk), answer="Réponse.")


def test_agent_without_the_caisse_permission_cannot_take_charge(caisse, structure, technicien, agent):
    deposited = RequestFactory(caisse=caisse, structure=structure, author=technicien)
    remove_perm(HANDLE_REQUESTS, agent, caisse)
    with pytest.raises(request_services.WorkflowRefused):
        request_services.take_charge(deposited, agent=type(agent).objects.get(pk=agent.pk))


def test_holds_answers_as_guardian_in_one_query(
    technicien, gestionnaire, structure, agent, caisse, django_assert_num_queries
):
    from extranet.roles import holds

    for user, target, candidates in [
        (technicien, structure, PARTNER_PERMS),
        (gestionnaire, structure, PARTNER_PERMS),
        (agent, caisse, CAISSE_PERMS),
        (technicien, caisse, CAISSE_PERMS),
    ]:
        for perm in candidates:
            with django_assert_num_queries(1):
                held = holds(user, perm, target)
            assert held == (perm in perms_on(user, target, candidates)), (user, perm)
    technicien.is_active = False
    assert not holds(technicien, DEPOSIT_REQUESTS, structure)
    technicien.is_active, technicien.is_superuser = True, True
    remove_perm(DEPOSIT_REQUESTS, technicien, structure)
    assert holds(technicien, DEPOSIT_REQUESTS, structure)
