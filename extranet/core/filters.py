from datetime import timedelta

import django_filters

from extranet.core.dates import start_of_day


class DayBoundFilter(django_filters.DateFilter):
    """A day's bound on a date-time column, the one rule of every "déposée du … au …" filter (pages and API).

    The column is compared with the bound's midnight (Europe/Paris), never cast to a date: its "newest first"
    indexes stay usable. `bound`: "from" (this day included), "through" (up to this day, included) or "before"
    (up to this day, excluded)."""

    BOUNDS = {"from": ("gte", 0), "through": ("lt", 1), "before": ("lt", 0)}

    def __init__(self, *args, bound, **kwargs):
        self.lookup, self.shift = self.BOUNDS[bound]
        super().__init__(*args, **kwargs)

    def filter(self, qs, value):
        if value in django_filters.constants.EMPTY_VALUES:
            return qs
        moment = start_of_day(value + timedelta(days=self.shift))
        return qs.filter(**{f"{self.field_name}__{self.lookup}": moment})
