"""Working days of a caisse: Monday to Friday, except the public holidays (jours fériés) of the caisse's calendar.

Each caisse keeps the calendar of its territory (`Calendar`): the national holidays everywhere, plus the local ones
of Alsace-Moselle (Good Friday, 26 December) and of each overseas department (the abolition of slavery days among
others). The holidays come from the maintained `holidays` library (country FR and its subdivisions), not from a
table of ours: its national list was checked against the eleven French holidays from 2008 to 2099.

Pure functions over dates, no database and no settings: the queue's age and deadlines are built on them. Every
function takes the calendar as a keyword, with no default: a forgotten calendar would silently be the wrong one.
"""

from datetime import timedelta
from functools import lru_cache
from types import MappingProxyType

import holidays
from django.db import models


class Calendar(models.TextChoices):
    METROPOLE = "metropole", "Métropole (fêtes nationales)"
    ALSACE_MOSELLE = "alsace-moselle", "Alsace-Moselle (Vendredi saint, 26 décembre)"
    GUADELOUPE = "guadeloupe", "Guadeloupe"
    MARTINIQUE = "martinique", "Martinique"
    GUYANE = "guyane", "Guyane"
    REUNION = "reunion", "La Réunion"
    MAYOTTE = "mayotte", "Mayotte"


# The library's subdivision of France for each calendar (None: the national holidays only). Moselle ("57") and
# Alsace ("6AE") have the same two local days.
SUBDIVISIONS = {
    Calendar.METROPOLE: None,
    Calendar.ALSACE_MOSELLE: "6AE",
    Calendar.GUADELOUPE: "971",
    Calendar.MARTINIQUE: "972",
    Calendar.GUYANE: "973",
    Calendar.REUNION: "974",
    Calendar.MAYOTTE: "976",
}

# A caisse's code starts with its department's: Bas-Rhin (671), Haut-Rhin (681) and Moselle (571) keep the local
# law's holidays; the overseas caisses' codes are their department's (971 to 976).
CALENDAR_OF_DEPARTMENT = {
    "57": Calendar.ALSACE_MOSELLE,
    "67": Calendar.ALSACE_MOSELLE,
    "68": Calendar.ALSACE_MOSELLE,
}
CALENDAR_OF_OVERSEAS_CODE = {
    "971": Calendar.GUADELOUPE,
    "972": Calendar.MARTINIQUE,
    "973": Calendar.GUYANE,
    "974": Calendar.REUNION,
    "976": Calendar.MAYOTTE,
}


def calendar_for_code(code):
    """The calendar a caisse has by default, from its three-digit code."""
    return CALENDAR_OF_OVERSEAS_CODE.get(code) or CALENDAR_OF_DEPARTMENT.get(code[:2], Calendar.METROPOLE)


@lru_cache(maxsize=512)
def public_holidays(year, *, calendar):
    """The public holidays of this year in this calendar, with their French names."""
    days = holidays.country_holidays("FR", subdiv=SUBDIVISIONS[Calendar(calendar)], years=year, language="fr")
    return MappingProxyType(dict(sorted(days.items())))  # cached: read-only


def is_working_day(day, *, calendar):
    return day.weekday() < 5 and day not in public_holidays(day.year, calendar=calendar)


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


def working_days_between(start, end, *, calendar):
    """Working days d with start < d <= end: 0 on the same day, 1 from a Friday (or a Saturday) to the next Monday.

    This is the age of something that arrived on `start`, seen on `end`. Constant time in the length of the span
    but for the holidays of the years it covers.
    """
    if end <= start:
        return 0
    off = sum(
        1
        for year in range(start.year, end.year + 1)
        for holiday in public_holidays(year, calendar=calendar)
        if start < holiday <= end and holiday.weekday() < 5
    )
    return _weekdays_after(start, end) - off


def first_day_within(today, working_days, *, calendar):
    """The earliest arrival date whose age on `today` is at most `working_days`.

    Whatever arrived before it is more than `working_days` working days old: it is the cutoff that turns a
    deadline into a date comparison (a database filter). It is the (working_days + 1)-th working day counted
    back from today, today included when it is a working day.
    """
    if working_days < 0:
        raise ValueError("working_days must be zero or more")
    day = today
    while not is_working_day(day, calendar=calendar):
        day -= timedelta(days=1)
    for _ in range(working_days):
        day -= timedelta(days=1)
        while not is_working_day(day, calendar=calendar):
            day -= timedelta(days=1)
    return day


def working_days_after(start, working_days, *, calendar):
    """The day `working_days` working days after `start` (`start` itself for 0): the inverse of
    `working_days_between` (working_days_between(start, result) == working_days)."""
    day = start
    for _ in range(working_days):
        day += timedelta(days=1)
        while not is_working_day(day, calendar=calendar):
            day += timedelta(days=1)
    return day
