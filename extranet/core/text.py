"""What becomes of a text typed by a user before it is stored, the one rule of the forms, the API's serializers and
the services (requests/deposit_rules.py), so that pages and API agree.

- Bidirectional controls (U+202A–U+202E, U+2066–U+2069, U+200E, U+200F, U+061C) are removed: invisible, they
  reorder what is shown around them (U+202E makes « Élodie » read « eidolÉ » in pages and PDFs) and no name or
  message needs them. Latin, Arabic or Hebrew letters keep their own direction without them.
- A text that cannot be written as UTF-8 (a lone surrogate such as \\ud800, which only a JSON escape can carry: the
  pages' decoding replaces bytes that are not UTF-8) is refused at its field. The database would refuse it with an
  error quoting the text, in the server's log.
"""

import re

from django.core.exceptions import ValidationError

BIDI_CONTROLS = re.compile("[\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")
UNSTORABLE = (
    "Ce texte contient un caractère invalide (un code Unicode isolé) : retapez-le ou collez-le à nouveau depuis "
    "un texte ordinaire."
)


def without_bidi_controls(value):
    return BIDI_CONTROLS.sub("", value)


def is_storable(value):
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def validate_storable(value):
    """A validator (forms, serializers): a text, or each text of a list, must be writable as UTF-8."""
    values = value if isinstance(value, (list, tuple)) else [value]
    if not all(is_storable(item) for item in values if isinstance(item, str)):
        raise ValidationError(UNSTORABLE, code="unstorable")


def clean_text(value):
    """The text as it is stored: refused (ValidationError) if it cannot be, else without bidirectional controls."""
    validate_storable(value)
    return without_bidi_controls(value)
