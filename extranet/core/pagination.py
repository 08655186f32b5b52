"""Pages of long lists without an unbounded COUNT(*): counting a structure's 10,000 requests on every page view
cost more than reading the page itself (bench/results.md)."""

import math
from dataclasses import dataclass

# Up to this many rows (or to the end of the page asked for, if further) the total is exact; beyond, the page says
# "plus de N".
COUNT_LIMIT = 1000
# The furthest page a query string may ask for: beyond, its offset would overflow the databases' integers (a server
# error), and no list is that long.
MAX_PAGE = 100_000


@dataclass(frozen=True)
class BoundedPage:
    object_list: list
    number: int
    size: int
    has_next: bool
    count: int
    count_is_lower_bound: bool

    @property
    def has_previous(self):
        return self.number > 1

    @property
    def previous_page_number(self):
        return self.number - 1

    @property
    def next_page_number(self):
        return self.number + 1

    @property
    def start_index(self):
        return (self.number - 1) * self.size + 1 if self.object_list else 0

    @property
    def end_index(self):
        return (self.number - 1) * self.size + len(self.object_list)

    @property
    def num_pages(self):
        """The number of pages, or None when only a lower bound of the total is known."""
        return None if self.count_is_lower_bound else max(1, math.ceil(self.count / self.size))

    def __iter__(self):
        return iter(self.object_list)


def page_number(raw):
    """The page asked for in the query string: 1 when missing, not a number, or below 1; at most MAX_PAGE."""
    try:
        number = int(raw)
    except (TypeError, ValueError):
        return 1
    return min(max(number, 1), MAX_PAGE)


def link_query(params, names):
    """The query string of a list's links (pages, sort, export): only the parameters the list reads (`names`), so that
    nothing else typed into an address, a person's name for instance, is written back into the page's links."""
    kept = params.copy()
    for name in params:
        if name not in names:
            kept.pop(name)
    return kept


def bounded_page(queryset, raw_number, size, *, count_limit=None):
    """The page `raw_number` (the last one when it is past the end) of an ordered queryset."""
    count_limit = COUNT_LIMIT if count_limit is None else count_limit
    number = page_number(raw_number)
    offset = (number - 1) * size
    rows = list(queryset[offset : offset + size + 1])
    if not rows and number > 1:
        total = _count_up_to(queryset, offset)
        return bounded_page(queryset, str(max(1, math.ceil(total / size))), size, count_limit=count_limit)
    has_next = len(rows) > size
    rows = rows[:size]
    if number == 1 and not has_next:
        return BoundedPage(rows, number, size, False, len(rows), False)
    ceiling = max(count_limit, offset + size)
    total = _count_up_to(queryset, ceiling + 1)
    return BoundedPage(rows, number, size, has_next, min(total, ceiling), total > ceiling)


def _count_up_to(queryset, limit):
    return queryset.order_by().values("pk")[:limit].count()
