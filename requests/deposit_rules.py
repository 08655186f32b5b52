"""What the domain refuses in a deposit, whoever deposits: the page, the API, the demo, an import.

`refusals` reads the catalogue and answers {field: [messages]}, empty when the deposit is acceptable. The deposit
service raises them (services.DepositRefused); the forms call the same function as they validate, so that a page
shows every message at once, next to its field. The messages are the forms' own (Django's for a missing value or an
unknown choice), in French.
"""

from collections import defaultdict
from datetime import date

from django import forms
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.core.validators import MaxLengthValidator, validate_email
from django.utils import timezone

from extranet.core.dates import EARLIEST_BIRTH
from extranet.core.text import validate_storable, without_bidi_controls
from extranet.core.validators import normalize_french_phone
from requests.attachments import TOO_FEW_ATTACHMENTS
from requests.catalog import KINDS, PERSON_FIELD_NAMES, PERSON_FIELDS, PRECISION
from requests.nir import nir_birth_mismatch, no_nir_in_free_text, validate_nir


class Coded(str):
    """A rule's message with the code a program tells it by (the API answers it, extranet/api/errors.py): a plain
    text wherever the message is shown; the forms keep the code on their error (RequestForm.show_refusal)."""

    def __new__(cls, text, *, code):
        message = super().__new__(cls, text)
        message.code = code
        return message


REQUIRED = forms.Field.default_error_messages["required"]
INVALID_DATE = forms.DateField.default_error_messages["invalid"]
UNKNOWN_KIND = "Choisissez un type de demande parmi : {}.".format(", ".join(KINDS))
UNKNOWN_FIELD = "Ce champ n'existe pas pour ce type de demande."
NO_PERSON = "Ce type de demande ne concerne aucune personne : ne renseignez pas de personne concernée."
BIRTH_DATE_NOT_PAST = "La date de naissance doit être dans le passé."
BIRTH_YEAR_UNLIKELY = "Vérifiez l'année de naissance."
PRECISION_MISSING = "Précisez le motif puisque vous avez choisi « Autre »."
NOT_HABILITATED = Coded(
    "Les documents concernant l'assuré (attestation de droits, CEAM, attestation d'indemnités journalières) sont "
    "réservés aux structures habilitées : tutelles, curatelles habilitées, services de l'aide sociale à "
    "l'enfance. Votre structure ne l'est pas ; les documents de prévention restent accessibles. Pour une "
    "habilitation, contactez le service partenariats de votre caisse.",
    code="habilitation_required",
)
MAS_REFERRAL_NEEDS_ITS_FORM = (
    "Une saisine de la Mission accompagnement santé se dépose avec sa fiche de saisine et l'accord de la personne."
)


def invalid_choice(value):
    return str(forms.ChoiceField.default_error_messages["invalid_choice"]) % {"value": value}


def refusals(*, kind, motif, structure, person, details, attachments=0):
    """Why this deposit cannot be made: {field: [messages]} (NON_FIELD_ERRORS for the whole), or {}.

    `person` and `details` are the fields the request stores; `attachments` counts the files joined to it."""
    spec = KINDS.get(kind)
    if spec is None:
        return {"kind": [UNKNOWN_KIND]}
    errors = defaultdict(list)
    chosen = spec.motif(motif)
    if not motif:
        errors["motif"].append(str(REQUIRED))
    elif chosen is None:
        errors["motif"].append(invalid_choice(motif))
    elif chosen.insured_document and not structure.insured_documents_habilitation:
        errors["motif"].append(NOT_HABILITATED)
    if spec.has_person:
        _person_refusals(person, errors)
    elif any(person.values()):
        errors[NON_FIELD_ERRORS].append(NO_PERSON)
    _fields_refusals(spec.details_of(motif), details, errors)
    if chosen is not None and chosen.needs_precision and not details.get(PRECISION):
        errors[PRECISION].append(PRECISION_MISSING)
    if attachments < spec.min_attachments:
        errors["attachments"].append(TOO_FEW_ATTACHMENTS)
    return dict(errors)


def _person_refusals(person, errors):
    _fields_refusals(PERSON_FIELDS, person, errors)
    nir = person.get("person_nir")
    if nir:
        try:
            nir = validate_nir(nir)
        except ValidationError as error:
            errors["person_nir"].extend(error.messages)
            nir = None
    birth_date = person.get("person_birth_date")
    if birth_date in (None, ""):
        return
    if not isinstance(birth_date, date):
        errors["person_birth_date"].append(str(INVALID_DATE))
    elif birth_date >= timezone.localdate():
        errors["person_birth_date"].append(BIRTH_DATE_NOT_PAST)
    elif birth_date < EARLIEST_BIRTH:
        errors["person_birth_date"].append(BIRTH_YEAR_UNLIKELY)
    elif nir and (mismatch := nir_birth_mismatch(nir, birth_date)):
        errors["person_birth_date"].append(mismatch)


def _fields_refusals(expected, values, errors):
    """Each field as its form field would check it (the person's, or the kind's details): unknown, missing, not one
    of its choices, too long or malformed, a NIR written in a free text."""
    known = {spec.name for spec in expected}
    for name in values.keys() - known:
        errors[name].append(UNKNOWN_FIELD)
    for spec in expected:
        value = values.get(spec.name)
        if value in (None, ""):
            if spec.required:
                errors[spec.name].append(str(REQUIRED))
        elif spec.choices and value not in dict(spec.choices):
            errors[spec.name].append(invalid_choice(value))
        elif refused := _text_refusals(spec, value):
            errors[spec.name].extend(refused)
        elif spec.free_text:
            try:
                no_nir_in_free_text(value)
            except ValidationError as error:
                errors[spec.name].extend(error.messages)


def _text_refusals(spec, value):
    """What the field's form would refuse in a text: one that cannot be stored, its length, an address's or a phone
    number's form (with the forms' own messages). Without it, a long name would be a database error on PostgreSQL,
    not a refusal."""
    if not isinstance(value, str):
        return []
    checks = [validate_storable, MaxLengthValidator(spec.max_length)]
    checks += {"email": [validate_email], "phone": [normalize_french_phone]}.get(spec.type, [])
    messages = []
    for check in checks:
        try:
            check(value)
        except ValidationError as error:
            messages.extend(error.messages)
    return messages


def merged(*refusals):
    """Several {field: [messages]} as one, the messages of a field in order."""
    errors = defaultdict(list)
    for refused in refusals:
        for name, messages in refused.items():
            errors[name].extend(messages)
    return dict(errors)


def stored_text(value):
    """A text as a request stores it, whoever deposits: without bidirectional controls (extranet/core/text.py)."""
    return without_bidi_controls(value) if isinstance(value, str) else value


def stored_person(person):
    """The person's fields as a request stores them: the NIR in its canonical form, every field present, the texts
    cleaned."""
    stored = {name: stored_text(person.get(name) or "") for name in PERSON_FIELD_NAMES} if person else {}
    if stored:
        stored["person_birth_date"] = person["person_birth_date"]
        stored["person_nir"] = validate_nir(person["person_nir"])
    return stored


def stored_details(kind, motif, details):
    """The details as a request stores them: every detail of the kind, an unanswered one empty, the texts cleaned."""
    return {spec.name: stored_text(details.get(spec.name, "")) for spec in KINDS[kind].details_of(motif)}
