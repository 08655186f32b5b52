"""Who works with whom: the caisses of a partner structure (its active conventions), the structures of a caisse.

Every partner page shows its structure's caisses in its header, and the caisse's queue lists its structures in a
filter: asked on every page, though conventions change a few times a year. Each process remembers them for
CACHE_SECONDS (a tenth of the request page's time, bench/results.md). The services that change structures or
conventions forget them at once in their process; other processes follow within CACHE_SECONDS. Nothing that
writes relies on them: deposits and the caisse switch check the convention afresh.
"""

import time

from structures.models import Caisse, Convention, Structure

CACHE_SECONDS = 60


class _Remembered:
    def __init__(self, read):
        self.read = read
        self.values = {}  # key -> (monotonic time read, value)

    def __call__(self, key, *, fresh=False):
        now = time.monotonic()
        remembered = self.values.get(key)
        if fresh or remembered is None or now - remembered[0] > CACHE_SECONDS:
            remembered = self.values[key] = (now, self.read(key))
        return remembered[1]


_caisses_of_structure = _Remembered(
    lambda structure_id: list(
        Caisse.objects.filter(conventions__structure_id=structure_id, conventions__status=Convention.Status.ACTIVE)
        .order_by("code")
        .values_list("pk", "code", "name")
    )
)
_structures_of_caisse = _Remembered(
    lambda caisse_id: list(Structure.objects.for_caisse(caisse_id).order_by("name").values_list("pk", "name"))
)


def active_caisses(structure_id, *, fresh=False):
    """The structure's caisses with an active convention, by code: new Caisse objects (id, code and name only).
    `fresh`: read from the database now (and remembered from now on)."""
    return [Caisse(pk=pk, code=code, name=name) for pk, code, name in _caisses_of_structure(structure_id, fresh=fresh)]


def caisse_structures(caisse_id):
    """(id, name) of the structures bound to the caisse by a convention, whatever its status, by name."""
    return _structures_of_caisse(caisse_id)


def forget(structure_id=None):
    """After a change of a structure or of its conventions (of any structure, without argument)."""
    if structure_id is None:
        _caisses_of_structure.values.clear()
    else:
        _caisses_of_structure.values.pop(structure_id, None)
    # Its name or its caisses may have changed: every caisse's list of structures is read again.
    _structures_of_caisse.values.clear()


def is_active(structure, caisse):
    return Convention.objects.filter(structure=structure, caisse=caisse, status=Convention.Status.ACTIVE).exists()
