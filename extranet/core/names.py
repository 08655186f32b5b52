"""Names as a search compares them: what a person types for « Lefèvre », « LEFEVRE » or « Le Fèvre » is one key.

The key is lower-case ASCII letters only (accents, case, spaces, hyphens and apostrophes dropped, ligatures spelt
out), so that a prefix search is a plain range over an ordinary index on SQLite and PostgreSQL alike, whatever the
database's collation: for strings of a-z only, every collation orders them as the alphabet does.
"""

import unicodedata

# Letters NFKD leaves whole: ligatures and barred letters, spelt as a French reader would.
_SPELT_OUT = str.maketrans({"œ": "oe", "æ": "ae", "ø": "o", "ł": "l", "đ": "d", "ð": "d", "þ": "th", "ı": "i"})


def name_key(value):
    """« Élodie Le Gall-Dupré » → "elodielegalldupre"."""
    text = unicodedata.normalize("NFKD", (value or "").casefold().translate(_SPELT_OUT))
    return "".join(char for char in text if "a" <= char <= "z")


def prefix_range(key):
    """The bounds (low, high) of the keys that start with `key`: low <= k < high, high None when there is none
    (a key of z only). Equivalent to LIKE 'key%' but usable by a B-tree index under any collation."""
    stem = key.rstrip("z")
    if not stem:
        return key, None
    return key, stem[:-1] + chr(ord(stem[-1]) + 1)
