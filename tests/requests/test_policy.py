"""The request-level policy (requests/policy.py): every predicate for every kind of account on a request in
progress, pure but for the agent in charge's stored right to resolve; `can_see` says what the scoped queryset
returns."""

import pytest
from django.contrib.auth.models import AnonymousUser
from guardian.shortcuts import assign_perm, remove_perm

from requests import policy
from requests.models import Request
from tests.factories import CaisseMembershipFactory, ConventionFactory, MembershipFactory, RequestFactory, UserFactory
from tests.helpers import as_loaded

pytestmark = pytest.mark.django_db

PREDICATES = [
    "can_see",
    "can_write",
    "can_post_internal_note",
    "can_mark_letter_sent",
    "can_take_charge",
    "can_resolve",
    "can_reassign",
]
PARTNER = {"can_see", "can_write"}
STAFF = PARTNER | {"can_post_internal_note", "can_mark_letter_sent", "can_take_charge"}
EXPECTED = {
    "anonymous": set(),
    "account without a role": set(),
    "technicien of the structure": PARTNER,
    "gestionnaire of the structure": PARTNER,
    "deactivated technicien of the structure": set(),
    "technicien of another structure of the caisse": set(),
    "agent in charge": STAFF | {"can_resolve"},
    "other agent of the caisse": STAFF,
    "deactivated agent of the caisse": set(),
    "administrateur of the caisse": STAFF | {"can_resolve", "can_reassign"},
    "agent of another caisse": set(),
    "administrateur of another caisse": set(),
}


@pytest.fixture
def scene(structure, caisse, other_caisse):
    in_charge = CaisseMembershipFactory(caisse=caisse).user
    users = {
        "anonymous": AnonymousUser(),
        "account without a role": UserFactory(),
        "technicien of the structure": MembershipFactory(structure=structure).user,
        "gestionnaire of the structure": MembershipFactory(structure=structure, gestionnaire=True).user,
        "deactivated technicien of the structure": MembershipFactory(structure=structure, is_active=False).user,
        "technicien of another structure of the caisse": MembershipFactory(
            structure=ConventionFactory(caisse=caisse).structure
        ).user,
        "agent in charge": in_charge,
        "other agent of the caisse": CaisseMembershipFactory(caisse=caisse).user,
        "deactivated agent of the caisse": CaisseMembershipFactory(caisse=caisse, is_active=False).user,
        "administrateur of the caisse": CaisseMembershipFactory(caisse=caisse, admin=True).user,
        "agent of another caisse": CaisseMembershipFactory(caisse=other_caisse).user,
        "administrateur of another caisse": CaisseMembershipFactory(caisse=other_caisse, admin=True).user,
    }
    demande = RequestFactory(structure=structure, caisse=caisse, taken_by=in_charge)
    return Request.objects.get(pk=demande.pk), users


@pytest.mark.parametrize("role", list(EXPECTED))
def test_each_predicate_for_each_role(scene, role, django_assert_num_queries):
    demande, users = scene
    user = as_loaded(users[role])
    # Only the agent in charge's right to resolve is stored (one query, for them only).
    with django_assert_num_queries(1 if role == "agent in charge" else 0):
        held = {name for name in PREDICATES if getattr(policy, name)(user, demande)}
    assert held == EXPECTED[role]


@pytest.mark.parametrize("role", list(EXPECTED))
def test_can_see_is_what_the_scoped_queryset_returns(scene, role, other_structure, other_caisse):
    demande, users = scene
    elsewhere = RequestFactory(structure=other_structure, caisse=other_caisse)
    user = as_loaded(users[role])
    for each in (demande, elsewhere):
        assert policy.can_see(user, each) == Request.objects.visible_to(user).filter(pk=each.pk).exists()


def test_the_agent_in_charge_resolves_only_while_holding_the_stored_right(scene):
    demande, users = scene
    remove_perm(policy.RESOLVE_REQUEST, users["agent in charge"], demande)
    assert not policy.can_resolve(as_loaded(users["agent in charge"]), demande)
    assert policy.can_take_charge(as_loaded(users["agent in charge"]), demande)


def test_the_stored_right_alone_is_not_enough(scene):
    """Holding the row without being the agent in charge (the request was given to someone else) resolves
    nothing: the right is the assignment's, checked with it."""
    demande, users = scene
    other = users["other agent of the caisse"]
    assign_perm(policy.RESOLVE_REQUEST, other, demande)
    assert not policy.can_resolve(as_loaded(other), demande)
