"""The MAS referral (saisine Mission accompagnement santé): its choices, its information notice and its form."""

from datetime import date

from django import forms
from django.core.exceptions import ValidationError
from django.utils import timezone

from extranet.core.validators import normalize_french_phone
from requests.attachments import AttachmentsField
from requests.forms import PERSON_FIELDS, RequestForm
from requests.models import MAS_REFERRAL_MOTIF, MasReferral, PersonCivility

NOTICE_VERSION = "2026-01"
NOTICE_TEMPLATE = "requests/mas_notice.html"

CONTEXTS = [
    ("rights_access", "Difficultés d'accès aux droits"),
    ("care_renunciation", "Renoncement ou difficultés d'accès à des soins"),
    ("disability_care_renunciation", "Renoncement ou difficultés d'accès à des soins liés à un handicap"),
    ("digital_fragility", "Fragilité face au numérique"),
    ("complex_social_situation", "Situation sociale complexe"),
]
RENUNCIATION_CONTEXTS = {"care_renunciation", "disability_care_renunciation"}
ACTIONS = [
    ("c2s_application", "Dossier de complémentaire santé solidaire"),
    ("social_action_application", "Dossier d'action sanitaire et sociale"),
    ("other", "Autre"),
]
CARES = [
    ("gp_or_specialist_consultations", "Consultations de médecine générale ou spécialisée"),
    ("specialist_procedure_tests", "Acte chez un spécialiste, analyses ou examens"),
    ("medical_devices", "Dispositifs médicaux (optique, auditif, appareillage)"),
    ("surgery", "Chirurgie"),
    ("pharmacy", "Pharmacie"),
    ("other", "Autre"),
]
DURATIONS = [
    ("under_3_months", "Moins de 3 mois"),
    ("3_months_to_1_year", "De 3 mois à 1 an"),
    ("over_1_year", "Plus d'1 an"),
    ("over_2_years", "Plus de 2 ans"),
]
CAUSES = [
    ("rights_access", "Accès aux droits"),
    ("out_of_pocket", "Reste à charge"),
    ("advance_payment", "Avance des frais"),
    ("appointment_delays", "Délais de rendez-vous"),
    ("transport", "Transport"),
    ("complicated_procedures", "Démarches trop compliquées"),
    ("refusal_by_professional", "Refus de prise en charge par un professionnel de santé"),
    ("other", "Autre"),
]
CONSENT_MISSING = (
    "Sans l'accord de la personne, la saisine ne peut pas être transmise : indiquez comment son accord a été "
    "recueilli."
)


def labels(choices, values):
    names = dict(choices)
    return [names[value] for value in values if value in names]


def _multiple(label, choices, *, required=False):
    return forms.MultipleChoiceField(
        label=label, choices=choices, required=required, widget=forms.CheckboxSelectMultiple
    )


class MasReferralForm(RequestForm):
    kind = "access_difficulty"
    detail_fields: list[str] = []

    referral_date = forms.DateField(
        label="Date de la saisine", widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
    )
    contexts = _multiple("Contexte de la saisine (au moins un)", CONTEXTS, required=True)
    actions = _multiple("Actions déjà engagées", ACTIONS)
    action_other = forms.CharField(label="Autre action : précisez", required=False, max_length=300)
    cares = _multiple("Soins non réalisés", CARES)
    care_other = forms.CharField(label="Autre soin : précisez", required=False, max_length=300)
    renunciation_duration = forms.ChoiceField(
        label="Depuis combien de temps ?", choices=DURATIONS, required=False, widget=forms.RadioSelect
    )
    causes = _multiple("Causes du renoncement", CAUSES)
    cause_other = forms.CharField(label="Autre cause : précisez", required=False, max_length=300)

    detector_name = forms.CharField(label="Nom et prénom", disabled=True, required=False)
    detector_structure = forms.CharField(label="Structure", disabled=True, required=False)
    detector_email = forms.EmailField(label="Adresse électronique")
    detector_phone = forms.CharField(label="Téléphone", required=False, max_length=20)

    consent_mode = forms.ChoiceField(
        label="Accord de la personne",
        choices=MasReferral.ConsentMode.choices,
        widget=forms.RadioSelect,
        error_messages={"required": CONSENT_MISSING},
        help_text="« Signée » : la fiche signée par la personne est jointe. « À distance » : vous lui avez lu la "
        "notice d'information ; la caisse lui enverra un courrier pour confirmer son accord.",
    )
    notice_given = forms.BooleanField(
        label="Je confirme avoir donné à la personne l'information ci-dessus et recueilli son accord oral.",
        required=False,
    )

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user
        self.fields["consent_document"] = AttachmentsField(
            label="Fiche de saisine signée par la personne",
            help_text="La fiche téléchargée, signée puis numérisée : PDF, JPEG ou PNG.",
        )
        self.fields["consent_document"].widget.attrs["class"] = "form-control"
        self.fields["attachments"].label = "Autres pièces utiles (facultatif)"
        self.fields["detector_name"].initial = user.get_full_name()
        self.fields["detector_structure"].initial = self.structure.name
        self.fields["detector_email"].initial = user.email
        self.fields["detector_phone"].initial = user.phone
        self.fields["referral_date"].initial = timezone.localdate()

    @classmethod
    def motif_choices(cls):
        return [(MAS_REFERRAL_MOTIF, "Saisine de la Mission accompagnement santé (MAS)")]

    def clean_referral_date(self):
        referral_date = self.cleaned_data["referral_date"]
        if referral_date > timezone.localdate():
            raise ValidationError("La date de la saisine ne peut pas être dans le futur.")
        return referral_date

    def clean_detector_phone(self):
        phone = self.cleaned_data["detector_phone"]
        return normalize_french_phone(phone) if phone else phone

    def clean(self):
        self.cleaned_data["motif"] = MAS_REFERRAL_MOTIF
        cleaned = super().clean()
        self._require_other_texts(cleaned)
        if RENUNCIATION_CONTEXTS & set(cleaned.get("contexts", [])):
            self._require_renunciation_block(cleaned)
        else:
            for name in ("cares", "care_other", "renunciation_duration", "causes", "cause_other"):
                cleaned[name] = [] if name in ("cares", "causes") else ""
        self._require_consent(cleaned)
        return cleaned

    def _require_other_texts(self, cleaned):
        for choices_field, text_field in (
            ("actions", "action_other"),
            ("cares", "care_other"),
            ("causes", "cause_other"),
        ):
            if "other" in cleaned.get(choices_field, []) and not cleaned.get(text_field):
                self.add_error(text_field, "Précisez, puisque vous avez coché « Autre ».")

    def _require_renunciation_block(self, cleaned):
        missing = "Obligatoire quand le contexte comprend un renoncement aux soins."
        if not cleaned.get("cares"):
            self.add_error("cares", f"Cochez au moins un soin non réalisé. {missing}")
        if not cleaned.get("renunciation_duration"):
            self.add_error("renunciation_duration", f"Indiquez depuis combien de temps. {missing}")
        if not cleaned.get("causes"):
            self.add_error("causes", f"Cochez au moins une cause. {missing}")

    def _require_consent(self, cleaned):
        mode = cleaned.get("consent_mode")
        if mode == MasReferral.ConsentMode.SIGNED and not cleaned.get("consent_document"):
            self.add_error("consent_document", "Joignez la fiche de saisine signée par la personne.")
        if mode == MasReferral.ConsentMode.SIGNED and len(cleaned.get("consent_document") or []) > 1:
            self.add_error("consent_document", "Joignez une seule fiche signée.")
        if mode == MasReferral.ConsentMode.REMOTE and not cleaned.get("notice_given"):
            self.add_error(
                "notice_given",
                "Confirmez que la notice d'information a été donnée à la personne : sans son accord, pas de saisine.",
            )

    def referral(self):
        data = self.cleaned_data
        return {
            "referral_date": data["referral_date"],
            "contexts": data["contexts"],
            "actions": data["actions"],
            "action_other": data["action_other"] if "other" in data["actions"] else "",
            "cares": data["cares"],
            "care_other": data["care_other"] if "other" in data["cares"] else "",
            "renunciation_duration": data["renunciation_duration"],
            "causes": data["causes"],
            "cause_other": data["cause_other"] if "other" in data["causes"] else "",
            "detector_name": self.user.get_full_name(),
            "detector_structure": self.structure.name,
            "detector_email": data["detector_email"],
            "detector_phone": data["detector_phone"],
            "consent_mode": data["consent_mode"],
        }

    sections = [
        ("Date et contexte", ["referral_date", "contexts"]),
        ("Personne concernée", PERSON_FIELDS),
        ("Détecteur", ["detector_name", "detector_structure", "detector_email", "detector_phone"]),
        ("Actions déjà engagées", ["actions", "action_other"]),
        (
            "Renoncement aux soins",
            ["cares", "care_other", "renunciation_duration", "causes", "cause_other"],
        ),
        ("Accord de la personne", ["consent_mode", "notice_given", "consent_document"]),
        ("Autres pièces", ["attachments"]),
    ]


def _as_date_text(value):
    if isinstance(value, date):
        return value.strftime("%d/%m/%Y")
    try:
        return date.fromisoformat(value).strftime("%d/%m/%Y")
    except (TypeError, ValueError):
        return value or ""


def sheet_values(source):
    """What the printable referral sheet shows, from a saved referral or from what was typed (maybe partial)."""
    if isinstance(source, MasReferral):

        def get(name):
            return getattr(source.request if name.startswith("person_") else source, name)

        get_list = get
    else:
        get, get_list = source.get, source.getlist
    person = {name: get(name) or "" for name in PERSON_FIELDS}
    person["person_civility"] = dict(PersonCivility.choices).get(person["person_civility"], "")
    person["person_birth_date"] = _as_date_text(person["person_birth_date"])
    return {
        "referral_date": _as_date_text(get("referral_date")),
        "contexts": labels(CONTEXTS, get_list("contexts") or []),
        "person": person,
        "detector": {
            name: get(name) or ""
            for name in ("detector_name", "detector_structure", "detector_email", "detector_phone")
        },
        "actions": labels(ACTIONS, get_list("actions") or []),
        "action_other": get("action_other") or "",
        "cares": labels(CARES, get_list("cares") or []),
        "care_other": get("care_other") or "",
        "renunciation_duration": dict(DURATIONS).get(get("renunciation_duration") or "", ""),
        "causes": labels(CAUSES, get_list("causes") or []),
        "cause_other": get("cause_other") or "",
        "all_contexts": CONTEXTS,
        "all_actions": ACTIONS,
        "all_cares": CARES,
        "all_durations": DURATIONS,
        "all_causes": CAUSES,
        "notice_template": NOTICE_TEMPLATE,
        "notice_version": NOTICE_VERSION,
    }
