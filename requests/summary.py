"""What a request's page and its PDF récapitulatif both show: titled lists of (label, value), and the status history.

The page lays them out as description lists and a table; the PDF as a form: a grid of labels and values
(templates/requests/pdf/summary.html). Never internal notes.
"""

from dataclasses import dataclass, field

from django.utils import timezone
from django.utils.dateformat import format as format_date

from requests.models import Status, StatusChange

DATE = "d/m/Y"
DATE_TIME = "d/m/Y H\\hi"
DATE_AT_TIME = "d/m/Y à H\\hi"


@dataclass(frozen=True)
class Field:
    label: str
    value: str
    multiline: bool = False
    testid: str = ""


@dataclass(frozen=True)
class Section:
    title: str
    anchor: str
    # (subtitle, fields): a section may have parts under their own heading; the first has none.
    groups: list = field(default_factory=list)
    note: str = ""


@dataclass(frozen=True)
class StatusRow:
    at: str
    change: str
    by: str


def _local(moment, pattern=DATE_TIME):
    """A date, or a moment in local time, as the template filter `date` writes it ("" for none)."""
    if moment is None:
        return ""
    return format_date(timezone.localtime(moment) if hasattr(moment, "hour") else moment, pattern)


def _name(user):
    return user.get_full_name() if user else ""


def _joined(values, *, other="", empty=""):
    text = " ; ".join(str(value) for value in values) or empty
    return f"{text} — {other}" if other else text


def summary_sections(demande, *, referral=None, sheet=None):
    sections = [_request_section(demande)]
    if demande.has_person:
        sections.append(_person_section(demande))
    if referral is not None:
        sections.append(_referral_section(referral, sheet))
    return sections


def _request_section(demande):
    fields = [
        Field("Numéro", demande.number),
        Field("Type", demande.get_kind_display()),
        *_status_fields(demande),
        Field("Déposée le", _local(demande.created_at)),
        Field("Demandeur", f"{demande.author.last_name.upper()} {demande.author.first_name}"),
        *([Field("Suivie par", _name(demande.handled_by))] if demande.handled_by_id else []),
        Field("Structure", demande.structure.name),
        Field("Caisse", demande.caisse.name),
        Field(demande.spec.motif_label, demande.motif_label),
        *(Field(spec.label, str(value), multiline=True) for spec, value in demande.spec.describe(demande.details)),
    ]
    note = ""
    if demande.purged_at:
        note = (
            "Les données personnelles de cette demande (personne concernée, précisions, échanges, pièces jointes) "
            f"ont été effacées le {_local(demande.purged_at, DATE)}, à l'échéance de leur durée de conservation."
        )
    return Section("La demande", "demande-titre", [("", fields)], note=note)


def _status_fields(demande):
    """The status, then who has the request or answered it: a field each (a status is not a person)."""
    status = demande.get_status_display()
    if demande.status == Status.RESOLVED and demande.resolved_at:
        status += f" le {_local(demande.resolved_at, DATE)}"
    fields = [Field("Statut", status)]
    if demande.assigned_to_id:
        label = "Résolue par" if demande.status == Status.RESOLVED else "Agent en charge"
        fields.append(Field(label, _name(demande.assigned_to)))
    return fields


def _person_section(demande):
    fields = [
        Field("Nom", demande.person_name),
        Field("Date de naissance", _local(demande.person_birth_date, DATE)),
        Field("Numéro de sécurité sociale", demande.formatted_nir),
        Field("Téléphone", demande.person_phone or "non renseigné"),
        Field("Adresse électronique", demande.person_email or "non renseignée"),
    ]
    return Section("Personne concernée", "personne-titre", [("", fields)])


def _referral_section(referral, sheet):
    referral_fields = [
        Field("Date de la saisine", _local(referral.referral_date, DATE)),
        Field("Contexte", _joined(sheet["contexts"])),
        Field("Actions déjà engagées", _joined(sheet["actions"], other=sheet["action_other"], empty="aucune")),
    ]
    if sheet["cares"]:
        referral_fields += [
            Field("Soins non réalisés", _joined(sheet["cares"], other=sheet["care_other"])),
            Field("Depuis", sheet["renunciation_duration"]),
            Field("Causes", _joined(sheet["causes"], other=sheet["cause_other"])),
        ]
    detector = f"{referral.detector_name} ({referral.detector_structure}), {referral.detector_email}"
    if referral.detector_phone:
        detector += f", {referral.detector_phone}"
    referral_fields.append(Field("Détecteur", detector))

    collected = f"{_name(referral.consent_collected_by)}, le {_local(referral.consent_collected_at, DATE_AT_TIME)}"
    consent_fields = [
        Field("Mode", referral.get_consent_mode_display()),
        Field("Recueilli par", collected),
        Field("Notice d'information", f"version {referral.notice_version}"),
    ]
    if referral.consent_document:
        consent_fields.append(Field("Fiche signée", referral.consent_document.original_name))
    if referral.needs_confirmation_letter:
        if referral.confirmation_letter_sent_at:
            sent = _local(referral.confirmation_letter_sent_at, DATE)
            letter = f"Envoyé le {sent} par {_name(referral.confirmation_letter_sent_by)}"
        else:
            letter = "À envoyer par la caisse pour confirmer l'accord"
        consent_fields.append(Field("Courrier de confirmation", letter, testid="letter-task"))
    return Section(
        "Saisine de la Mission accompagnement santé",
        "mas-titre",
        [("", referral_fields), ("Accord de la personne", consent_fields)],
    )


def status_history(status_changes):
    """The rows of a request's status log (`request.status_changes`), read as plain values: no user objects."""
    labels = dict(Status.choices)
    events = dict(StatusChange.Event.choices)
    rows = []
    for row in status_changes.values_list(
        "at",
        "event",
        "from_status",
        "to_status",
        "by__first_name",
        "by__last_name",
        "assigned_to__first_name",
        "assigned_to__last_name",
        "handed_to__first_name",
        "handed_to__last_name",
    ):
        at, event, from_status, to_status, by_first, by_last, assigned_first, assigned_last, *handed = row
        handed_first, handed_last = handed
        if handed_last is not None:
            what = f"Confiée à {f'{handed_first} {handed_last.upper()}'.strip()}"
        elif event:
            what = f"{labels[to_status]} — {events[event]}"
        elif (from_status, to_status) == (Status.IN_PROGRESS, Status.NEW):
            what = f"Remise dans la file ({labels[from_status]} → {labels[to_status]})"
        elif from_status == to_status:
            what = "Réattribuée"
        else:
            what = f"{labels[from_status] if from_status else 'Dépôt'} → {labels[to_status]}"
        if assigned_last is not None:
            what += f" (en charge : {f'{assigned_first} {assigned_last.upper()}'.strip()})"
        rows.append(StatusRow(_local(at), what, f"{by_last.upper()} {by_first}"))
    return rows
