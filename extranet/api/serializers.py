"""What the API returns, and the shape of what it accepts, described from the catalogue (validation itself is the
pages' forms' and the deposit service's)."""

from django import forms
from django.core.exceptions import ValidationError as DjangoValidationError
from django.urls import reverse
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from extranet.accounts.models import Civility
from extranet.accounts.second_factor import has_second_factor
from extranet.core.text import clean_text
from requests.catalog import KINDS, MAS_REFERRAL, PERSON_FIELDS, Kind
from requests.forms import MasReferralForm
from requests.models import Attachment, Message, Request, StatusChange
from structures.models import Caisse, Membership
from structures.policy import caisse_membership, partner_membership


class TextField(serializers.CharField):
    """A text the API takes in, cleaned as the forms clean theirs (extranet/core/text.py)."""

    def to_internal_value(self, data):
        # DRF's CharField takes a number for a text (0 becomes "0"); the schema's string does not.
        if not isinstance(data, str):
            self.fail("invalid")
        try:
            return clean_text(super().to_internal_value(data))
        except DjangoValidationError as error:
            raise serializers.ValidationError(error.messages) from None


class CaisseSerializer(serializers.ModelSerializer):
    class Meta:
        model = Caisse
        fields = ["code", "name"]


class MeStructureSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    siret = serializers.CharField()


class MeSerializer(serializers.Serializer):
    id = serializers.IntegerField(source="pk")
    email = serializers.EmailField()
    civility = serializers.CharField()
    first_name = serializers.CharField()
    last_name = serializers.CharField()
    role = serializers.SerializerMethodField(help_text="technicien, gestionnaire, agent, admin, ou null.")
    role_label = serializers.SerializerMethodField()
    structure = serializers.SerializerMethodField()
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

    @extend_schema_field(MeStructureSerializer(allow_null=True))
    def get_structure(self, user):
        membership = partner_membership(user)
        if membership is None:
            return None
        return {"id": membership.structure_id, "name": membership.structure.name, "siret": membership.structure.siret}

    @extend_schema_field(CaisseSerializer(allow_null=True))
    def get_caisse(self, user):
        membership = caisse_membership(user)
        return CaisseSerializer(membership.caisse).data if membership else None

    @extend_schema_field(CaisseSerializer(many=True))
    def get_caisses(self, user):
        return CaisseSerializer(self.context["caisses"], many=True).data

    def get_second_factor(self, user) -> bool:
        return has_second_factor(user)


def full_name(user):
    return user.get_full_name() if user else None


class StatusChangeSerializer(serializers.ModelSerializer):
    by = serializers.SerializerMethodField()
    assigned_to = serializers.SerializerMethodField()

    class Meta:
        model = StatusChange
        fields = ["from_status", "to_status", "at", "by", "assigned_to"]

    def get_by(self, change) -> str:
        return full_name(change.by)

    def get_assigned_to(self, change) -> str | None:
        return full_name(change.assigned_to)


class RequestSummarySerializer(serializers.ModelSerializer):
    """A line of the list: no personal data of the person concerned (the detail has them, and is journaled)."""

    kind_label = serializers.CharField(source="get_kind_display")
    motif_label = serializers.CharField()
    status_label = serializers.CharField(source="get_status_display")
    caisse = CaisseSerializer()
    structure = serializers.CharField(source="structure.name")
    author = serializers.SerializerMethodField()
    assigned_to = serializers.SerializerMethodField()
    has_person = serializers.BooleanField(help_text="La demande concerne une personne (tous les types sauf contact).")
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
            "url",
        ]

    def get_author(self, demande) -> str:
        return full_name(demande.author)

    def get_assigned_to(self, demande) -> str | None:
        return full_name(demande.assigned_to)

    def get_url(self, demande) -> str:
        return self.context["request"].build_absolute_uri(reverse("api:request-detail", args=[demande.number]))


class PersonSerializer(serializers.Serializer):
    civility = serializers.CharField(source="person_civility")
    last_name = serializers.CharField(source="person_last_name")
    first_name = serializers.CharField(source="person_first_name")
    birth_date = serializers.DateField(source="person_birth_date")
    nir = serializers.CharField(source="formatted_nir")
    phone = serializers.CharField(source="person_phone")
    email = serializers.CharField(source="person_email")


class MasReferralSerializer(serializers.Serializer):
    referral_date = serializers.DateField()
    contexts = serializers.ListField(child=serializers.CharField())
    actions = serializers.ListField(child=serializers.CharField())
    action_other = serializers.CharField()
    cares = serializers.ListField(child=serializers.CharField())
    care_other = serializers.CharField()
    renunciation_duration = serializers.CharField()
    causes = serializers.ListField(child=serializers.CharField())
    cause_other = serializers.CharField()
    detector_name = serializers.CharField()
    detector_structure = serializers.CharField()
    detector_email = serializers.CharField()
    detector_phone = serializers.CharField()
    consent_mode = serializers.CharField()
    consent_collected_at = serializers.DateTimeField()
    notice_version = serializers.CharField()
    confirmation_letter_sent_at = serializers.DateTimeField(allow_null=True)


class DetailLineSerializer(serializers.Serializer):
    label = serializers.CharField()
    value = serializers.CharField()


class RequestDetailSerializer(RequestSummarySerializer):
    details = serializers.SerializerMethodField(help_text="Les réponses propres au type : [{label, value}].")
    person = serializers.SerializerMethodField()
    mas_referral = serializers.SerializerMethodField()
    status_history = StatusChangeSerializer(source="status_changes", many=True)

    class Meta(RequestSummarySerializer.Meta):
        fields = RequestSummarySerializer.Meta.fields + [
            "details",
            "person",
            "mas_referral",
            "status_history",
            "purged_at",
        ]

    @extend_schema_field(DetailLineSerializer(many=True))
    def get_details(self, demande):
        described = demande.spec.describe(demande.details)
        return [{"label": label, "value": value} for label, value in described]

    @extend_schema_field(PersonSerializer(allow_null=True))
    def get_person(self, demande):
        return PersonSerializer(demande).data if demande.has_person else None

    @extend_schema_field(MasReferralSerializer(allow_null=True))
    def get_mas_referral(self, demande):
        referral = getattr(demande, "mas_referral", None)
        return MasReferralSerializer(referral).data if referral else None


class AttachmentSerializer(serializers.ModelSerializer):
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


class MessageSerializer(serializers.ModelSerializer):
    id = serializers.UUIDField(source="public_id")
    author = serializers.SerializerMethodField()
    internal = serializers.BooleanField(source="is_internal")
    answer = serializers.BooleanField(source="is_answer")
    attachments = AttachmentSerializer(many=True)

    class Meta:
        model = Message
        fields = ["id", "side", "author", "internal", "answer", "body", "created_at", "attachments"]

    def get_author(self, message) -> str:
        return full_name(message.author)


class StrictBooleanField(serializers.BooleanField):
    """true or false only: DRF's also takes 0, 1, "yes"…, which the schema's boolean does not allow (a JSON body)."""

    def to_internal_value(self, data):
        if not isinstance(data, bool):
            self.fail("invalid", input=data)
        return data


class MessageInputSerializer(serializers.Serializer):
    body = TextField(max_length=5000, help_text="Le message.")
    internal = StrictBooleanField(
        default=False, help_text="Note interne entre agents de la caisse : jamais montrée au partenaire."
    )


class AnswerSerializer(serializers.Serializer):
    answer = TextField(max_length=5000, help_text="La réponse que reçoit la structure.")


class AttachmentUploadSerializer(serializers.Serializer):
    files = serializers.ListField(
        child=serializers.FileField(), min_length=1, help_text="PDF, JPEG ou PNG (multipart), un au moins."
    )


class MemberSerializer(serializers.ModelSerializer):
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


def _catalogue_field(spec):
    """The OpenAPI description of a field of the catalogue (the deposit service and the forms validate it)."""
    options = {"required": False, "help_text": spec.label}
    if spec.choices:
        return serializers.ChoiceField(choices=list(spec.choices), **options)
    return {"date": serializers.DateField, "email": serializers.EmailField}.get(spec.type, serializers.CharField)(
        **options
    )


def _form_field(form_field):
    """The OpenAPI description of a field of the MAS referral form."""
    options = {"required": False, "help_text": str(form_field.label)}
    if isinstance(form_field, forms.MultipleChoiceField):
        return serializers.MultipleChoiceField(choices=list(form_field.choices), **options)
    if isinstance(form_field, forms.ChoiceField):
        return serializers.ChoiceField(choices=list(form_field.choices), **options)
    if isinstance(form_field, forms.BooleanField):
        return serializers.BooleanField(**options)
    if isinstance(form_field, forms.DateField):
        return serializers.DateField(**options)
    if isinstance(form_field, forms.EmailField):
        return serializers.EmailField(**options)
    return serializers.CharField(**options)


def _deposit_fields():
    fields = {
        "kind": serializers.ChoiceField(choices=Kind.choices),
        "caisse": serializers.CharField(
            required=False,
            help_text="Code de la caisse destinataire : obligatoire quand la structure a plusieurs conventions. "
            "Vérifié au dépôt : une caisse dont la convention n'est plus active est refusée, jamais remplacée.",
        ),
        **{spec.name: _catalogue_field(spec) for spec in PERSON_FIELDS},
    }
    for kind in KINDS.values():
        for spec in kind.details:
            fields.setdefault(spec.name, _catalogue_field(spec))
    for name, form_field in MasReferralForm.base_fields.items():
        if name not in fields and not form_field.disabled:
            fields[name] = _form_field(form_field)
    fields["motif"] = serializers.CharField(
        help_text=f"Motif du type choisi ; « {MAS_REFERRAL.motif} » (type {MAS_REFERRAL.kind}) pour une saisine MAS."
    )
    fields["attachments"] = serializers.ListField(
        child=serializers.FileField(), required=False, help_text="Pièces jointes (multipart seulement)."
    )
    fields["consent_document"] = serializers.FileField(
        required=False, help_text="Saisine MAS, accord « signed » : la fiche signée (multipart seulement)."
    )
    return fields


DepositSerializer = type(
    "DepositSerializer",
    (serializers.Serializer,),
    {
        **_deposit_fields(),
        "__doc__": "Dépôt d'une demande : les champs du formulaire du type choisi (mêmes noms, mêmes règles).",
    },
)
