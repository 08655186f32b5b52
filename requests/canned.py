"""Canned texts of a caisse (AnswerTemplate): the messages and answers its agents start from, and their placeholders.

A placeholder is one of PLACEHOLDERS, written in braces. Filling is one pass of a regular expression over the text,
each known placeholder replaced by its value as plain text: no template engine nor `str.format` ever reads what an
administrateur or a partner typed, and a value that itself contains "{numero}" (a person's name, say) stays as it is.
"""

import re

from django.db.models import Q

from requests.models import AnswerTemplate

PLACEHOLDERS = {
    "numero": ("Le numéro de la demande", lambda demande: demande.number),
    "civilite": ("La civilité de la personne concernée (Madame, Monsieur)", lambda demande: _civility(demande)),
    "nom": ("Le nom de la personne concernée, en majuscules", lambda demande: demande.person_last_name.upper()),
    "prenom": ("Le prénom de la personne concernée", lambda demande: demande.person_first_name),
}
_KNOWN = re.compile(r"\{(" + "|".join(PLACEHOLDERS) + r")\}")
_ANY = re.compile(r"\{([^{}\s]{1,40})\}")


def _civility(demande):
    return demande.get_person_civility_display() if demande.person_civility else ""


def fill(body, demande):
    """The text with its placeholders replaced by the request's values (empty for a request without a person)."""
    return _KNOWN.sub(lambda match: PLACEHOLDERS[match.group(1)][1](demande), body)


def unknown_placeholders(body):
    """The words in braces that are not placeholders, as typed: most likely a misspelt one."""
    return sorted({match.group(0) for match in _ANY.finditer(body) if match.group(1) not in PLACEHOLDERS})


def placeholder_help():
    """(placeholder as written, what it becomes), for the management page."""
    return [(f"{{{name}}}", label) for name, (label, _) in PLACEHOLDERS.items()]


def usable(demande, purpose):
    """The active templates of the request's caisse for its kind (or for every kind), by title."""
    return AnswerTemplate.objects.filter(caisse_id=demande.caisse_id, purpose=purpose, is_active=True).filter(
        Q(kind="") | Q(kind=demande.kind)
    )
