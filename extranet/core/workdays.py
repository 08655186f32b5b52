"""Working days of a caisse: Monday to Friday, except French public holidays (jours fériés).

Pure functions over dates, no database and no settings: the queue's age and deadlines are built on them.
The national holidays only: the local ones of Alsace-Moselle (Good Friday, 26 December) are not counted.
"""

from datetime import date, timedelta
from functools import lru_cache


def easter_sunday(year):
    """Easter Sunday in the Gregorian calendar (anonymous algorithm, a.k.a. Meeus/Jones/Butcher)."""
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


@lru_cache(maxsize=64)
def french_public_holidays(year):
    """The eleven national public holidays of this year."""
    easter = easter_sunday(year)
    return frozenset(
        {
            date(year, 1, 1),  # Jour de l'an
            easter + timedelta(days=1),  # Lundi de Pâques
            date(year, 5, 1),  # Fête du travail
            date(year, 5, 8),  # Victoire 1945
            easter + timedelta(days=39),  # Ascension
            easter + timedelta(days=50),  # Lundi de Pentecôte
            date(year, 7, 14),  # Fête nationale
            date(year, 8, 15),  # Assomption
            date(year, 11, 1),  # Toussaint
            date(year, 11, 11),  # Armistice 1918
            date(year, 12, 25),  # Noël
        }
    )


def is_working_day(day):
    return day.weekday() < 5 and day not in french_public_holidays(day.year)


def _weekdays_after(start, end):
    """Mondays to Fridays d with start < d <= end."""
    days = (end - start).days
    if days <= 0:
        return 0
    weeks, rest = divmod(days, 7)
    count = weeks * 5
    for offset in range(1, rest + 1):
        if (start + timedelta(days=weeks * 7 + offset)).weekday() < 5:
            count += 1
    return count


def working_days_between(start, end):
    """Working days d with start < d <= end: 0 on the same day, 1 from a Friday (or a Saturday) to the next Monday.

    This is the age of something that arrived on `start`, seen on `end`. Constant time in the length of the span
    but for the holidays of the years it covers.
    """
    if end <= start:
        return 0
    holidays = sum(
        1
        for year in range(start.year, end.year + 1)
        for holiday in french_public_holidays(year)
        if start < holiday <= end and holiday.weekday() < 5
    )
    return _weekdays_after(start, end) - holidays


def first_day_within(today, working_days):
    """The earliest arrival date whose age on `today` is at most `working_days`.

    Whatever arrived before it is more than `working_days` working days old: it is the cutoff that turns a
    deadline into a date comparison (a database filter). It is the (working_days + 1)-th working day counted
    back from today, today included when it is a working day.
    """
    if working_days < 0:
        raise ValueError("working_days must be zero or more")
    day = today
    while not is_working_day(day):
        day -= timedelta(days=1)
    for _ in range(working_days):
        day -= timedelta(days=1)
        while not is_working_day(day):
            day -= timedelta(days=1)
    return day


def working_days_after(start, working_days):
    """The day `working_days` working days after `start` (`start` itself for 0): the inverse of
    `working_days_between` (working_days_between(start, result) == working_days)."""
    day = start
    for _ in range(working_days):
        day += timedelta(days=1)
        while not is_working_day(day):
            day += timedelta(days=1)
    return day
