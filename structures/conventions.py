"""The caisses a partner structure works with: those of its active conventions.

Every partner page shows them in its header (the caisse it works with, and the others to switch to), and a
structure's conventions change a few times a year: each process remembers them for CACHE_SECONDS rather than
asking on every page (a tenth of the request page's time, bench/results.md). The services that change conventions
forget them at once in their process; other processes follow within CACHE_SECONDS. Deposits do not rely on this:
`requests.services` checks the convention when it writes.
"""

import time

from structures.models import Caisse, Convention

CACHE_SECONDS = 60
_remembered = {}  # structure id -> (monotonic time read, [(caisse id, code, name)])


def active_caisses(structure_id):
    """The structure's caisses with an active convention, by code: fresh Caisse objects (id, code and name only)."""
    now = time.monotonic()
    remembered = _remembered.get(structure_id)
    if remembered is None or now - remembered[0] > CACHE_SECONDS:
        rows = list(
            Caisse.objects.filter(conventions__structure_id=structure_id, conventions__status=Convention.Status.ACTIVE)
            .order_by("code")
            .values_list("pk", "code", "name")
        )
        remembered = _remembered[structure_id] = (now, rows)
    return [Caisse(pk=pk, code=code, name=name) for pk, code, name in remembered[1]]


def forget(structure_id=None):
    """After a change of a structure's conventions (or of every structure's, without argument)."""
    if structure_id is None:
        _remembered.clear()
    else:
        _remembered.pop(structure_id, None)


def is_active(structure, caisse):
    return Convention.objects.filter(structure=structure, caisse=caisse, status=Convention.Status.ACTIVE).exists()
