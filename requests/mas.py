"""The MAS referral (saisine Mission accompagnement santé): its choices, its information notice, what the domain
refuses in it, and its printable sheet. Its form is in requests/forms.py."""

from collections import defaultdict
from datetime import date

from django.core.exceptions import ValidationError
from django.utils import timezone

from extranet.accounts.models import Civility
from extranet.core.dates import EARLIEST_EVENT
from extranet.core.text import validate_storable
from requests.catalog import PERSON_FIELD_NAMES
from requests.deposit_rules import REQUIRED, invalid_choice
from requests.models import MasReferral
from requests.nir import SHAPE as NIR_SHAPE
from requests.nir import format_nir, normalize_nir

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


OTHER_TEXT_MISSING = "Précisez, puisque vous avez coché « Autre »."
RENUNCIATION_MISSING = "Obligatoire quand le contexte comprend un renoncement aux soins."
REFERRAL_DATE_IN_FUTURE = "La date de la saisine ne peut pas être dans le futur."
REFERRAL_DATE_TOO_OLD = (
    f"La date de la saisine ne peut pas être antérieure au {EARLIEST_EVENT:%d/%m/%Y} : vérifiez l'année."
)
SIGNED_SHEET_MISSING = "Joignez la fiche de saisine signée par la personne."
ONE_SIGNED_SHEET = "Joignez une seule fiche signée."
# What a referral stores besides its request, who collected the consent and when.
REFERRAL_FIELDS = (
    "referral_date",
    "contexts",
    "actions",
    "action_other",
    "cares",
    "care_other",
    "renunciation_duration",
    "causes",
    "cause_other",
    "detector_name",
    "detector_structure",
    "detector_email",
    "detector_phone",
    "consent_mode",
)
_CHOICES = {"contexts": CONTEXTS, "actions": ACTIONS, "cares": CARES, "causes": CAUSES}
_OTHER_TEXTS = {"actions": "action_other", "cares": "care_other", "causes": "cause_other"}


def labels(choices, values):
    names = dict(choices)
    return [names[value] for value in values if value in names]


NOTICE_NOT_GIVEN = (
    "Confirmez que la notice d'information a été donnée à la personne : sans son accord, pas de saisine."
)


def referral_refusals(referral, *, consent_documents, notice_given):
    """Why this referral cannot be transmitted: {field: [messages]}, or {}. `consent_documents` counts the signed
    sheets joined to it; `notice_given`: the partner attests that the information notice was given to the person (a
    consent at a distance rests on it)."""
    errors = defaultdict(list)
    for name in referral.keys() - set(REFERRAL_FIELDS):
        errors[name].append("Ce champ n'existe pas pour une saisine.")
    referral_date = referral.get("referral_date")
    if not referral_date:
        errors["referral_date"].append(str(REQUIRED))
    elif referral_date > timezone.localdate():
        errors["referral_date"].append(REFERRAL_DATE_IN_FUTURE)
    elif referral_date < EARLIEST_EVENT:
        errors["referral_date"].append(REFERRAL_DATE_TOO_OLD)
    for name, value in referral.items():
        try:
            validate_storable(value)
        except ValidationError as error:
            errors[name].extend(error.messages)
    if not referral.get("contexts"):
        errors["contexts"].append(str(REQUIRED))
    for name, choices in _CHOICES.items():
        for value in referral.get(name) or []:
            if value not in dict(choices):
                errors[name].append(invalid_choice(value))
    for name, text in _OTHER_TEXTS.items():
        if "other" in (referral.get(name) or []) and not referral.get(text):
            errors[text].append(OTHER_TEXT_MISSING)
    duration = referral.get("renunciation_duration")
    if duration and duration not in dict(DURATIONS):
        errors["renunciation_duration"].append(invalid_choice(duration))
    if RENUNCIATION_CONTEXTS & set(referral.get("contexts") or []):
        if not referral.get("cares"):
            errors["cares"].append(f"Cochez au moins un soin non réalisé. {RENUNCIATION_MISSING}")
        if not duration:
            errors["renunciation_duration"].append(f"Indiquez depuis combien de temps. {RENUNCIATION_MISSING}")
        if not referral.get("causes"):
            errors["causes"].append(f"Cochez au moins une cause. {RENUNCIATION_MISSING}")
    if not referral.get("detector_email"):
        errors["detector_email"].append(str(REQUIRED))
    mode = referral.get("consent_mode")
    if mode not in MasReferral.ConsentMode.values:
        errors["consent_mode"].append(CONSENT_MISSING)
    elif mode == MasReferral.ConsentMode.SIGNED and consent_documents == 0:
        errors["consent_document"].append(SIGNED_SHEET_MISSING)
    elif mode == MasReferral.ConsentMode.SIGNED and consent_documents > 1:
        errors["consent_document"].append(ONE_SIGNED_SHEET)
    elif mode == MasReferral.ConsentMode.REMOTE and not notice_given:
        errors["notice_given"].append(NOTICE_NOT_GIVEN)
    return dict(errors)


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
    person = {name: get(name) or "" for name in PERSON_FIELD_NAMES}
    person["person_civility"] = dict(Civility.choices).get(person["person_civility"], "")
    person["person_birth_date"] = _as_date_text(person["person_birth_date"])
    # Spaced as on a carte Vitale when it has a NIR's shape; as typed otherwise (the sheet may be printed half filled).
    nir = normalize_nir(person["person_nir"])
    person["person_nir"] = format_nir(nir) if NIR_SHAPE.fullmatch(nir) else nir
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
