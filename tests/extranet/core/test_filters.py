"""`DayBoundFilter`: the one rule behind the pages' "Déposée du … au …" and the API's created_after/created_before."""

from datetime import date, datetime

import django_filters
import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from extranet.core.filters import DayBoundFilter
from requests.models import Request
from tests.factories import RequestFactory

pytestmark = pytest.mark.django_db


class Bounds(django_filters.FilterSet):
    since = DayBoundFilter(field_name="created_at", bound="from")
    through = DayBoundFilter(field_name="created_at", bound="through")
    before = DayBoundFilter(field_name="created_at", bound="before")

    class Meta:
        model = Request
        fields = []


def paris(*args):
    return timezone.make_aware(datetime(*args))


@pytest.fixture
def deposits():
    """Around the 10 March boundary, in Paris time (23:59 is 22:59 UTC: a cast to the UTC date would get it wrong)."""
    moments = {
        "9 mars 23:59": paris(2026, 3, 9, 23, 59),
        "10 mars 00:00": paris(2026, 3, 10, 0, 0),
        "10 mars 23:59": paris(2026, 3, 10, 23, 59),
        "11 mars 00:00": paris(2026, 3, 11, 0, 0),
    }
    return {label: RequestFactory(created_at=moment).pk for label, moment in moments.items()}


def matching(deposits, **params):
    found = set(Bounds(params, queryset=Request.objects.all()).qs.values_list("pk", flat=True))
    return [label for label, pk in deposits.items() if pk in found]


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"since": "2026-03-10"}, ["10 mars 00:00", "10 mars 23:59", "11 mars 00:00"]),
        ({"through": "2026-03-10"}, ["9 mars 23:59", "10 mars 00:00", "10 mars 23:59"]),
        ({"before": "2026-03-10"}, ["9 mars 23:59"]),
        ({"since": "2026-03-10", "through": "2026-03-10"}, ["10 mars 00:00", "10 mars 23:59"]),
        ({}, ["9 mars 23:59", "10 mars 00:00", "10 mars 23:59", "11 mars 00:00"]),
    ],
)
def test_each_bound_takes_whole_days_in_paris_time(deposits, params, expected):
    assert matching(deposits, **params) == expected


def test_the_column_is_compared_with_a_moment_not_cast_to_a_date():
    """A cast (`created_at::date`, `django_datetime_cast_date`) would keep the "newest first" indexes unused."""
    with CaptureQueriesContext(connection) as queries:
        list(Bounds({"since": date(2026, 3, 10), "through": date(2026, 3, 10)}, queryset=Request.objects.all()).qs)
    (sql,) = [query["sql"] for query in queries.captured_queries]
    assert '"created_at" >=' in sql and '"created_at" <' in sql
    assert "::date" not in sql and "cast_date" not in sql.lower()


def test_every_list_filters_its_dates_by_day_bounds():
    from extranet.api.filters import RequestFilter
    from requests.filters import HistoryFilter, QueueFilter

    bounds = {
        # The API's describes its years for the schema, and is a DayBoundFilter all the same.
        (filterset.__name__, name): (
            next(cls for cls in type(filterset.base_filters[name]).__mro__ if cls is DayBoundFilter),
            filterset.base_filters[name].shift,
        )
        for filterset, names in [
            (HistoryFilter, ["deposited_from", "deposited_to"]),
            (QueueFilter, ["deposited_from", "deposited_to"]),
            (RequestFilter, ["created_after", "created_before"]),
        ]
        for name in names
    }
    assert bounds == {
        ("HistoryFilter", "deposited_from"): (DayBoundFilter, 0),
        ("HistoryFilter", "deposited_to"): (DayBoundFilter, 1),
        ("QueueFilter", "deposited_from"): (DayBoundFilter, 0),
        ("QueueFilter", "deposited_to"): (DayBoundFilter, 1),
        ("RequestFilter", "created_after"): (DayBoundFilter, 0),
        ("RequestFilter", "created_before"): (DayBoundFilter, 0),
    }
