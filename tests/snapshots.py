"""SQL snapshots (syrupy), kept the way les emplois de l'inclusion keeps theirs: every query a page makes, in order,
with the place in our code it comes from. A query added, removed or changed in shape fails the test;
`pytest --snapshot-update` rewrites the snapshot, which is then read in the diff like code.

The SQL is recorded before the driver fills its parameters (`%s`), so ids, dates and typed values never show. What
still varies from run to run is normalised: savepoint names, and the length of `IN (%s, %s, …)` lists.

One snapshot per database vendor (`__sql_snapshots__/sqlite/`, `__sql_snapshots__/postgresql/`, beside the test
module): the two write different SQL for the same query (row locks, casts, the median), and a snapshot normalised to
serve both would hide exactly what differs, such as a lost `FOR UPDATE`. Each is checked on its own run; `make test`
runs both. (Not under syrupy's `__snapshots__/`: its default extension scans that folder whole and would take the
other vendor's snapshots, never used on this run, for obsolete ones.)
"""

import re
import sys
from contextlib import contextmanager
from pathlib import Path

import sqlparse
from django.conf import settings
from django.db import connection
from django.template.base import Node
from syrupy.extensions.amber import AmberSnapshotExtension

SAVEPOINT_NAME = re.compile(r'"s\d+_x\d+"')
PARAMETER_LIST = re.compile(r"%s(?:, %s)+")


class SqlSnapshotExtension(AmberSnapshotExtension):
    @classmethod
    def dirname(cls, *, test_location):
        return str(Path(test_location.filepath).parent / "__sql_snapshots__" / connection.vendor)


def normalised(sql):
    sql = SAVEPOINT_NAME.sub('"<savepoint>"', sql)
    sql = PARAMETER_LIST.sub("%s, …", sql)
    return sqlparse.format(sql, reindent=True, keyword_case="upper")


def _our_file(filename):
    """The path of one of the project's source files, relative to its root; None for tests, libraries, Python."""
    try:
        relative = Path(filename).relative_to(settings.BASE_DIR)
    except ValueError:
        return None
    if relative.parts[0] == "tests" or relative.parts[0].startswith("."):
        return None
    return relative.as_posix()


def origin():
    """Where the query comes from: the innermost function of our code, and the template being rendered, if any."""
    code = template = None
    frame = sys._getframe(2)
    while frame is not None and (code is None or template is None):
        if code is None and (path := _our_file(frame.f_code.co_filename)):
            code = f"{path}::{frame.f_code.co_qualname}"
        # type(), not isinstance(): a lazy object (`request.user`) would run its queries to answer isinstance().
        if template is None and issubclass(type(node := frame.f_locals.get("self")), Node) and node.origin:
            template = node.origin.template_name
        frame = frame.f_back
    return f"{code or 'django'} (template {template})" if template else code or "django"


@contextmanager
def snapshot_queries(snapshot):
    """`with snapshot_queries(snapshot): …` compares the queries of the block with the test's snapshot."""
    queries = []

    def record(execute, sql, params, many, context):
        queries.append({"origin": origin(), "sql": normalised(sql)})
        return execute(sql, params, many, context)

    with connection.execute_wrapper(record):
        yield
    assert snapshot(extension_class=SqlSnapshotExtension) == {"num_queries": len(queries), "queries": queries}
