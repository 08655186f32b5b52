"""The forms of the pages (and of the API, which validates with the same ones). A deposit form translates what was
typed, and shows next to each field what the domain refuses (requests/deposit_rules.py), from the catalogue's labels
and choices (requests/catalog.py)."""

import secrets

from django import forms
from django.utils import timezone

from extranet.core.forms import StyledFormMixin
from extranet.core.validators import normalize_french_phone
from requests import canned, deposit_rules, mas, staging
from requests.attachments import AttachmentsField
from requests.catalog import (
    FREE_TEXT_MAX_LENGTH,
    KINDS,
    MAS_REFERRAL,
    PERSON_FIELD_NAMES,
    PERSON_FIELDS,
    Kind,
    is_mas_referral,
)
from requests.models import AnswerTemplate, MasReferral
from requests.nir import no_nir_in_free_text
from structures import conventions
from structures.models import Caisse

FREE_TEXT_HELP = (
    "N'écrivez que ce qui est utile au traitement de la demande, sans données de santé détaillées. "
    "Le numéro de sécurité sociale a son propre champ."
)
_PERSON = {spec.name: spec for spec in PERSON_FIELDS}
NO_ACTIVE_CONVENTION = "Votre structure n'a de convention active avec aucune caisse."
NOT_AN_ACTIVE_CAISSE = (
    "Aucune convention active de votre structure avec la caisse {} : la demande n'a pas été déposée."
)
FILES_NOT_KEPT = "Les fichiers joints n'ont pas pu être gardés pour le prochain envoi : choisissez-les de nouveau."
SEVERAL_CAISSES = "Votre structure a plusieurs conventions : précisez la caisse ({})."


def chosen_caisse(caisses, code):
    """The caisse of this code among the structure's active `caisses`; without a code, the only one."""
    # Each refusal's code tells a program which it is (the API answers it, extranet/api/errors.py).
    if not caisses:
        raise forms.ValidationError(NO_ACTIVE_CONVENTION, code="no_active_convention")
    if not code:
        if len(caisses) > 1:
            caisse_codes = ", ".join(caisse.code for caisse in caisses)
            raise forms.ValidationError(SEVERAL_CAISSES.format(caisse_codes), code="caisse_required")
        return caisses[0]
    chosen = next((caisse for caisse in caisses if caisse.code == code), None)
    if chosen is None:
        # Named when it is a caisse's code (3 digits); whatever else was sent is only repeated.
        is_code = code.isascii() and code.isdigit()
        known = Caisse.objects.filter(code=code).values_list("name", flat=True).first() if is_code else None
        raise forms.ValidationError(
            NOT_AN_ACTIVE_CAISSE.format(f"{known} ({code})" if known else code),
            code="no_active_convention" if known else "unknown_caisse",
        )
    return chosen


def free_text(label, *, required=True, help_text=FREE_TEXT_HELP, rows=5, max_length=FREE_TEXT_MAX_LENGTH):
    return forms.CharField(
        label=label,
        required=required,
        max_length=max_length,
        help_text=help_text,
        widget=forms.Textarea(attrs={"rows": rows}),
        validators=[no_nir_in_free_text],
    )


def motif_field(kind, *, empty=None, widget=forms.RadioSelect):
    """The kind's motifs (under their group's heading), after the `empty` choice if any."""
    spec = KINDS[kind]
    choices = [empty] if empty else []
    return forms.ChoiceField(label=spec.motif_label, choices=choices + spec.grouped_motif_choices(), widget=widget)


def detail_field(kind, name, **options):
    """The form field of a detail of the kind, labelled and constrained as the catalogue says; `options` are how the
    page shows a free text (help text, rows)."""
    spec = KINDS[kind].detail(name)
    if spec.choices:
        return forms.ChoiceField(
            label=spec.label, choices=spec.choices, required=spec.required, widget=forms.RadioSelect
        )
    if spec.free_text:
        return free_text(spec.label, required=spec.required, max_length=spec.max_length, **options)
    return forms.CharField(label=spec.label, required=spec.required, max_length=spec.max_length)


class RequestForm(StyledFormMixin, forms.Form):
    """What every kind asks: the person concerned (but for a kind without one) and attachments. Subclasses name their
    `kind` and declare `motif` and the kind's details (`detail_field`), which are stored in Request.details."""

    kind: str
    # The deposit service's refusal of this form's deposit (requests/deposit.py): the exception, and its errors.
    refused = refusal = None

    person_civility = forms.ChoiceField(
        label=_PERSON["person_civility"].label, choices=_PERSON["person_civility"].choices, widget=forms.RadioSelect
    )
    person_last_name = forms.CharField(
        label=_PERSON["person_last_name"].label, max_length=_PERSON["person_last_name"].max_length
    )
    person_first_name = forms.CharField(
        label=_PERSON["person_first_name"].label, max_length=_PERSON["person_first_name"].max_length
    )
    person_birth_date = forms.DateField(
        label=_PERSON["person_birth_date"].label,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )
    person_nir = forms.CharField(
        label=_PERSON["person_nir"].label,
        max_length=_PERSON["person_nir"].max_length,
        help_text="15 caractères, clé comprise, par exemple 2 85 05 2A 012 345 67 (espaces acceptés).",
        widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
    )
    person_phone = forms.CharField(
        label=_PERSON["person_phone"].label, required=False, max_length=_PERSON["person_phone"].max_length
    )
    person_email = forms.EmailField(label=_PERSON["person_email"].label, required=False)
    # One form shown, one deposit: posted twice (a double click, a retry after an error page), it gives back the
    # request it created (requests/deposit.py).
    deposit_token = forms.CharField(widget=forms.HiddenInput, required=False, max_length=64)
    # The code of the caisse the request goes to: the page sends the one it showed (requests/caisse_field.html), the
    # API client the one it names. Never the header's: it may have changed since the form was shown (a convention
    # suspended meanwhile, another caisse chosen in another tab).
    caisse = forms.CharField(label="Caisse destinataire", required=False, max_length=3, widget=forms.HiddenInput)

    def __init__(self, *args, structure, caisse_required=True, staged_by=None, **kwargs):
        """`caisse_required`: the pages always send the caisse they show; an API client may leave it out when its
        structure has one active convention. `staged_by`: the pages' user, whose files that passed the checks are
        kept across the form's errors (requests/staging.py); the API sends every file with each request."""
        super().__init__(*args, **kwargs)
        self.structure = structure
        self.staged_by = staged_by
        if not self.is_bound:
            self.fields["deposit_token"].initial = secrets.token_urlsafe(32)
        self.fields["caisse"].required = caisse_required
        if not self.has_person:
            for name in PERSON_FIELD_NAMES:
                del self.fields[name]
        self.fields["attachments"] = AttachmentsField(min_count=self.spec.min_attachments)
        self.fields["attachments"].widget.attrs["class"] = "form-control"

    @property
    def spec(self):
        return KINDS[self.kind]

    @property
    def has_person(self):
        return self.spec.has_person

    @property
    def detail_fields(self):
        return [spec.name for spec in self.spec.details]

    def clean_person_phone(self):
        phone = self.cleaned_data["person_phone"]
        return normalize_french_phone(phone) if phone else phone

    def file_fields(self):
        return [(name, field) for name, field in self.fields.items() if isinstance(field, AttachmentsField)]

    def full_clean(self):
        # Here rather than at __init__: subclasses add file fields after it.
        if self.is_bound and self.staged_by is not None:
            for name, field in self.file_fields():
                ids = self.data.getlist(staging.kept_name(name)) if hasattr(self.data, "getlist") else []
                field.kept, field.lost = staging.kept(self.staged_by, name, ids)
                field.widget.kept, field.widget.kept_name = field.kept, staging.kept_name(name)
        super().full_clean()

    def keep_files(self):
        """After an error: the files sent now that passed the checks are kept for the next try, and shown so."""
        if self.staged_by is None:
            return
        for name, field in self.file_fields():
            try:
                field.kept = [*field.kept, *staging.stage(owner=self.staged_by, field=name, files=field.accepted)]
            except staging.FilesNotKept:
                if name not in self.errors:  # else the field says already what went wrong with its files
                    self.add_error(name, forms.ValidationError(FILES_NOT_KEPT, code="files_not_kept"))
            field.accepted = []
            field.widget.kept, field.widget.kept_name = field.kept, staging.kept_name(name)

    def discard_kept_files(self):
        """After the deposit: the kept files it stored as the request's attachments go."""
        for _, field in self.file_fields():
            staging.discard(field.kept)

    def clean_caisse(self):
        """The chosen caisse, if the structure's convention with it is active now: read from the database."""
        return chosen_caisse(conventions.active_caisses(self.structure.pk, fresh=True), self.cleaned_data["caisse"])

    def clean(self):
        cleaned = super().clean()
        self.show_refusal(self.refusals(cleaned))
        return cleaned

    def refusals(self, cleaned):
        """What the deposit service would refuse in what was typed, as it would say it."""
        return deposit_rules.refusals(
            kind=self.kind,
            motif=cleaned.get("motif"),
            structure=self.structure,
            person=self.person(),
            details=self.details(),
            attachments=len(cleaned.get("attachments") or []),
        )

    def show_refusal(self, errors):
        """The domain's messages next to their field; a field already in error keeps its own (the domain's would
        only say again that it is missing). What no field of the form shows (the caisse…) goes at its top."""
        for name, messages in errors.items():
            field = name if name in self.fields else None
            if field is not None and field in self.errors:
                continue
            for message in messages:
                self.add_error(field, forms.ValidationError(message, code=getattr(message, "code", None)))
        self.mark_invalid_fields()

    def details(self):
        return {name: self.cleaned_data.get(name) for name in self.detail_fields}

    def person(self):
        return {name: self.cleaned_data.get(name) for name in PERSON_FIELD_NAMES} if self.has_person else {}


class ContactForm(RequestForm):
    kind = Kind.CONTACT

    motif = motif_field(kind)
    channel = detail_field(kind, "channel")
    availabilities = detail_field(
        kind, "availabilities", help_text="Jours et créneaux où la caisse peut vous joindre ou vous recevoir.", rows=3
    )
    message = detail_field(kind, "message")


class AccessDifficultyForm(RequestForm):
    kind = Kind.ACCESS_DIFFICULTY

    motif = motif_field(kind)
    description = detail_field(kind, "description")


class AppointmentForm(RequestForm):
    kind = Kind.APPOINTMENT

    motif = motif_field(kind)
    motif_other = detail_field(kind, "motif_other")
    channel = detail_field(kind, "channel")
    availabilities = detail_field(
        kind, "availabilities", help_text="Jours et créneaux possibles pour le rendez-vous.", rows=3
    )
    needs_accompaniment = detail_field(kind, "needs_accompaniment")
    message = detail_field(kind, "message", rows=3)


class CaseReviewForm(RequestForm):
    kind = Kind.CASE_REVIEW

    motif = motif_field(kind)
    motif_other = detail_field(kind, "motif_other")
    description = detail_field(kind, "description")


class DocumentForm(RequestForm):
    kind = Kind.DOCUMENT
    _EMPTY = ("", "Choisissez un document")

    motif = motif_field(kind, empty=_EMPTY, widget=forms.Select)
    comment = detail_field(kind, "comment", rows=3)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if not self.structure.insured_documents_habilitation:
            # The field still knows every document, so that a forged choice gets the explanation.
            self.fields["motif"].widget.choices = [
                self._EMPTY,
                *((motif.value, motif.label) for motif in self.spec.motifs if not motif.insured_document),
            ]
            self.fields["motif"].help_text = deposit_rules.NOT_HABILITATED


def _multiple(label, choices, *, required=False):
    return forms.MultipleChoiceField(
        label=label, choices=choices, required=required, widget=forms.CheckboxSelectMultiple
    )


# The signed referral sheet, as the page and the API's catalogue (extranet/api/catalogue.py) name it.
CONSENT_DOCUMENT_LABEL = "Fiche de saisine signée par la personne"
CONSENT_DOCUMENT_HELP = "La fiche téléchargée, signée puis numérisée : PDF, JPEG ou PNG."


class MasReferralForm(RequestForm):
    """The MAS referral: the person concerned, the referral form and the person's consent (requests/mas.py)."""

    kind = MAS_REFERRAL.kind

    referral_date = forms.DateField(
        label="Date de la saisine", widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
    )
    contexts = _multiple("Contexte de la saisine (au moins un)", mas.CONTEXTS, required=True)
    actions = _multiple("Actions déjà engagées", mas.ACTIONS)
    action_other = forms.CharField(label="Autre action : précisez", required=False, max_length=300)
    cares = _multiple("Soins non réalisés", mas.CARES)
    care_other = forms.CharField(label="Autre soin : précisez", required=False, max_length=300)
    renunciation_duration = forms.ChoiceField(
        label="Depuis combien de temps ?", choices=mas.DURATIONS, required=False, widget=forms.RadioSelect
    )
    causes = _multiple("Causes du renoncement", mas.CAUSES)
    cause_other = forms.CharField(label="Autre cause : précisez", required=False, max_length=300)

    detector_name = forms.CharField(label="Nom et prénom", disabled=True, required=False)
    detector_structure = forms.CharField(label="Structure", disabled=True, required=False)
    detector_email = forms.EmailField(label="Adresse électronique")
    detector_phone = forms.CharField(label="Téléphone", required=False, max_length=20)

    consent_mode = forms.ChoiceField(
        label="Accord de la personne",
        choices=MasReferral.ConsentMode.choices,
        widget=forms.RadioSelect,
        error_messages={"required": mas.CONSENT_MISSING},
        help_text="« Signée » : la fiche signée par la personne est jointe. « À distance » : vous lui avez lu la "
        "notice d'information ; la caisse lui enverra un courrier pour confirmer son accord.",
    )
    notice_given = forms.BooleanField(
        label="Je confirme avoir donné à la personne l'information ci-dessus et recueilli son accord oral.",
        required=False,
    )

    sections = [
        ("Date et contexte", ["referral_date", "contexts"]),
        ("Personne concernée", list(PERSON_FIELD_NAMES)),
        ("Détecteur", ["detector_name", "detector_structure", "detector_email", "detector_phone"]),
        ("Actions déjà engagées", ["actions", "action_other"]),
        (
            "Renoncement aux soins",
            ["cares", "care_other", "renunciation_duration", "causes", "cause_other"],
        ),
        ("Accord de la personne", ["consent_mode", "notice_given", "consent_document"]),
        ("Autres pièces", ["attachments"]),
    ]
    # What applies only after some answers, by section title or field: (the field answered, the answers that make it
    # apply). The page shows it only then (static/js/forms.js; all of it without JavaScript); what was filled in but
    # does not apply is ignored (clean, referral, mas.referral_refusals).
    SHOWN_WHEN = {
        "Renoncement aux soins": ("contexts", mas.RENUNCIATION_CONTEXTS),
        "action_other": ("actions", {"other"}),
        "care_other": ("cares", {"other"}),
        "cause_other": ("causes", {"other"}),
        "notice_given": ("consent_mode", {MasReferral.ConsentMode.REMOTE}),
        "consent_document": ("consent_mode", {MasReferral.ConsentMode.SIGNED}),
    }
    # The section beside which the sheet to have signed is downloaded.
    SHEET_SECTION = "Accord de la personne"
    # Started from another form (carried_from): what it had that this one does not take.
    carried = False
    left_behind = files_refused = ()

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user
        self.fields["consent_document"] = AttachmentsField(
            label=CONSENT_DOCUMENT_LABEL, help_text=CONSENT_DOCUMENT_HELP
        )
        self.fields["consent_document"].widget.attrs["class"] = "form-control"
        self.fields["attachments"].label = "Autres pièces utiles (facultatif)"
        self.fields["detector_name"].initial = user.get_full_name()
        self.fields["detector_structure"].initial = self.structure.name
        self.fields["detector_email"].initial = user.email
        self.fields["detector_phone"].initial = user.phone
        self.fields["referral_date"].initial = timezone.localdate()

    @classmethod
    def carried_from(cls, typed, *, user):
        """The referral's form, started from what was typed in its kind's form where the referral was chosen as the
        motif: the value of every field both forms have, the files kept (`typed.keep_files()`); and, shown so that
        nothing typed disappears unseen, what has no field here (`left_behind`: (label, text)) and why files were
        refused (`files_refused`)."""
        form = cls(structure=typed.structure, user=user, staged_by=typed.staged_by)
        files = dict(typed.file_fields())
        skipped = {"deposit_token", "motif", *files}
        carried = {
            name: typed.data.get(name)
            for name in typed.fields
            if name in form.fields and name not in skipped and typed.data.get(name)
        }
        form.initial.update(carried)
        for name, field in files.items():
            if name in form.fields:
                form.fields[name].kept = form.fields[name].widget.kept = field.kept
                form.fields[name].widget.kept_name = field.widget.kept_name
        form.left_behind = [
            (typed.fields[name].label, typed.data.get(name).strip())
            for name in typed.fields
            if name not in form.fields and name not in skipped and (typed.data.get(name) or "").strip()
        ]
        form.files_refused = [message for name in files for message in typed.errors.get(name, [])]
        # Whether the page says that something was carried (the caisse, which the page sends by itself, does not).
        form.carried = bool(set(carried) - {"caisse"} or form.left_behind or form.files_refused) or any(
            field.kept for field in files.values()
        )
        return form

    def page_sections(self):
        """The sections as the page shows them: (title, shown when, [(bound field, shown when)]), each `shown when`
        (the field answered, the answers separated by spaces) or None."""

        def shown_when(key):
            if key not in self.SHOWN_WHEN:
                return None
            name, values = self.SHOWN_WHEN[key]
            return name, " ".join(sorted(values))

        return [
            (title, shown_when(title), [(self[name], shown_when(name)) for name in names])
            for title, names in self.sections
        ]

    @property
    def detail_fields(self):
        return []

    def clean_detector_phone(self):
        phone = self.cleaned_data["detector_phone"]
        return normalize_french_phone(phone) if phone else phone

    def clean(self):
        self.cleaned_data["motif"] = MAS_REFERRAL.motif
        if not mas.RENUNCIATION_CONTEXTS & set(self.cleaned_data.get("contexts", [])):
            # Without a renunciation of care, what was ticked about it does not apply.
            for name in ("cares", "causes"):
                self.cleaned_data[name] = []
            for name in ("care_other", "renunciation_duration", "cause_other"):
                self.cleaned_data[name] = ""
        return super().clean()

    def refusals(self, cleaned):
        return deposit_rules.merged(
            super().refusals(cleaned),
            mas.referral_refusals(
                self.referral(),
                consent_documents=len(cleaned.get("consent_document") or []),
                notice_given=bool(cleaned.get("notice_given")),
            ),
        )

    def referral(self):
        data = self.cleaned_data
        actions, cares, causes = data.get("actions") or [], data.get("cares") or [], data.get("causes") or []
        return {
            "referral_date": data.get("referral_date"),
            "contexts": data.get("contexts") or [],
            "actions": actions,
            "action_other": data.get("action_other", "") if "other" in actions else "",
            "cares": cares,
            "care_other": data.get("care_other", "") if "other" in cares else "",
            "renunciation_duration": data.get("renunciation_duration") or "",
            "causes": causes,
            "cause_other": data.get("cause_other", "") if "other" in causes else "",
            "detector_name": self.user.get_full_name(),
            "detector_structure": self.structure.name,
            "detector_email": data.get("detector_email") or "",
            "detector_phone": data.get("detector_phone") or "",
            "consent_mode": data.get("consent_mode") or "",
        }


# The deposit form of each kind of the catalogue; the MAS referral has its own.
DEPOSIT_FORMS = {
    form_class.kind: form_class
    for form_class in (ContactForm, AccessDifficultyForm, AppointmentForm, CaseReviewForm, DocumentForm)
}


def deposit_form_class(kind, motif=None):
    return MasReferralForm if is_mas_referral(kind, motif) else DEPOSIT_FORMS[kind]


class MessageForm(StyledFormMixin, forms.Form):
    """One composer. The caisse's staff say what the text is by the button they press (`action`): sent to the
    structure, or kept as an internal note. Neither is assumed: a post without one of them is refused, the text
    kept, so that no note reaches the structure and no message stays unsent by mistake. Partners have no choice:
    what they write goes to the caisse."""

    SEND, NOTE = "send", "note"
    ACTION_MISSING = (
        "Choisissez « Envoyer à la structure » ou « Ajouter une note interne » : le message n'a pas été enregistré."
    )

    body = free_text("Votre message", rows=4)

    def __init__(self, *args, staff, action=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.staff, self.action = staff, action
        self.fields["attachments"] = AttachmentsField(label="Pièces jointes (facultatif)")
        self.fields["attachments"].widget.attrs["class"] = "form-control"
        if staff:
            self.fields["awaiting_answer"] = forms.BooleanField(
                label="En attente de la réponse de la structure",
                required=False,
                help_text="Avec « Envoyer à la structure » seulement : le délai de traitement s'interrompt jusqu'à "
                "sa réponse, et la structure est relancée si elle tarde.",
                widget=forms.CheckboxInput(attrs={"class": "form-check-input"}),
            )

    def clean(self):
        cleaned = super().clean()
        if self.staff and self.action not in (self.SEND, self.NOTE):
            raise forms.ValidationError(self.ACTION_MISSING)
        cleaned["internal"] = self.staff and self.action == self.NOTE
        # A note never waits for the structure: it does not reach it.
        cleaned["awaiting_answer"] = bool(cleaned.get("awaiting_answer")) and not cleaned["internal"]
        return cleaned


class ResolveForm(StyledFormMixin, forms.Form):
    """The resolution, in two steps: the answer is written and previewed, then confirmed with its files. Without
    `confirm`, the form only says whether the answer may be previewed (no file is read then)."""

    answer = free_text(
        "Réponse à la structure",
        help_text="Elle est envoyée à la structure et clôt la demande. Vous la relirez avant de confirmer.",
    )

    def __init__(self, *args, confirming=False, **kwargs):
        # Its own ids: the request's page also shows the message form, whose attachments field has the same name.
        kwargs.setdefault("auto_id", "reponse_%s")
        super().__init__(*args, **kwargs)
        if confirming:
            self.fields["answer"].widget = forms.HiddenInput()
            self.fields["attachments"] = AttachmentsField(
                label="Pièces jointes à la réponse (facultatif)",
                help_text="Le document demandé, le cas échéant : la structure le télécharge avec la réponse.",
            )
            self.fields["attachments"].widget.attrs["class"] = "form-control"


class TemplateChoiceForm(forms.Form):
    """The canned text an agent starts from, among those already read (`templates`): no query of its own."""

    modele = forms.TypedChoiceField(label="Modèle", coerce=int, empty_value=None)

    def __init__(self, *args, templates, label, **kwargs):
        kwargs.setdefault("auto_id", "modele_%s")
        super().__init__(*args, **kwargs)
        self.templates = {template.pk: template for template in templates}
        field = self.fields["modele"]
        field.label = label
        field.choices = [("", "Choisissez un modèle"), *((pk, t.title) for pk, t in self.templates.items())]
        field.error_messages["invalid_choice"] = "Ce modèle n'est pas proposé pour cette demande."
        field.error_messages["required"] = "Choisissez un modèle dans la liste."
        field.widget.attrs["class"] = "form-select"

    def chosen(self):
        return self.templates[self.cleaned_data["modele"]] if self.is_valid() else None


class AnswerTemplateForm(StyledFormMixin, forms.ModelForm):
    body = free_text(
        "Texte",
        rows=8,
        help_text="Les espaces réservés entre accolades, listés sur cette page, sont remplacés quand l'agent "
        "choisit le modèle. Sans donnée de santé détaillée ni numéro de sécurité sociale.",
    )

    class Meta:
        model = AnswerTemplate
        fields = ["purpose", "kind", "title", "body"]
        labels = {"purpose": "Usage", "kind": "Type de demande", "title": "Titre"}
        help_texts = {
            "purpose": "Un message à la structure s'envoie pendant le traitement ; une réponse de résolution clôt "
            "la demande.",
            "title": "Ce que l'agent lit dans la liste des modèles.",
        }
        widgets = {"purpose": forms.RadioSelect}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["kind"].choices = [("", "Tous les types de demande"), *Kind.choices]
        self.fields["kind"].required = False

    def clean_body(self):
        body = self.cleaned_data["body"]
        if unknown := canned.unknown_placeholders(body):
            raise forms.ValidationError(
                "Espace réservé inconnu : %(unknown)s. Utilisez uniquement ceux de la liste.",
                params={"unknown": ", ".join(unknown)},
            )
        return body


class ReassignForm(StyledFormMixin, forms.Form):
    agent = forms.ModelChoiceField(label="Réattribuer à", queryset=None, empty_label="Choisissez un agent")
    label = "Réattribuer à"

    def __init__(self, *args, caisse, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["agent"].label = self.label
        from django.contrib.auth import get_user_model

        self.fields["agent"].queryset = (
            get_user_model()
            .objects.filter(caissemembership__caisse=caisse, caissemembership__is_active=True, is_active=True)
            .order_by("last_name", "first_name")
        )


class DispatchForm(ReassignForm):
    """A new request given directly to an agent by an administrateur (the workflow checks the agent again)."""

    label = "Attribuer à"


class HandoverForm(StyledFormMixin, forms.Form):
    """A technicien's departure: the colleague of the same structure their open requests are handed to, if any."""

    colleague = forms.ModelChoiceField(
        label="Confier ses demandes en cours à",
        queryset=None,
        required=False,
        empty_label="Personne (les gestionnaires de la structure seront prévenus à sa place)",
    )

    def __init__(self, *args, structure, leaving, **kwargs):
        super().__init__(*args, **kwargs)
        from django.contrib.auth import get_user_model

        self.fields["colleague"].queryset = (
            get_user_model()
            .objects.filter(membership__structure=structure, membership__is_active=True, is_active=True)
            .exclude(pk=leaving.pk)
            .order_by("last_name", "first_name")
        )
