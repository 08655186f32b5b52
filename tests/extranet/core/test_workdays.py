from datetime import date, timedelta

import pytest

from extranet.core.workdays import (
    easter_sunday,
    first_day_within,
    french_public_holidays,
    is_working_day,
    working_days_between,
)


def slow_count(start, end):
    """The definition, one day at a time: working days d with start < d <= end."""
    count, day = 0, start
    while day < end:
        day += timedelta(days=1)
        count += is_working_day(day)
    return count


@pytest.mark.parametrize(
    "easter",
    [
        date(2008, 3, 23),
        date(2011, 4, 24),
        date(2019, 4, 21),
        date(2024, 3, 31),
        date(2025, 4, 20),
        date(2026, 4, 5),
        date(2027, 3, 28),
        date(2038, 4, 25),
        date(2285, 3, 22),
    ],
)
def test_easter_sunday(easter):
    assert easter_sunday(easter.year) == easter


def test_french_public_holidays_2026():
    assert sorted(french_public_holidays(2026)) == [
        date(2026, 1, 1),
        date(2026, 4, 6),  # Lundi de Pâques
        date(2026, 5, 1),
        date(2026, 5, 8),
        date(2026, 5, 14),  # Ascension
        date(2026, 5, 25),  # Lundi de Pentecôte
        date(2026, 7, 14),
        date(2026, 8, 15),
        date(2026, 11, 1),
        date(2026, 11, 11),
        date(2026, 12, 25),
    ]


@pytest.mark.parametrize(
    ("day", "working"),
    [
        (date(2026, 3, 2), True),  # Monday
        (date(2026, 3, 6), True),  # Friday
        (date(2026, 3, 7), False),  # Saturday
        (date(2026, 3, 8), False),  # Sunday
        (date(2026, 4, 6), False),  # Easter Monday
        (date(2026, 5, 14), False),  # Ascension Thursday
        (date(2026, 5, 15), True),  # the Friday after ("pont"): a working day
        (date(2026, 5, 25), False),  # Whit Monday
        (date(2026, 12, 24), True),
        (date(2026, 12, 25), False),
    ],
)
def test_is_working_day(day, working):
    assert is_working_day(day) is working


@pytest.mark.parametrize(
    ("start", "end", "expected"),
    [
        (date(2026, 3, 2), date(2026, 3, 2), 0),  # same day
        (date(2026, 3, 2), date(2026, 3, 3), 1),  # Monday → Tuesday
        (date(2026, 3, 6), date(2026, 3, 9), 1),  # Friday → Monday: the weekend does not count
        (date(2026, 3, 7), date(2026, 3, 9), 1),  # deposited on a Saturday
        (date(2026, 3, 6), date(2026, 3, 8), 0),  # Friday → Sunday
        (date(2026, 3, 2), date(2026, 3, 16), 10),  # two weeks
        (date(2026, 4, 3), date(2026, 4, 7), 1),  # Friday → Tuesday over Easter Monday
        (date(2026, 5, 13), date(2026, 5, 15), 1),  # over Ascension
        (date(2026, 12, 24), date(2027, 1, 4), 5),  # over Christmas and New Year
        (date(2026, 3, 9), date(2026, 3, 2), 0),  # end before start
        (date(2026, 7, 14), date(2026, 7, 15), 1),  # from a holiday
    ],
)
def test_working_days_between(start, end, expected):
    assert working_days_between(start, end) == expected


def test_working_days_between_matches_the_definition_over_three_years():
    start = date(2025, 12, 20)
    for offset in range(0, 40):
        for span in (0, 1, 3, 6, 7, 8, 13, 30, 61, 200, 400, 800):
            first = start + timedelta(days=offset)
            assert working_days_between(first, first + timedelta(days=span)) == slow_count(
                first, first + timedelta(days=span)
            ), (first, span)


@pytest.mark.parametrize(
    ("today", "days", "cutoff"),
    [
        (date(2026, 3, 5), 2, date(2026, 3, 3)),  # Thursday, 2 days: Tuesday's deposits are not late yet
        (date(2026, 3, 5), 0, date(2026, 3, 5)),
        (date(2026, 3, 7), 2, date(2026, 3, 4)),  # a Saturday counts from Friday
        (date(2026, 3, 10), 2, date(2026, 3, 6)),  # Tuesday: back over the weekend to Friday
        (date(2026, 4, 8), 2, date(2026, 4, 3)),  # Wednesday after Easter Monday: back to Friday
        (date(2026, 3, 16), 10, date(2026, 3, 2)),
    ],
)
def test_first_day_within(today, days, cutoff):
    assert first_day_within(today, days) == cutoff


def test_first_day_within_is_the_cutoff_of_the_age():
    for offset in range(0, 400, 3):
        today = date(2026, 1, 1) + timedelta(days=offset)
        for days in (0, 1, 2, 5, 10, 20):
            cutoff = first_day_within(today, days)
            assert working_days_between(cutoff, today) <= days
            assert working_days_between(cutoff - timedelta(days=1), today) > days


def test_first_day_within_refuses_negative_days():
    with pytest.raises(ValueError):
        first_day_within(date(2026, 3, 2), -1)
