"""The API's rate per token: one count in the database for every worker of every server (extranet/api/throttling.py).
Through two real servers behind HAProxy: tests/extranet/test_two_servers.py."""

from datetime import UTC, datetime, timedelta

import pytest
import time_machine

from extranet.api.models import RateCounter
from extranet.api.throttling import PerTokenThrottle
from extranet.scheduler import daily_jobs
from tests.helpers import api_client

pytestmark = pytest.mark.django_db


def at(*args):
    return time_machine.travel(datetime(*args, tzinfo=UTC), tick=False)


def test_the_count_restarts_with_each_window_and_the_refusal_says_when_in_french(monkeypatch, technicien):
    monkeypatch.setattr(PerTokenThrottle, "THROTTLE_RATES", {"token": "3/minute"})
    client = api_client(technicien)
    with at(2026, 3, 10, 9, 30, 15):
        assert [client.get("/api/v1/me/").status_code for _ in range(3)] == [200, 200, 200]
        refused = client.get("/api/v1/me/")
    assert refused.status_code == 429
    assert refused["Retry-After"] == "45"  # the window ends on the minute
    assert refused.json()["code"] == "throttled" and refused.json()["retry_after"] == 45
    assert refused.json()["message"].startswith("Requête ralentie.")
    with at(2026, 3, 10, 9, 30, 59):
        assert client.get("/api/v1/me/").status_code == 429  # refused requests count too
    with at(2026, 3, 10, 9, 31, 0):
        assert [client.get("/api/v1/me/").status_code for _ in range(4)] == [200, 200, 200, 429]


def test_each_request_gets_its_own_number_in_one_statement(django_assert_num_queries):
    with django_assert_num_queries(1):
        assert RateCounter.objects.hit("token-1", 600) == 1
    assert [RateCounter.objects.hit("token-1", 600) for _ in range(3)] == [2, 3, 4]
    assert RateCounter.objects.hit("token-2", 600) == 1
    assert RateCounter.objects.hit("token-1", 660) == 1
    assert RateCounter.objects.count() == 2  # one row per client, whatever the windows


def test_the_nightly_jobs_delete_the_counts_of_clients_idle_for_a_day():
    now = datetime(2026, 3, 10, 3, 0, tzinfo=UTC)
    RateCounter.objects.hit("token-gone", int((now - timedelta(days=1, minutes=1)).timestamp()))
    RateCounter.objects.hit("token-busy", int((now - timedelta(minutes=5)).timestamp()))
    with time_machine.travel(now, tick=False):
        daily_jobs.call()
    assert list(RateCounter.objects.values_list("key", flat=True)) == ["token-busy"]
