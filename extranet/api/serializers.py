"""What the API returns, and the shape of what it accepts (the deposit's comes from the catalogue, in
extranet/api/catalogue.py; validation itself is the pages' forms' and the deposit service's)."""

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import Prefetch
from django.http import QueryDict
from django.urls import reverse
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from extranet.accounts.models import Civility
from extranet.accounts.second_factor import has_second_factor
from extranet.api.refusals import errors_refusal
from extranet.core.text import clean_text
from requests import deadlines, mas
from requests.attachments import AttachmentsField
from requests.catalog import KINDS
from requests.models import Attachment, MasReferral, Message, Request, Status, StatusChange
from structures.models import Caisse, Membership, Structure
from structures.policy import caisse_membership, partner_membership


class TextField(serializers.CharField):
    """A text the API takes in, cleaned as the forms clean theirs (extranet/core/text.py)."""

    def to_internal_value(self, data):
        # DRF's CharField takes a number for a text (0 becomes "0"); the schema's string does not.
        if not isinstance(data, str):
            self.fail("invalid")
        # The length the schema documents is that of the text sent: checked before the surrounding spaces are cut
        # (Python's spaces include controls such as U+001E, which a client would not count as such).
        if isinstance(data, str) and self.max_length is not None and len(data) > self.max_length:
            self.fail("max_length", max_length=self.max_length)
        try:
            return clean_text(super().to_internal_value(data))
        except DjangoValidationError as error:
            raise serializers.ValidationError(error.messages) from None


class CaisseSerializer(serializers.ModelSerializer):
    """Une caisse : son code à 3 chiffres et son nom."""

    class Meta:
        model = Caisse
        fields = ["code", "name"]


class StructureSerializer(serializers.ModelSerializer):
    """Une structure partenaire : son identifiant et son nom."""

    class Meta:
        model = Structure
        fields = ["id", "name"]


class OwnStructureSerializer(StructureSerializer):
    """La structure de l'utilisateur : son identifiant, son nom et son SIRET."""

    class Meta(StructureSerializer.Meta):
        fields = [*StructureSerializer.Meta.fields, "siret"]


class AccountSerializer(serializers.Serializer):
    """Un compte : l'identifiant de l'utilisateur (le même sur toutes les demandes, quel que soit son rôle) et son
    nom."""

    id = serializers.IntegerField(source="pk")
    name = serializers.CharField(source="get_full_name", help_text="Prénom et NOM, tels qu'affichés sur les pages.")


class MeSerializer(serializers.Serializer):
    """L'utilisateur authentifié : identité, rôle, structure ou caisse, caisses joignables, double
    authentification."""

    id = serializers.IntegerField(source="pk")
    email = serializers.EmailField()
    civility = serializers.CharField()
    first_name = serializers.CharField()
    last_name = serializers.CharField()
    role = serializers.SerializerMethodField(help_text="technicien, gestionnaire, agent, admin, ou null.")
    role_label = serializers.SerializerMethodField()
    structure = serializers.SerializerMethodField(help_text="La structure d'un partenaire ; null pour la caisse.")
    caisse = serializers.SerializerMethodField(help_text="La caisse d'un agent ou d'un administrateur.")
    caisses = serializers.SerializerMethodField(help_text="Caisses auxquelles l'utilisateur peut s'adresser.")
    second_factor = serializers.SerializerMethodField(help_text="Double authentification configurée.")

    def _membership(self, user):
        return partner_membership(user) or caisse_membership(user)

    def get_role(self, user) -> str | None:
        membership = self._membership(user)
        return membership.role if membership else None

    def get_role_label(self, user) -> str | None:
        membership = self._membership(user)
        return membership.get_role_display() if membership else None

    @extend_schema_field(OwnStructureSerializer(allow_null=True))
    def get_structure(self, user):
        membership = partner_membership(user)
        return OwnStructureSerializer(membership.structure).data if membership else None

    @extend_schema_field(CaisseSerializer(allow_null=True))
    def get_caisse(self, user):
        membership = caisse_membership(user)
        return CaisseSerializer(membership.caisse).data if membership else None

    @extend_schema_field(CaisseSerializer(many=True))
    def get_caisses(self, user):
        return CaisseSerializer(self.context["caisses"], many=True).data

    def get_second_factor(self, user) -> bool:
        return has_second_factor(user)


class StatusChangeSerializer(serializers.ModelSerializer):
    """Une ligne de l'historique des statuts : de quel statut à quel statut, quand, par qui, et à qui la demande
    revient (prise en charge, réattribution)."""

    by = AccountSerializer()
    assigned_to = AccountSerializer(allow_null=True)

    class Meta:
        model = StatusChange
        fields = ["from_status", "to_status", "at", "by", "assigned_to"]


UPDATED_AT = (
    "Dernière modification que les deux côtés voient : statut, attribution, message ou fichier échangé, attente de "
    "la structure, courrier MAS, effacement des données. Ce que `updated_after` et `ordering=updated_at` lisent."
)


class RequestSummarySerializer(serializers.ModelSerializer):
    """Une ligne de la liste des demandes : sans données de la personne concernée (le détail les donne, et chaque
    lecture du détail est tracée)."""

    kind_label = serializers.CharField(source="get_kind_display")
    motif_label = serializers.CharField()
    status_label = serializers.CharField(source="get_status_display")
    caisse = CaisseSerializer()
    structure = StructureSerializer()
    author = AccountSerializer(help_text="Qui a déposé la demande.")
    assigned_to = AccountSerializer(allow_null=True, help_text="L'agent en charge, ou null.")
    has_person = serializers.BooleanField(help_text="La demande concerne une personne (tous les types sauf contact).")
    updated_at = serializers.DateTimeField(help_text=UPDATED_AT)
    age_working_days = serializers.SerializerMethodField(
        help_text=(
            "Âge de la demande en jours ouvrés de sa caisse (hors week-ends et jours fériés de son calendrier, "
            "attentes de la réponse de la structure déduites), arrêté à sa résolution : celui de la file de la "
            "caisse et de son export."
        )
    )
    url = serializers.SerializerMethodField()

    class Meta:
        model = Request
        fields = [
            "number",
            "kind",
            "kind_label",
            "motif",
            "motif_label",
            "status",
            "status_label",
            "caisse",
            "structure",
            "author",
            "assigned_to",
            "has_person",
            "created_at",
            "taken_at",
            "resolved_at",
            "updated_at",
            "awaiting_partner_since",
            "age_working_days",
            "url",
        ]

    def get_age_working_days(self, demande) -> int:
        return deadlines.age(demande)

    def get_url(self, demande) -> str:
        return self.context["request"].build_absolute_uri(reverse("api:request-detail", args=[demande.number]))


class PersonSerializer(serializers.Serializer):
    """La personne concernée, sous les noms et avec les valeurs du dépôt."""

    civility = serializers.ChoiceField(source="person_civility", choices=Civility.choices)
    last_name = serializers.CharField(source="person_last_name")
    first_name = serializers.CharField(source="person_first_name")
    birth_date = serializers.DateField(source="person_birth_date")
    nir = serializers.CharField(
        source="person_nir", min_length=15, max_length=15, help_text="Le NIR tel qu'enregistré : 15 caractères."
    )
    nir_display = serializers.CharField(source="formatted_nir", help_text="Le même, espacé pour l'affichage.")
    phone = serializers.CharField(
        source="person_phone",
        help_text="Tel qu'enregistré : le numéro reçu (+33 6…, 06.12…), mis sous la forme 06 12 34 56 78 ; vide si "
        "non renseigné.",
    )
    email = serializers.CharField(source="person_email")


def _details_schema():
    """`details` as the catalogue describes it: each detail of each kind, with its label(s) and its choices (an
    optional choice may be left empty)."""
    properties = {}
    for kind in KINDS.values():
        for spec in kind.details:
            known = properties.setdefault(spec.name, {"type": "string", "description": spec.label})
            if spec.label not in known["description"].split(" / "):
                known["description"] += f" / {spec.label}"
            if spec.choices:
                choices = [value for value, _ in spec.choices] + ([] if spec.required else [""])
                known["enum"] = list(dict.fromkeys([*known.get("enum", []), *choices]))
    return {
        "type": "object",
        "description": "Les informations propres au type, sous les noms et avec les valeurs du dépôt (un choix : son "
        "code). Chaque type n'a que les siennes ; une saisine MAS n'en a pas (voir `mas_referral`).",
        "properties": properties,
        "additionalProperties": False,
    }


class DetailShownSerializer(serializers.Serializer):
    """Une information du type, telle que les pages l'affichent."""

    name = serializers.CharField(help_text="Son nom dans `details`.")
    label = serializers.CharField(help_text="Son libellé.")
    value = serializers.CharField(help_text="Sa valeur affichée (le libellé d'un choix).")


class MasReferralSerializer(serializers.Serializer):
    """La saisine MAS, sous les noms du formulaire de dépôt, et ce que le service y ajoute : le détecteur, l'accord
    recueilli, la fiche signée, le courrier de confirmation."""

    referral_date = serializers.DateField()
    contexts = serializers.ListField(child=serializers.ChoiceField(choices=mas.CONTEXTS))
    actions = serializers.ListField(child=serializers.ChoiceField(choices=mas.ACTIONS))
    action_other = serializers.CharField()
    cares = serializers.ListField(child=serializers.ChoiceField(choices=mas.CARES))
    care_other = serializers.CharField()
    renunciation_duration = serializers.ChoiceField(choices=mas.DURATIONS, allow_blank=True)
    causes = serializers.ListField(child=serializers.ChoiceField(choices=mas.CAUSES))
    cause_other = serializers.CharField()
    detector_name = serializers.CharField()
    detector_structure = serializers.CharField()
    detector_email = serializers.CharField()
    detector_phone = serializers.CharField()
    consent_mode = serializers.ChoiceField(choices=MasReferral.ConsentMode.choices)
    consent_document = serializers.UUIDField(
        source="consent_document.public_id",
        allow_null=True,
        help_text="La fiche signée, parmi les pièces jointes de la demande ; null pour un accord à distance.",
    )
    consent_collected_at = serializers.DateTimeField()
    # The deposit's `notice_given`, read back: the service records the version of the notice it was given.
    notice_given = serializers.SerializerMethodField(
        help_text="La notice d'information a été donnée à la personne (sa version : notice_version)."
    )
    notice_version = serializers.CharField(help_text="La version de la notice d'information donnée à la personne.")
    confirmation_letter_sent_at = serializers.DateTimeField(allow_null=True)

    def get_notice_given(self, referral) -> bool:
        return bool(referral.notice_version)


class AttachmentSerializer(serializers.ModelSerializer):
    """Un fichier de la demande : à la demande elle-même, ou à l'un de ses messages."""

    # Random ids, not the database's keys: those count every file and message of the site, internal notes' included.
    id = serializers.UUIDField(source="public_id")
    name = serializers.CharField(source="original_name")
    message = serializers.UUIDField(
        source="message.public_id", allow_null=True, help_text="Le message qui porte le fichier, ou null."
    )
    url = serializers.SerializerMethodField()

    class Meta:
        model = Attachment
        fields = ["id", "name", "content_type", "size", "sha256", "uploaded_at", "message", "url"]

    def get_url(self, attachment) -> str:
        return self.context["request"].build_absolute_uri(
            reverse("api:request-attachment", args=[attachment.request.number, attachment.public_id])
        )


class ResolutionAnswerSerializer(serializers.Serializer):
    """La réponse qui a résolu la demande : son texte, sa date, son auteur et ses fichiers."""

    text = serializers.CharField(source="body")
    at = serializers.DateTimeField(source="created_at")
    by = AccountSerializer(source="author")
    files = AttachmentSerializer(source="attachments", many=True)


class RequestDetailSerializer(RequestSummarySerializer):
    """Une demande entière : la personne concernée et les informations du type telles que déposées (valeurs brutes,
    libellés à côté), la saisine MAS, l'historique des statuts et, une fois résolue, la réponse."""

    details = serializers.SerializerMethodField()
    details_display = serializers.SerializerMethodField(
        help_text="Les informations renseignées, libellées et affichées comme sur les pages, dans l'ordre du "
        "formulaire."
    )
    person = serializers.SerializerMethodField(help_text="Null pour un contact, et après l'effacement des données.")
    mas_referral = serializers.SerializerMethodField(help_text="Null sauf pour une saisine MAS.")
    status_history = StatusChangeSerializer(source="status_changes", many=True)
    answer = serializers.SerializerMethodField(help_text="Null tant que la demande n'est pas résolue.")

    class Meta(RequestSummarySerializer.Meta):
        fields = RequestSummarySerializer.Meta.fields + [
            "details",
            "details_display",
            "person",
            "mas_referral",
            "status_history",
            "answer",
            "purged_at",
        ]

    @extend_schema_field(_details_schema())
    def get_details(self, demande):
        names = [spec.name for spec in demande.spec.details_of(demande.motif)]
        return {name: demande.details[name] for name in names if name in demande.details}

    @extend_schema_field(DetailShownSerializer(many=True))
    def get_details_display(self, demande):
        return [
            {"name": spec.name, "label": spec.label, "value": str(value)}
            for spec, value in demande.spec.describe(demande.details)
        ]

    @extend_schema_field(PersonSerializer(allow_null=True))
    def get_person(self, demande):
        return PersonSerializer(demande).data if demande.has_person else None

    @extend_schema_field(MasReferralSerializer(allow_null=True))
    def get_mas_referral(self, demande):
        referral = getattr(demande, "mas_referral", None)
        return MasReferralSerializer(referral).data if referral else None

    @extend_schema_field(ResolutionAnswerSerializer(allow_null=True))
    def get_answer(self, demande):
        # Read here, for the detail only (the list has no answer): two queries on a resolved request, none before.
        if demande.status != Status.RESOLVED:
            return None
        answer = (
            Message.objects.of_visible_request(demande, self.context["request"].user)
            .filter(is_answer=True)
            .select_related("author")
            .prefetch_related(Prefetch("attachments", queryset=Attachment.objects.select_related("request")))
            .last()
        )
        return ResolutionAnswerSerializer(answer, context=self.context).data if answer else None


class MessageSerializer(serializers.ModelSerializer):
    """Un message sur la demande, avec ses fichiers."""

    id = serializers.UUIDField(source="public_id")
    author = AccountSerializer()
    internal = serializers.BooleanField(source="is_internal")
    answer = serializers.BooleanField(source="is_answer")
    attachments = AttachmentSerializer(many=True)

    class Meta:
        model = Message
        fields = ["id", "side", "author", "internal", "answer", "body", "created_at", "attachments"]


class StrictBooleanField(serializers.BooleanField):
    """true or false only: DRF's also takes 0, 1, "yes"…, which the schema's boolean does not allow. A multipart
    body has only texts: there, "true" and "false" (what clients write for a boolean part), and "True" and "False",
    which a client generated by openapi-python-client writes (Python's `str()` of the boolean)."""

    MULTIPART = {"true": True, "false": False, "True": True, "False": False}

    def to_internal_value(self, data):
        if isinstance(data, bool):
            return data
        if isinstance(self.root.initial_data, QueryDict) and data in self.MULTIPART:
            return self.MULTIPART[data]
        self.fail("invalid", input=data)


class MessageInputSerializer(serializers.Serializer):
    body = TextField(max_length=5000, help_text="Le message.")
    internal = StrictBooleanField(
        default=False, help_text="Note interne entre agents de la caisse : jamais montrée au partenaire."
    )
    awaiting_answer = StrictBooleanField(
        default=False,
        help_text="Message de la caisse à la structure sur une demande prise en charge : la demande attend sa "
        "réponse (`awaiting_partner_since`), le délai de traitement s'interrompt et la structure est relancée si "
        "elle tarde. Refusé aux partenaires et aux notes internes (403 `not_allowed`), 409 `wrong_status` hors "
        "prise en charge.",
    )


class AnswerSerializer(serializers.Serializer):
    answer = TextField(max_length=5000, help_text="La réponse que reçoit la structure.")


class AttachmentUploadSerializer(serializers.Serializer):
    files = serializers.ListField(
        child=serializers.FileField(), min_length=1, help_text="PDF, JPEG ou PNG (multipart), un au moins."
    )


class MemberSerializer(serializers.ModelSerializer):
    """Un technicien de la structure : son compte, son rôle et l'état de son accès."""

    email = serializers.EmailField(source="user.email")
    civility = serializers.CharField(source="user.civility")
    last_name = serializers.CharField(source="user.last_name")
    first_name = serializers.CharField(source="user.first_name")
    phone = serializers.CharField(source="user.phone")
    status = serializers.CharField(source="account_status", help_text="invited, active ou disabled.")
    last_login = serializers.DateTimeField(source="user.last_login", allow_null=True)

    class Meta:
        model = Membership
        fields = [
            "id",
            "email",
            "civility",
            "last_name",
            "first_name",
            "phone",
            "role",
            "status",
            "is_active",
            "joined_at",
            "last_login",
        ]


_SEPARATOR = r"[ .\-]*"
# Not empty: `allow_blank` adds the empty text beside it in the schema (a `oneOf`, which both would match).
FRENCH_PHONE = (
    rf"^{_SEPARATOR}(?:(?:\+{_SEPARATOR}3{_SEPARATOR}3|0{_SEPARATOR}0{_SEPARATOR}3{_SEPARATOR}3){_SEPARATOR}"
    rf"(?:0{_SEPARATOR})?|0{_SEPARATOR})[1-9](?:{_SEPARATOR}[0-9]){{8}}{_SEPARATOR}$"
)


class MemberInputSerializer(serializers.Serializer):
    civility = serializers.ChoiceField(choices=Civility.values)
    last_name = TextField(max_length=150)
    first_name = TextField(max_length=150)
    email = serializers.EmailField()
    # The pages' rule (extranet/core/validators.py, normalize_french_phone), the separators it ignores included.
    phone = serializers.RegexField(
        FRENCH_PHONE,
        required=False,
        allow_blank=True,
        max_length=20,
        help_text="Numéro français à 10 chiffres (06 12 34 56 78, +33 6 12 34 56 78), ou vide.",
    )


class CatalogueChoiceSerializer(serializers.Serializer):
    value = serializers.CharField(help_text="La valeur envoyée.")
    label = serializers.CharField()


class CatalogueFieldSerializer(serializers.Serializer):
    name = serializers.CharField(help_text="Son nom dans son objet du dépôt (person, details, mas_referral).")
    label = serializers.CharField()
    type = serializers.ChoiceField(
        choices=["text", "free_text", "choice", "multiple_choice", "boolean", "date", "email", "phone", "nir"],
        help_text="free_text : texte long, sans numéro de sécurité sociale ; phone : numéro français ; nir : 15 "
        "caractères.",
    )
    required = serializers.BooleanField()
    choices = CatalogueChoiceSerializer(many=True, help_text="Les valeurs permises d'un choix, sinon [].")
    max_length = serializers.IntegerField(allow_null=True)
    help_text = serializers.CharField(allow_blank=True)


class CatalogueFileSerializer(serializers.Serializer):
    name = serializers.CharField(help_text="Le nom de la partie multipart.")
    label = serializers.CharField()
    help_text = serializers.CharField()
    required = serializers.BooleanField()
    max_count = serializers.IntegerField()


class CatalogueMotifSerializer(serializers.Serializer):
    slug = serializers.CharField(help_text="La valeur de `motif` au dépôt.")
    label = serializers.CharField()
    help_text = serializers.CharField(allow_blank=True)
    group = serializers.CharField(allow_blank=True, help_text="L'intitulé sous lequel les pages le rangent, ou vide.")
    needs_precision = serializers.BooleanField(help_text="« Autre » : details.motif_other est alors obligatoire.")
    insured_document = serializers.BooleanField(help_text="Réservé aux structures habilitées.")
    mas_referral = serializers.BooleanField(help_text="Le motif de la saisine MAS.")


class CatalogueMasReferralSerializer(serializers.Serializer):
    motif = serializers.CharField()
    fields = CatalogueFieldSerializer(many=True, help_text="Les champs de l'objet `mas_referral` du dépôt.")
    files = CatalogueFileSerializer(many=True)


class CatalogueKindSerializer(serializers.Serializer):
    slug = serializers.CharField(help_text="La valeur de `kind` au dépôt.")
    label = serializers.CharField()
    help_text = serializers.CharField()
    motif_label = serializers.CharField(help_text="Ce que le type appelle son motif.")
    motifs = CatalogueMotifSerializer(many=True)
    has_person = serializers.BooleanField(help_text="Le dépôt comprend l'objet `person`.")
    person = CatalogueFieldSerializer(many=True, help_text="Les champs de l'objet `person` ([] sans personne).")
    details = CatalogueFieldSerializer(many=True, help_text="Les champs de l'objet `details`.")
    files = CatalogueFileSerializer(many=True, help_text="Les fichiers du dépôt (multipart).")
    mas_referral = CatalogueMasReferralSerializer(
        allow_null=True, help_text="La saisine MAS, pour le type qui en a le motif ; sinon null."
    )


class AttachmentsInput(serializers.ListField):
    """Files in multipart (`files`, repeatable), checked by the pages' field: type read from the content, size and
    count limits, the same French messages."""

    child = serializers.FileField()

    def to_internal_value(self, data):
        files = super().to_internal_value(data)  # each one a file, not a text in a file's place
        try:
            return AttachmentsField().clean(files)
        except DjangoValidationError as error:
            # A refused file is answered as everywhere: `attachment_refused`, each file with its reason.
            raise errors_refusal({self.field_name: error.error_list}) from None


class MessageUploadSerializer(MessageInputSerializer):
    files = AttachmentsInput(required=False, help_text="Pièces jointes au message : PDF, JPEG ou PNG (répétable).")


class AnswerUploadSerializer(AnswerSerializer):
    files = AttachmentsInput(
        required=False, help_text="Pièces jointes à la réponse, le document demandé par exemple (répétable)."
    )
