"""A process remembers who works with whom under a version kept in the shared cache (structures/conventions.py): a
change made by any process shows in every one at its next use."""

from datetime import date

import pytest
from django.core.cache import cache

from structures import conventions, services
from structures.models import Convention
from tests.factories import CaisseFactory, change_convention_status

pytestmark = pytest.mark.django_db


def test_a_structure_s_caisses_are_read_once_then_remembered(structure, caisse, django_assert_num_queries):
    with django_assert_num_queries(1):
        assert [c.pk for c in conventions.active_caisses(structure.pk)] == [caisse.pk]
    with django_assert_num_queries(0):
        assert [c.name for c in conventions.active_caisses(structure.pk)] == [caisse.name]


def test_the_services_forget_at_once(structure, caisse):
    other = CaisseFactory(code="421", name="CPAM de la Loire")
    assert [c.pk for c in conventions.active_caisses(structure.pk)] == [caisse.pk]
    assert [name for _, name in conventions.caisse_structures(other.pk)] == []

    convention = services.add_convention(structure, caisse=other, signed_on=date(2026, 1, 5), status="active")
    assert [c.pk for c in conventions.active_caisses(structure.pk)] == [caisse.pk, other.pk]
    assert [name for _, name in conventions.caisse_structures(other.pk)] == [structure.name]

    services.update_structure(structure, name="Association Alpha Santé")
    assert [name for _, name in conventions.caisse_structures(other.pk)] == ["Association Alpha Santé"]

    change_convention_status(convention, Convention.Status.ENDED)
    assert [c.pk for c in conventions.active_caisses(structure.pk)] == [caisse.pk]


def test_a_change_made_in_another_process_shows_at_its_next_use(structure, caisse):
    """Another application server's service forgets in its own memory only: the new version it gives the conventions
    in the cache the servers share makes this process read them again, at once."""
    assert [c.pk for c in conventions.active_caisses(structure.pk)] == [caisse.pk]
    change_convention_status(structure.conventions.get(), Convention.Status.SUSPENDED, in_another_process=True)
    assert conventions.active_caisses(structure.pk) == []


def test_a_version_the_cache_lost_is_never_taken_for_the_one_remembered(structure, caisse, django_assert_num_queries):
    conventions.active_caisses(structure.pk)
    cache.clear()  # evicted, or the cache restarted: the version set again is a new one
    with django_assert_num_queries(1):
        conventions.active_caisses(structure.pk)
    with django_assert_num_queries(0):
        conventions.active_caisses(structure.pk)
