from datetime import date, timedelta

import pytest

from extranet.core.workdays import (
    Calendar,
    calendar_for_code,
    first_day_within,
    is_working_day,
    public_holidays,
    working_days_after,
    working_days_between,
)

NATIONAL = Calendar.METROPOLE


def slow_count(start, end, calendar=NATIONAL):
    """The definition, one day at a time: working days d with start < d <= end."""
    count, day = 0, start
    while day < end:
        day += timedelta(days=1)
        count += is_working_day(day, calendar=calendar)
    return count


def easter_sunday(year):
    """Easter Sunday in the Gregorian calendar (anonymous algorithm, a.k.a. Meeus/Jones/Butcher): the check of the
    library's movable feasts, computed another way."""
    a = year % 19
    b, c = divmod(year, 100)
    d, e = divmod(b, 4)
    f = (b + 8) // 25
    g = (b - f + 1) // 3
    h = (19 * a + b - d - g + 15) % 30
    i, k = divmod(c, 4)
    leap = (32 + 2 * e + 2 * i - h - k) % 7
    m = (a + 11 * h + 22 * leap) // 451
    month, day = divmod(h + leap - 7 * m + 114, 31)
    return date(year, month, day + 1)


def the_eleven_national_holidays(year):
    easter = easter_sunday(year)
    fixed = [(1, 1), (5, 1), (5, 8), (7, 14), (8, 15), (11, 1), (11, 11), (12, 25)]
    movable = [easter + timedelta(days=offset) for offset in (1, 39, 50)]  # Easter Monday, Ascension, Whit Monday
    return sorted({date(year, month, day) for month, day in fixed} | set(movable))  # 2008: Ascension on 1 May


def test_the_national_calendar_is_the_eleven_holidays_from_2008_to_2099():
    """What the hand-written table held: the library agrees, year by year."""
    for year in range(2008, 2100):
        assert list(public_holidays(year, calendar=NATIONAL)) == the_eleven_national_holidays(year), year


def test_french_public_holidays_2026():
    assert list(public_holidays(2026, calendar=NATIONAL)) == [
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
    assert is_working_day(day, calendar=NATIONAL) is working


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
    assert working_days_between(start, end, calendar=NATIONAL) == expected


def test_working_days_between_matches_the_definition_over_three_years():
    start = date(2025, 12, 20)
    for offset in range(0, 40):
        for span in (0, 1, 3, 6, 7, 8, 13, 30, 61, 200, 400, 800):
            first = start + timedelta(days=offset)
            for calendar in Calendar.values:
                assert working_days_between(first, first + timedelta(days=span), calendar=calendar) == slow_count(
                    first, first + timedelta(days=span), calendar
                ), (first, span, calendar)


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
    assert first_day_within(today, days, calendar=NATIONAL) == cutoff


def test_first_day_within_is_the_cutoff_of_the_age():
    for offset in range(0, 400, 3):
        today = date(2026, 1, 1) + timedelta(days=offset)
        for days in (0, 1, 2, 5, 10, 20):
            for calendar in Calendar.values:
                cutoff = first_day_within(today, days, calendar=calendar)
                assert working_days_between(cutoff, today, calendar=calendar) <= days
                assert working_days_between(cutoff - timedelta(days=1), today, calendar=calendar) > days


def test_first_day_within_refuses_negative_days():
    with pytest.raises(ValueError):
        first_day_within(date(2026, 3, 2), -1, calendar=NATIONAL)


def test_working_days_after_is_the_inverse_of_the_age():
    for offset in range(0, 400, 5):
        start = date(2026, 1, 1) + timedelta(days=offset)
        for days in (0, 1, 3, 10):
            for calendar in Calendar.values:
                after = working_days_after(start, days, calendar=calendar)
                assert working_days_between(start, after, calendar=calendar) == days


@pytest.mark.parametrize(
    ("code", "calendar"),
    [
        ("331", Calendar.METROPOLE),  # Gironde
        ("751", Calendar.METROPOLE),
        ("571", Calendar.ALSACE_MOSELLE),  # Moselle
        ("671", Calendar.ALSACE_MOSELLE),  # Bas-Rhin
        ("681", Calendar.ALSACE_MOSELLE),  # Haut-Rhin
        ("971", Calendar.GUADELOUPE),
        ("972", Calendar.MARTINIQUE),
        ("973", Calendar.GUYANE),
        ("974", Calendar.REUNION),
        ("976", Calendar.MAYOTTE),
    ],
)
def test_a_caisse_s_calendar_by_default_from_its_code(code, calendar):
    assert calendar_for_code(code) == calendar


@pytest.mark.parametrize(
    ("day", "caisse", "working"),
    [
        (date(2026, 4, 3), "671", False),  # Good Friday in Bas-Rhin
        (date(2026, 4, 3), "331", True),  # … a working day in Gironde
        (date(2026, 12, 26), "671", False),  # 26 December is a Saturday in 2026: see 2025
        (date(2025, 12, 26), "671", False),  # Saint-Étienne, a Friday in 2025
        (date(2025, 12, 26), "681", False),
        (date(2025, 12, 26), "571", False),
        (date(2025, 12, 26), "331", True),
        (date(2025, 4, 18), "571", False),  # Good Friday 2025 in Moselle
        (date(2025, 4, 18), "331", True),
        (date(2026, 5, 22), "972", False),  # abolition of slavery in Martinique
        (date(2026, 5, 22), "971", True),
        (date(2026, 5, 27), "971", False),  # … in Guadeloupe
        (date(2026, 5, 27), "972", True),
        (date(2026, 5, 27), "331", True),
        (date(2026, 6, 10), "973", False),  # … in Guyane
        (date(2027, 12, 20), "974", False),  # abolition of slavery in La Réunion
        (date(2027, 4, 27), "976", False),  # … in Mayotte
        (date(2027, 4, 27), "331", True),
    ],
)
def test_local_holidays_are_not_working_days(day, caisse, working):
    assert is_working_day(day, calendar=calendar_for_code(caisse)) is working


def test_an_age_over_good_friday_and_saint_etienne():
    """A request deposited on Thursday 17 April 2025, seen on Tuesday 22 April (Easter Monday on the 21st)."""
    assert working_days_between(date(2025, 4, 17), date(2025, 4, 22), calendar=calendar_for_code("331")) == 2
    assert working_days_between(date(2025, 4, 17), date(2025, 4, 22), calendar=calendar_for_code("671")) == 1
    # Wednesday 24 December 2025 to Monday 29: Christmas everywhere, Saint-Étienne in Alsace-Moselle only.
    assert working_days_between(date(2025, 12, 24), date(2025, 12, 29), calendar=calendar_for_code("331")) == 2
    assert working_days_between(date(2025, 12, 24), date(2025, 12, 29), calendar=calendar_for_code("571")) == 1
