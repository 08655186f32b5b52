from calendar import monthrange
from datetime import date, datetime, time

from django.utils import timezone

# The earliest birth date a person concerned may have: before it, a typing error.
EARLIEST_BIRTH = date(1900, 1, 1)
# The earliest date of an event the application records (a MAS referral, a convention's signature): the same.
EARLIEST_EVENT = date(2000, 1, 1)


def months_before(moment, months):
    """The same day `months` months earlier, the month's last day when it is shorter (31 March − 1 → 28/29 Feb)."""
    month_index = moment.year * 12 + moment.month - 1 - months
    year, month = divmod(month_index, 12)
    day = min(moment.day, monthrange(year, month + 1)[1])
    return moment.replace(year=year, month=month + 1, day=day)


def start_of_day(day):
    """Midnight of this date in the current time zone (Europe/Paris), as an aware datetime."""
    return timezone.make_aware(datetime.combine(day, time.min))
