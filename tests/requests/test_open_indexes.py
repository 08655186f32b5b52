"""The open requests' partial indexes can be used on SQLite too (requests/models.py `AmongStatuses`).

SQLite uses a partial index only when the query's terms imply its condition; with the statuses bound as parameters
(`status IN (?, ?)`) they implied nothing, and the replied queue read every request of the agent to sort them. The
plans are read with the statement and parameters the page really sent: the SQL Django logs has the values written
in, and would hide the bug."""

import pytest
from django.db import connection
from django.db.models.lookups import In

from requests.models import OPEN_STATUSES, AmongStatuses, Request
from tests.factories import RequestFactory

REPLIED = "/caisse/demandes/?assignment=me&news=on"
on_sqlite = pytest.mark.skipif("connection.vendor != 'sqlite'", reason="SQLite's planner (PostgreSQL binds no value)")


def statements_of(client, url):
    sent = []

    def record(execute, sql, params, many, context):
        sent.append((sql, params))
        return execute(sql, params, many, context)

    with connection.execute_wrapper(record):
        assert client.get(url).status_code == 200
    return sent


def plan_of_the_list(client, url):
    """SQLite's plan for the page's list: its one statement on requests ordered by age with a LIMIT."""
    [(sql, params)] = [
        (sql, params)
        for sql, params in statements_of(client, url)
        if sql.startswith('SELECT "requests_request"."id"') and "LIMIT" in sql and "ORDER BY" in sql
    ]
    with connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN QUERY PLAN {sql}", params)
        return "\n".join(str(row[-1]) for row in cursor.fetchall())


@pytest.fixture
def some_requests(caisse, structure, agent):
    for n in range(3):
        RequestFactory(caisse=caisse, structure=structure, in_progress=n > 0)


@on_sqlite
def test_the_replied_queue_reads_its_index_in_order(agent_client, some_requests):
    plan = plan_of_the_list(agent_client, REPLIED)
    assert "USING INDEX request_caisse_replied" in plan, plan
    assert "TEMP B-TREE" not in plan, plan


@on_sqlite
def test_with_the_statuses_bound_the_indexes_were_not_used(agent_client, some_requests, monkeypatch):
    """The check above fails without the literals: it reads what it claims to."""
    monkeypatch.setattr(AmongStatuses, "process_rhs", In.process_rhs)
    plan = plan_of_the_list(agent_client, REPLIED)
    assert "request_caisse_replied" not in plan, plan


@pytest.mark.django_db
def test_only_statuses_are_written_into_the_sql():
    assert Request.objects.open().count() == 0
    assert "IN ('new', 'in_progress')" in str(Request.objects.filter(status__among=OPEN_STATUSES).query)
    with pytest.raises(ValueError, match="status__among takes statuses"):
        list(Request.objects.filter(status__among=["new", "x') OR 1=1 --"]))
