"""Rights: a membership is the role and its rights (structures/policy.py), nothing is stored that mirrors it; the
only object permission is the agent in charge's right to resolve, which the workflow grants, moves and removes."""

import pytest
from guardian.models import UserObjectPermission
from guardian.shortcuts import remove_perm

from requests import services as request_services
from requests.models import RequestUserObjectPermission
from requests.policy import RESOLVE_REQUEST, holds_resolve_right
from requests.workflow import _grant_resolve_right
from structures import policy, services
from structures.models import CaisseMembership, Membership
from tests.factories import CaisseMembershipFactory, RequestFactory

IDENTITY = {"civility": "mme", "last_name": "Roux", "first_name": "Anne", "phone": ""}

pytestmark = pytest.mark.django_db


def fresh(user):
    """The user as a page would load it: its membership read anew."""
    return type(user).objects.get(pk=user.pk)


def partner_rights(user, structure, caisse):
    user = fresh(user)
    return {
        name
        for name, held in (
            ("deposit", policy.can_deposit(user, structure, caisse)),
            ("manage_technicians", policy.can_manage_technicians(user, structure)),
        )
        if held
    }


def caisse_rights(user, caisse):
    user = fresh(user)
    return {
        name
        for name, held in (
            ("handle_requests", policy.can_handle_requests(user, caisse)),
            ("administer_caisse", policy.can_administer_caisse(user, caisse)),
        )
        if held
    }


def no_object_permission_stored():
    return not UserObjectPermission.objects.exists() and not RequestUserObjectPermission.objects.exists()


@pytest.mark.parametrize(
    ("role", "expected"),
    [(Membership.Role.TECHNICIEN, {"deposit"}), (Membership.Role.GESTIONNAIRE, {"deposit", "manage_technicians"})],
)
def test_partner_rights_follow_the_account_lifecycle(structure, caisse, gestionnaire, role, expected):
    membership = services.create_partner_account(
        structure, role=role, by=gestionnaire, email=f"{role}@exemple.fr", **IDENTITY
    )
    assert partner_rights(membership.user, structure, caisse) == expected
    services.deactivate_partner_account(membership, by=gestionnaire)
    assert partner_rights(membership.user, structure, caisse) == set()
    services.reactivate_partner_account(membership, by=gestionnaire)
    assert partner_rights(membership.user, structure, caisse) == expected
    assert no_object_permission_stored()


@pytest.mark.parametrize(
    ("role", "expected"),
    [
        (CaisseMembership.Role.AGENT, {"handle_requests"}),
        (CaisseMembership.Role.ADMIN, {"handle_requests", "administer_caisse"}),
    ],
)
def test_caisse_rights_follow_the_account_lifecycle(caisse, caisse_admin, role, expected):
    membership = services.create_caisse_account(
        caisse, role=role, by=caisse_admin, email=f"{role}@exemple.fr", **IDENTITY
    )
    assert caisse_rights(membership.user, caisse) == expected
    services.set_caisse_account_active(membership, False, by=caisse_admin)
    assert caisse_rights(membership.user, caisse) == set()
    services.set_caisse_account_active(membership, True, by=caisse_admin)
    assert caisse_rights(membership.user, caisse) == expected
    assert no_object_permission_stored()


def test_rights_apply_to_ones_own_structure_and_caisse_only(
    technicien, gestionnaire, agent, caisse_admin, structure, other_structure, caisse, other_caisse
):
    assert partner_rights(gestionnaire, other_structure, other_caisse) == set()
    assert caisse_rights(caisse_admin, other_caisse) == set()
    assert partner_rights(technicien, structure, caisse) == {"deposit"}
    assert caisse_rights(agent, caisse) == {"handle_requests"}


@pytest.mark.parametrize(
    ("user_fixture", "change", "url"),
    [
        ("technicien", {"is_active": False}, "/demandes/"),
        ("technicien", {"is_active": False}, "/demandes/nouvelle/saisine-mas/"),
        ("gestionnaire", {"role": Membership.Role.TECHNICIEN}, "/structure/techniciens/"),
        ("agent", {"is_active": False}, "/caisse/demandes/"),
        ("caisse_admin", {"role": CaisseMembership.Role.AGENT}, "/caisse/structures/"),
        ("caisse_admin", {"role": CaisseMembership.Role.AGENT}, "/caisse/journal-des-acces/"),
    ],
)
def test_pages_follow_the_membership_as_it_is_now(client, request, user_fixture, change, url):
    """No stored right outlives a change of the membership: the page asks the policy, which reads it."""
    user = request.getfixturevalue(user_fixture)
    client.force_login(user)
    assert client.get(url).status_code == 200
    membership = user.structure_membership or user.caisse_membership
    type(membership).objects.filter(pk=membership.pk).update(**change)
    assert client.get(url).status_code == 403


def test_only_the_agent_in_charge_holds_the_right_to_resolve(caisse, structure, technicien, agent, caisse_admin):
    colleague = CaisseMembershipFactory(caisse=caisse).user
    deposited = RequestFactory(caisse=caisse, structure=structure, author=technicien)

    request_services.take_charge(deposited, agent=agent)
    assert (holds_resolve_right(agent, deposited), holds_resolve_right(colleague, deposited)) == (True, False)
    with pytest.raises(request_services.WorkflowRefused):
        request_services.resolve(deposited, agent=colleague, answer="Réponse.")

    request_services.reassign(deposited, admin=caisse_admin, agent=colleague)
    assert (holds_resolve_right(agent, deposited), holds_resolve_right(colleague, deposited)) == (False, True)
    with pytest.raises(request_services.WorkflowRefused):
        request_services.resolve(deposited, agent=agent, answer="Réponse.")

    request_services.resolve(deposited, agent=colleague, answer="Réponse.")
    assert not holds_resolve_right(colleague, deposited)
    assert not RequestUserObjectPermission.objects.exists()


def test_agent_in_charge_without_the_permission_cannot_resolve(caisse, structure, technicien, agent):
    deposited = RequestFactory(caisse=caisse, structure=structure, author=technicien)
    request_services.take_charge(deposited, agent=agent)
    remove_perm(RESOLVE_REQUEST, agent, deposited)
    with pytest.raises(request_services.WorkflowRefused):
        request_services.resolve(deposited, agent=fresh(agent), answer="Réponse.")


def test_agent_whose_membership_is_deactivated_cannot_take_charge(caisse, structure, technicien, agent):
    deposited = RequestFactory(caisse=caisse, structure=structure, author=technicien)
    CaisseMembership.objects.filter(user=agent).update(is_active=False)
    with pytest.raises(request_services.WorkflowRefused):
        request_services.take_charge(deposited, agent=fresh(agent))


def test_the_right_to_resolve_is_read_as_guardian_says_in_one_query(
    caisse, structure, technicien, agent, django_assert_num_queries
):
    colleague = CaisseMembershipFactory(caisse=caisse).user
    deposited = RequestFactory(caisse=caisse, structure=structure, author=technicien, taken_by=agent)
    for user in (fresh(agent), fresh(colleague), fresh(technicien)):
        with django_assert_num_queries(1):
            held = holds_resolve_right(user, deposited)
        assert held == fresh(user).has_perm(RESOLVE_REQUEST, deposited), user
    assert holds_resolve_right(agent, deposited)
    agent.is_active = False
    assert not holds_resolve_right(agent, deposited)


def test_the_right_to_resolve_is_granted_in_one_statement_as_guardian_would(
    caisse, structure, technicien, agent, django_assert_num_queries
):
    """The take-charge writes the right in one INSERT (requests/workflow.py) rather than guardian's `assign_perm`
    (six queries): the same row guardian reads, and none added when the agent already holds it."""
    deposited = RequestFactory(caisse=caisse, structure=structure, author=technicien, taken_by=agent)
    assert holds_resolve_right(agent, deposited)
    with django_assert_num_queries(1):
        _grant_resolve_right(agent, deposited)
    assert RequestUserObjectPermission.objects.filter(user=agent, content_object=deposited).count() == 1
    assert fresh(agent).has_perm(RESOLVE_REQUEST, deposited)
    remove_perm(RESOLVE_REQUEST, agent, deposited)
    assert not holds_resolve_right(agent, deposited)
    with django_assert_num_queries(1):
        _grant_resolve_right(agent, deposited)
    assert fresh(agent).has_perm(RESOLVE_REQUEST, deposited)
