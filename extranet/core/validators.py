import re
from datetime import timedelta

from django.core.exceptions import ValidationError
from django.utils import timezone

from extranet.core.dates import EARLIEST_EVENT

_SEPARATORS = re.compile(r"[\s.\-]")


def normalize_french_phone(value):
    """A French number (0X XX XX XX XX, or +33 / 0033 followed by 9 digits), returned as "06 12 34 56 78"."""
    digits = _SEPARATORS.sub("", value or "")
    for prefix in ("+33", "0033"):
        if digits.startswith(prefix):
            digits = "0" + digits[len(prefix) :].removeprefix("0")
    if not (len(digits) == 10 and digits.isdigit() and digits[0] == "0" and digits[1] != "0"):
        raise ValidationError(
            "Saisissez un numéro de téléphone français à 10 chiffres, "
            "par exemple 06 12 34 56 78 ou +33 6 12 34 56 78.",
            code="phone",
        )
    return " ".join(digits[i : i + 2] for i in range(0, 10, 2))


def validate_event_date(value):
    """The date of something the application records (a convention's signature…): from EARLIEST_EVENT to a year
    from today. Outside, a typing error (0001 for 2001, 2205 for 2025)."""
    latest = timezone.localdate() + timedelta(days=365)
    if value is not None and not EARLIEST_EVENT <= value <= latest:
        raise ValidationError(
            f"Saisissez une date entre le {EARLIEST_EVENT:%d/%m/%Y} et le {latest:%d/%m/%Y}.", code="date_range"
        )
