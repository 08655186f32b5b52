"""The SQL snapshots' own rules (tests/snapshots.py): what varies from run to run leaves the snapshot as it is, a query
added or changed in shape does not."""

import pytest

from structures.models import Caisse
from tests.snapshots import normalised, snapshot_queries


class Recorded:
    """Stands for syrupy's `snapshot`: the first comparison records, the next ones compare with it."""

    def __init__(self):
        self.value = None

    def __call__(self, **options):
        return self

    def __eq__(self, other):
        if self.value is None:
            self.value = other
        return self.value == other


def test_savepoint_names_and_the_length_of_parameter_lists_are_normalised():
    assert (
        normalised('SAVEPOINT "s140673345579904_x18"') == normalised('SAVEPOINT "s1_x2"') == 'SAVEPOINT "<savepoint>"'
    )
    assert normalised("SELECT 1 FROM t WHERE id IN (%s, %s, %s)") == normalised("SELECT 1 FROM t WHERE id IN (%s, %s)")


@pytest.mark.django_db
def test_other_values_match_the_snapshot_another_query_does_not():
    snapshot = Recorded()
    with snapshot_queries(snapshot):
        list(Caisse.objects.filter(code="331", pk__in=[1, 2, 3]))
    assert snapshot.value["num_queries"] == 1
    assert snapshot.value["queries"][0]["origin"] == "django"  # called from a test: none of the project's code
    with snapshot_queries(snapshot):
        list(Caisse.objects.filter(code="421", pk__in=[4, 5]))

    with pytest.raises(AssertionError), snapshot_queries(snapshot):
        list(Caisse.objects.filter(code="331", pk__in=[1, 2, 3]))
        Caisse.objects.count()
    with pytest.raises(AssertionError), snapshot_queries(snapshot):
        list(Caisse.objects.filter(name="CPAM de la Gironde", pk__in=[1, 2, 3]))
