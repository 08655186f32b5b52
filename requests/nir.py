"""The NIR (numéro d'inscription au répertoire, "numéro de sécurité sociale")."""

import hashlib
import hmac
import re
import unicodedata

from django.conf import settings
from django.core.exceptions import ValidationError

# 13 digits or more, separators allowed, Corsica's 2A/2B at the 6th-7th place included.
_NIR_LIKE = re.compile(
    r"[0-9](?:[\s.\-]?[0-9]){4}[\s.\-]?(?:[0-9][\s.\-]?[0-9]|2[\s.\-]?[AB])(?:[\s.\-]?[0-9]){6}", re.I
)
# The shape of a NIR once normalized; also the pattern the API's schema gives (extranet/api/catalogue.py).
SHAPE = re.compile(r"^[123478][0-9]{4}([0-9]{2}|2A|2B)[0-9]{8}$")
_CORSICA = {"2A": "19", "2B": "18"}
# The 4th and 5th digits: the month of birth (01–12), or a code the INSEE gives when the month is not known (a
# "mois fictif", for a registration on an incomplete civil status): 20 to 42, 50 to 99. Sources differ on 21–29 (some
# list 20 and 30–42 only): they are accepted, since refusing a real NIR would keep the person out of the service,
# while 00, 13–19 and 43–49 are no code at all.
REAL_MONTHS = range(1, 13)
UNKNOWN_MONTH_CODES = frozenset([*range(20, 43), *range(50, 100)])


def normalize_nir(value):
    """ASCII, upper case, no separators: full-width or other Unicode digits become 0-9."""
    return re.sub(r"[\s.\-]", "", unicodedata.normalize("NFKC", value or "")).upper()


def nir_key(first13):
    """97 − (the first 13 digits mod 97); Corsica's 2A/2B count as 19/18."""
    digits = first13[:5] + _CORSICA.get(first13[5:7], first13[5:7]) + first13[7:13]
    return f"{97 - int(digits) % 97:02d}"


def validate_nir(value):
    nir = normalize_nir(value)
    if len(nir) != 15:
        raise ValidationError(
            "Le numéro de sécurité sociale comporte 15 caractères (13 chiffres et la clé de 2 chiffres).",
            code="nir_length",
        )
    if not SHAPE.fullmatch(nir):
        raise ValidationError(
            "Ce numéro de sécurité sociale n'a pas la bonne forme : il commence par 1 ou 2 et ne contient que des "
            "chiffres, sauf « 2A » ou « 2B » (Corse) en 6e et 7e positions.",
            code="nir_format",
        )
    if not is_month_code(int(nir[3:5])):
        raise ValidationError(
            "Les 4e et 5e chiffres du numéro de sécurité sociale (le mois de naissance) ne sont ni un mois de 01 à "
            "12, ni un code de mois inconnu (20 à 42, 50 à 99) : vérifiez-les.",
            code="nir_month",
        )
    if nir_key(nir[:13]) != nir[13:]:
        raise ValidationError(
            "La clé du numéro de sécurité sociale ne correspond pas : vérifiez chaque chiffre.", code="nir_key"
        )
    return nir


def is_month_code(month):
    return month in REAL_MONTHS or month in UNKNOWN_MONTH_CODES


def nir_birth_mismatch(nir, birth_date):
    """A message if the NIR's year or real month of birth contradicts the birth date, else None: a code of an
    unknown month matches any month."""
    if int(nir[1:3]) != birth_date.year % 100:
        return "L'année de naissance ne correspond pas au numéro de sécurité sociale (2e et 3e chiffres)."
    month = int(nir[3:5])
    if month in REAL_MONTHS and month != birth_date.month:
        return "Le mois de naissance ne correspond pas au numéro de sécurité sociale (4e et 5e chiffres)."
    return None


def no_nir_in_free_text(value):
    """Free texts must not carry the NIR, which has its own field (and is encrypted there)."""
    if _NIR_LIKE.search(unicodedata.normalize("NFKC", value)):
        raise ValidationError(
            "Ce texte contient une longue suite de chiffres : n'y écrivez pas de numéro de sécurité sociale, il a "
            "son propre champ.",
            code="nir_in_text",
        )


def mask_nir(nir):
    """Shown in lists: the sex and year of birth only, e.g. "2 85 •• •• ••• ••• ••"."""
    return f"{nir[0]} {nir[1:3]} •• •• ••• ••• ••" if nir else ""


def format_nir(nir):
    return " ".join((nir[0], nir[1:3], nir[3:5], nir[5:7], nir[7:10], nir[10:13], nir[13:])) if nir else ""


def nir_digest(nir):
    """Keyed hash for exact search and the duplicate guard, without the NIR itself."""
    return hmac.new(settings.NIR_HASH_KEY.encode(), normalize_nir(nir).encode(), hashlib.sha256).hexdigest()
