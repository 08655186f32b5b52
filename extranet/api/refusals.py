"""The domain's refusals (the services' exceptions, the pages' forms' errors) as the API's (extranet/api/errors.py):
one place says which code each one is, so that every operation answers the same refusal alike."""

from collections.abc import Mapping

from django.core.exceptions import NON_FIELD_ERRORS
from django.utils.html import strip_tags
from rest_framework import status

from extranet.api.errors import REASON_OF, Refusal, invalid
from requests import services
from requests.attachments import FileRefused

UNKNOWN_FIELD = "Champ inconnu : l'opération ne le lit pas (voir son schéma)."
UNKNOWN_FIELDS = "Champs ou paramètres inconnus : voir « fields »."

# The deposit service's refusals (form.refused, requests/deposit.py): the code, the HTTP status, the details.
DEPOSIT_REFUSALS = {
    services.DuplicateOpenRequest: (
        "duplicate_open_request",
        status.HTTP_409_CONFLICT,
        lambda refused: {"existing": refused.existing.number},
    ),
    services.DepositKeyReused: (
        "deposit_key_reused",
        status.HTTP_422_UNPROCESSABLE_ENTITY,
        lambda refused: {"existing": refused.earlier.number},
    ),
    # The convention ended, or the membership was withdrawn, between the form's checks and the deposit: the same
    # answers as the form's, or the guard's, a moment earlier.
    services.NoActiveConvention: ("no_active_convention", status.HTTP_400_BAD_REQUEST, None),
    services.NotAMember: ("permission_denied", status.HTTP_403_FORBIDDEN, None),
    services.DepositAttachmentsNotStored: ("storage_unavailable", status.HTTP_503_SERVICE_UNAVAILABLE, None),
    services.DepositTooManyAttachments: ("too_many_attachments", status.HTTP_400_BAD_REQUEST, None),
}
# A form's error codes a client acts on by itself, the most telling first: without a caisse the request goes
# nowhere, a motif refused makes its files moot. Any other error is `invalid`.
FORM_CODES = {
    "no_active_convention": "no_active_convention",
    "unknown_caisse": "unknown_caisse",
    "caisse_required": "caisse_required",
    "habilitation_required": "habilitation_required",
    "email_already_used": "email_already_used",
    "file_count": "too_many_attachments",
    "unsafe_address": "webhook_address_refused",
}


def plain(errors):
    """{field: [messages]} as the API writes them: plain text (no HTML), "non_field_errors" for the whole."""
    return {
        "non_field_errors" if field == NON_FIELD_ERRORS else field: [strip_tags(message) for message in messages]
        for field, messages in errors.items()
    }


def unknown_fields(names, message=UNKNOWN_FIELD):
    return Refusal("unknown_fields", UNKNOWN_FIELDS, fields={name: [message] for name in sorted(names)})


def only_known_fields(serializer_class, data):
    """A body field the operation's serializer (the one its schema shows) does not know is refused rather than
    ignored: the client surely meant something by it."""
    if isinstance(data, Mapping) and (unknown := data.keys() - serializer_class().fields.keys()):
        raise unknown_fields(unknown)


def read_body(serializer_class, data):
    """The body, validated by the operation's serializer, with only its fields."""
    only_known_fields(serializer_class, data)
    serializer = serializer_class(data=data)
    serializer.is_valid(raise_exception=True)
    return serializer.validated_data


def errors_refusal(errors, *, fields=None):
    """Django's {field: [ValidationError]} (a form's `errors.as_data()`, a field's refusal): `invalid` with every
    field's messages, or the refusal with its own code a client handles by itself (FORM_CODES, a refused file),
    with the same `fields` (given when the client's names are not the form's). A refused file's name and reason are
    in `refused_files`, whatever the code."""
    fields = (
        fields
        if fields is not None
        else plain({name: [text for error in found for text in error.messages] for name, found in errors.items()})
    )
    found = [(name, error) for name, errors_of_field in errors.items() for error in errors_of_field]
    refused_files = [
        {"field": name, "name": error.name, "reason": REASON_OF[error.code], "message": error.messages[0]}
        for name, error in found
        if isinstance(error, FileRefused)
    ]
    details = {"refused_files": refused_files} if refused_files else {}
    for form_code, code in FORM_CODES.items():
        if first := next((error for _, error in found if error.code == form_code), None):
            return Refusal(code, strip_tags(first.messages[0]), fields=fields, **details)
    if refused_files:
        return Refusal("attachment_refused", refused_files[0]["message"], fields=fields, **details)
    return invalid(fields)


def form_refusal(form):
    return errors_refusal(form.errors.as_data())


def deposit_refusal(refused):
    """The deposit service's refusal (a services.DepositRefused)."""
    if type(refused) not in DEPOSIT_REFUSALS:
        return invalid(plain(refused.errors))
    code, http_status, details = DEPOSIT_REFUSALS[type(refused)]
    message = next(message for messages in refused.errors.values() for message in messages)
    return Refusal(code, strip_tags(message), status=http_status, **(details(refused) if details else {}))


def workflow_refusal(refusal, *, field=None):
    """A move's or a write's refusal (a services.WorkflowRefused). What is neither a status, a right nor the files'
    storage is about the operation's input (an empty text, an agent who cannot hold the request): `field`'s."""
    if isinstance(refusal, services.WrongStatus):
        return Refusal("wrong_status", str(refusal), status=status.HTTP_409_CONFLICT, current_status=refusal.status)
    if isinstance(refusal, services.NotAllowed):
        return Refusal("not_allowed", str(refusal), status=status.HTTP_403_FORBIDDEN)
    if isinstance(refusal, services.AttachmentsNotStored):
        return Refusal("storage_unavailable", str(refusal), status=status.HTTP_503_SERVICE_UNAVAILABLE)
    if isinstance(refusal, services.TooManyAttachments):
        return Refusal("too_many_attachments", str(refusal))
    return invalid(plain({field or NON_FIELD_ERRORS: [str(refusal)]}))
