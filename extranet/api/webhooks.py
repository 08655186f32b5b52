"""The webhooks through the API (/api/v1/webhooks/): what the pages do (extranet/pages/webhooks/), with the same form,
the same services and the same scope (structures/webhooks.py): a gestionnaire manages the structure's endpoints, a
caisse administrateur the caisse's; another owner's endpoint is a 404, any other role a 403."""

from django.core.exceptions import PermissionDenied
from django.http import QueryDict
from django.shortcuts import get_object_or_404
from drf_spectacular.utils import OpenApiExample, extend_schema, extend_schema_field
from rest_framework import serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from extranet.api.errors import Refusal, invalid
from extranet.api.parsers import JSON_ONLY
from extranet.api.refusals import form_refusal
from extranet.api.schema import refused
from extranet.notifications import webhooks
from extranet.notifications.models import WebhookAttempt, WebhookDelivery, WebhookEndpoint
from extranet.pages.webhooks.forms import WebhookEndpointForm
from extranet.pages.webhooks.views import last_deliveries
from structures.webhooks import webhook_owner

TAGS = ["Webhooks"]
INPUT_FIELDS = ("name", "url", "events")
NOT_FOUND = refused("not_found")
INVALID = refused("invalid", "unknown_fields", "webhook_address_refused")
INACTIVE = refused("webhook_inactive")
NOT_ALLOWED = "Seuls les gestionnaires d'une structure et les administrateurs d'une caisse en gèrent les webhooks."


class WebhookInputSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=100, help_text="Pour le reconnaître : le logiciel qui reçoit.")
    url = serializers.URLField(
        max_length=500, help_text="Adresse https:// publique ; elle reçoit chaque événement par une requête POST."
    )
    events = serializers.ListField(
        child=serializers.ChoiceField(choices=list(webhooks.EVENTS)),
        min_length=1,
        help_text="Les événements envoyés à cette adresse.",
    )


class WebhookSerializer(serializers.ModelSerializer):
    events = serializers.ListField(child=serializers.ChoiceField(choices=list(webhooks.EVENTS)))

    class Meta:
        model = WebhookEndpoint
        fields = ["id", "name", "url", "events", "is_active", "created_at", "secret_rotated_at"]


class WebhookWithSecretSerializer(WebhookSerializer):
    secret = serializers.CharField(
        help_text="Clé de signature (HMAC-SHA256), montrée cette seule fois : gardez-la dans le logiciel qui reçoit."
    )

    class Meta(WebhookSerializer.Meta):
        fields = [*WebhookSerializer.Meta.fields, "secret"]


class WebhookAttemptSerializer(serializers.ModelSerializer):
    class Meta:
        model = WebhookAttempt
        fields = ["at", "status_code", "error", "duration_ms", "response_body"]


class WebhookDeliverySerializer(serializers.ModelSerializer):
    request = serializers.CharField(source="request_number", allow_null=True, help_text="Numéro de la demande.")
    attempt_log = WebhookAttemptSerializer(
        many=True, help_text="Les tentatives, de la plus récente à la plus ancienne."
    )

    class Meta:
        model = WebhookDelivery
        fields = [
            "id",
            "event",
            "request",
            "state",
            "created_at",
            "attempts",
            "next_attempt_at",
            "delivered_at",
            "last_status_code",
            "last_error",
            "attempt_log",
        ]


class WebhookDetailSerializer(WebhookSerializer):
    deliveries = serializers.SerializerMethodField(help_text="Les derniers envois, du plus récent au plus ancien.")

    class Meta(WebhookSerializer.Meta):
        fields = [*WebhookSerializer.Meta.fields, "deliveries"]

    @extend_schema_field(WebhookDeliverySerializer(many=True))
    def get_deliveries(self, endpoint):
        return WebhookDeliverySerializer(last_deliveries(endpoint), many=True).data


EXAMPLE = {
    "id": 3,
    "name": "Logiciel de suivi",
    "url": "https://suivi.structure.example/espace-partenaires/evenements",
    "events": [webhooks.MESSAGE_FROM_CAISSE, webhooks.STATUS_CHANGED],
    "is_active": True,
    "created_at": "2026-12-01T09:30:00+01:00",
    "secret_rotated_at": None,
}
SECRET_EXAMPLE = {**EXAMPLE, "secret": "whsec_Jx3oQ2c1n8Vb4Zr7Tt0Yk5Lm9Pq6Ws2Ea1Dg8Hf4Uj0"}
DELIVERY_EXAMPLE = {
    "id": "5b0f6c1e-8a52-4c3e-9d0a-2f1c7b9e4d61",
    "event": webhooks.STATUS_CHANGED,
    "request": "2633100012",
    "state": "delivered",
    "created_at": "2026-12-01T10:02:11+01:00",
    "attempts": 2,
    "next_attempt_at": "2026-12-01T10:03:11+01:00",
    "delivered_at": "2026-12-01T10:03:12+01:00",
    "last_status_code": 200,
    "last_error": "",
    "attempt_log": [
        {"at": "2026-12-01T10:03:12+01:00", "status_code": 200, "error": "", "duration_ms": 84, "response_body": "ok"},
        {
            "at": "2026-12-01T10:02:11+01:00",
            "status_code": 500,
            "error": "Réponse HTTP 500",
            "duration_ms": 120,
            "response_body": "Internal Server Error",
        },
    ],
}


def _form(data):
    """The body (JSON, or a form's fields) as the page's form reads it; unknown fields refused by name."""
    if isinstance(data, QueryDict):
        data = {name: values if name == "events" else values[-1] for name, values in data.lists()}
    if not isinstance(data, dict):
        raise invalid({"non_field_errors": ["Le corps de la requête doit être un objet JSON."]})
    if unknown := sorted(set(data) - set(INPUT_FIELDS)):
        raise Refusal(
            "unknown_fields",
            "Champs inconnus : " + ", ".join(unknown) + ".",
            fields={n: ["Champ inconnu."] for n in unknown},
        )
    converted, errors = QueryDict(mutable=True), {}
    for name, value in data.items():
        if name == "events" and not (isinstance(value, list) and all(isinstance(item, str) for item in value)):
            errors[name] = ["Une liste de noms d'événements est attendue."]
        elif name != "events" and not isinstance(value, str):
            errors[name] = ["Texte attendu."]
        else:
            converted.setlist(name, value if name == "events" else [value])
    if errors:
        raise invalid(errors)
    form = WebhookEndpointForm(converted)
    if not form.is_valid():
        raise form_refusal(form)
    return form.cleaned_data


def _owner(request):
    try:
        return webhook_owner(request.user)
    except PermissionDenied as refused:
        raise Refusal("permission_denied", NOT_ALLOWED, status=status.HTTP_403_FORBIDDEN) from refused


def _endpoints(request):
    return WebhookEndpoint.objects.filter(**_owner(request))


def _endpoint(request, pk):
    return get_object_or_404(_endpoints(request), pk=pk)


class Webhooks(APIView):
    parser_classes = JSON_ONLY

    @extend_schema(
        summary="Points de réception des webhooks",
        description="Ceux de la structure (gestionnaires) ou de la caisse (administrateurs).",
        responses={200: WebhookSerializer(many=True)},
        examples=[OpenApiExample("Points de réception", value=EXAMPLE, response_only=True)],
        tags=TAGS,
    )
    def get(self, request):
        endpoints = _endpoints(request).order_by("-is_active", "name", "pk")
        return Response(WebhookSerializer(endpoints, many=True).data)

    @extend_schema(
        summary="Enregistrer un point de réception",
        description=(
            "L'adresse doit être en https et ne désigner que des adresses publiques. La réponse contient le secret "
            "de signature, montré cette seule fois."
        ),
        request=WebhookInputSerializer,
        responses={201: WebhookWithSecretSerializer, 400: INVALID},
        examples=[
            OpenApiExample(
                "Nouveau point de réception",
                value={name: EXAMPLE[name] for name in INPUT_FIELDS},
                request_only=True,
            ),
            OpenApiExample("Enregistré", value=SECRET_EXAMPLE, response_only=True, status_codes=["201"]),
        ],
        tags=TAGS,
    )
    def post(self, request):
        endpoint, secret = webhooks.register(owner=_owner(request), by=request.user, **_form(request.data))
        return Response({**WebhookSerializer(endpoint).data, "secret": secret}, status=status.HTTP_201_CREATED)


class WebhookDetail(APIView):
    @extend_schema(
        summary="Un point de réception et ses derniers envois",
        responses={200: WebhookDetailSerializer, 404: NOT_FOUND},
        examples=[
            OpenApiExample("Avec ses envois", value={**EXAMPLE, "deliveries": [DELIVERY_EXAMPLE]}, response_only=True)
        ],
        tags=TAGS,
    )
    def get(self, request, pk):
        return Response(WebhookDetailSerializer(_endpoint(request, pk)).data)

    @extend_schema(
        summary="Supprimer un point de réception",
        description="Avec son journal des envois ; pour seulement suspendre les envois, désactivez-le.",
        responses={204: None, 404: NOT_FOUND},
        tags=TAGS,
    )
    def delete(self, request, pk):
        _endpoint(request, pk).delete()
        return Response(status=status.HTTP_204_NO_CONTENT)


class WebhookRotateSecret(APIView):
    @extend_schema(
        summary="Renouveler le secret de signature",
        description=(
            "Le nouveau secret signe tout ce qui part désormais, tentatives en attente comprises ; l'ancien ne vaut "
            "plus rien. Il est montré cette seule fois."
        ),
        request=None,
        responses={200: WebhookWithSecretSerializer, 404: NOT_FOUND},
        examples=[OpenApiExample("Nouveau secret", value=SECRET_EXAMPLE, response_only=True)],
        tags=TAGS,
    )
    def post(self, request, pk):
        endpoint = _endpoint(request, pk)
        secret = webhooks.rotate_secret(endpoint)
        return Response({**WebhookSerializer(endpoint).data, "secret": secret})


class WebhookSetActive(APIView):
    active = None

    @extend_schema(
        summary="Désactiver ou réactiver un point de réception",
        description="Désactivé, il ne reçoit plus rien ; ses envois en attente sont abandonnés.",
        request=None,
        responses={200: WebhookSerializer, 404: NOT_FOUND},
        examples=[OpenApiExample("Désactivé", value={**EXAMPLE, "is_active": False}, response_only=True)],
        tags=TAGS,
    )
    def post(self, request, pk):
        return Response(WebhookSerializer(webhooks.set_active(_endpoint(request, pk), self.active)).data)


class WebhookTest(APIView):
    @extend_schema(
        summary="Envoyer un événement de test",
        description=(
            "Un événement `webhook.test` (sans demande), signé, retenté et journalisé comme les autres : la réponse "
            "le montre mis en file, son résultat se lit ensuite dans le détail du point de réception."
        ),
        request=None,
        responses={202: WebhookDeliverySerializer, 404: NOT_FOUND, 409: INACTIVE},
        examples=[
            OpenApiExample(
                "Mis en file",
                value={
                    **DELIVERY_EXAMPLE,
                    "event": webhooks.TEST_EVENT,
                    "request": None,
                    "state": "pending",
                    "attempts": 0,
                    "delivered_at": None,
                    "last_status_code": None,
                    "attempt_log": [],
                },
                response_only=True,
                status_codes=["202"],
            )
        ],
        tags=TAGS,
    )
    def post(self, request, pk):
        endpoint = _endpoint(request, pk)
        if not endpoint.is_active:
            raise Refusal(
                "webhook_inactive",
                "Réactivez ce point de réception avant de lui envoyer un événement de test.",
                status=status.HTTP_409_CONFLICT,
            )
        delivery = webhooks.send_test(endpoint)
        return Response(WebhookDeliverySerializer(delivery).data, status=status.HTTP_202_ACCEPTED)
