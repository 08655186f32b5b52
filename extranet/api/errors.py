"""Every refusal of the API has one shape, whatever raised it:

    {"code": "duplicate_open_request", "message": "Une demande est déjà en cours…", "existing": "2633100012"}
    {"code": "invalid", "message": "Certaines valeurs sont invalides : voir « fields ».", "fields": {"nir": ["…"]}}

`code` is a stable slug a client branches on (listed in CODES, documented in the schema), `message` is French prose
for a person, `fields` (when the input is refused) names each field with its messages, and a refusal may carry
details of its own (`existing` above, all listed in DETAILS). Views raise `Refusal` (extranet/api/refusals.py turns
the domain's refusals into them); DRF's own exceptions (authentication, permission, throttling, parsing…) are turned
into the same shape here."""

import math

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

# Every code the API may answer, with what it means for a client: the schema's enum and its documentation
# (extranet/api/schema.py); tests/extranet/api/test_error_codes.py produces each one with a real request.
CODES = {
    "invalid": "Valeurs invalides ; `fields` donne, pour chaque champ, ses messages (`non_field_errors` pour "
    "l'ensemble).",
    "unknown_fields": "Champs du corps ou paramètres de l'adresse que l'opération ne lit pas ; `fields` les nomme.",
    "invalid_cursor": "Curseur de pagination non valide : seul celui d'un lien `next` ou `previous` d'une réponse est "
    "lu.",
    "parse_error": "Corps de requête illisible (JSON invalide, trop imbriqué, trop volumineux…).",
    "bad_request": "Requête refusée avant toute lecture (hôte non autorisé, en-têtes invalides…).",
    "unsupported_media_type": "Type de contenu non pris en charge : JSON, ou multipart pour joindre des fichiers.",
    "not_authenticated": "Authentification absente.",
    "authentication_failed": "Jeton invalide, expiré ou révoqué, ou compte désactivé.",
    "csrf_failed": "Session du navigateur sans jeton CSRF valide ; un logiciel s'authentifie par un jeton.",
    "permission_denied": "Opération réservée à un autre rôle (partenaire, gestionnaire, agent de la caisse).",
    "second_factor_required": "Double authentification non configurée : requise pour les données personnelles.",
    "not_found": "Introuvable, ou hors de votre périmètre.",
    "method_not_allowed": "Méthode non prise en charge par cette adresse.",
    "not_acceptable": "Format de réponse demandé non disponible : l'API répond en JSON.",
    "throttled": "Trop de requêtes pour ce jeton ; `retry_after` donne le délai en secondes.",
    "bad_idempotency_key": "En-tête Idempotency-Key invalide : 1 à 64 caractères ASCII imprimables, sans espace.",
    "deposit_key_reused": "Clé Idempotency-Key déjà utilisée pour un autre contenu ; `existing` donne le numéro "
    "de la demande déposée avec elle.",
    "duplicate_open_request": "Une demande est déjà ouverte pour cette personne, ce type et ce motif ; `existing` "
    "donne son numéro : complétez-la.",
    "caisse_required": "La structure a plusieurs conventions actives : précisez `caisse`.",
    "unknown_caisse": "Aucune caisse n'a ce code.",
    "no_active_convention": "La convention de la structure avec cette caisse (ou avec toute caisse) n'est pas "
    "active : rien n'a été déposé.",
    "habilitation_required": "Motif réservé aux structures habilitées (documents concernant l'assuré).",
    "attachment_refused": "Fichier refusé ; `refused_files` donne, pour chacun, son champ, son nom et la raison "
    "(`reason`).",
    "too_many_attachments": "Trop de fichiers, ou trop lourds, pour un envoi ou pour la demande.",
    "storage_unavailable": "Stockage des pièces jointes momentanément indisponible : rien n'a été enregistré, "
    "réessayez plus tard.",
    "wrong_status": "La demande n'est plus dans l'état attendu (un autre agent l'a prise, elle est résolue…) ; "
    "`current_status` donne son statut actuel.",
    "not_allowed": "Action réservée à un autre intervenant sur cette demande (l'agent en charge, un administrateur…).",
    "internal_note_forbidden": "Seuls les agents de la caisse écrivent des notes internes.",
    "email_already_used": "Adresse électronique déjà associée à un compte.",
    "webhook_address_refused": "Adresse de réception refusée : elle ne mène pas à une adresse publique joignable "
    "(adresse privée, locale, ou nom introuvable) ; `fields.url` dit pourquoi.",
    "webhook_inactive": "Point de réception désactivé : réactivez-le d'abord.",
    "server_error": "Erreur du serveur : la requête a pu être enregistrée, vérifiez avant de la refaire.",
}
# Why a file is refused (`refused_files[].reason`), from the code of requests/attachments.py's refusal.
ATTACHMENT_REASONS = {
    "type": ("file_extension", "Ni PDF, ni JPEG, ni PNG (d'après son extension)."),
    "empty": ("file_empty", "Fichier vide."),
    "size": ("file_size", "Plus lourd que la taille maximale d'un fichier."),
    "content": (
        "file_content",
        "Contenu illisible ou ne correspondant pas à son extension (PDF chiffré ou endommagé, image tronquée…).",
    ),
    "active_content": (
        "file_active_content",
        "PDF contenant du code, une action automatique ou des fichiers intégrés.",
    ),
    "image_too_large": ("image_too_large", "Image annonçant bien plus de pixels qu'une photo ou une numérisation."),
    "payload": ("file_payload", "Image suivie ou mêlée de données étrangères à une image."),
}
REASON_OF = {code: reason for reason, (code, _) in ATTACHMENT_REASONS.items()}
# The keys of a body besides `code`, `message` and `fields`.
DETAILS = {"existing", "current_status", "retry_after", "refused_files"}


class Refusal(exceptions.APIException):
    """A refusal a client must be able to handle: a stable `code` (in CODES), a French `message`, `fields` when the
    input is refused, and details of its own (in DETAILS: `existing`, `current_status`…)."""

    def __init__(self, code, message, *, status=status.HTTP_400_BAD_REQUEST, fields=None, **details):
        assert code in CODES, f"{code!r} is not in extranet.api.errors.CODES (the schema documents each code)"
        assert details.keys() <= DETAILS, f"{sorted(details.keys() - DETAILS)}: add them to DETAILS and the schema"
        super().__init__(message, code)
        self.status_code = status
        self.body = body(code, message, **details)
        if fields is not None:
            self.body["fields"] = {name: [str(text) for text in texts] for name, texts in fields.items()}


def invalid(fields, *, message=INVALID):
    """{field: [messages]} refused as the API's invalid input."""
    return Refusal("invalid", message, fields=fields)


def body(code, message, **details):
    """The same shape, for the few answers written outside DRF (extranet.views' 400, 403 CSRF, 404, 500)."""
    return {"code": code, "message": str(message), **details}


def _flatten(detail, prefix=""):
    """DRF's error detail (a list, a dict of lists, nested for nested serializers and lists of them) as
    {field: [messages]}, a nested field named by its path ("person.nir", "items.0.name")."""
    if isinstance(detail, dict):
        items = detail.items()
    elif isinstance(detail, list) and any(isinstance(value, (dict, list)) for value in detail):
        items = ((index, value) for index, value in enumerate(detail) if value)
    else:
        texts = detail if isinstance(detail, list) else [detail]
        return {prefix or "non_field_errors": [str(text) for text in texts]}
    flat = {}
    for name, value in items:
        flat.update(_flatten(value, f"{prefix}.{name}" if prefix else str(name)))
    return flat


def _as_drf(exc):
    """Django's exceptions a view may let through, as DRF's: Django's messages name the model ("No Request matches
    the given query."), in English, and out of reach and nonexistent get the same French answer."""
    if isinstance(exc, Http404):
        return exceptions.NotFound(NOT_FOUND)
    if isinstance(exc, PermissionDenied):  # the guards' (structures/guards.py), without a message: DRF's French one
        return exceptions.PermissionDenied()
    for limit, message in OVERSIZED.items():
        if isinstance(exc, limit):
            return exceptions.ParseError(message)
    return exc


def exception_handler(exc, context):
    exc = _as_drf(exc)
    response = drf_exception_handler(exc, context)
    if response is None:
        return None
    if isinstance(exc, Refusal):
        response.data = exc.body
    elif isinstance(exc, exceptions.ValidationError):
        response.data = body("invalid", INVALID, fields=_flatten(exc.detail))
    else:
        # DRF's own: its code (a permission's `code`: "second_factor_required"), else its class's.
        code = exc.get_codes()
        code = code if isinstance(code, str) and code in CODES else exc.default_code
        if code not in CODES:  # another library's exception: its code is not the API's to promise
            code = "server_error" if response.status_code >= 500 else "bad_request"
        details = {"retry_after": math.ceil(exc.wait)} if isinstance(exc, exceptions.Throttled) and exc.wait else {}
        response.data = body(code, exc.detail if isinstance(exc.detail, str) else exc.default_detail, **details)
    return response
