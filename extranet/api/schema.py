"""The refusals in the schema: one `Error` component for every 4xx and 5xx answer of every operation, each response
listing the codes the operation may answer with that status (the operation's own, declared on its view with
`refused`, and those every operation may answer, added here once)."""

import re

from django.conf import settings
from drf_spectacular.utils import OpenApiResponse
from rest_framework import serializers

from extranet.api.errors import ATTACHMENT_REASONS, CODES
from requests.models import Status

ERROR = {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}
# What any operation may answer, whatever it is.
COMMON = {
    "400": ("bad_request",),
    "401": ("not_authenticated", "authentication_failed"),
    "403": ("permission_denied", "second_factor_required", "csrf_failed"),
    "406": ("not_acceptable",),
    "429": ("throttled",),
    "500": ("server_error",),
}
# And what any operation that reads a body may answer.
WITH_BODY = {"400": ("parse_error", "invalid"), "415": ("unsupported_media_type",)}
LISTED = re.compile(r"^- `(\w+)`", re.MULTILINE)
# The enums' choices, named in settings.SPECTACULAR_SETTINGS["ENUM_NAME_OVERRIDES"].
CODE_CHOICES = list(CODES.items())
REASON_CHOICES = [(reason, description) for reason, (_, description) in ATTACHMENT_REASONS.items()]


class RefusedFileSerializer(serializers.Serializer):
    field = serializers.CharField(help_text="Le champ qui portait le fichier (`attachments`, `files`…).")
    name = serializers.CharField(help_text="Le nom du fichier, tel que reçu (sans chemin).")
    reason = serializers.ChoiceField(choices=REASON_CHOICES, help_text="Pourquoi le fichier est refusé.")
    message = serializers.CharField(help_text="Le refus, en français, à montrer à la personne.")


class ErrorSerializer(serializers.Serializer):
    """Un refus de l'API : `code` pour le programme, `message` pour la personne."""

    code = serializers.ChoiceField(choices=CODE_CHOICES, help_text="Le refus, stable : à tester.")
    message = serializers.CharField(help_text="Le refus en français, à montrer tel quel.")
    fields = serializers.DictField(
        child=serializers.ListField(child=serializers.CharField()),
        required=False,
        help_text="Quand l'entrée est refusée : pour chaque champ (ou paramètre), ses messages ; "
        "`non_field_errors` pour l'ensemble.",
    )
    existing = serializers.RegexField(
        r"^\d{10}$",
        required=False,
        help_text="`duplicate_open_request`, `deposit_key_reused` : le numéro de la demande existante.",
    )
    current_status = serializers.ChoiceField(
        choices=Status.choices, required=False, help_text="`wrong_status` : le statut actuel de la demande."
    )
    retry_after = serializers.IntegerField(
        min_value=1, required=False, help_text="`throttled` : secondes à attendre (comme l'en-tête Retry-After)."
    )
    refused_files = RefusedFileSerializer(
        many=True, required=False, help_text="Les fichiers refusés, chacun avec la raison de son refus."
    )


def describe(codes):
    return "\n".join(f"- `{code}` : {CODES[code]}" for code in codes)


def refused(*codes):
    """An operation's response with these codes (they are in CODES: the handler answers no other)."""
    assert set(codes) <= CODES.keys(), sorted(set(codes) - CODES.keys())
    return OpenApiResponse(ErrorSerializer, description=describe(codes))


def add_common_responses(result, generator, request, public):
    """Every operation's 4xx and 5xx as `Error`, with the codes any operation may answer listed and documented."""
    result["components"]["schemas"]["Error"]["additionalProperties"] = False
    for path, item in result.get("paths", {}).items():
        if not path.startswith("/api/v1/"):
            continue
        for operation in item.values():
            responses = operation.setdefault("responses", {})
            common = COMMON.copy()
            if "requestBody" in operation:
                common.update({status: (*WITH_BODY[status], *common.get(status, ())) for status in WITH_BODY})
            for status, codes in common.items():
                response = responses.setdefault(status, {"description": ""})
                listed = set(LISTED.findall(response["description"]))
                more = describe(code for code in codes if code not in listed)
                response["description"] = "\n".join(part for part in (response["description"], more) if part)
            for status, response in responses.items():
                if int(status) >= 400:
                    examples = response.get("content", {}).get("application/json", {}).get("examples")
                    response["content"] = {"application/json": {**ERROR["application/json"]}}
                    if examples:
                        response["content"]["application/json"]["examples"] = examples
    return result


def close_request_bodies(result, generator, request, public):
    """What the server refuses, the schema says: a body's field the operation does not read is refused by name
    (`unknown_fields`, extranet/api/refusals.py), so every request body is closed; a send carries at most
    ATTACHMENT_MAX_COUNT files (Django refuses more before any view: `parse_error`)."""
    bodies = {
        media["schema"]["$ref"].rpartition("/")[2]
        for item in result.get("paths", {}).values()
        for operation in item.values()
        if isinstance(operation, dict)
        for media in operation.get("requestBody", {}).get("content", {}).values()
        if "$ref" in media.get("schema", {})
    }
    for name in bodies:
        component = result["components"]["schemas"][name]
        if component.get("type") == "object":
            component.setdefault("additionalProperties", False)
        for field in component.get("properties", {}).values():
            if field.get("type") == "array" and field.get("items", {}).get("format") == "binary":
                field["maxItems"] = min(
                    field.get("maxItems", settings.ATTACHMENT_MAX_COUNT), settings.ATTACHMENT_MAX_COUNT
                )
    return result
