"""The demo's data built once per test process, then copied back into the database for each test that asks for it.

Every browser test starts from an empty database (live server: `transactional_db` empties it after each test), and
most of them from the demo's accounts; the accessibility audit's roles from its forty requests too (seeding them,
files checked by qpdf included, took seconds per test). On SQLite's in-memory test database, which the live server
shares with the test, the first seeding is kept as a copy (SQLite's backup), with the files it stored, and copied back
for the next tests: the same rows, ids and files as a new seeding, whose moments are those of the first one (minutes
earlier at most). On another database, each test seeds afresh.
"""

import sqlite3
from pathlib import Path

from django.conf import settings
from django.db import connection

from structures import conventions

_copies = {}  # what -> (copy of the database, {file path relative to PRIVATE_MEDIA_ROOT: content})


def seeded(what, seed):
    """The database as `seed()` leaves it (and PRIVATE_MEDIA_ROOT with the files it stored), `what` naming it."""
    if connection.vendor != "sqlite" or not connection.is_in_memory_db():
        seed()
        return
    connection.ensure_connection()
    root = Path(settings.PRIVATE_MEDIA_ROOT)
    if what not in _copies:
        before = set(_files(root))
        seed()
        copy = sqlite3.connect(":memory:", check_same_thread=False)
        connection.connection.backup(copy)
        new_files = [path for path in _files(root) if path not in before]
        _copies[what] = copy, {path.relative_to(root): path.read_bytes() for path in new_files}
        return
    copy, files = _copies[what]
    copy.backup(connection.connection)
    for relative, content in files.items():
        (root / relative).parent.mkdir(parents=True, exist_ok=True)
        (root / relative).write_bytes(content)
    # What seed_demo does once its conventions are written: this process and its cache read them afresh (a test
    # before may have changed the same structures' conventions, under the same ids).
    conventions.forget()


def _files(root):
    return [path for path in root.rglob("*") if path.is_file()]
