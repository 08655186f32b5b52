"""REST API v1. Same rules as the pages: the same scoped querysets (another structure's or caisse's object is a
404), the same forms to validate, the same services to write, the same access journal."""

import hashlib
import json
import re
from contextlib import contextmanager

from django.core.exceptions import PermissionDenied, ValidationError
from django.core.serializers.json import DjangoJSONEncoder
from django.db.models import Prefetch
from django.http import FileResponse, Http404, QueryDict
from django.shortcuts import get_object_or_404
from django.urls import reverse
from django.utils.http import parse_etags
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, OpenApiRequest, OpenApiResponse, extend_schema
from rest_framework import generics, status
from rest_framework.response import Response
from rest_framework.views import APIView

from extranet.accounts.forms import IdentityForm
from extranet.api import catalogue, examples
from extranet.api import deposit as api_deposit
from extranet.api.errors import Refusal, invalid
from extranet.api.filters import RequestFilter
from extranet.api.pagination import ByLastChange, NewestFirst
from extranet.api.parsers import JSON_ONLY
from extranet.api.permissions import SignedIn
from extranet.api.refusals import (
    deposit_refusal,
    errors_refusal,
    form_refusal,
    only_known_fields,
    read_body,
    unknown_fields,
    workflow_refusal,
)
from extranet.api.schema import refused
from extranet.api.serializers import (
    AnswerSerializer,
    AnswerUploadSerializer,
    AttachmentSerializer,
    AttachmentUploadSerializer,
    CatalogueKindSerializer,
    MemberInputSerializer,
    MemberSerializer,
    MeSerializer,
    MessageInputSerializer,
    MessageSerializer,
    MessageUploadSerializer,
    RequestDetailSerializer,
    RequestSummarySerializer,
)
from requests import policy, services
from requests.attachments import AttachmentsField
from requests.deposit import deposit_form
from requests.forms import MasReferralForm
from requests.journal import Action, journal_read
from requests.models import Attachment, Message, Request, StatusChange
from structures import conventions
from structures import services as structure_services
from structures.guards import require_caisse_staff, require_gestionnaire, require_partner
from structures.models import Membership
from structures.policy import caisse_membership, partner_membership

NOT_FOUND = refused("not_found")
CONFLICT = refused("wrong_status")
UNKNOWN_PARAMETER = (
    "Paramètre inconnu : la liste ne se filtre que par les paramètres de son schéma, aucun ne désigne la personne "
    "concernée (son détail, lu par son numéro, la donne)."
)
NOT_A_TEXT = "Texte attendu."


# A retry of a deposit sends the same key: the request created the first time is answered again, never a second one.
IDEMPOTENCY_KEY = re.compile(r"[\x21-\x7e]{1,64}")
INTERNAL_NOTE_FORBIDDEN = "Seuls les agents de la caisse écrivent des notes internes."
BAD_IDEMPOTENCY_KEY = (
    "L'en-tête Idempotency-Key compte de 1 à 64 caractères ASCII imprimables, sans espace (par exemple un UUID)."
)


def form_data(data):
    """The request body (JSON object or multipart) as the QueryDict a page's form reads; refused if a form cannot."""
    if isinstance(data, QueryDict):
        return data
    if not isinstance(data, dict):
        raise invalid({"non_field_errors": ["Le corps de la requête doit être un objet JSON."]})
    converted, errors = QueryDict(mutable=True), {}
    for key, value in data.items():
        values = value if isinstance(value, list) else [value]
        if any(isinstance(item, (dict, list)) for item in values):
            errors[key] = ["Valeur invalide."]
        elif all(isinstance(item, bool) for item in values) and values:
            converted.setlist(key, ["on"] if values[0] else [])
        else:
            converted.setlist(key, ["" if item is None else str(item) for item in values])
    if errors:
        raise invalid(errors)
    return converted


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


class KindList(APIView):
    permission_classes = [SignedIn]

    @extend_schema(
        summary="Le catalogue des demandes",
        description="Chaque type (`kind`) avec ses motifs, ses champs (ceux de `person`, de `details` et, pour la "
        "saisine MAS, de `mas_referral`), leurs libellés, aides et contraintes, et ses fichiers : ce que le schéma "
        "`Deposit` décrit, tel que les pages le montrent. Sans donnée personnelle.",
        responses=CatalogueKindSerializer(many=True),
        examples=[OpenApiExample("Le premier type", value=catalogue.kinds()[0], response_only=True)],
        tags=["Demandes"],
    )
    def get(self, request):
        return Response(CatalogueKindSerializer(catalogue.kinds(), many=True).data)


# The list's orders (`?ordering=`), each with its pages: newest first, or by last change for a sync.
ORDERINGS = {"-created_at": NewestFirst, "updated_at": ByLastChange}
ORDERING = "ordering"
SYNC = (
    "Pour synchroniser : `?ordering=updated_at&updated_after=<la plus grande updated_at déjà lue, moins une "
    "minute>`, puis les liens `next` jusqu'au dernier (null). Dans cet ordre, le curseur porte sur `updated_at` et "
    "`id` : une demande modifiée pendant la lecture passe après le curseur et revient sur une page suivante, aucune "
    "n'est sautée. La minute de recouvrement couvre les modifications en cours d'enregistrement au moment de la "
    "lecture (elles portent l'heure de leur début) ; une demande relue se reconnaît à son `number` et à son "
    "`updated_at`."
)


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

    @property
    def paginator(self):
        if not hasattr(self, "_paginator"):
            self._paginator = ORDERINGS[self.request.query_params.get(ORDERING, "-created_at")]()
        return self._paginator

    @extend_schema(
        summary="Demandes de votre structure ou de votre caisse",
        description="Les plus récentes d'abord, par pages (curseur `next`). Sans données de la personne : "
        f"le détail les donne.\n\n{SYNC}",
        parameters=[
            OpenApiParameter(
                ORDERING,
                OpenApiTypes.STR,
                enum=list(ORDERINGS),
                default="-created_at",
                description="`-created_at` : les plus récentes d'abord ; `updated_at` : de la plus anciennement "
                "modifiée à la dernière, pour synchroniser.",
            )
        ],
        responses={
            200: RequestSummarySerializer(many=True),
            400: refused("invalid", "unknown_fields", "invalid_cursor"),
        },
        examples=[OpenApiExample("Une demande de la page", value=examples.SUMMARY, response_only=True)],
        tags=["Demandes"],
    )
    def get(self, request, *args, **kwargs):
        # A parameter the list does not read is refused rather than ignored: the client surely meant a filter, and
        # the next page's link would carry it on. None names a person: the address is in every server's log.
        known = {
            *RequestFilter.base_filters,
            ORDERING,
            NewestFirst.cursor_query_param,
            NewestFirst.page_size_query_param,
        }
        if unknown := set(request.query_params) - known:
            raise unknown_fields(unknown, UNKNOWN_PARAMETER)
        if request.query_params.get(ORDERING, "-created_at") not in ORDERINGS:
            raise invalid({ORDERING: [f"Choisissez parmi : {', '.join(ORDERINGS)}."]})
        return super().get(request, *args, **kwargs)

    @extend_schema(
        summary="Déposer une demande",
        description="Un objet par type (`kind`, voir le schéma `Deposit` ou GET /api/v1/kinds/) : `motif`, `caisse`, "
        "`person` (sauf pour contact), `details` (les champs du type), `mas_referral` (la fiche, pour une saisine "
        "MAS seulement). Validé par les formulaires des pages et le service de dépôt : mêmes règles, mêmes messages, "
        "toutes les erreurs d'un coup sous les noms envoyés (`person.last_name`, `details.channel`). Un champ que "
        "le type ne prend pas est refusé (`unknown_fields`). JSON, ou multipart pour joindre des fichiers : l'objet "
        "dans la partie `data` (application/json), les fichiers dans `attachments` (et `consent_document`, la fiche "
        "signée d'une saisine MAS). Partenaires seulement. Avec l'en-tête `Idempotency-Key` (un UUID par demande), "
        "renvoyer le même dépôt (après une coupure, par exemple) répond la demande déjà créée au lieu d'en créer une "
        "seconde ; la même clé avec un autre contenu est refusée (422).",
        request={
            "application/json": catalogue.ref(catalogue.DEPOSIT),
            "multipart/form-data": OpenApiRequest(
                catalogue.ref(catalogue.MULTIPART),
                encoding={api_deposit.DATA_PART: {"contentType": "application/json"}},
            ),
        },
        parameters=[
            OpenApiParameter(
                "Idempotency-Key",
                {"type": "string", "pattern": f"^{IDEMPOTENCY_KEY.pattern}$"},
                OpenApiParameter.HEADER,
                description="Facultatif : une clé par dépôt (UUID), pour pouvoir le renvoyer sans doublon.",
            )
        ],
        responses={
            201: RequestDetailSerializer,
            400: refused(
                "invalid",
                "bad_idempotency_key",
                "caisse_required",
                "unknown_caisse",
                "no_active_convention",
                "habilitation_required",
                "attachment_refused",
                "too_many_attachments",
            ),
            409: refused("duplicate_open_request"),
            422: refused("deposit_key_reused"),
            503: refused("storage_unavailable"),
        },
        examples=[
            *(OpenApiExample(title, value=value, request_only=True) for title, value in examples.DEPOSITS.items()),
            *(
                OpenApiExample(title, value={"data": value}, request_only=True, media_type="multipart/form-data")
                for title, value in examples.DEPOSIT_WITH_FILES.items()
            ),
            OpenApiExample("Erreurs", value=examples.DEPOSIT_ERRORS, response_only=True, status_codes=["400"]),
            OpenApiExample("Doublon", value=examples.DUPLICATE, response_only=True, status_codes=["409"]),
        ],
        tags=["Demandes"],
    )
    def post(self, request):
        membership = require_partner(request.user)
        key = request.headers.get("Idempotency-Key")
        if key is not None and not IDEMPOTENCY_KEY.fullmatch(key):
            raise Refusal("bad_idempotency_key", BAD_IDEMPOTENCY_KEY)
        deposit = api_deposit.read(request)
        options = {"structure": membership.structure, "caisse_required": False}
        if deposit.form_class is MasReferralForm:
            options["user"] = request.user
        form = deposit.form_class(deposit.data, deposit.files, **options)
        # Every error at once: the form's (caisse, fields, the domain's rules) and the values of the wrong type.
        if not form.is_valid() or deposit.errors:
            raise errors_refusal(form.errors.as_data(), fields=deposit.client_errors(form.errors))
        deposited = deposit_form(form, structure=membership.structure, author=request.user, key=key)
        if deposited is None:
            raise deposit_refusal(form.refused)
        created = request_detail_queryset().get(pk=deposited.pk)
        body = RequestDetailSerializer(created, context={"request": request}).data
        location = request.build_absolute_uri(reverse("api:request-detail", args=[created.number]))
        return Response(body, status=201, headers={"Location": location})


def request_detail_queryset(requests=Request.objects):
    return requests.select_related(
        "caisse", "structure", "author", "assigned_to", "mas_referral__consent_document"
    ).prefetch_related(
        Prefetch("status_changes", queryset=StatusChange.objects.select_related("by", "assigned_to").order_by("at"))
    )


def visible_request(request, number):
    """A request the user cannot see does not exist for them (404), as on the pages, whoever they are."""
    return get_object_or_404(request_detail_queryset(Request.objects.visible_to(request.user)), number=number)


def detail_etag(user, demande, body):
    """A weak tag of the detail as this user reads it: a digest of what they were sent, their side and themselves.
    Whatever the detail shows changes it, `updated_at` or not (a purge, a renamed agent, a new shape of the API); no
    other reader shares it, so a 304 only ever confirms to a reader what they were sent."""
    side = "caisse" if policy.is_caisse_side(user, demande) else "partner"
    digest = hashlib.sha256(json.dumps([user.pk, side, body], cls=DjangoJSONEncoder, sort_keys=True).encode())
    return f'W/"{digest.hexdigest()[:32]}"'


def matches(tag, if_none_match):
    """`If-None-Match` against the tag, compared weakly (RFC 9110 §13.1.2)."""
    tags = parse_etags(if_none_match or "")
    return "*" in tags or tag.removeprefix("W/") in {sent.removeprefix("W/") for sent in tags}


class RequestDetail(APIView):
    @extend_schema(
        summary="Une demande, avec son historique de statuts et sa réponse",
        description="Chaque lecture est tracée dans le journal des accès de la caisse. La réponse porte un en-tête "
        "`ETag` : renvoyé dans `If-None-Match`, il donne un 304 sans corps tant que la demande n'a pas changé.",
        parameters=[
            OpenApiParameter(
                "If-None-Match",
                OpenApiTypes.STR,
                OpenApiParameter.HEADER,
                description="L'`ETag` d'une lecture précédente : 304 si rien n'a changé depuis.",
            ),
            OpenApiParameter(
                "ETag",
                OpenApiTypes.STR,
                OpenApiParameter.HEADER,
                response=[200, 304],
                description="La demande telle que vous l'avez lue (étiquette faible, propre à chaque lecteur).",
            ),
        ],
        responses={
            200: OpenApiResponse(
                RequestDetailSerializer,
                description="La demande ; l'en-tête `ETag` la désigne telle que lue.",
            ),
            304: OpenApiResponse(description="Inchangée depuis la lecture dont l'`ETag` est donné : pas de corps."),
            404: NOT_FOUND,
        },
        examples=[OpenApiExample("Saisine MAS", value=examples.REQUEST_DETAIL, response_only=True)],
        tags=["Demandes"],
    )
    def get(self, request, number):
        demande = visible_request(request, number)
        body = RequestDetailSerializer(demande, context={"request": request}).data
        tag = detail_etag(request.user, demande, body)
        if matches(tag, request.headers.get("If-None-Match")):
            # Not journaled: the tag is this reader's own, so the 304 tells them nothing the journaled read that
            # sent them this body did not; journaling every poll would bury the reads that showed data.
            return Response(status=status.HTTP_304_NOT_MODIFIED, headers={"ETag": tag})
        journal_read(request.user, demande, Action.API)
        return Response(body, headers={"ETag": tag})


def caisse_request(request, number):
    """For the caisse's moves: partners get a 404, as on the pages."""
    demande = visible_request(request, number)
    if not policy.is_caisse_side(request.user, demande):
        raise Http404
    return demande


def workflow_outcome(request, demande, move, *, field=None):
    """Run a service that writes on the request: the request's detail as it now is, or the refusal answered with
    its code (what is about the input under `field`)."""
    try:
        move()
    except services.WorkflowRefused as refusal:
        raise workflow_refusal(refusal, field=field) from None
    demande = request_detail_queryset().get(pk=demande.pk)
    return Response(RequestDetailSerializer(demande, context={"request": request}).data)


class TakeCharge(APIView):
    @extend_schema(
        summary="Prendre en charge (agents de la caisse)",
        description="Nouveau → Pris en charge, attribuée à l'agent. 409 si un autre agent l'a prise avant vous.",
        request=None,
        responses={200: RequestDetailSerializer, 403: refused("not_allowed"), 404: NOT_FOUND, 409: CONFLICT},
        examples=[OpenApiExample("Conflit", value=examples.CONFLICT, response_only=True, status_codes=["409"])],
        tags=["Traitement par la caisse"],
    )
    def post(self, request, number):
        demande = caisse_request(request, number)
        return workflow_outcome(request, demande, lambda: services.take_charge(demande, agent=request.user))


def multipart(request):
    return request.content_type.startswith("multipart/form-data")


@contextmanager
def files_refusals():
    """A write that stores files: the service's refusals about them, named as the files' (a 503 when the storage
    failed: nothing was written)."""
    try:
        yield
    except services.TooManyAttachments as refusal:
        raise Refusal("too_many_attachments", str(refusal), fields={"files": [str(refusal)]}) from None
    except services.AttachmentsNotStored as refusal:
        raise Refusal("storage_unavailable", str(refusal), status=status.HTTP_503_SERVICE_UNAVAILABLE) from None


def message_queryset(messages=Message.objects):
    return messages.select_related("author", "request").prefetch_related(
        Prefetch("attachments", queryset=Attachment.objects.select_related("request"))
    )


class Resolve(APIView):
    @extend_schema(
        summary="Résoudre avec une réponse (agent en charge ou administrateur)",
        description="JSON, ou multipart pour joindre des fichiers à la réponse (`files`, répétable) : la structure "
        "les télécharge avec elle.",
        request={"application/json": AnswerSerializer, "multipart/form-data": AnswerUploadSerializer},
        responses={
            200: RequestDetailSerializer,
            400: refused("invalid", "unknown_fields", "too_many_attachments", "attachment_refused"),
            403: refused("not_allowed"),
            404: NOT_FOUND,
            409: CONFLICT,
            503: refused("storage_unavailable"),
        },
        examples=[OpenApiExample("Réponse", value=examples.ANSWER, request_only=True)],
        tags=["Traitement par la caisse"],
    )
    def post(self, request, number):
        demande = caisse_request(request, number)
        answer = read_body(AnswerUploadSerializer if multipart(request) else AnswerSerializer, request.data)

        def resolve():
            with files_refusals():
                return services.resolve(
                    demande, agent=request.user, answer=answer["answer"], files=answer.get("files", ())
                )

        return workflow_outcome(request, demande, resolve, field="answer")


class RequestMessages(APIView):
    @extend_schema(
        summary="Échanges sur la demande",
        description="Les partenaires ne reçoivent jamais les notes internes de la caisse.",
        responses={200: MessageSerializer(many=True), 404: NOT_FOUND},
        examples=[OpenApiExample("Un message", value=examples.MESSAGE, response_only=True)],
        tags=["Échanges"],
    )
    def get(self, request, number):
        demande = visible_request(request, number)
        journal_read(request.user, demande, Action.API)
        exchanges = message_queryset(Message.objects.visible_to(request.user)).filter(request=demande)
        return Response(MessageSerializer(exchanges, many=True, context={"request": request}).data)

    @extend_schema(
        summary="Écrire sur une demande ouverte",
        description="`internal: true` : note interne entre agents de la caisse (refusée aux partenaires). JSON, ou "
        "multipart pour joindre des fichiers au message (`files`, répétable).",
        request={"application/json": MessageInputSerializer, "multipart/form-data": MessageUploadSerializer},
        responses={
            201: MessageSerializer,
            400: refused("invalid", "unknown_fields", "too_many_attachments", "attachment_refused"),
            403: refused("internal_note_forbidden", "not_allowed"),
            404: NOT_FOUND,
            409: CONFLICT,
            503: refused("storage_unavailable"),
        },
        examples=[
            OpenApiExample("Question de l'agent", value=examples.MESSAGE_IN, request_only=True),
            OpenApiExample("Note interne", value=examples.NOTE_IN, request_only=True),
        ],
        tags=["Échanges"],
    )
    def post(self, request, number):
        demande = visible_request(request, number)
        incoming = read_body(MessageUploadSerializer if multipart(request) else MessageInputSerializer, request.data)
        internal = incoming["internal"]
        if internal and not policy.can_post_internal_note(request.user, demande):
            raise Refusal("internal_note_forbidden", INTERNAL_NOTE_FORBIDDEN, status=403)
        try:
            with files_refusals():
                message = services.post_message(
                    demande,
                    author=request.user,
                    body=incoming["body"],
                    internal=internal,
                    awaiting_answer=incoming["awaiting_answer"],
                    files=incoming.get("files", ()),
                )
        except services.WorkflowRefused as refusal:
            raise workflow_refusal(refusal, field="body") from None
        message = message_queryset().get(pk=message.pk)
        return Response(MessageSerializer(message, context={"request": request}).data, status=201)


class RequestAttachments(APIView):
    @extend_schema(
        summary="Pièces jointes visibles de la demande",
        responses={200: AttachmentSerializer(many=True), 404: NOT_FOUND},
        examples=[OpenApiExample("Une pièce jointe", value=examples.ATTACHMENT, response_only=True)],
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
        responses={
            201: AttachmentSerializer(many=True),
            400: refused("invalid", "attachment_refused", "too_many_attachments"),
            403: refused("not_allowed"),
            404: NOT_FOUND,
            409: CONFLICT,
            503: refused("storage_unavailable"),
        },
        examples=[
            OpenApiExample("Fichier accepté", value=examples.ATTACHMENT, response_only=True, status_codes=["201"]),
            OpenApiExample(
                "Fichier refusé", value=examples.ATTACHMENT_REFUSED, response_only=True, status_codes=["400"]
            ),
        ],
        tags=["Pièces jointes"],
    )
    def post(self, request, number):
        demande = visible_request(request, number)
        only_known_fields(AttachmentUploadSerializer, request.data)
        field = AttachmentsField(min_count=1)
        try:
            files = field.clean(request.FILES.getlist("files"))
        except ValidationError as error:
            raise errors_refusal({"files": error.error_list}) from None
        try:
            stored = services.add_attachments(demande, author=request.user, files=files)
        except services.WorkflowRefused as refusal:
            raise workflow_refusal(refusal, field="files") from None
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
        responses=MemberSerializer(many=True),
        examples=[OpenApiExample("Un technicien", value=examples.MEMBER, response_only=True)],
        tags=["Structure"],
    )
    def get(self, request):
        _, techniciens = own_techniciens(request.user)
        return Response(MemberSerializer(techniciens.order_by("user__last_name", "pk"), many=True).data)

    @extend_schema(
        summary="Créer un compte technicien",
        description="Le lien d'activation part par courriel à l'adresse donnée.",
        request=MemberInputSerializer,
        responses={201: MemberSerializer, 400: refused("invalid", "unknown_fields", "email_already_used")},
        examples=[OpenApiExample("Nouveau technicien", value=examples.MEMBER_IN, request_only=True)],
        tags=["Structure"],
    )
    def post(self, request):
        structure, _ = own_techniciens(request.user)
        only_known_fields(MemberInputSerializer, request.data)
        data = form_data(request.data)  # refuses a body that is not an object
        # Every field is a text: the form would read a number or a list as one, where the schema says a string.
        if not_texts := {name: [NOT_A_TEXT] for name, value in request.data.items() if not isinstance(value, str)}:
            raise invalid(not_texts)
        form = IdentityForm(data)
        if not form.is_valid():
            raise form_refusal(form)
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
            # Another account took the address since the form's check: the form's answer.
            raise Refusal("email_already_used", refusal.message, fields={"email": [refusal.message]}) from None
        return Response(MemberSerializer(membership).data, status=201)


class MemberDeactivate(APIView):
    @extend_schema(
        summary="Désactiver un technicien",
        description="Le compte est conservé ; ses sessions et jetons cessent de fonctionner.",
        request=None,
        responses={200: MemberSerializer, 404: NOT_FOUND},
        examples=[
            OpenApiExample(
                "Désactivé",
                value={**examples.MEMBER, "status": "disabled", "is_active": False},
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
