from calendar import monthrange


def months_before(moment, months):
    """The same day `months` months earlier, the month's last day when it is shorter (31 March − 1 → 28/29 Feb)."""
    month_index = moment.year * 12 + moment.month - 1 - months
    year, month = divmod(month_index, 12)
    day = min(moment.day, monthrange(year, month + 1)[1])
    return moment.replace(year=year, month=month + 1, day=day)
