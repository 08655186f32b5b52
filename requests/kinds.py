"""The five kinds of request ("offres de services") and what each one asks.

A kind is one entry here: its value in `Kind`, a form class (the kind's own fields; the person concerned,
attachments and duplicate guard come from `RequestForm`), and a `KindSpec`. Pages, history, detail and PDF
are generic over these entries.
"""

from dataclasses import dataclass

from requests import forms
from requests.models import Kind


@dataclass(frozen=True)
class KindSpec:
    kind: Kind
    slug: str
    description: str
    form_class: type

    @property
    def title(self):
        return self.kind.label

    @property
    def has_person(self):
        return self.form_class.has_person

    @property
    def motif_field_label(self):
        return self.form_class.base_fields["motif"].label

    def motif_label(self, motif):
        return dict(self.form_class.motif_choices()).get(motif, motif)


KINDS = {
    spec.kind: spec
    for spec in [
        KindSpec(
            Kind.CONTACT,
            "contacter",
            "Vous souhaitez prendre un rendez-vous téléphonique, en visio ou sur place pour une question générale "
            "(réglementaire, offres de services de votre organisme d'assurance maladie, technique…).",
            forms.ContactForm,
        ),
        KindSpec(
            Kind.ACCESS_DIFFICULTY,
            "signaler",
            "Vous souhaitez signaler une difficulté d'accès aux droits et aux soins pour un assuré : dossier "
            "complexe (rétroactivité, rupture de droits, IJ complexes…), droits, situation d'urgence, saisine de la "
            "Mission accompagnement santé, suivi du traitement d'une demande faite par l'assuré.",
            forms.AccessDifficultyForm,
        ),
        KindSpec(
            Kind.APPOINTMENT,
            "rendez-vous",
            "Vous souhaitez demander un rendez-vous pour un assuré (AME, arrêt de travail, C2S, examen de "
            "prévention en santé…).",
            forms.AppointmentForm,
        ),
        KindSpec(
            Kind.CASE_REVIEW,
            "etude-de-dossier",
            "Vous souhaitez soumettre une demande d'étude de dossier pour un assuré (aide financière, C2S, PUMa, "
            "renouvellement d'AME…).",
            forms.CaseReviewForm,
        ),
        KindSpec(
            Kind.DOCUMENT,
            "document",
            "Vous souhaitez demander un document concernant un assuré (attestation de droits, CEAM…) ou un document "
            "relatif à une offre de prévention (vaccination, M'T dents, dépistage, examen de prévention en santé…).",
            forms.DocumentForm,
        ),
    ]
}
KINDS_BY_SLUG = {spec.slug: spec for spec in KINDS.values()}
