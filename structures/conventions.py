"""Who works with whom: the caisses of a partner structure (its active conventions), the structures of a caisse.

Every partner page shows its structure's caisses in its header, and the caisse's queue lists its structures in a
filter: asked on every page, though conventions change a few times a year. Each process remembers them, under the
version of the conventions it read them at; the version is kept in the default cache, which production shares between
the application servers (the database cache, extranet/checks.py). The services that change structures or conventions
give the version a new value: every process, on every server, reads again at its next use (one read of the version
per use instead of the join). Nothing that writes relies on them: deposits and the caisse switch check the convention
afresh.
"""

import uuid

from django.core.cache import cache
from django.db import transaction

from structures.models import Caisse, Convention, Structure

VERSION_KEY = "structures:conventions-version"


def _shared_version():
    """The conventions' version now. Never a value seen before (a random one): an entry the cache lost (evicted,
    cleared) and set again cannot pass for the version some process read earlier."""
    version = cache.get(VERSION_KEY)
    if version is None:
        cache.add(VERSION_KEY, uuid.uuid4().hex, timeout=None)
        version = cache.get(VERSION_KEY)
    return version


def _new_version():
    cache.set(VERSION_KEY, uuid.uuid4().hex, timeout=None)


class _Remembered:
    def __init__(self, read):
        self.read = read
        self.values = {}  # key -> (version it was read at, value)

    def __call__(self, key, *, fresh=False):
        # The version first, then the conventions: a change committed in between makes what is read newer than its
        # version, and the next use reads again; never the other way round.
        version = _shared_version()
        remembered = self.values.get(key)
        if fresh or remembered is None or remembered[0] != version:
            remembered = self.values[key] = (version, self.read(key))
        return remembered[1]


_caisses_of_structure = _Remembered(
    lambda structure_id: list(
        Caisse.objects.filter(conventions__structure_id=structure_id, conventions__status=Convention.Status.ACTIVE)
        .order_by("code")
        .values_list("pk", "code", "name", "calendar")
    )
)
_structures_of_caisse = _Remembered(
    lambda caisse_id: list(Structure.objects.for_caisse(caisse_id).order_by("name").values_list("pk", "name"))
)


def active_caisses(structure_id, *, fresh=False):
    """The structure's caisses with an active convention, by code: new Caisse objects (id, code, name and calendar
    only). `fresh`: read from the database now (and remembered from now on)."""
    return [
        Caisse(pk=pk, code=code, name=name, calendar=calendar)
        for pk, code, name, calendar in _caisses_of_structure(structure_id, fresh=fresh)
    ]


def caisse_structures(caisse_id):
    """(id, name) of the structures bound to the caisse by a convention, whatever its status, by name."""
    return _structures_of_caisse(caisse_id)


def forget_here(structure_id=None):
    """This process's memory only (of a structure, or of all without argument)."""
    if structure_id is None:
        _caisses_of_structure.values.clear()
    else:
        _caisses_of_structure.values.pop(structure_id, None)
    # Its name or its caisses may have changed: every caisse's list of structures is read again.
    _structures_of_caisse.values.clear()


def forget(structure_id=None):
    """After a change of a structure or of its conventions (of any structure, without argument), in every process.

    The new version is written at once: with the database cache, in the service's transaction, so other processes
    see it when they see the change. Once more after the commit, for a cache outside the database: another thread
    could have read the old conventions under the new version meanwhile."""
    forget_here(structure_id)
    _new_version()
    transaction.on_commit(lambda: (forget_here(structure_id), _new_version()))


def is_active(structure, caisse):
    return Convention.objects.filter(structure=structure, caisse=caisse, status=Convention.Status.ACTIVE).exists()


def inactive(structure_id):
    """The structure's suspended or ended conventions, with their caisse, by caisse code: what a structure without an
    active convention still has requests with (read now: the pages that ask show the state to the user)."""
    return list(
        Convention.objects.filter(structure_id=structure_id)
        .exclude(status=Convention.Status.ACTIVE)
        .select_related("caisse")
        .order_by("caisse__code")
    )


def lock_convention(structure, caisse):
    """Locks the structure's convention with the caisse until the transaction ends, if there is one: a deposit that
    checks it afterwards is filed before a concurrent suspension commits, or sees it (requests/services.py)."""
    list(Convention.objects.select_for_update().filter(structure=structure, caisse=caisse).values_list("pk"))
