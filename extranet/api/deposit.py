"""The deposit's body as a client sends it, nested (`person`, `details`, `mas_referral`; in multipart, that JSON
object in a part named `data`, files beside it), turned into the flat fields of the pages' forms, which validate it
as they validate a page (requests/forms.py); and the forms' errors given back under the client's names
(`person.last_name`, `details.channel`, `mas_referral.consent_mode`).

What is no part of a deposit of its kind and motif is refused, named, before any validation (`unknown_fields`): a
client that misspells a field learns it, rather than seeing its value dropped."""

import json
from dataclasses import dataclass, field

from django import forms
from django.core.exceptions import NON_FIELD_ERRORS
from django.http import QueryDict
from django.utils.html import strip_tags

from extranet.api.errors import Refusal, invalid
from extranet.api.parsers import check_json
from requests.catalog import KINDS, PERSON_FIELD_NAMES, is_mas_referral
from requests.deposit_rules import UNKNOWN_FIELD, UNKNOWN_KIND
from requests.forms import MasReferralForm, RequestForm, deposit_form_class

# The person's fields under the client's names: `person.last_name` is the forms' `person_last_name`.
PERSON = {name.removeprefix("person_"): name for name in PERSON_FIELD_NAMES}
# The MAS referral's own fields, beyond the person: the detector's name and structure are the account's, shown to
# the client but never taken from it.
MAS_FIELDS = tuple(
    name
    for name, form_field in MasReferralForm.base_fields.items()
    if name not in RequestForm.base_fields and not form_field.disabled
)
TOP_LEVEL = ("kind", "motif", "caisse", "person", "details", "mas_referral")
BLOCKS = ("person", "details", "mas_referral")
# The JSON object in a multipart body, and the file parts beside it.
DATA_PART = "data"
ATTACHMENTS, CONSENT_DOCUMENT = "attachments", "consent_document"

NOT_AN_OBJECT = "Le corps de la requête doit être un objet JSON."
DATA_MISSING = "La partie « data » (l'objet JSON du dépôt) est obligatoire, une seule fois."
DATA_UNREADABLE = "La partie « data » doit être un objet JSON."
OBJECT_EXPECTED = "Un objet JSON est attendu."
TEXT_EXPECTED = "Une chaîne de caractères est attendue."
LIST_EXPECTED = "Une liste de chaînes de caractères est attendue."
BOOLEAN_EXPECTED = "true ou false est attendu."
UNKNOWN_FIELDS = "Champs inconnus pour ce type de demande : {}."


def blocks(kind, motif):
    """The objects a deposit of this kind and motif takes, each as {client name: form field name}."""
    spec = KINDS[kind]
    found = {}
    if spec.has_person:
        found["person"] = PERSON
    if details := spec.details_of(motif):
        found["details"] = {detail.name: detail.name for detail in details}
    if is_mas_referral(kind, motif):
        found["mas_referral"] = {name: name for name in MAS_FIELDS}
    return found


def files_allowed(kind, motif):
    return {ATTACHMENTS, CONSENT_DOCUMENT} if is_mas_referral(kind, motif) else {ATTACHMENTS}


@dataclass
class Deposit:
    """A deposit read from the body: its form, the form's data and files, and what was refused while reading."""

    form_class: type
    data: QueryDict
    files: object
    names: dict  # form field name → client name, for the errors
    errors: dict = field(default_factory=dict)  # client name → [messages]: values of the wrong JSON type

    def client_errors(self, errors):
        """The form's errors ({form field: [messages]}) under the client's names, in plain text (a duplicate's
        message links the existing request on the page), with the values refused while reading."""
        named = {
            "non_field_errors" if name == NON_FIELD_ERRORS else self.names.get(name, name): [
                strip_tags(message) for message in messages
            ]
            for name, messages in errors.items()
        }
        # A value of the wrong type was left out of the form: its "required" would only hide the reason.
        return named | self.errors

    def put(self, client_name, form_name, value, form_field):
        """A JSON value as the form's data, if of the type the form field reads."""
        if isinstance(form_field, forms.MultipleChoiceField):
            if isinstance(value, list) and all(isinstance(item, str) for item in value):
                self.data.setlist(form_name, value)
                return
            self.errors[client_name] = [LIST_EXPECTED]
        elif isinstance(form_field, forms.BooleanField):
            if isinstance(value, bool):
                # An unticked box is absent from a page's post.
                self.data.setlist(form_name, ["on"] if value else [])
                return
            self.errors[client_name] = [BOOLEAN_EXPECTED]
        elif isinstance(value, str):
            self.data[form_name] = value
        else:
            self.errors[client_name] = [TEXT_EXPECTED]


def read(request):
    """The deposit the API request carries, or a Refusal: a body that is no JSON object, unknown fields, a kind
    that does not exist (with the allowed ones)."""
    body, files = _body(request)
    if unknown := [name for name in body if name not in TOP_LEVEL]:
        raise _unknown(unknown)
    kind, motif = body.get("kind"), body.get("motif")
    if not isinstance(kind, str) or kind not in KINDS:
        raise invalid({"kind": [UNKNOWN_KIND]})
    # A motif of the wrong type is refused with the rest, and chooses nothing meanwhile.
    motif = motif if isinstance(motif, str) else None
    shape = blocks(kind, motif)
    unknown = [name for name in BLOCKS if name in body and name not in shape]
    for block, fields in shape.items():
        if isinstance(inner := body.get(block), dict):
            unknown += [f"{block}.{name}" for name in inner if name not in fields]
    unknown += sorted(set(files) - files_allowed(kind, motif))
    if unknown:
        raise _unknown(unknown)

    form_class = deposit_form_class(kind, motif)
    deposit = Deposit(form_class, QueryDict(mutable=True), files, names={})
    for name in ("motif", "caisse"):
        if name in body:
            deposit.put(name, name, body[name], form_class.base_fields.get(name))
    for block, fields in shape.items():
        inner = body.get(block, {})
        if not isinstance(inner, dict):
            deposit.errors[block] = [OBJECT_EXPECTED]
            continue
        for name, form_name in fields.items():
            deposit.names[form_name] = f"{block}.{name}"
            if name in inner:
                deposit.put(f"{block}.{name}", form_name, inner[name], form_class.base_fields[form_name])
    return deposit


def _body(request):
    """The JSON object of the deposit, and its files: a JSON body, or a multipart one with the object in `data`."""
    if not isinstance(request.data, QueryDict):
        if not isinstance(request.data, dict):
            raise invalid({"non_field_errors": [NOT_AN_OBJECT]})
        return request.data, {}
    fields = [name for name in request.data if name not in request.FILES]
    if unknown := [name for name in fields if name != DATA_PART] + [
        name for name in request.FILES if name not in (ATTACHMENTS, CONSENT_DOCUMENT)
    ]:
        raise _unknown(unknown)
    parts = request.data.getlist(DATA_PART) if DATA_PART in fields else []
    if len(parts) != 1:
        raise invalid({DATA_PART: [DATA_MISSING]})
    try:
        body = json.loads(parts[0])
    except ValueError:
        raise invalid({DATA_PART: [DATA_UNREADABLE]}) from None
    if not isinstance(body, dict):
        raise invalid({DATA_PART: [DATA_UNREADABLE]})
    check_json(body)
    return body, request.FILES


def _unknown(names):
    return Refusal(
        "unknown_fields", UNKNOWN_FIELDS.format(", ".join(names)), fields={name: [UNKNOWN_FIELD] for name in names}
    )
