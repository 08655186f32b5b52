import re
import unicodedata
from datetime import date

from django import forms
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html

from extranet.core.forms import StyledFormMixin
from extranet.core.validators import normalize_french_phone
from requests.attachments import AttachmentsField
from requests.models import MAS_REFERRAL_MOTIF, PersonCivility, Request
from requests.nir import nir_birth_mismatch, nir_digest, validate_nir

PERSON_FIELDS = [
    "person_civility",
    "person_last_name",
    "person_first_name",
    "person_birth_date",
    "person_nir",
    "person_phone",
    "person_email",
]
FREE_TEXT_HELP = (
    "N'écrivez que ce qui est utile au traitement de la demande, sans données de santé détaillées. "
    "Le numéro de sécurité sociale a son propre champ."
)
# 13 digits or more, separators allowed, Corsica's 2A/2B at the 6th-7th place included.
_NIR_LIKE = re.compile(
    r"[0-9](?:[\s.\-]?[0-9]){4}[\s.\-]?(?:[0-9][\s.\-]?[0-9]|2[\s.\-]?[AB])(?:[\s.\-]?[0-9]){6}", re.I
)


def no_nir_in_free_text(value):
    if _NIR_LIKE.search(unicodedata.normalize("NFKC", value)):
        raise ValidationError(
            "Ce texte contient une longue suite de chiffres : n'y écrivez pas de numéro de sécurité sociale, il a "
            "son propre champ.",
            code="nir_in_text",
        )


def free_text(label, *, required=True, help_text=FREE_TEXT_HELP, rows=5):
    return forms.CharField(
        label=label,
        required=required,
        max_length=3000,
        help_text=help_text,
        widget=forms.Textarea(attrs={"rows": rows}),
        validators=[no_nir_in_free_text],
    )


def flat_choices(choices):
    for value, label in choices:
        if isinstance(label, (list, tuple)):
            yield from label
        else:
            yield value, label


CHANNELS = [("phone", "Téléphone"), ("video", "Visioconférence"), ("in_person", "Sur place, à l'accueil de la caisse")]
YES_NO = [("yes", "Oui"), ("no", "Non")]


class RequestForm(StyledFormMixin, forms.Form):
    """What every kind asks: the person concerned (but for `has_person = False`), attachments, and the guard
    against a second open request for the same person and motif. Subclasses declare `motif` and their own
    fields, listed in `detail_fields` (stored in Request.details, shown in the detail page and the PDF)."""

    has_person = True
    min_attachments = 0
    detail_fields: list[str] = []

    person_civility = forms.ChoiceField(label="Civilité", choices=PersonCivility.choices, widget=forms.RadioSelect)
    person_last_name = forms.CharField(label="Nom", max_length=150)
    person_first_name = forms.CharField(label="Prénom", max_length=150)
    person_birth_date = forms.DateField(
        label="Date de naissance", widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
    )
    person_nir = forms.CharField(
        label="Numéro de sécurité sociale",
        max_length=21,
        help_text="15 caractères, clé comprise, par exemple 2 85 05 2A 012 345 67 (espaces acceptés).",
        widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
    )
    person_phone = forms.CharField(label="Téléphone de la personne", required=False, max_length=20)
    person_email = forms.EmailField(label="Adresse électronique de la personne", required=False)

    def __init__(self, *args, structure, **kwargs):
        super().__init__(*args, **kwargs)
        self.structure = structure
        self.duplicate = None
        if not self.has_person:
            for name in PERSON_FIELDS:
                del self.fields[name]
        self.fields["attachments"] = AttachmentsField(min_count=self.min_attachments)
        self.fields["attachments"].widget.attrs["class"] = "form-control"

    @classmethod
    def motif_choices(cls):
        return list(flat_choices(cls.base_fields["motif"].choices))

    @classmethod
    def describe(cls, details):
        """(label, value shown) for each kind-specific answer, in the form's order."""
        rows = []
        for name in cls.detail_fields:
            if name not in details or details[name] in ("", None):
                continue
            field = cls.base_fields[name]
            value = details[name]
            if hasattr(field, "choices"):
                value = dict(flat_choices(field.choices)).get(value, value)
            rows.append((field.label, value))
        return rows

    def clean_person_nir(self):
        return validate_nir(self.cleaned_data["person_nir"])

    def clean_person_birth_date(self):
        birth_date = self.cleaned_data["person_birth_date"]
        if birth_date >= timezone.localdate():
            raise ValidationError("La date de naissance doit être dans le passé.")
        if birth_date < date(1900, 1, 1):
            raise ValidationError("Vérifiez l'année de naissance.")
        return birth_date

    def clean_person_phone(self):
        phone = self.cleaned_data["person_phone"]
        return normalize_french_phone(phone) if phone else phone

    def clean(self):
        cleaned = super().clean()
        nir, birth_date = cleaned.get("person_nir"), cleaned.get("person_birth_date")
        if nir and birth_date and (mismatch := nir_birth_mismatch(nir, birth_date)):
            self.add_error("person_birth_date", mismatch)
        if nir and cleaned.get("motif"):
            self.duplicate = find_open_duplicate(self.structure, self.kind, cleaned["motif"], nir)
            if self.duplicate:
                raise ValidationError(duplicate_message(self.duplicate), code="duplicate")
        return cleaned

    def details(self):
        return {name: self.cleaned_data[name] for name in self.detail_fields}

    def person(self):
        return {name: self.cleaned_data[name] for name in PERSON_FIELDS} if self.has_person else {}


def find_open_duplicate(structure, kind, motif, nir):
    return (
        Request.objects.open()
        .filter(structure=structure, kind=kind, motif=motif, person_nir_digest=nir_digest(nir))
        .order_by("-created_at")
        .first()
    )


def duplicate_message(duplicate):
    return format_html(
        "Une demande est déjà en cours pour cette personne avec le même motif : "
        '<a href="{}">n° {}</a> ({}, déposée le {}). Complétez-la plutôt que d\'en déposer une nouvelle.',
        reverse("requests:detail", args=[duplicate.number]),
        duplicate.number,
        duplicate.get_status_display(),
        timezone.localtime(duplicate.created_at).strftime("%d/%m/%Y"),
    )


class OtherMotifMixin:
    """ "Autre" motif: the precision becomes required."""

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("motif") == "other" and not cleaned.get("motif_other"):
            self.add_error("motif_other", "Précisez le motif puisque vous avez choisi « Autre ».")
        return cleaned


class ContactForm(RequestForm):
    kind = "contact"
    has_person = False
    detail_fields = ["channel", "availabilities", "message"]

    motif = forms.ChoiceField(
        label="Objet de votre demande",
        choices=[
            ("regulatory", "Réglementaire"),
            ("services", "Offres de services de votre organisme"),
            ("technical", "Technique"),
            ("other", "Autre"),
        ],
        widget=forms.RadioSelect,
    )
    channel = forms.ChoiceField(label="Rendez-vous souhaité", choices=CHANNELS, widget=forms.RadioSelect)
    availabilities = free_text(
        "Vos disponibilités", help_text="Jours et créneaux où la caisse peut vous joindre ou vous recevoir.", rows=3
    )
    message = free_text("Votre question")


class AccessDifficultyForm(RequestForm):
    kind = "access_difficulty"
    detail_fields = ["description"]

    motif = forms.ChoiceField(
        label="Motif du signalement",
        choices=[
            ("complex_case", "Dossier complexe (rétroactivité, rupture de droits, IJ complexes…)"),
            ("rights", "Droits"),
            ("emergency", "Situation d'urgence"),
            (MAS_REFERRAL_MOTIF, "Saisine de la Mission accompagnement santé (MAS), avec l'accord de la personne"),
            ("follow_up", "Suivi du traitement d'une demande faite par l'assuré"),
        ],
        widget=forms.RadioSelect,
    )
    description = free_text("Description de la situation")


class AppointmentForm(OtherMotifMixin, RequestForm):
    kind = "appointment"
    detail_fields = ["motif_other", "channel", "availabilities", "needs_accompaniment", "message"]

    motif = forms.ChoiceField(
        label="Motif du rendez-vous",
        choices=[
            ("ame", "Aide médicale de l'État (AME)"),
            ("sick_leave", "Arrêt de travail"),
            ("c2s", "Complémentaire santé solidaire (C2S)"),
            ("prevention_exam", "Examen de prévention en santé"),
            ("other", "Autre"),
        ],
        widget=forms.RadioSelect,
    )
    motif_other = forms.CharField(label="Précisez le motif", required=False, max_length=200)
    channel = forms.ChoiceField(label="Rendez-vous souhaité", choices=CHANNELS, widget=forms.RadioSelect)
    availabilities = free_text(
        "Disponibilités de la personne", help_text="Jours et créneaux possibles pour le rendez-vous.", rows=3
    )
    needs_accompaniment = forms.ChoiceField(
        label="La personne a-t-elle besoin d'être accompagnée ?", choices=YES_NO, widget=forms.RadioSelect
    )
    message = free_text("Informations utiles", required=False, rows=3)


class CaseReviewForm(OtherMotifMixin, RequestForm):
    kind = "case_review"
    min_attachments = 1
    detail_fields = ["motif_other", "description"]

    motif = forms.ChoiceField(
        label="Objet de la demande",
        choices=[
            ("financial_aid", "Aide financière individuelle"),
            ("c2s", "Complémentaire santé solidaire (C2S)"),
            ("puma", "Protection universelle maladie (PUMa)"),
            ("ame_renewal", "Renouvellement de l'AME"),
            ("other", "Autre"),
        ],
        widget=forms.RadioSelect,
    )
    motif_other = forms.CharField(label="Précisez l'objet", required=False, max_length=200)
    description = free_text("Description de la demande")


INSURED_DOCUMENTS = [
    ("rights_certificate", "Attestation de droits"),
    ("ceam", "Carte européenne d'assurance maladie (CEAM)"),
    ("daily_allowance_certificate", "Attestation d'indemnités journalières"),
]
PREVENTION_DOCUMENTS = [
    ("vaccination", "Vaccination"),
    ("mt_dents", "M'T dents"),
    ("screening", "Dépistage"),
    ("prevention_exam", "Examen de prévention en santé"),
]
NOT_HABILITATED = (
    "Les documents concernant l'assuré (attestation de droits, CEAM, attestation d'indemnités journalières) sont "
    "réservés aux structures habilitées : tutelles, curatelles habilitées, services de l'aide sociale à "
    "l'enfance. Votre structure ne l'est pas ; les documents de prévention restent accessibles. Pour une "
    "habilitation, contactez le service partenariats de votre caisse."
)


class DocumentForm(RequestForm):
    kind = "document"
    detail_fields = ["comment"]

    motif = forms.ChoiceField(
        label="Document demandé",
        choices=[
            ("", "Choisissez un document"),
            ("Documents concernant l'assuré", INSURED_DOCUMENTS),
            ("Documents de prévention", PREVENTION_DOCUMENTS),
        ],
    )
    comment = free_text("Précisions", required=False, rows=3)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if not self.structure.insured_documents_habilitation:
            # The field still knows every document, so that a forged choice gets the explanation below.
            self.fields["motif"].widget.choices = [("", "Choisissez un document"), *PREVENTION_DOCUMENTS]
            self.fields["motif"].help_text = NOT_HABILITATED

    @classmethod
    def motif_choices(cls):
        return [choice for choice in super().motif_choices() if choice[0]]

    def clean_motif(self):
        motif = self.cleaned_data["motif"]
        if motif in dict(INSURED_DOCUMENTS) and not self.structure.insured_documents_habilitation:
            raise ValidationError(NOT_HABILITATED, code="not_habilitated")
        return motif


class MessageForm(StyledFormMixin, forms.Form):
    body = free_text("Votre message", rows=4)
    internal = forms.BooleanField(
        label="Note interne : visible des seuls agents de la caisse, jamais de la structure", required=False
    )

    def __init__(self, *args, staff, **kwargs):
        super().__init__(*args, **kwargs)
        if not staff:
            del self.fields["internal"]
        self.fields["attachments"] = AttachmentsField(label="Pièces jointes (facultatif)")
        self.fields["attachments"].widget.attrs["class"] = "form-control"


class ResolveForm(StyledFormMixin, forms.Form):
    answer = free_text(
        "Réponse à la structure",
        help_text="Elle est envoyée à la structure et clôt la demande. Joignez le document demandé le cas échéant.",
    )

    def __init__(self, *args, **kwargs):
        # Its own ids: the request's page also shows the message form, whose attachments field has the same name.
        kwargs.setdefault("auto_id", "reponse_%s")
        super().__init__(*args, **kwargs)
        self.fields["attachments"] = AttachmentsField(label="Pièces jointes à la réponse (facultatif)")
        self.fields["attachments"].widget.attrs["class"] = "form-control"


class ReassignForm(StyledFormMixin, forms.Form):
    agent = forms.ModelChoiceField(label="Réattribuer à", queryset=None, empty_label="Choisissez un agent")

    def __init__(self, *args, caisse, **kwargs):
        super().__init__(*args, **kwargs)
        from django.contrib.auth import get_user_model

        self.fields["agent"].queryset = (
            get_user_model()
            .objects.filter(caissemembership__caisse=caisse, caissemembership__is_active=True, is_active=True)
            .order_by("last_name", "first_name")
        )
