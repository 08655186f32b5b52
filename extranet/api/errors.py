"""Every refusal of the API has one shape, whatever raised it:

    {"code": "duplicate_open_request", "message": "…", "fields": {"person_nir": ["…"]}, "existing": "2633100012"}

`code` is a stable slug a client branches on (listed in CODES, documented in the schema), `message` is French prose
for a person, `fields` (only for invalid input) names each field with its messages, and a refusal may carry details
of its own (`existing` above). Views raise `Refusal`; DRF's own exceptions (authentication, permission, throttling,
parsing…) are turned into the same shape here."""

from django.core.exceptions import PermissionDenied, RequestDataTooBig, TooManyFieldsSent, TooManyFilesSent
from django.http import Http404
from rest_framework import exceptions, status
from rest_framework.views import exception_handler as drf_exception_handler

# Django's limits on what a request may carry: DRF's parsers let them through, and Django would answer in HTML.
OVERSIZED = {
    TooManyFilesSent: "Trop de fichiers dans une seule requête.",
    TooManyFieldsSent: "Trop de champs dans une seule requête.",
    RequestDataTooBig: "Requête trop volumineuse.",
}

# The JSON 404 of every unknown address under /api/ (extranet.views.not_found) says the same.
NOT_FOUND = "Introuvable."
INVALID = "Certaines valeurs sont invalides : voir « fields »."

# Every code the API may answer, with what it means for a client: the schema's enum and its documentation.
CODES = {
    "invalid": "Valeurs invalides ; `fields` donne, pour chaque champ, ses messages (`non_field_errors` pour "
    "l'ensemble).",
    "unknown_fields": "Champs ou paramètres que l'opération ne lit pas ; `fields` les nomme.",
    "parse_error": "Corps de requête illisible (JSON invalide, trop volumineux…).",
    "unsupported_media_type": "Type de contenu non pris en charge.",
    "not_authenticated": "Authentification absente.",
    "authentication_failed": "Jeton invalide, expiré ou révoqué, ou compte désactivé.",
    "permission_denied": "Action non autorisée pour ce compte.",
    "second_factor_required": "Double authentification non configurée : requise pour les données personnelles.",
    "not_found": "Introuvable, ou hors de votre périmètre.",
    "method_not_allowed": "Méthode non prise en charge par cette adresse.",
    "not_acceptable": "Format de réponse demandé non disponible.",
    "throttled": "Trop de requêtes pour ce jeton ; `retry_after` donne le délai en secondes.",
    "server_error": "Erreur du serveur : la requête a pu être enregistrée, vérifiez avant de la refaire.",
}
DRF_CODES = {
    "not_authenticated": status.HTTP_401_UNAUTHORIZED,
    "authentication_failed": status.HTTP_401_UNAUTHORIZED,
}


class Refusal(exceptions.APIException):
    """A refusal a client must be able to handle: a stable `code` (in CODES), a French `message`, `fields` for
    invalid input, and details of its own (`existing`, `retry_after`…)."""

    def __init__(self, code, message, *, status=status.HTTP_400_BAD_REQUEST, fields=None, **details):
        assert code in CODES, f"{code!r} is not in extranet.api.errors.CODES (the schema documents each code)"
        super().__init__(message, code)
        self.status_code = status
        self.body = {"code": code, "message": str(message)}
        if fields is not None:
            self.body["fields"] = {name: [str(text) for text in texts] for name, texts in fields.items()}
        self.body.update(details)


def invalid(fields, *, message=INVALID, status=status.HTTP_400_BAD_REQUEST):
    """{field: [messages]} refused as the API's invalid input."""
    return Refusal("invalid", message, status=status, fields=fields)


def body(code, message, **details):
    """The same shape, for the few answers written outside DRF (extranet.views' 400, 403 CSRF, 404, 500)."""
    return {"code": code, "message": str(message), **details}


def _flatten(detail):
    """DRF's error detail (a list, a dict of lists, nested for nested serializers) as {field: [messages]}."""
    if isinstance(detail, dict):
        flat = {}
        for name, value in detail.items():
            if isinstance(value, dict):
                flat.update({f"{name}.{inner}": texts for inner, texts in _flatten(value).items()})
            else:
                flat[name] = [str(text) for text in (value if isinstance(value, list) else [value])]
        return flat
    return {"non_field_errors": [str(text) for text in (detail if isinstance(detail, list) else [detail])]}


def exception_handler(exc, context):
    # Django's message names the model ("No Request matches the given query."), in English: out of reach and
    # nonexistent get the same French answer.
    if isinstance(exc, Http404):
        exc = exceptions.NotFound(NOT_FOUND)
    # The guards (structures/guards.py) raise Django's, which DRF answers without the `detail` read below.
    if isinstance(exc, PermissionDenied):
        exc = exceptions.PermissionDenied(*exc.args)
    for limit, message in OVERSIZED.items():
        if isinstance(exc, limit):
            exc = exceptions.ParseError(message)
    response = drf_exception_handler(exc, context)
    if response is None:
        return None
    if isinstance(exc, Refusal):
        response.data = exc.body
    elif isinstance(exc, exceptions.ValidationError):
        response.data = body("invalid", INVALID, fields=_flatten(exc.detail))
    else:
        code = exc.get_codes() if isinstance(exc, exceptions.APIException) else "server_error"
        code = code if isinstance(code, str) and code in CODES else exc.default_code
        code = code if code in CODES else "permission_denied" if response.status_code == 403 else "invalid"
        details = {"retry_after": exc.wait and int(exc.wait + 0.999)} if isinstance(exc, exceptions.Throttled) else {}
        response.data = body(code, exc.detail if isinstance(exc.detail, str) else INVALID, **details)
    return response
