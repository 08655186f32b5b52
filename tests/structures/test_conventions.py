"""A process remembers who works with whom for a minute (structures/conventions.py); the services forget at once."""

from datetime import date

import pytest

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

    services.update_convention(convention, signed_on=convention.signed_on, status=Convention.Status.ENDED)
    assert [c.pk for c in conventions.active_caisses(structure.pk)] == [caisse.pk]


def test_after_a_minute_a_change_made_elsewhere_shows(monkeypatch, structure, caisse):
    assert [c.pk for c in conventions.active_caisses(structure.pk)] == [caisse.pk]
    change_convention_status(structure.conventions.get(), Convention.Status.SUSPENDED, in_another_process=True)
    assert [c.pk for c in conventions.active_caisses(structure.pk)] == [caisse.pk]
    later = conventions.time.monotonic() + conventions.CACHE_SECONDS + 1
    monkeypatch.setattr(conventions.time, "monotonic", lambda: later)
    assert conventions.active_caisses(structure.pk) == []
