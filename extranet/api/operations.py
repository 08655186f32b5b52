"""The operations the pages have besides the API's first ones: the request's PDFs, its assignment and return to
the queue, following it, the MAS confirmation letter, a technicien's reactivation and the caisse's agents. Each
goes through the page's own code (the same services, forms, PDFs and access journal) on the same scoped querysets:
what is out of one's reach is a 404, what one's role may not do a 403, a request no longer where the operation
starts a 409."""

from django.http import Http404
from django.shortcuts import get_object_or_404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiExample, OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.negotiation import DefaultContentNegotiation
from rest_framework.response import Response
from rest_framework.views import APIView

from extranet.api import examples
from extranet.api.errors import INVALID
from extranet.api.parsers import JSON_ONLY
from extranet.api.refusals import form_refusal, workflow_refusal
from extranet.api.schema import refused
from extranet.api.serializers import MemberSerializer, RequestDetailSerializer
from extranet.api.views import (
    CONFLICT,
    NOT_FOUND,
    caisse_request,
    own_techniciens,
    visible_request,
    workflow_outcome,
)
from requests import documents, services, workflow
from requests.forms import DispatchForm, ReassignForm
from requests.models import Status
from structures import services as structure_services
from structures.guards import require_caisse_staff
from structures.models import CaisseMembership

FORBIDDEN = refused("not_allowed", "permission_denied")
PDF = {
    (200, "application/pdf"): OpenApiResponse(OpenApiTypes.BINARY, description="Le PDF, en pièce jointe."),
    404: NOT_FOUND,
}
WRONG_STATUS = {
    "code": "wrong_status",
    "message": "La demande 1412600042 est « Nouveau » : seule une demande prise en charge peut être remise dans "
    "la file.",
    "current_status": "new",
}
NOT_ALLOWED = {"code": "not_allowed", "message": "Seul un administrateur de la caisse réattribue une demande."}
ASSIGN = {"agent": 27}
OTHER_AGENT = {
    "code": "invalid",
    "message": INVALID,
    "fields": {"agent": ["Sélectionnez un choix valide. Ce choix ne fait pas partie de ceux disponibles."]},
}
FOLLOWING = {"number": "1412600042", "following": True}
AGENTS = [
    {"id": 27, "name": "Sophie MARCHAND", "role": "agent", "role_label": "Agent CPAM", "active": True},
    {"id": 12, "name": "Paul ROUX", "role": "admin", "role_label": "Administrateur caisse", "active": True},
]


class PdfNegotiation(DefaultContentNegotiation):
    """The PDF views answer the PDF themselves, whatever the client accepts (`Accept: application/pdf` included,
    which the JSON renderer alone would refuse with a 406); their refusals are JSON, as everywhere."""

    def select_renderer(self, request, renderers, format_suffix=None):
        return renderers[0], renderers[0].media_type


class SummaryPdf(APIView):
    content_negotiation_class = PdfNegotiation

    @extend_schema(
        summary="Récapitulatif PDF de la demande",
        description="Le même document que le bouton « Récapitulatif PDF » de la page : la demande, la personne, "
        "l'historique des statuts et les échanges avec la structure (jamais les notes internes). Chaque "
        "téléchargement est tracé dans le journal des accès de la caisse.",
        responses=PDF,
        operation_id="requests_summary_pdf_retrieve",
        tags=["Demandes"],
    )
    def get(self, request, number):
        return documents.summary_response(request.user, visible_request(request, number))


class MasSheetPdf(APIView):
    content_negotiation_class = PdfNegotiation

    @extend_schema(
        summary="Fiche de saisine MAS",
        description="La fiche de la saisine de la Mission accompagnement santé, telle que la page la donne à "
        "imprimer ; 404 pour une demande qui n'est pas une saisine MAS. Chaque téléchargement est tracé dans le "
        "journal des accès de la caisse.",
        responses=PDF,
        operation_id="requests_mas_sheet_retrieve",
        tags=["Demandes"],
    )
    def get(self, request, number):
        return documents.mas_sheet_response(request.user, visible_request(request, number))


class AssignSerializer(serializers.Serializer):
    agent = serializers.IntegerField(
        min_value=1, help_text="L'`id` d'un agent actif de la caisse (GET /api/v1/caisse/agents/)."
    )


class Assign(APIView):
    parser_classes = JSON_ONLY

    @extend_schema(
        summary="Attribuer ou réattribuer à un agent (administrateurs de la caisse)",
        description="Une demande nouvelle est attribuée à l'agent (elle passe « Pris en charge ») ; une demande prise "
        "en charge lui est réattribuée, avec le droit de la résoudre. L'agent est l'un des agents actifs de la "
        "caisse de la demande. 409 pour une demande résolue, ou prise en charge entre-temps par un autre agent.",
        request=AssignSerializer,
        responses={
            200: RequestDetailSerializer,
            400: refused("invalid", "unknown_fields"),
            403: FORBIDDEN,
            404: NOT_FOUND,
            409: CONFLICT,
        },
        examples=[
            OpenApiExample("Agent choisi", value=ASSIGN, request_only=True),
            OpenApiExample("Demande attribuée", value=examples.REQUEST_DETAIL, response_only=True),
            OpenApiExample("Agent d'une autre caisse", value=OTHER_AGENT, response_only=True, status_codes=["400"]),
            OpenApiExample("Rôle", value=NOT_ALLOWED, response_only=True, status_codes=["403"]),
        ],
        tags=["Traitement par la caisse"],
    )
    def post(self, request, number):
        demande = caisse_request(request, number)
        # The page offers "Attribuer à" on a new request, "Réattribuer à" on one in progress: one operation here.
        name, form_class = ("dispatch", DispatchForm) if demande.status == Status.NEW else ("reassign", ReassignForm)
        if refusal := workflow.refusal(demande, name, request.user):
            raise workflow_refusal(refusal)
        incoming = AssignSerializer(data=request.data)
        incoming.is_valid(raise_exception=True)
        form = form_class({"agent": incoming.validated_data["agent"]}, caisse=demande.caisse)
        if not form.is_valid():
            raise form_refusal(form)
        agent = form.cleaned_data["agent"]
        # The workflow asks again under the row lock (the agent may have been deactivated since the form read them).
        return workflow_outcome(
            request, demande, lambda: getattr(services, name)(demande, admin=request.user, agent=agent), field="agent"
        )


class HandBack(APIView):
    @extend_schema(
        summary="Remettre dans la file (agent en charge ou administrateur)",
        description="Pris en charge → Nouveau, sans agent : la demande retourne dans la file de la caisse.",
        request=None,
        responses={200: RequestDetailSerializer, 403: FORBIDDEN, 404: NOT_FOUND, 409: CONFLICT},
        examples=[
            OpenApiExample("Remise dans la file", value=examples.REQUEST_DETAIL, response_only=True),
            OpenApiExample("Pas prise en charge", value=WRONG_STATUS, response_only=True, status_codes=["409"]),
        ],
        tags=["Traitement par la caisse"],
    )
    def post(self, request, number):
        demande = caisse_request(request, number)
        return workflow_outcome(request, demande, lambda: services.hand_back(demande, agent=request.user))


class FollowSerializer(serializers.Serializer):
    number = serializers.CharField()
    following = serializers.BooleanField(help_text="Vous suivez la demande.")


class FollowRequest(APIView):
    """The page's star: its status changes and public messages are emailed to the follower who asked for that in
    their account, while they still see the request (requests/notifications.py); the pages list it among theirs."""

    def answer(self, request, number, following):
        demande = visible_request(request, number)
        following = services.set_following(demande, request.user, following=following)
        return Response(FollowSerializer({"number": demande.number, "following": following}).data)

    @extend_schema(
        summary="Suivre la demande",
        description="L'étoile de la page : ses changements de statut et ses messages vous sont envoyés par courriel "
        "si votre compte le demande (« Mon compte »). Suivre une demande déjà suivie ne change rien.",
        request=None,
        responses={200: FollowSerializer, 404: NOT_FOUND},
        examples=[OpenApiExample("Suivie", value=FOLLOWING, response_only=True)],
        tags=["Demandes"],
    )
    def post(self, request, number):
        return self.answer(request, number, True)

    @extend_schema(
        summary="Ne plus suivre la demande",
        request=None,
        responses={200: FollowSerializer, 404: NOT_FOUND},
        examples=[OpenApiExample("Plus suivie", value={**FOLLOWING, "following": False}, response_only=True)],
        tags=["Demandes"],
    )
    def delete(self, request, number):
        return self.answer(request, number, False)


class MasLetterSent(APIView):
    @extend_schema(
        summary="Courrier de confirmation envoyé (saisine MAS, agents de la caisse)",
        description="Une saisine détectée à distance attend que la caisse écrive à la personne pour confirmer son "
        "accord : l'envoi est enregistré, une fois (le premier enregistrement reste). 404 pour une demande qui "
        "n'est pas une saisine MAS ; 409 quand l'accord est signé (pas de courrier à envoyer).",
        request=None,
        responses={200: RequestDetailSerializer, 404: NOT_FOUND, 409: CONFLICT},
        examples=[
            OpenApiExample("Envoi enregistré", value=examples.REQUEST_DETAIL, response_only=True),
            OpenApiExample(
                "Accord signé",
                value={
                    "code": "wrong_status",
                    "message": "L'accord de cette saisine est signé : il n'y a pas de courrier de confirmation à "
                    "envoyer.",
                },
                response_only=True,
                status_codes=["409"],
            ),
        ],
        tags=["Traitement par la caisse"],
    )
    def post(self, request, number):
        demande = caisse_request(request, number)
        if documents.mas_referral(demande) is None:
            raise Http404
        return workflow_outcome(
            request, demande, lambda: services.mark_confirmation_letter_sent(demande, agent=request.user)
        )


class MemberReactivate(APIView):
    @extend_schema(
        summary="Réactiver un technicien",
        description="Le compte désactivé redevient utilisable (ses anciens jetons restent révoqués) ; un compte "
        "actif reste tel quel.",
        request=None,
        responses={200: MemberSerializer, 403: FORBIDDEN, 404: NOT_FOUND},
        examples=[OpenApiExample("Réactivé", value=examples.MEMBER, response_only=True)],
        tags=["Structure"],
    )
    def post(self, request, pk):
        _, techniciens = own_techniciens(request.user)
        membership = get_object_or_404(techniciens, pk=pk)
        membership = structure_services.reactivate_partner_account(membership, by=request.user)
        return Response(MemberSerializer(membership).data)


class AgentSerializer(serializers.Serializer):
    id = serializers.IntegerField(source="user_id", help_text="Ce que prend `agent` pour attribuer une demande.")
    name = serializers.CharField(source="user.get_full_name")
    role = serializers.ChoiceField(choices=CaisseMembership.Role.choices)
    role_label = serializers.CharField(source="get_role_display")
    active = serializers.SerializerMethodField(help_text="Peut recevoir une demande (compte et rôle actifs).")

    def get_active(self, membership) -> bool:
        return membership.is_active and membership.user.is_active


class Agents(APIView):
    @extend_schema(
        summary="Agents et administrateurs de votre caisse (agents de la caisse)",
        description="Ceux à qui une demande peut être attribuée (`active`), et les comptes désactivés, par nom.",
        responses={200: AgentSerializer(many=True), 403: FORBIDDEN},
        examples=[OpenApiExample("Agents", value=AGENTS[0], response_only=True)],
        tags=["Traitement par la caisse"],
    )
    def get(self, request):
        caisse = require_caisse_staff(request.user).caisse
        staff = (
            CaisseMembership.objects.filter(caisse=caisse)
            .select_related("user")
            .order_by("user__last_name", "user__first_name", "pk")
        )
        return Response(AgentSerializer(staff, many=True).data)
