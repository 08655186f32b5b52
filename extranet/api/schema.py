"""Responses every operation may give, added to the schema once rather than repeated on each view."""

ERROR = {"application/json": {"schema": {"type": "object", "additionalProperties": {}}}}
COMMON = {
    "401": "Authentification absente ou jeton invalide.",
    "403": "Action non autorisée pour ce compte, ou double authentification non configurée.",
    "429": "Trop de requêtes pour ce jeton : réessayez plus tard.",
}
WITH_BODY = {"400": "Corps de requête illisible ou invalide.", "415": "Type de contenu non pris en charge."}


def add_common_responses(result, generator, request, public):
    for path, item in result.get("paths", {}).items():
        if not path.startswith("/api/v1/"):
            continue
        for method, operation in item.items():
            responses = operation.setdefault("responses", {})
            common = COMMON | (WITH_BODY if method in {"post", "put", "patch"} else {})
            for status, description in common.items():
                responses.setdefault(status, {"description": description, "content": ERROR})
    return result
