"""Links to one object of a list, built without Django's `reverse` on every row.

`reverse` walks the resolver on each call (about 60 µs here): a list of 50 requests with two links a row spent 6 ms
in it (bench/profile_pages.py). `object_url` reverses each URL name once per script prefix with a marker in place of
the argument, then puts each object's key in the marker's place. Only keys made of characters a URL keeps as they
are take this way; any other goes through `reverse`, so the result is always `reverse`'s
(tests/extranet/core/test_links.py compares them).
"""

import functools
import re

from django.urls import get_script_prefix, reverse

_MARKER = "__key__"
_PLAIN = re.compile(r"[A-Za-z0-9_.-]+")


@functools.lru_cache(maxsize=64)
def _pattern(name, script_prefix):
    # The script prefix is part of every reversed URL: a process serving under two prefixes keeps one pattern each.
    before, after = reverse(name, args=[_MARKER]).split(_MARKER)
    return before, after


def object_url(name, key):
    """reverse(name, args=[key]), for a URL whose only argument is `key`."""
    key = str(key)
    if not _PLAIN.fullmatch(key):
        return reverse(name, args=[key])
    before, after = _pattern(name, get_script_prefix())
    return f"{before}{key}{after}"
