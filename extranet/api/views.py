"""REST API v1. Same rules as the pages: the same scoped querysets (another structure's or caisse's object is a
404), the same forms to validate, the same services to write, the same access journal."""

import re

from django.core.exceptions import NON_FIELD_ERRORS, PermissionDenied, ValidationError
from django.db.models import Prefetch
from django.http import FileResponse, Http404, QueryDict
from django.shortcuts import get_object_or_404
from django.urls import reverse
from django.utils.html import strip_tags
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import generics, status
from rest_framework.response import Response
from rest_framework.views import APIView

from extranet.accounts.forms import IdentityForm
from extranet.api import examples
from extranet.api.errors import invalid
from extranet.api.filters import RequestFilter
from extranet.api.pagination import NewestFirst
from extranet.api.parsers import JSONParser
from extranet.api.permissions import SignedIn
from extranet.api.serializers import (
    AnswerSerializer,
    AttachmentSerializer,
    AttachmentUploadSerializer,
    DepositSerializer,
    MemberInputSerializer,
    MemberSerializer,
    MeSerializer,
    MessageInputSerializer,
    MessageSerializer,
    RequestDetailSerializer,
    RequestSummarySerializer,
)
from requests import policy, services
from requests.attachments import AttachmentsField
from requests.catalog import KINDS
from requests.deposit import deposit_form
from requests.deposit_rules import UNKNOWN_KIND
from requests.forms import MasReferralForm, deposit_form_class
from requests.journal import Action, journal_read
from requests.models import Attachment, Message, Request, StatusChange
from structures import conventions
from structures import services as structure_services
from structures.guards import require_caisse_staff, require_gestionnaire, require_partner
from structures.models import Membership
from structures.policy import caisse_membership, partner_membership

ERRORS = OpenApiResponse(OpenApiTypes.OBJECT, description="Erreurs par champ : {champ: [messages]}.")
NOT_FOUND = OpenApiResponse(OpenApiTypes.OBJECT, description="Introuvable, ou hors de votre périmètre.")
UNKNOWN_PARAMETER = (
    "Paramètre inconnu : la liste ne se filtre que par les paramètres de son schéma, aucun ne désigne la personne "
    "concernée (son détail, lu par son numéro, la donne)."
)
CONFLICT = OpenApiResponse(OpenApiTypes.OBJECT, description="La demande n'est plus dans l'état attendu.")
NOT_A_TEXT = "Texte attendu."
# Operations without files read JSON only: the schema then offers one body, not the same one as JSON and multipart,
# which clients generated from it cannot tell apart (openapi-python-client always sent the multipart one).
JSON_ONLY = [JSONParser]


# A retry of a deposit sends the same key: the request created the first time is answered again, never a second one.
IDEMPOTENCY_KEY = re.compile(r"[\x21-\x7e]{1,64}")
BAD_IDEMPOTENCY_KEY = (
    "L'en-tête Idempotency-Key compte de 1 à 64 caractères ASCII imprimables, sans espace (par exemple un UUID)."
)
DEPOSIT_REFUSAL_STATUS = {
    services.DepositAttachmentsNotStored: status.HTTP_503_SERVICE_UNAVAILABLE,
    services.DepositKeyReused: status.HTTP_422_UNPROCESSABLE_ENTITY,
}


def api_errors(errors):
    """{field: [messages]} as the API's JSON: plain text (no HTML), "non_field_errors" for the whole."""
    return {
        "non_field_errors" if field == NON_FIELD_ERRORS else field: [strip_tags(message) for message in messages]
        for field, messages in errors.items()
    }


def form_errors(form):
    return api_errors(form.errors)


def form_data(data):
    """The request body (JSON object or multipart) as the QueryDict a page's form reads, or the errors to answer."""
    if isinstance(data, QueryDict):
        return data, None
    if not isinstance(data, dict):
        return None, {"non_field_errors": ["Le corps de la requête doit être un objet JSON."]}
    converted, errors = QueryDict(mutable=True), {}
    for key, value in data.items():
        values = value if isinstance(value, list) else [value]
        if any(isinstance(item, (dict, list)) for item in values):
            errors[key] = ["Valeur invalide."]
        elif all(isinstance(item, bool) for item in values) and values:
            converted.setlist(key, ["on"] if values[0] else [])
        else:
            converted.setlist(key, ["" if item is None else str(item) for item in values])
    return (None, errors) if errors else (converted, None)


def member_of_the_service(user):
    """A partner who may deposit, or an agent who may handle requests: the API is for them."""
    try:
        return require_partner(user)
    except PermissionDenied:
        return require_caisse_staff(user)


def partner_caisses(membership):
    """The structure's caisses with an active convention, read now: an API client acts on what it reads."""
    return conventions.active_caisses(membership.structure_id, fresh=True)


class MeView(APIView):
    permission_classes = [SignedIn]

    @extend_schema(
        summary="L'utilisateur authentifié",
        description="Identité, rôle, structure ou caisse, caisses joignables, double authentification.",
        responses=MeSerializer,
        examples=[OpenApiExample("Technicien", value=examples.ME, response_only=True)],
        tags=["Compte"],
    )
    def get(self, request):
        partner = partner_membership(request.user)
        staff = caisse_membership(request.user)
        caisses = partner_caisses(partner) if partner else [staff.caisse] if staff else []
        return Response(MeSerializer(request.user, context={"caisses": caisses}).data)


class RequestListCreate(generics.ListAPIView):
    serializer_class = RequestSummarySerializer
    pagination_class = NewestFirst
    filter_backends = [DjangoFilterBackend]
    filterset_class = RequestFilter

    queryset = Request.objects.none()  # for the schema; requests go through get_queryset()

    def get_queryset(self):
        member_of_the_service(self.request.user)
        return Request.objects.visible_to(self.request.user).select_related(
            "caisse", "structure", "author", "assigned_to"
        )

    @extend_schema(
        summary="Demandes de votre structure ou de votre caisse",
        description="Les plus récentes d'abord, par pages (curseur `next`). Sans données de la personne : "
        "le détail les donne.",
        responses={200: RequestSummarySerializer(many=True), 400: ERRORS},
        examples=[OpenApiExample("Une page", value=examples.REQUEST_PAGE, response_only=True)],
        tags=["Demandes"],
    )
    def get(self, request, *args, **kwargs):
        # A parameter the list does not read is refused rather than ignored: the client surely meant a filter, and
        # the next page's link would carry it on. None names a person: the address is in every server's log.
        known = {*RequestFilter.base_filters, NewestFirst.cursor_query_param, NewestFirst.page_size_query_param}
        if unknown := sorted(set(request.query_params) - known):
            return Response({name: [UNKNOWN_PARAMETER] for name in unknown}, status=400)
        return super().get(request, *args, **kwargs)

    @extend_schema(
        summary="Déposer une demande",
        description="Les champs du formulaire du type choisi (`kind`), sous les mêmes noms et avec les mêmes "
        "règles que les pages. JSON, ou multipart pour joindre des fichiers (`attachments`, et `consent_document` "
        "pour une saisine MAS signée). Partenaires seulement. Avec l'en-tête `Idempotency-Key` (un UUID par "
        "demande), renvoyer le même dépôt (après une coupure, par exemple) répond la demande déjà créée au lieu "
        "d'en créer une seconde ; la même clé avec un autre contenu est refusée (422).",
        request=DepositSerializer,
        parameters=[
            OpenApiParameter(
                "Idempotency-Key",
                OpenApiTypes.STR,
                OpenApiParameter.HEADER,
                description="Facultatif : une clé par dépôt (UUID), pour pouvoir le renvoyer sans doublon.",
            )
        ],
        responses={201: RequestDetailSerializer, 400: ERRORS, 403: ERRORS, 422: ERRORS, 503: ERRORS},
        examples=[
            OpenApiExample("Contacter la caisse", value=examples.DEPOSIT_CONTACT, request_only=True),
            OpenApiExample("Saisine MAS, accord à distance", value=examples.DEPOSIT_MAS, request_only=True),
            OpenApiExample("Erreurs", value=examples.DEPOSIT_ERRORS, response_only=True, status_codes=["400"]),
        ],
        tags=["Demandes"],
    )
    def post(self, request):
        membership = require_partner(request.user)
        key = request.headers.get("Idempotency-Key")
        if key is not None and not IDEMPOTENCY_KEY.fullmatch(key):
            return Response({"detail": BAD_IDEMPOTENCY_KEY}, status=400)
        data, errors = form_data(request.data)
        if errors:
            return Response(errors, status=400)
        kind = data.get("kind")
        if kind not in KINDS:
            return Response({"kind": [UNKNOWN_KIND]}, status=400)
        form_class = deposit_form_class(kind, data.get("motif"))
        options = {"structure": membership.structure, "caisse_required": False}
        if form_class is MasReferralForm:
            options["user"] = request.user
        form = form_class(data, request.FILES, **options)
        if not form.is_valid():
            return Response(form_errors(form), status=400)
        deposited = deposit_form(form, structure=membership.structure, author=request.user, key=key)
        if deposited is None:
            return Response(api_errors(form.refusal), status=DEPOSIT_REFUSAL_STATUS.get(type(form.refused), 400))
        created = request_detail_queryset().get(pk=deposited.pk)
        body = RequestDetailSerializer(created, context={"request": request}).data
        location = request.build_absolute_uri(reverse("api:request-detail", args=[created.number]))
        return Response(body, status=201, headers={"Location": location})


def request_detail_queryset(requests=Request.objects):
    return requests.select_related("caisse", "structure", "author", "assigned_to", "mas_referral").prefetch_related(
        Prefetch("status_changes", queryset=StatusChange.objects.select_related("by", "assigned_to").order_by("at"))
    )


def visible_request(request, number):
    """A request the user cannot see does not exist for them (404), as on the pages, whoever they are."""
    return get_object_or_404(request_detail_queryset(Request.objects.visible_to(request.user)), number=number)


class RequestDetail(APIView):
    @extend_schema(
        summary="Une demande, avec son historique de statuts",
        description="Chaque lecture est tracée dans le journal des accès de la caisse.",
        responses={200: RequestDetailSerializer, 404: NOT_FOUND},
        examples=[OpenApiExample("Saisine MAS", value=examples.REQUEST_DETAIL, response_only=True)],
        tags=["Demandes"],
    )
    def get(self, request, number):
        demande = visible_request(request, number)
        journal_read(request.user, demande, Action.API)
        return Response(RequestDetailSerializer(demande, context={"request": request}).data)


def caisse_request(request, number):
    """For the caisse's moves: partners get a 404, as on the pages."""
    demande = visible_request(request, number)
    if not policy.is_caisse_side(request.user, demande):
        raise Http404
    return demande


def workflow_outcome(request, move):
    try:
        moved = move()
    except services.WrongStatus as refusal:
        return Response({"detail": str(refusal)}, status=status.HTTP_409_CONFLICT)
    except services.NotAllowed as refusal:
        return Response({"detail": str(refusal)}, status=status.HTTP_403_FORBIDDEN)
    except services.WorkflowRefused as refusal:
        return Response({"detail": str(refusal)}, status=status.HTTP_400_BAD_REQUEST)
    moved = request_detail_queryset().get(pk=moved.pk)
    return Response(RequestDetailSerializer(moved, context={"request": request}).data)


class TakeCharge(APIView):
    @extend_schema(
        summary="Prendre en charge (agents de la caisse)",
        description="Nouveau → Pris en charge, attribuée à l'agent. 409 si un autre agent l'a prise avant vous.",
        request=None,
        responses={200: RequestDetailSerializer, 403: ERRORS, 404: NOT_FOUND, 409: CONFLICT},
        examples=[OpenApiExample("Conflit", value=examples.CONFLICT, response_only=True, status_codes=["409"])],
        tags=["Traitement par la caisse"],
    )
    def post(self, request, number):
        demande = caisse_request(request, number)
        return workflow_outcome(request, lambda: services.take_charge(demande, agent=request.user))


class Resolve(APIView):
    parser_classes = JSON_ONLY

    @extend_schema(
        summary="Résoudre avec une réponse (agent en charge ou administrateur)",
        request=AnswerSerializer,
        responses={200: RequestDetailSerializer, 400: ERRORS, 403: ERRORS, 404: NOT_FOUND, 409: CONFLICT},
        examples=[OpenApiExample("Réponse", value=examples.ANSWER, request_only=True)],
        tags=["Traitement par la caisse"],
    )
    def post(self, request, number):
        demande = caisse_request(request, number)
        answer = AnswerSerializer(data=request.data)
        answer.is_valid(raise_exception=True)
        return workflow_outcome(
            request,
            lambda: services.resolve(demande, agent=request.user, answer=answer.validated_data["answer"]),
        )


class RequestMessages(APIView):
    parser_classes = JSON_ONLY

    @extend_schema(
        summary="Échanges sur la demande",
        description="Les partenaires ne reçoivent jamais les notes internes de la caisse.",
        responses={200: MessageSerializer(many=True), 404: NOT_FOUND},
        examples=[OpenApiExample("Échanges", value=examples.MESSAGES, response_only=True)],
        tags=["Échanges"],
    )
    def get(self, request, number):
        demande = visible_request(request, number)
        journal_read(request.user, demande, Action.API)
        exchanges = (
            Message.objects.visible_to(request.user)
            .filter(request=demande)
            .select_related("author", "request")
            .prefetch_related(Prefetch("attachments", queryset=Attachment.objects.select_related("request")))
        )
        return Response(MessageSerializer(exchanges, many=True, context={"request": request}).data)

    @extend_schema(
        summary="Écrire sur une demande ouverte",
        description="`internal: true` : note interne entre agents de la caisse (refusée aux partenaires).",
        request=MessageInputSerializer,
        responses={201: MessageSerializer, 400: ERRORS, 404: NOT_FOUND, 409: CONFLICT},
        examples=[
            OpenApiExample("Question de l'agent", value=examples.MESSAGE_IN, request_only=True),
            OpenApiExample("Note interne", value=examples.NOTE_IN, request_only=True),
        ],
        tags=["Échanges"],
    )
    def post(self, request, number):
        demande = visible_request(request, number)
        incoming = MessageInputSerializer(data=request.data)
        incoming.is_valid(raise_exception=True)
        internal = incoming.validated_data["internal"]
        if internal and not policy.can_post_internal_note(request.user, demande):
            return Response({"internal": ["Seuls les agents de la caisse écrivent des notes internes."]}, status=400)
        try:
            message = services.post_message(
                demande, author=request.user, body=incoming.validated_data["body"], internal=internal
            )
        except services.WrongStatus as refusal:
            return Response({"detail": str(refusal)}, status=status.HTTP_409_CONFLICT)
        except services.WorkflowRefused as refusal:
            return Response({"body": [str(refusal)]}, status=400)
        message = Message.objects.select_related("author", "request").get(pk=message.pk)
        return Response(MessageSerializer(message, context={"request": request}).data, status=201)


class RequestAttachments(APIView):
    @extend_schema(
        summary="Pièces jointes visibles de la demande",
        responses={200: AttachmentSerializer(many=True), 404: NOT_FOUND},
        examples=[OpenApiExample("Pièces jointes", value=examples.ATTACHMENTS, response_only=True)],
        tags=["Pièces jointes"],
    )
    def get(self, request, number):
        demande = visible_request(request, number)
        attachments = (
            Attachment.objects.visible_to(request.user).filter(request=demande).select_related("request", "message")
        )
        return Response(AttachmentSerializer(attachments.order_by("pk"), many=True, context={"request": request}).data)

    @extend_schema(
        summary="Joindre des fichiers à une demande ouverte",
        description="multipart/form-data, champ `files` (répétable) : PDF, JPEG ou PNG, contenu vérifié.",
        request={"multipart/form-data": AttachmentUploadSerializer},
        responses={201: AttachmentSerializer(many=True), 400: ERRORS, 404: NOT_FOUND, 409: CONFLICT, 503: ERRORS},
        examples=[
            OpenApiExample("Fichier accepté", value=examples.ATTACHMENTS, response_only=True, status_codes=["201"]),
            OpenApiExample(
                "Fichier refusé",
                value={"files": ["« photo.pdf » : le contenu ne correspond pas à un PDF."]},
                response_only=True,
                status_codes=["400"],
            ),
        ],
        tags=["Pièces jointes"],
    )
    def post(self, request, number):
        demande = visible_request(request, number)
        field = AttachmentsField(min_count=1)
        try:
            files = field.clean(request.FILES.getlist("files"))
        except ValidationError as error:
            return Response({"files": error.messages}, status=400)
        try:
            stored = services.add_attachments(demande, author=request.user, files=files)
        except services.WrongStatus as refusal:
            return Response({"detail": str(refusal)}, status=status.HTTP_409_CONFLICT)
        except services.AttachmentsNotStored as refusal:
            return Response({"files": [str(refusal)]}, status=status.HTTP_503_SERVICE_UNAVAILABLE)
        except services.TooManyAttachments as refusal:
            return Response({"files": [str(refusal)]}, status=400)
        return Response(AttachmentSerializer(stored, many=True, context={"request": request}).data, status=201)


class RequestAttachment(APIView):
    @extend_schema(
        summary="Télécharger une pièce jointe",
        description="Le fichier tel que déposé ; chaque téléchargement est tracé dans le journal des accès.",
        responses={
            **{(200, content_type): OpenApiTypes.BINARY for content_type in Attachment.FileType.values},
            404: NOT_FOUND,
        },
        tags=["Pièces jointes"],
    )
    def get(self, request, number, id):  # noqa: A002 (the path's parameter, as the schema names it)
        demande = visible_request(request, number)
        attachment = get_object_or_404(
            Attachment.objects.visible_to(request.user).filter(request=demande), public_id=id
        )
        journal_read(request.user, demande, Action.ATTACHMENT, attachment=attachment)
        return FileResponse(
            attachment.file.open("rb"),
            as_attachment=True,
            filename=attachment.original_name,
            content_type=attachment.content_type,
        )


def own_techniciens(user):
    """The gestionnaire's structure and its techniciens (gestionnaires are the caisse's to manage)."""
    membership = require_gestionnaire(user)
    return membership.structure, Membership.objects.filter(
        structure=membership.structure, role=Membership.Role.TECHNICIEN
    ).select_related("user")


class Members(APIView):
    parser_classes = JSON_ONLY

    @extend_schema(
        summary="Techniciens de la structure (gestionnaires)",
        responses={200: MemberSerializer(many=True), 403: ERRORS},
        examples=[OpenApiExample("Techniciens", value=examples.MEMBERS, response_only=True)],
        tags=["Structure"],
    )
    def get(self, request):
        _, techniciens = own_techniciens(request.user)
        return Response(MemberSerializer(techniciens.order_by("user__last_name", "pk"), many=True).data)

    @extend_schema(
        summary="Créer un compte technicien",
        description="Le lien d'activation part par courriel à l'adresse donnée.",
        request=MemberInputSerializer,
        responses={201: MemberSerializer, 400: ERRORS, 403: ERRORS},
        examples=[OpenApiExample("Nouveau technicien", value=examples.MEMBER_IN, request_only=True)],
        tags=["Structure"],
    )
    def post(self, request):
        structure, _ = own_techniciens(request.user)
        data, errors = form_data(request.data)
        if errors:
            return Response(errors, status=400)
        # Every field is a text: the form would read a number or a list as one, where the schema says a string.
        fields = MemberInputSerializer().fields
        if not_texts := {
            name: [NOT_A_TEXT] for name, value in request.data.items() if name in fields and not isinstance(value, str)
        }:
            raise invalid(not_texts)
        form = IdentityForm(data)
        if not form.is_valid():
            return Response(form_errors(form), status=400)
        try:
            membership = structure_services.create_partner_account(
                structure,
                role=Membership.Role.TECHNICIEN,
                by=request.user,
                **{
                    name: form.cleaned_data[name] for name in ("civility", "last_name", "first_name", "email", "phone")
                },
            )
        except structure_services.EmailAlreadyUsed as refusal:
            return Response({"email": [refusal.message]}, status=400)
        return Response(MemberSerializer(membership).data, status=201)


class MemberDeactivate(APIView):
    @extend_schema(
        summary="Désactiver un technicien",
        description="Le compte est conservé ; ses sessions et jetons cessent de fonctionner.",
        request=None,
        responses={200: MemberSerializer, 403: ERRORS, 404: NOT_FOUND},
        examples=[
            OpenApiExample(
                "Désactivé",
                value={**examples.MEMBERS[0], "status": "disabled", "is_active": False},
                response_only=True,
            )
        ],
        tags=["Structure"],
    )
    def post(self, request, pk):
        _, techniciens = own_techniciens(request.user)
        membership = get_object_or_404(techniciens, pk=pk)
        membership = structure_services.deactivate_partner_account(membership, by=request.user)
        return Response(MemberSerializer(membership).data)
