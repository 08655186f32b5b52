"""The catalogue of requests: the five kinds ("offres de services"), their motifs and what each one asks.

Plain data. The models (`Kind`), the deposit's rules (requests/deposit_rules.py), the forms, the API, the detail page
and the PDF, the filters, the statistics and the retention all read it. A sixth kind is one entry in `_KINDS` plus its
form class (requests/forms.py, DEPOSIT_FORMS); the only migration is the new choice of `Request.kind`.

The MAS referral (saisine Mission accompagnement santé) is a motif of the access-difficulty kind, flagged
`mas_referral`: it has its own form, consent and retention, and none of its kind's details (requests/mas.py).
"""

from dataclasses import dataclass

from django.db import models

from extranet.accounts.models import Civility

FREE_TEXT_MAX_LENGTH = 3000
# The detail that says what an "Autre" motif is, for the motifs flagged `needs_precision`.
PRECISION = "motif_other"


@dataclass(frozen=True)
class Motif:
    value: str
    label: str
    group: str = ""  # the heading it is listed under, when a kind's motifs are grouped (documents)
    needs_precision: bool = False  # "Autre": the PRECISION detail is then required
    insured_document: bool = False  # a document about an insured person: habilitated structures only
    mas_referral: bool = False
    short_label: str = ""  # where a list gives it one line; the label when it is short already

    @property
    def short(self):
        return self.short_label or self.label


@dataclass(frozen=True)
class FieldSpec:
    """A field a request stores: a detail of its kind (in `Request.details`) or one of the person concerned."""

    name: str
    label: str
    required: bool = True
    choices: tuple = ()  # (value, label); none for a text
    free_text: bool = False  # a long text, where no NIR may be written
    max_length: int = FREE_TEXT_MAX_LENGTH
    type: str = "text"  # or "date", "email", "phone" (a French number), "nir"

    def display(self, value):
        return dict(self.choices).get(value, value)


@dataclass(frozen=True)
class KindSpec:
    value: str
    title: str
    slug: str  # in the deposit page's URL
    description: str
    motif_label: str  # what the kind calls its motif
    motifs: tuple
    # The kind in a word or two, where a list gives it one line (the caisse's queue, the history); the title stays
    # beside it for assistive technologies and as a tooltip.
    short_label: str
    details: tuple = ()
    has_person: bool = True
    min_attachments: int = 0

    def motif(self, value):
        """The motif of this kind with this value, or None."""
        return next((motif for motif in self.motifs if motif.value == value), None)

    def motif_choices(self):
        return [(motif.value, motif.label) for motif in self.motifs]

    def grouped_motif_choices(self):
        """The motifs under their group's heading, in order; ungrouped motifs stay at the top level."""
        grouped = []
        for motif in self.motifs:
            if not motif.group:
                grouped.append((motif.value, motif.label))
            elif grouped and grouped[-1][0] == motif.group:
                grouped[-1][1].append((motif.value, motif.label))
            else:
                grouped.append((motif.group, [(motif.value, motif.label)]))
        return grouped

    def motif_display(self, value):
        motif = self.motif(value)
        return motif.label if motif else value

    def motif_short_display(self, value):
        motif = self.motif(value)
        return motif.short if motif else value

    @property
    def mas_referral_motif(self):
        """This kind's MAS referral motif, if it has one."""
        return next((motif for motif in self.motifs if motif.mas_referral), None)

    def details_of(self, motif_value):
        """The details a request of this kind and motif stores: none for the MAS referral, whose form is its own."""
        motif = self.motif(motif_value)
        return () if motif is not None and motif.mas_referral else self.details

    def detail(self, name):
        return next((detail for detail in self.details if detail.name == name), None)

    def describe(self, details):
        """(field, value shown) for each answered detail, in the catalogue's order."""
        return [
            (spec, spec.display(details[spec.name]))
            for spec in self.details
            if details.get(spec.name) not in ("", None)
        ]


CHANNELS = (("phone", "Téléphone"), ("video", "Visioconférence"), ("in_person", "Sur place, à l'accueil de la caisse"))
YES_NO = (("yes", "Oui"), ("no", "Non"))
INSURED = "Documents concernant l'assuré"
PREVENTION = "Documents de prévention"

PERSON_FIELDS = (
    FieldSpec("person_civility", "Civilité", choices=tuple(Civility.choices)),
    FieldSpec("person_last_name", "Nom", max_length=150),
    FieldSpec("person_first_name", "Prénom", max_length=150),
    FieldSpec("person_birth_date", "Date de naissance", type="date"),
    FieldSpec("person_nir", "Numéro de sécurité sociale", max_length=21, type="nir"),
    FieldSpec("person_phone", "Téléphone de la personne", required=False, max_length=20, type="phone"),
    FieldSpec("person_email", "Adresse électronique de la personne", required=False, max_length=254, type="email"),
)
PERSON_FIELD_NAMES = tuple(spec.name for spec in PERSON_FIELDS)

_KINDS = (
    KindSpec(
        "contact",
        "Contacter votre organisme d'assurance maladie",
        "contacter",
        "Vous souhaitez prendre un rendez-vous téléphonique, en visio ou sur place pour une question générale "
        "(réglementaire, offres de services de votre organisme d'assurance maladie, technique…).",
        "Objet de votre demande",
        motifs=(
            Motif("regulatory", "Réglementaire"),
            Motif("services", "Offres de services de votre organisme", short_label="Offres de services"),
            Motif("technical", "Technique"),
            Motif("other", "Autre"),
        ),
        short_label="Contact",
        details=(
            FieldSpec("channel", "Rendez-vous souhaité", choices=CHANNELS),
            FieldSpec("availabilities", "Vos disponibilités", free_text=True),
            FieldSpec("message", "Votre question", free_text=True),
        ),
        has_person=False,
    ),
    KindSpec(
        "access_difficulty",
        "Signaler une situation de difficulté d'accès aux droits et aux soins",
        "signaler",
        "Vous souhaitez signaler une difficulté d'accès aux droits et aux soins pour un assuré : dossier "
        "complexe (rétroactivité, rupture de droits, IJ complexes…), droits, situation d'urgence, saisine de la "
        "Mission accompagnement santé, suivi du traitement d'une demande faite par l'assuré.",
        "Motif du signalement",
        motifs=(
            Motif(
                "complex_case",
                "Dossier complexe (rétroactivité, rupture de droits, IJ complexes…)",
                short_label="Dossier complexe",
            ),
            Motif("rights", "Droits"),
            Motif("emergency", "Situation d'urgence"),
            Motif(
                "mas_referral",
                "Saisine de la Mission accompagnement santé (MAS), avec l'accord de la personne",
                mas_referral=True,
                short_label="Saisine MAS",
            ),
            Motif(
                "follow_up", "Suivi du traitement d'une demande faite par l'assuré", short_label="Suivi d'une demande"
            ),
        ),
        short_label="Signalement",
        details=(FieldSpec("description", "Description de la situation", free_text=True),),
    ),
    KindSpec(
        "appointment",
        "Demander un rendez-vous pour un assuré",
        "rendez-vous",
        "Vous souhaitez demander un rendez-vous pour un assuré (AME, arrêt de travail, C2S, examen de "
        "prévention en santé…).",
        "Motif du rendez-vous",
        motifs=(
            Motif("ame", "Aide médicale de l'État (AME)", short_label="AME"),
            Motif("sick_leave", "Arrêt de travail"),
            Motif("c2s", "Complémentaire santé solidaire (C2S)", short_label="C2S"),
            Motif("prevention_exam", "Examen de prévention en santé"),
            Motif("other", "Autre", needs_precision=True),
        ),
        short_label="Rendez-vous",
        details=(
            FieldSpec(PRECISION, "Précisez le motif", required=False, max_length=200),
            FieldSpec("channel", "Rendez-vous souhaité", choices=CHANNELS),
            FieldSpec("availabilities", "Disponibilités de la personne", free_text=True),
            FieldSpec("needs_accompaniment", "La personne a-t-elle besoin d'être accompagnée ?", choices=YES_NO),
            FieldSpec("message", "Informations utiles", required=False, free_text=True),
        ),
    ),
    KindSpec(
        "case_review",
        "Soumettre une demande d'étude de dossier",
        "etude-de-dossier",
        "Vous souhaitez soumettre une demande d'étude de dossier pour un assuré (aide financière, C2S, PUMa, "
        "renouvellement d'AME…).",
        "Objet de la demande",
        motifs=(
            Motif("financial_aid", "Aide financière individuelle"),
            Motif("c2s", "Complémentaire santé solidaire (C2S)", short_label="C2S"),
            Motif("puma", "Protection universelle maladie (PUMa)", short_label="PUMa"),
            Motif("ame_renewal", "Renouvellement de l'AME", short_label="Renouvellement AME"),
            Motif("other", "Autre", needs_precision=True),
        ),
        short_label="Étude de dossier",
        details=(
            FieldSpec(PRECISION, "Précisez l'objet", required=False, max_length=200),
            FieldSpec("description", "Description de la demande", free_text=True),
        ),
        min_attachments=1,
    ),
    KindSpec(
        "document",
        "Demander un document",
        "document",
        "Vous souhaitez demander un document concernant un assuré (attestation de droits, CEAM…) ou un document "
        "relatif à une offre de prévention (vaccination, M'T dents, dépistage, examen de prévention en santé…).",
        "Document demandé",
        motifs=(
            Motif("rights_certificate", "Attestation de droits", group=INSURED, insured_document=True),
            Motif(
                "ceam",
                "Carte européenne d'assurance maladie (CEAM)",
                group=INSURED,
                insured_document=True,
                short_label="CEAM",
            ),
            Motif(
                "daily_allowance_certificate",
                "Attestation d'indemnités journalières",
                group=INSURED,
                insured_document=True,
                short_label="Attestation d'IJ",
            ),
            Motif("vaccination", "Vaccination", group=PREVENTION),
            Motif("mt_dents", "M'T dents", group=PREVENTION),
            Motif("screening", "Dépistage", group=PREVENTION),
            Motif("prevention_exam", "Examen de prévention en santé", group=PREVENTION),
        ),
        short_label="Document",
        details=(FieldSpec("comment", "Précisions", required=False, free_text=True),),
    ),
)

KINDS = {spec.value: spec for spec in _KINDS}
KINDS_BY_SLUG = {spec.slug: spec for spec in _KINDS}
# The kinds as the model's choices: Kind.CONTACT == "contact", labelled with the kind's title.
Kind = models.TextChoices("Kind", [(spec.value.upper(), (spec.value, spec.title)) for spec in _KINDS])


@dataclass(frozen=True)
class KindMotif:
    kind: str
    motif: str


def _mas_referral():
    (found,) = [
        KindMotif(spec.value, spec.mas_referral_motif.value) for spec in _KINDS if spec.mas_referral_motif is not None
    ]
    return found


# The one MAS referral motif and its kind.
MAS_REFERRAL = _mas_referral()


def is_mas_referral(kind, motif):
    spec = KINDS.get(kind)
    found = spec.motif(motif) if spec else None
    return found is not None and found.mas_referral
