from datetime import date, timedelta

import django_filters
from django.core.exceptions import ValidationError

from extranet.core.dates import start_of_day

# The days a filter may name: wide enough for any question, and within what a moment can hold (the first of January
# of year 1, turned into a moment in UTC, would be in year 0: a server error, not an answer).
FIRST_DAY, LAST_DAY = date(1900, 1, 1), date(2100, 12, 31)
OUT_OF_RANGE = f"Saisissez une date entre le {FIRST_DAY:%d/%m/%Y} et le {LAST_DAY:%d/%m/%Y}."


def within_range(value):
    if not FIRST_DAY <= value <= LAST_DAY:
        raise ValidationError(OUT_OF_RANGE, code="out_of_range")


class DayBoundFilter(django_filters.DateFilter):
    """A day's bound on a date-time column, the one rule of every "déposée du … au …" filter (pages and API).

    The column is compared with the bound's midnight (Europe/Paris), never cast to a date: its "newest first"
    indexes stay usable. `bound`: "from" (this day included), "through" (up to this day, included) or "before"
    (up to this day, excluded)."""

    BOUNDS = {"from": ("gte", 0), "through": ("lt", 1), "before": ("lt", 0)}

    def __init__(self, *args, bound, **kwargs):
        self.lookup, self.shift = self.BOUNDS[bound]
        kwargs.setdefault("validators", [within_range])
        super().__init__(*args, **kwargs)

    def filter(self, qs, value):
        if value in django_filters.constants.EMPTY_VALUES:
            return qs
        moment = start_of_day(value + timedelta(days=self.shift))
        return qs.filter(**{f"{self.field_name}__{self.lookup}": moment})
