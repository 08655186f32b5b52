"""The structure- and caisse-level policy (structures/policy.py): every predicate for every kind of account, pure
(nothing asked of the database once the user is read with their membership, as every request reads it), except
the deposit's convention, read afresh."""

import pytest
from django.contrib.auth.models import AnonymousUser

from structures import conventions, policy
from structures.models import Convention
from tests.factories import CaisseMembershipFactory, MembershipFactory, UserFactory, change_convention_status
from tests.helpers import as_loaded

pytestmark = pytest.mark.django_db

ROLES = [
    "anonymous",
    "account without a role",
    "technicien",
    "gestionnaire",
    "deactivated gestionnaire",
    "gestionnaire of another structure",
    "gestionnaire whose account is off",
    "agent",
    "administrateur",
    "deactivated administrateur",
    "administrateur whose account is off",
    "administrateur of another caisse",
]
# What each role may do with the structure S and the caisse C (S has an active convention with C).
EXPECTED = {
    "anonymous": set(),
    "account without a role": set(),
    "technicien": {"works_for", "can_deposit"},
    "gestionnaire": {"works_for", "can_deposit", "can_manage_technicians"},
    "deactivated gestionnaire": set(),
    "gestionnaire of another structure": set(),
    "gestionnaire whose account is off": set(),
    "agent": {"can_handle_requests"},
    "administrateur": {"can_handle_requests", "can_administer_caisse"},
    "deactivated administrateur": set(),
    "administrateur whose account is off": set(),
    "administrateur of another caisse": set(),
}


@pytest.fixture
def users(structure, other_structure, caisse, other_caisse):
    return {
        "anonymous": AnonymousUser(),
        "account without a role": UserFactory(),
        "technicien": MembershipFactory(structure=structure).user,
        "gestionnaire": MembershipFactory(structure=structure, gestionnaire=True).user,
        "deactivated gestionnaire": MembershipFactory(structure=structure, gestionnaire=True, is_active=False).user,
        "gestionnaire of another structure": MembershipFactory(structure=other_structure, gestionnaire=True).user,
        # Switched off in Django's admin: the membership still says active.
        "gestionnaire whose account is off": MembershipFactory(
            structure=structure, gestionnaire=True, user__is_active=False
        ).user,
        "agent": CaisseMembershipFactory(caisse=caisse).user,
        "administrateur": CaisseMembershipFactory(caisse=caisse, admin=True).user,
        "deactivated administrateur": CaisseMembershipFactory(caisse=caisse, admin=True, is_active=False).user,
        "administrateur whose account is off": CaisseMembershipFactory(
            caisse=caisse, admin=True, user__is_active=False
        ).user,
        "administrateur of another caisse": CaisseMembershipFactory(caisse=other_caisse, admin=True).user,
    }


@pytest.mark.parametrize("role", ROLES)
def test_each_predicate_for_each_role(users, role, structure, caisse, django_assert_num_queries):
    user = as_loaded(users[role])
    with django_assert_num_queries(0):
        held = {
            name
            for name, answer in (
                ("works_for", policy.works_for(user, structure)),
                ("can_manage_technicians", policy.can_manage_technicians(user, structure)),
                ("can_handle_requests", policy.can_handle_requests(user, caisse)),
                ("can_administer_caisse", policy.can_administer_caisse(user, caisse)),
            )
            if answer
        }
    # The deposit reads the convention now (one query), for members of the structure only.
    with django_assert_num_queries(1 if "works_for" in held else 0):
        if policy.can_deposit(user, structure, caisse):
            held.add("can_deposit")
    assert held == EXPECTED[role]


def test_no_right_over_another_structure_or_caisse(users, other_structure, other_caisse):
    for role in ROLES:
        user = as_loaded(users[role])
        assert not policy.can_manage_technicians(user, other_structure) or role == "gestionnaire of another structure"
        assert not policy.can_administer_caisse(user, other_caisse) or role == "administrateur of another caisse"
        assert not policy.can_deposit(user, other_structure, other_caisse) or role == (
            "gestionnaire of another structure"
        )


def test_no_deposit_once_the_convention_is_suspended_though_the_membership_stays(users, structure, caisse):
    technicien = as_loaded(users["technicien"])
    change_convention_status(structure.conventions.get(caisse=caisse), Convention.Status.SUSPENDED)
    assert policy.works_for(technicien, structure)
    assert not policy.can_deposit(technicien, structure, caisse)


def test_no_deposit_to_a_caisse_without_convention(users, structure, other_caisse):
    assert not policy.can_deposit(as_loaded(users["technicien"]), structure, other_caisse)


# What each role may administer: S's convention with C and the accounts of S and C (a technicien, a gestionnaire and an
# agent). The structure's caisses are the ones remembered (structures/conventions.py): read once, before counting.
ADMINISTRATION = {
    "gestionnaire": {"can_edit_technicien"},
    "administrateur": {"can_administer_structure", "can_change_convention", "can_edit_gestionnaire", "can_edit_agent"},
}


@pytest.mark.parametrize("role", ROLES)
def test_administration_predicates_for_each_role(
    users, role, structure, caisse, other_caisse, django_assert_num_queries
):
    user = as_loaded(users[role])
    convention = structure.conventions.get(caisse=caisse)
    technicien = users["technicien"].membership
    gestionnaire = users["gestionnaire"].membership
    agent = users["agent"].caissemembership
    for remembered in (caisse, other_caisse):
        conventions.caisse_structures(remembered.pk)
    with django_assert_num_queries(0):
        held = {
            name
            for name, answer in (
                ("can_administer_structure", policy.can_administer_structure(user, structure)),
                ("can_change_convention", policy.can_change_convention(user, convention)),
                ("can_edit_technicien", policy.can_edit_account(user, technicien)),
                ("can_edit_gestionnaire", policy.can_edit_account(user, gestionnaire)),
                ("can_edit_agent", policy.can_edit_account(user, agent)),
            )
            if answer
        }
    assert held == ADMINISTRATION.get(role, set())


def test_a_structure_stays_its_caisses_to_administer_whatever_the_convention_says(users, structure, caisse):
    admin = as_loaded(users["administrateur"])
    change_convention_status(structure.conventions.get(caisse=caisse), Convention.Status.ENDED)
    assert policy.can_administer_structure(admin, structure)
    assert not policy.can_administer_structure(as_loaded(users["administrateur of another caisse"]), structure)
