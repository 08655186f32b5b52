"""The demo's requests (`manage.py seed_demo`): a few weeks in the life of two caisses and two partner structures.

Every request, move and message goes through requests/services.py, as a user's action would: the numbers, the
status log, the permissions of the agent in charge and the files are the services' own. What a demo needs on top
is a past: requests deposited days or weeks ago, some of them late by the queue's deadlines, and resolved ones
whose delays feed the dashboards. Each action therefore runs at its moment of the story (see `clock`).

The times are given in working days before today (`day(3, "10:15")`: three working days ago at 10h15) or in minutes
before now (`ago(40)`), so that the demo reads the same whatever the day it is seeded on: what is late stays late.
"""

import io
import zlib
from collections import Counter
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from unittest import mock

from django.contrib.auth import get_user_model
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction
from django.db.models import Max
from django.utils import timezone
from PIL import Image, ImageDraw, ImageFont

from extranet.core.workdays import Calendar, is_working_day
from extranet.notifications.models import OutgoingEmail
from requests import services
from requests.attachments import inspect_upload
from requests.catalog import MAS_REFERRAL
from requests.models import (
    AnswerTemplate,
    Attachment,
    Follow,
    Kind,
    MasReferral,
    Message,
    Request,
    Status,
    StatusChange,
)
from requests.nir import nir_key
from structures.models import Caisse

UDAF = "31834567800011"  # UDAF de la Gironde, conventioned with the Gironde (331) and the Loire (421)
ASSOCIATION = "77530082800016"  # Association Solidarité Santé Bordeaux, with the Gironde only
STRUCTURES = (UDAF, ASSOCIATION)
DETECTOR_PHONES = {UDAF: "05 36 49 10 20", ASSOCIATION: "05 36 49 27 41"}  # ARCEP's range for fiction


# When


@dataclass(frozen=True)
class When:
    working_days_ago: int = 0
    at: str = ""
    minutes_ago: int = 0

    def moment(self, now):
        if not self.at:
            return now - timedelta(minutes=self.minutes_ago)
        day = timezone.localdate(now)
        for _ in range(self.working_days_ago):
            day -= timedelta(days=1)
            # The demo's caisses (Gironde, Loire) keep the national holidays.
            while not is_working_day(day, calendar=Calendar.METROPOLE):
                day -= timedelta(days=1)
        return timezone.make_aware(datetime.combine(day, time.fromisoformat(self.at)))


def day(working_days_ago, at):
    """A working day before today (at least one: today's times are `ago`), at a local time of office hours."""
    assert working_days_ago >= 1 and "07:00" <= at <= "19:00", (working_days_ago, at)
    return When(working_days_ago, at)


def ago(minutes):
    """Today, this many minutes before now; at most four hours, so always after the previous working day's 19h00."""
    assert 0 < minutes <= 240, minutes
    return When(minutes_ago=minutes)


# Who


@dataclass(frozen=True)
class Person:
    civility: str
    last_name: str
    first_name: str
    birth: date
    birthplace: str  # INSEE code of the commune of birth (5 characters), or 99 + the country's code
    phone: str = ""
    email: str = ""

    def fields(self):
        """The person's fields of a request, with a NIR that agrees with the sex, birth date and birthplace."""
        order = zlib.crc32(f"{self.last_name} {self.first_name}".encode()) % 999 + 1
        body = f"{1 if self.civility == 'm' else 2}{self.birth:%y%m}{self.birthplace}{order:03d}"
        return {
            "person_civility": self.civility,
            "person_last_name": self.last_name,
            "person_first_name": self.first_name,
            "person_birth_date": self.birth,
            "person_nir": body + nir_key(body),
            "person_phone": self.phone,
            "person_email": self.email,
        }


def m(last_name, first_name, birth, birthplace, **contact):
    return Person("m", last_name, first_name, date.fromisoformat(birth), birthplace, **contact)


def mme(last_name, first_name, birth, birthplace, **contact):
    return Person("mme", last_name, first_name, date.fromisoformat(birth), birthplace, **contact)


# Files: small but genuine, since the services store what the upload checks (requests/attachments.py) accepted.


@dataclass(frozen=True)
class Pdf:
    name: str
    title: str
    lines: tuple = ()
    signed: bool = False

    def content(self):
        return one_page_pdf(self.title, self.lines, signed=self.signed)


@dataclass(frozen=True)
class Png:
    name: str
    lines: tuple = ()

    def content(self):
        return scanned_png(self.lines)


def _pdf_text(text):
    escaped = text.encode("cp1252").replace(b"\\", b"\\\\").replace(b"(", b"\\(").replace(b")", b"\\)")
    return b"(" + escaped + b")"


def one_page_pdf(title, lines, *, signed=False):
    """A one-page A4 PDF written by hand: a title, lines of text and, for a signed form, a signature stroke.

    A few hundred bytes in a millisecond, where WeasyPrint takes a quarter of a second a document; Helvetica with
    WinAnsiEncoding, so French accents need no embedded font.
    """
    text = [b"BT /F2 15 Tf 56 770 Td " + _pdf_text(title) + b" Tj /F1 11 Tf 16 TL 0 -12 Td"]
    text += [_pdf_text(line) + b" '" for line in ("", *lines)]
    text.append(b"ET")
    if signed:
        text.append(b"BT /F1 11 Tf 330 190 Td " + _pdf_text("Signature de la personne :") + b" Tj ET")
        text.append(b"q 1.2 w 0.1 0.1 0.45 RG 340 150 m 360 185 372 120 392 160 c 405 185 418 128 440 150 c S Q")
    stream = b"\n".join(text)
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R "
        b"/Resources << /Font << /F1 5 0 R /F2 6 0 R >> >> >>",
        b"<< /Length %d >>\nstream\n%s\nendstream" % (len(stream), stream),
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica-Bold /Encoding /WinAnsiEncoding >>",
    ]
    pdf, offsets = b"%PDF-1.4\n", []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(pdf))
        pdf += b"%d 0 obj\n%s\nendobj\n" % (number, body)
    xref = len(pdf)
    pdf += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    pdf += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    pdf += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    return pdf


def scanned_png(lines):
    """A document photographed or scanned by a partner: a grey page, a frame and capital letters (Pillow's own font
    has no accents; a form in capitals needs none)."""
    image = Image.new("L", (640, 420), 246)
    draw = ImageDraw.Draw(image)
    draw.rectangle((20, 20, 619, 399), outline=90, width=2)
    font = ImageFont.load_default(size=18)
    for row, line in enumerate(lines):
        draw.text((44, 44 + row * 34), line, fill=40, font=font)
    out = io.BytesIO()
    image.save(out, "PNG", optimize=True)
    return out.getvalue()


def uploads(files):
    """Files as the upload fields hand them to the services: (file, type, digest), checked the same way."""
    accepted = []
    for spec in files:
        uploaded = SimpleUploadedFile(spec.name, spec.content())
        accepted.append((uploaded, *inspect_upload(uploaded)))
    return accepted


# What happens to a request after its deposit


@dataclass(frozen=True)
class Take:
    when: When
    agent: str


@dataclass(frozen=True)
class Write:
    when: When
    author: str
    body: str
    files: tuple = ()
    internal: bool = False


@dataclass(frozen=True)
class Resolve:
    when: When
    agent: str
    answer: str
    files: tuple = ()


@dataclass(frozen=True)
class Reassign:
    when: When
    admin: str
    agent: str


@dataclass(frozen=True)
class LetterSent:
    """The caisse's letter confirming a consent collected at a distance (MAS)."""

    when: When
    agent: str


@dataclass(frozen=True)
class Star:
    when: When
    user: str


def note(when, agent, body, files=()):
    """An internal note: agents only, never shown to the structure."""
    return Write(when, agent, body, files, internal=True)


@dataclass(frozen=True)
class Referral:
    """The MAS referral form; `signed`: the person signed the sheet (attached), else consent at a distance."""

    contexts: tuple
    signed: bool
    actions: tuple = ()
    action_other: str = ""
    cares: tuple = ()
    care_other: str = ""
    duration: str = ""
    causes: tuple = ()
    cause_other: str = ""


@dataclass(frozen=True)
class Story:
    """A request: deposited by `author` (the key of a demo account: the part of its email before the @) for their
    structure, to the caisse `caisse`, at `deposited`; then the `steps`, in the order of their moments."""

    caisse: str
    author: str
    kind: str
    motif: str
    details: dict
    person: Person | None
    deposited: When
    files: tuple = ()
    steps: tuple = ()
    referral: Referral | None = None


# The details of each kind, with every field its form stores (requests/forms.py), empty when not answered.


def contact(motif, message, *, channel="phone", availabilities="Du lundi au vendredi, de 9h à 12h"):
    return {
        "kind": Kind.CONTACT,
        "motif": motif,
        "details": {"channel": channel, "availabilities": availabilities, "message": message},
        "person": None,
    }


def difficulty(motif, person, description):
    return {"kind": Kind.ACCESS_DIFFICULTY, "motif": motif, "details": {"description": description}, "person": person}


def mas(person, referral):
    return {
        "kind": MAS_REFERRAL.kind,
        "motif": MAS_REFERRAL.motif,
        "details": {},
        "person": person,
        "referral": referral,
    }


def appointment(motif, person, availabilities, *, channel="in_person", accompanied=False, message="", other=""):
    details = {
        "motif_other": other,
        "channel": channel,
        "availabilities": availabilities,
        "needs_accompaniment": "yes" if accompanied else "no",
        "message": message,
    }
    return {"kind": Kind.APPOINTMENT, "motif": motif, "details": details, "person": person}


def case_review(motif, person, description, *, other=""):
    return {
        "kind": Kind.CASE_REVIEW,
        "motif": motif,
        "details": {"motif_other": other, "description": description},
        "person": person,
    }


def document(motif, person, comment=""):
    return {"kind": Kind.DOCUMENT, "motif": motif, "details": {"comment": comment}, "person": person}


def story(caisse, author, demande, deposited, *steps, files=()):
    return Story(caisse, author, deposited=deposited, files=tuple(files), steps=steps, **demande)


# The people accompanied. The UDAF's are adults under guardianship, some affiliated in the Loire where they lived.

PRINCE = m("Prince", "Marius", "1961-04-02", "33063")
MOREL = mme("Morel", "Claire", "1979-11-23", "33281", phone="06 39 98 41 07")


def stories():
    gironde, loire = "331", "421"
    tech, gest, asso = "technicien", "gestionnaire", "technicien.asso"
    agent, admin, agent_loire = "agent", "admin", "agent.loire"
    return [
        # New, deposited today or yesterday.
        story(
            gironde,
            tech,
            contact(
                "regulatory",
                "Une personne sous curatelle renforcée arrive de la Haute-Vienne : faut-il une mutation de ses droits "
                "vers la Gironde, et quelles pièces préparer ?",
            ),
            ago(25),
        ),
        story(
            gironde,
            tech,
            difficulty(
                "emergency",
                mme("Lacombe", "Josiane", "1952-07-14", "33243"),
                "Sortie d'hospitalisation hier sans droits à jour : un traitement doit être délivré cette semaine et "
                "la pharmacie refuse le tiers payant.",
            ),
            ago(70),
            Star(ago(65), tech),
        ),
        story(
            gironde,
            asso,
            appointment(
                "c2s",
                mme("Belkacem", "Samira", "1990-02-08", "99350", phone="06 39 98 12 55"),
                "Mardi ou jeudi matin, avant 11h",
                accompanied=True,
                message="Madame lit difficilement le français ; une bénévole de l'association l'accompagnera.",
            ),
            day(1, "16:40"),
        ),
        story(
            gironde,
            asso,
            mas(
                mme("Benhaddou", "Fatima", "1968-09-30", "99352", phone="06 39 98 76 02"),
                Referral(
                    ("care_renunciation", "digital_fragility"),
                    signed=False,
                    actions=("c2s_application",),
                    cares=("medical_devices", "gp_or_specialist_consultations"),
                    duration="over_1_year",
                    causes=("out_of_pocket", "advance_payment"),
                ),
            ),
            day(1, "11:05"),
        ),
        story(
            loire,
            gest,
            document(
                "rights_certificate",
                m("Mounier", "Jean-Claude", "1957-03-19", "42218"),
                "Attestation demandée par la maison de retraite pour l'admission.",
            ),
            day(1, "09:20"),
        ),
        story(
            gironde,
            gest,
            case_review(
                "puma",
                m("Castaing", "Alain", "1984-12-01", "33318"),
                "Fin de droits PUMa signalée après une période à l'étranger ; le majeur protégé réside à Pessac "
                "depuis mars. Justificatif de résidence joint.",
            ),
            day(2, "14:30"),
            files=[
                Pdf(
                    "justificatif-residence.pdf",
                    "Attestation d'hébergement",
                    (
                        "Je soussignée, directrice du foyer Les Tilleuls à Pessac, atteste héberger",
                        "M. Alain Castaing depuis le 3 mars de cette année.",
                        "Document de démonstration.",
                    ),
                ),
            ],
        ),
        story(
            gironde,
            asso,
            document(
                "mt_dents",
                m("Da Silva", "Manuel", "2012-05-22", "33063"),
                "Le bon de l'examen M'T dents des 12 ans a été perdu lors d'un déménagement.",
            ),
            ago(150),
        ),
        story(
            loire,
            tech,
            appointment(
                "sick_leave",
                mme("Barbe", "Lucienne", "1971-01-27", "42187"),
                "Lundi ou vendredi après-midi",
                channel="phone",
                message="Arrêt prolongé depuis quatre mois : point sur le maintien des indemnités journalières.",
            ),
            ago(200),
        ),
        # New and already late: nobody has taken them within two working days.
        story(
            gironde,
            tech,
            case_review(
                "c2s",
                PRINCE,
                "Renouvellement de la C2S en attente depuis trois mois ; le dossier complet est joint.",
            ),
            day(4, "10:10"),
            Star(day(4, "10:12"), tech),
            files=[
                Pdf(
                    "dossier-renouvellement-c2s.pdf",
                    "Demande de renouvellement de la C2S",
                    (
                        "Bénéficiaire : M. Marius Prince, sous tutelle (UDAF de la Gironde).",
                        "Ressources des douze derniers mois : allocation aux adultes handicapés.",
                        "Pièces : jugement de tutelle, avis d'imposition, relevé de ressources.",
                    ),
                ),
            ],
        ),
        story(
            gironde,
            asso,
            contact(
                "services",
                "Nous souhaitons présenter à nos bénévoles l'offre d'accompagnement de la caisse (MAS, examen de "
                "prévention en santé) : une intervention lors de notre réunion mensuelle est-elle possible ?",
                channel="in_person",
                availabilities="Le premier mardi du mois, à partir de 18h",
            ),
            day(5, "15:00"),
        ),
        story(
            loire,
            tech,
            difficulty(
                "rights",
                m("Chazal", "Paul", "1949-10-05", "42207"),
                "Les droits de M. Chazal apparaissent clos depuis son entrée en EHPAD à Saint-Chamond ; il n'a pas "
                "changé de caisse.",
            ),
            day(6, "09:45"),
        ),
        story(
            gironde,
            tech,
            mas(
                m("Dupuy", "Gérard", "1963-06-11", "24322"),
                Referral(
                    ("rights_access", "complex_social_situation"),
                    signed=True,
                    actions=("social_action_application",),
                ),
            ),
            day(4, "17:10"),
            files=[
                Png(
                    "courrier-bailleur.png",
                    (
                        "COMMANDEMENT DE PAYER - LOYERS IMPAYES",
                        "LOCATAIRE : M. GERARD DUPUY",
                        "DOCUMENT DE DEMONSTRATION",
                    ),
                ),
            ],
        ),
        story(
            gironde,
            asso,
            appointment(
                "prevention_exam",
                m("Diop", "Ousmane", "1986-08-17", "99341"),
                "En semaine, le matin",
                message="Aucun suivi médical depuis son arrivée en France il y a deux ans.",
            ),
            day(7, "10:30"),
        ),
        story(
            gironde,
            gest,
            document(
                "ceam",
                mme("Lagarde", "Monique", "1955-04-09", "33522"),
                "Séjour d'un mois chez sa fille à Valence (Espagne) à partir du 15 du mois prochain.",
            ),
            day(4, "11:50"),
        ),
        # In progress, within the ten working days.
        story(
            gironde,
            tech,
            difficulty(
                "complex_case",
                MOREL,
                "Indemnités journalières interrompues après une reprise à temps partiel "
                "thérapeutique : aucun paiement depuis six semaines.",
            ),
            day(6, "10:00"),
            Take(day(5, "09:15"), agent),
            Write(
                day(5, "09:20"),
                agent,
                "Bonjour, pour reprendre le calcul, pouvez-vous nous transmettre les "
                "bulletins de salaire des trois mois précédant la reprise ?",
            ),
            Write(
                day(3, "14:05"),
                tech,
                "Bonjour, voici les bulletins que l'employeur nous a remis.",
                files=[
                    Png(
                        "bulletins-salaire.png",
                        (
                            "BULLETINS DE SALAIRE - TROIS DERNIERS MOIS",
                            "SALARIEE : MME CLAIRE MOREL",
                            "DOCUMENT DE DEMONSTRATION",
                        ),
                    ),
                ],
            ),
            Star(day(3, "14:06"), tech),
            note(
                day(2, "09:00"),
                agent,
                "Dossier transmis au service IJ, retour attendu sous 48 h. Ne pas relancer la structure d'ici là.",
            ),
        ),
        story(
            gironde,
            gest,
            appointment(
                "ame",
                m("Zerrouki", "Ahmed", "1975-03-03", "99352"),
                "Mercredi toute la journée",
                accompanied=True,
            ),
            day(4, "14:20"),
            Star(day(4, "14:21"), gest),
            Take(day(3, "10:00"), admin),
            Write(
                day(3, "10:05"),
                admin,
                "Un rendez-vous est proposé mercredi prochain à 14h30 à l'accueil de "
                "Mériadeck. Merci de nous confirmer la présence de M. Zerrouki et de son accompagnant.",
            ),
            Write(day(2, "11:40"), gest, "C'est confirmé : il sera accompagné par sa mandataire, Mme Lapierre."),
        ),
        story(
            gironde,
            asso,
            case_review(
                "financial_aid",
                mme("Traoré", "Aïcha", "1982-12-24", "99335"),
                "Demande d'aide financière pour des lunettes (reste à charge après la C2S) ; devis joint.",
            ),
            day(8, "09:30"),
            Take(day(6, "11:00"), agent),
            note(day(6, "11:10"), agent, "Passage en commission d'action sanitaire et sociale jeudi prochain."),
            files=[
                Pdf(
                    "devis-opticien.pdf",
                    "Devis - Optique Saint-Michel, Bordeaux",
                    (
                        "Monture et verres correcteurs : 420,00 EUR",
                        "Prise en charge C2S : 230,00 EUR - reste à charge : 190,00 EUR",
                        "Document de démonstration.",
                    ),
                )
            ],
        ),
        story(
            loire,
            tech,
            case_review(
                "c2s",
                m("Giraud", "Robert", "1966-07-29", "42147"),
                "Première demande de C2S pour un majeur protégé ; formulaire et justificatifs de ressources joints.",
            ),
            day(5, "16:00"),
            Take(day(4, "08:50"), agent_loire),
            Write(
                day(4, "09:05"),
                agent_loire,
                "Bonjour, il manque l'avis d'imposition de cette année (revenus de "
                "l'an dernier) : pouvez-vous nous le transmettre ?",
            ),
            files=[
                Pdf(
                    "formulaire-c2s.pdf",
                    "Demande de complémentaire santé solidaire",
                    (
                        "Demandeur : M. Robert Giraud, représenté par l'UDAF de la Gironde.",
                        "Foyer : une personne. Ressources : pension d'invalidité.",
                        "Document de démonstration.",
                    ),
                )
            ],
        ),
        story(
            gironde,
            asso,
            mas(
                m("Diallo", "Mamadou", "1978-01-15", "99335", phone="06 39 98 30 64"),
                Referral(
                    ("care_renunciation",),
                    signed=True,
                    actions=("c2s_application",),
                    cares=("gp_or_specialist_consultations", "surgery"),
                    duration="3_months_to_1_year",
                    causes=("rights_access", "complicated_procedures"),
                ),
            ),
            day(9, "10:20"),
            Take(day(8, "09:00"), agent),
            Write(
                day(8, "09:30"),
                agent,
                "La conseillère de la Mission accompagnement santé appellera M. Diallo "
                "d'ici la fin de la semaine. À quel moment est-il le plus facile à joindre ?",
            ),
            Write(day(7, "15:10"), asso, "Plutôt en fin de matinée ; s'il ne répond pas, il rappelle toujours."),
        ),
        story(
            gironde,
            tech,
            contact(
                "technical",
                "Nous ne parvenons plus à télécharger les attestations depuis le compte ameli des majeurs protégés : "
                "le code reçu par SMS arrive sur l'ancien numéro.",
                channel="video",
                availabilities="Jeudi après-midi",
            ),
            day(2, "10:45"),
            Take(day(1, "09:10"), agent),
        ),
        story(
            loire,
            gest,
            difficulty(
                "follow_up",
                mme("Faure", "Denise", "1944-02-18", "42095"),
                "Demande de remboursement de transport sanitaire déposée par l'assurée en mai, toujours sans réponse.",
            ),
            day(7, "11:30"),
            Take(day(6, "14:00"), agent_loire),
            Write(
                day(6, "14:10"),
                agent_loire,
                "Nous retrouvons bien la demande. Avez-vous la prescription médicale de transport correspondante ?",
            ),
            Write(
                day(5, "10:00"),
                gest,
                "Oui, la voici.",
                files=[
                    Png(
                        "prescription-transport.png",
                        (
                            "PRESCRIPTION MEDICALE DE TRANSPORT",
                            "PATIENTE : MME DENISE FAURE",
                            "DOCUMENT DE DEMONSTRATION",
                        ),
                    ),
                ],
            ),
            Star(day(5, "10:01"), gest),
            Write(
                day(3, "16:20"),
                agent_loire,
                "Merci, le remboursement est en cours de traitement ; nous revenons vers vous dès le paiement.",
            ),
        ),
        # In progress for more than ten working days: late.
        story(
            gironde,
            tech,
            mas(
                mme("Lacoste", "Yvette", "1958-05-06", "2A004"),
                Referral(
                    ("disability_care_renunciation", "digital_fragility"),
                    signed=False,
                    cares=("medical_devices", "other"),
                    care_other="Renouvellement du fauteuil roulant",
                    duration="over_2_years",
                    causes=("out_of_pocket", "transport"),
                ),
            ),
            day(14, "09:40"),
            Take(day(12, "10:00"), agent),
            LetterSent(day(11, "15:00"), agent),
            Write(
                day(11, "15:05"),
                agent,
                "Le courrier de confirmation de l'accord a été envoyé à Mme Lacoste. "
                "Un premier rendez-vous téléphonique lui sera proposé.",
            ),
            Write(
                day(9, "09:30"), tech, "Mme Lacoste a bien reçu le courrier et nous l'a montré ; elle attend l'appel."
            ),
            note(day(4, "17:00"), agent, "Devis du fauteuil demandé au prestataire, relance faite."),
        ),
        story(
            gironde,
            tech,
            case_review(
                "other",
                m("Peyrot", "Lucien", "1947-11-30", "47001"),
                "Frais de transport vers l'hôpital avancés par le majeur protégé depuis trois mois, faute de prise "
                "en charge.",
                other="Remboursement de frais de transport",
            ),
            day(16, "11:00"),
            Take(day(15, "09:30"), admin),
            Reassign(day(13, "09:00"), admin, agent),
            note(day(13, "09:05"), agent, "Repris de Thomas : attendre l'accord préalable du service médical."),
            files=[
                Pdf(
                    "factures-transport.pdf",
                    "Factures de transport - trois derniers mois",
                    (
                        "Taxi conventionné : 24 trajets aller-retour Agen - Bordeaux.",
                        "Montant avancé : 1 236,00 EUR.",
                        "Document de démonstration.",
                    ),
                )
            ],
        ),
        story(
            gironde,
            asso,
            difficulty(
                "rights",
                mme("Popa", "Elena", "1993-10-12", "99114", email="elena.popa@example.org"),
                "Mme Popa travaille à temps partiel depuis un an mais sa carte Vitale est refusée : ses droits "
                "semblent fermés.",
            ),
            day(13, "15:20"),
            Take(day(10, "10:30"), agent),
            Write(
                day(10, "10:40"),
                agent,
                "Les droits de Mme Popa sont bien ouverts ; la carte Vitale n'a "
                "sans doute pas été mise à jour. Nous vérifions la date de fin de sa période précédente.",
            ),
        ),
        story(
            loire,
            tech,
            appointment(
                "other",
                m("Couderc", "Fernand", "1950-09-09", "42218"),
                "Le matin, sauf le lundi",
                other="Renouvellement du protocole de soins (ALD)",
                accompanied=True,
            ),
            day(18, "09:00"),
            Take(day(16, "10:00"), agent_loire),
            note(day(16, "10:05"), agent_loire, "Attendre le retour du médecin traitant avant de fixer la date."),
        ),
        story(
            gironde,
            gest,
            document(
                "daily_allowance_certificate",
                m("Laborde", "Kevin", "1991-06-25", "64445"),
                "Pour la banque : attestation des indemnités journalières des six derniers mois.",
            ),
            day(12, "10:15"),
            Take(day(11, "11:00"), agent),
            Write(
                day(11, "11:15"),
                agent,
                "L'attestation suppose de reprendre deux périodes d'arrêt non "
                "enregistrées : pouvez-vous nous confirmer les dates d'arrêt ?",
            ),
            Write(day(8, "14:45"), gest, "Du 4 au 29 du mois dernier, puis à nouveau depuis le 8 de ce mois."),
        ),
        story(
            gironde,
            asso,
            contact(
                "other",
                "Pouvons-nous orienter vers vos permanences les personnes sans domicile stable que nous "
                "rencontrons lors des maraudes ?",
                channel="phone",
            ),
            day(20, "14:00"),
            Take(day(18, "09:00"), admin),
        ),
        # Resolved: the history of the last weeks.
        story(
            gironde,
            tech,
            contact(
                "regulatory",
                "Quelles pièces demander pour une première affiliation PUMa ?",
                availabilities="Mardi et jeudi après-midi",
            ),
            day(22, "10:00"),
            Take(day(21, "09:00"), agent),
            Resolve(
                day(21, "11:30"),
                agent,
                "Un justificatif d'identité et de résidence stable suffisent ; le "
                "formulaire S1106 est à joindre. La liste complète des pièces est jointe.",
                files=[
                    Pdf(
                        "pieces-affiliation-puma.pdf",
                        "Affiliation à la PUMa : pièces à fournir",
                        (
                            "1. Formulaire S1106 complété et signé.",
                            "2. Pièce d'identité ou titre de séjour en cours de validité.",
                            "3. Justificatif de résidence stable et régulière en France depuis plus de trois mois.",
                            "4. Pour un majeur protégé : copie du jugement de protection.",
                        ),
                    ),
                ],
            ),
        ),
        story(
            gironde,
            tech,
            document(
                "rights_certificate",
                PRINCE,
                "Demandée par le bailleur social pour la constitution du dossier.",
            ),
            day(3, "09:00"),
            Take(day(2, "10:00"), agent),
            Resolve(
                day(2, "10:20"),
                agent,
                "Voici l'attestation de droits de M. Prince.",
                files=[
                    Pdf(
                        "attestation-droits.pdf",
                        "Attestation de droits à l'assurance maladie",
                        (
                            "CPAM de la Gironde - attestation délivrée à M. Marius Prince.",
                            "Droits ouverts au titre de la protection universelle maladie.",
                            "Complémentaire santé solidaire : en cours de renouvellement.",
                            "Document de démonstration.",
                        ),
                    ),
                ],
            ),
        ),
        story(
            loire,
            gest,
            document(
                "ceam",
                mme("Brun", "Odette", "1953-08-02", "42218"),
                "Voyage en Italie avec le club de retraités.",
            ),
            day(9, "14:00"),
            Take(day(8, "09:00"), agent_loire),
            Resolve(
                day(7, "10:00"),
                agent_loire,
                "La carte européenne arrivera par courrier sous une quinzaine ; "
                "le certificat provisoire joint couvre le voyage d'ici là.",
                files=[
                    Pdf(
                        "certificat-provisoire-ceam.pdf",
                        "Certificat provisoire de remplacement de la CEAM",
                        (
                            "Titulaire : Mme Odette Brun.",
                            "Valable trois mois à compter de sa date de délivrance.",
                            "Document de démonstration.",
                        ),
                    ),
                ],
            ),
        ),
        story(
            gironde,
            asso,
            document(
                "vaccination",
                mme("Garcia", "Hélène", "1956-12-03", "33063"),
                "Bon de vaccination contre la grippe non reçu.",
            ),
            day(15, "11:00"),
            Take(day(14, "09:30"), agent),
            Resolve(
                day(14, "09:45"),
                agent,
                "Le bon de vaccination est joint ; Mme Garcia peut le présenter directement en pharmacie.",
                files=[
                    Pdf(
                        "bon-vaccination-grippe.pdf",
                        "Vaccination contre la grippe saisonnière",
                        (
                            "Bon de prise en charge du vaccin, à présenter au pharmacien.",
                            "Bénéficiaire : Mme Hélène Garcia.",
                            "Document de démonstration.",
                        ),
                    ),
                ],
            ),
        ),
        story(
            gironde,
            tech,
            case_review(
                "c2s",
                mme("Dubreuil", "Sylvie", "1969-04-16", "33039"),
                "Demande de C2S déposée par la mandataire ; ressources du foyer jointes.",
            ),
            day(30, "10:00"),
            Take(day(28, "09:30"), agent),
            Write(day(27, "10:00"), agent, "Merci de joindre le dernier relevé de la pension d'invalidité."),
            Write(
                day(25, "15:30"),
                tech,
                "Voici le relevé de la caisse de retraite.",
                files=[
                    Png(
                        "releve-pension.png",
                        ("RELEVE DE PENSION D'INVALIDITE", "MME SYLVIE DUBREUIL", "DOCUMENT DE DEMONSTRATION"),
                    ),
                ],
            ),
            Resolve(
                day(20, "16:00"),
                agent,
                "La complémentaire santé solidaire est accordée sans participation "
                "financière pour un an ; la notification est jointe.",
                files=[
                    Pdf(
                        "notification-c2s.pdf",
                        "Notification d'attribution de la C2S",
                        (
                            "Bénéficiaire : Mme Sylvie Dubreuil.",
                            "Complémentaire santé solidaire sans participation financière, pour douze mois.",
                            "Document de démonstration.",
                        ),
                    ),
                ],
            ),
            files=[
                Pdf(
                    "ressources-foyer.pdf",
                    "Déclaration des ressources du foyer",
                    (
                        "Allocataire : Mme Sylvie Dubreuil, sous curatelle renforcée.",
                        "Ressources des douze derniers mois : pension d'invalidité.",
                        "Document de démonstration.",
                    ),
                )
            ],
        ),
        story(
            gironde,
            gest,
            difficulty(
                "complex_case",
                m("Mesnard", "Thierry", "1972-02-29", "33119"),
                "Rétroactivité de la pension d'invalidité : indu réclamé sur les indemnités journalières de l'an "
                "dernier.",
            ),
            day(35, "09:15"),
            Take(day(34, "14:00"), admin),
            note(
                day(30, "10:00"),
                admin,
                "Indu confirmé par le service IJ ; une remise de dette est possible : orienter vers la commission.",
            ),
            Resolve(
                day(24, "11:00"),
                admin,
                "Un indu de 1 860 euros est confirmé. La remise de dette peut être "
                "demandée à la commission de recours amiable : le formulaire vous a été adressé par courrier.",
            ),
        ),
        story(
            gironde,
            asso,
            appointment(
                "ame",
                m("Haddad", "Youssef", "1988-07-07", "99351"),
                "Le matin",
                accompanied=True,
                message="Première demande d'AME ; la domiciliation vient d'être obtenue au CCAS.",
            ),
            day(25, "10:00"),
            Take(day(24, "09:00"), agent),
            Write(
                day(24, "09:10"),
                agent,
                "Rendez-vous fixé vendredi à 9h30, accueil de Mériadeck, guichet 4 : "
                "apporter l'attestation de domiciliation et un justificatif d'identité.",
            ),
            Write(day(23, "17:30"), asso, "Merci, nous l'accompagnerons."),
            Resolve(
                day(19, "12:00"),
                agent,
                "Le rendez-vous a eu lieu ; la demande d'AME est complète et en cours d'instruction.",
            ),
        ),
        story(
            loire,
            tech,
            difficulty(
                "emergency",
                m("Rivière", "Christophe", "1980-03-21", "42187"),
                "Droits fermés à tort la veille d'une opération programmée.",
            ),
            day(11, "08:45"),
            Take(day(11, "09:30"), agent_loire),
            Resolve(
                day(10, "12:00"),
                agent_loire,
                "Les droits sont rétablis depuis ce matin ; la clinique peut facturer normalement.",
            ),
        ),
        story(
            gironde,
            asso,
            mas(
                mme("Popescu", "Ioana", "1974-10-28", "99114"),
                Referral(
                    ("rights_access", "complex_social_situation"),
                    signed=True,
                    actions=("c2s_application", "other"),
                    action_other="Domiciliation administrative au CCAS",
                ),
            ),
            day(40, "10:30"),
            Take(day(38, "09:00"), agent),
            Write(
                day(37, "11:00"),
                agent,
                "La conseillère MAS a rencontré Mme Popescu ; le dossier de C2S est parti en instruction.",
            ),
            Resolve(
                day(26, "15:00"),
                agent,
                "Accompagnement terminé : droits ouverts, C2S accordée et médecin traitant déclaré.",
            ),
        ),
        story(
            gironde,
            tech,
            mas(
                m("Vidal", "Alain", "1960-01-12", "33009"),
                Referral(
                    ("care_renunciation",),
                    signed=False,
                    cares=("pharmacy", "gp_or_specialist_consultations"),
                    duration="under_3_months",
                    causes=("appointment_delays", "other"),
                    cause_other="Plus de médecin traitant depuis le départ en retraite du sien",
                ),
            ),
            day(32, "14:10"),
            Take(day(31, "10:00"), agent),
            LetterSent(day(30, "16:00"), agent),
            Resolve(
                day(18, "10:30"),
                agent,
                "Un médecin traitant a accepté M. Vidal à Arcachon ; l'accompagnement MAS est clos.",
            ),
        ),
        story(
            loire,
            gest,
            case_review(
                "puma",
                mme("Darrieux", "Chantal", "1965-05-05", "42218"),
                "Affiliation en qualité d'ayant droit devenue autonome après un divorce.",
            ),
            day(28, "11:00"),
            Take(day(26, "14:30"), agent_loire),
            Resolve(
                day(21, "09:45"),
                agent_loire,
                "Mme Darrieux est affiliée à titre personnel ; l'attestation est jointe.",
                files=[
                    Pdf(
                        "attestation-affiliation.pdf",
                        "Attestation d'affiliation à la PUMa",
                        (
                            "Assurée : Mme Chantal Darrieux, affiliée à titre personnel.",
                            "CPAM de la Loire.",
                            "Document de démonstration.",
                        ),
                    ),
                ],
            ),
            files=[
                Pdf(
                    "jugement-divorce.pdf",
                    "Extrait de jugement de divorce",
                    (
                        "Extrait certifié conforme, tribunal judiciaire de Saint-Étienne.",
                        "Document de démonstration.",
                    ),
                )
            ],
        ),
        story(
            gironde,
            asso,
            contact(
                "services",
                "Quels supports d'information sur l'examen de prévention en santé pouvons-nous distribuer ?",
                channel="video",
                availabilities="Le lundi",
            ),
            day(18, "09:00"),
            Take(day(17, "10:00"), admin),
            Resolve(
                day(17, "10:30"),
                admin,
                "Des affiches et dépliants vous seront envoyés ; l'examen se réserve en ligne ou au 36 46.",
            ),
        ),
        story(
            gironde,
            tech,
            appointment(
                "sick_leave",
                m("Marty", "Lucas", "1995-09-18", "31555"),
                "Mardi après-midi",
                channel="phone",
            ),
            day(8, "15:00"),
            Take(day(7, "09:00"), agent),
            Resolve(
                day(6, "14:00"),
                agent,
                "Rendez-vous téléphonique confirmé mardi à 15 heures avec le service des indemnités journalières.",
            ),
        ),
        story(
            gironde,
            gest,
            appointment(
                "prevention_exam",
                mme("Labat", "Marie-Thérèse", "1951-06-30", "33249"),
                "Le jeudi",
                accompanied=True,
            ),
            day(38, "10:00"),
            Take(day(36, "11:00"), agent),
            Resolve(
                day(33, "09:00"),
                agent,
                "L'examen de prévention est réservé au centre d'examens de santé de "
                "Bordeaux, le 12 à 8h30 ; la convocation part par courrier.",
            ),
        ),
        story(
            gironde,
            asso,
            case_review(
                "ame_renewal",
                mme("Konaté", "Mariam", "1984-03-14", "99326"),
                "Renouvellement de l'AME : la carte expire à la fin du mois.",
            ),
            day(27, "16:30"),
            Take(day(25, "09:00"), agent),
            Write(
                day(25, "09:15"),
                agent,
                "Merci de compléter le formulaire joint et de nous le renvoyer signé.",
                files=[
                    Pdf(
                        "formulaire-renouvellement-ame.pdf",
                        "Demande de renouvellement de l'AME",
                        (
                            "À compléter et à signer par la personne, puis à retourner à la caisse.",
                            "Document de démonstration.",
                        ),
                    )
                ],
            ),
            Write(
                day(22, "11:00"),
                asso,
                "Le voici, signé par Mme Konaté.",
                files=[
                    Pdf(
                        "renouvellement-ame-signe.pdf",
                        "Demande de renouvellement de l'AME",
                        (
                            "Demandeuse : Mme Mariam Konaté.",
                            "Document de démonstration.",
                        ),
                        signed=True,
                    ),
                ],
            ),
            Resolve(
                day(16, "10:00"),
                agent,
                "L'AME est renouvelée pour un an ; la nouvelle carte est à retirer à l'accueil de Mériadeck.",
            ),
            files=[
                Png("carte-ame.png", ("CARTE D'ADMISSION A L'AME", "MME MARIAM KONATE", "DOCUMENT DE DEMONSTRATION"))
            ],
        ),
    ]


# Running the stories


# Rows a service leaves stamped by their column default (`default=timezone.now` is the function bound when the model
# was defined: the patched clock does not reach it), and those columns.
DEFAULT_STAMPED = {
    Message: ("created_at",),
    Attachment: ("uploaded_at",),
    StatusChange: ("at",),
    Follow: ("created_at",),
}


@contextmanager
def clock(moment):
    """Run a service as if it were `moment`: `timezone.now()` answers it, so the service stamps its number (the year),
    its dates and its log rows with it, as it would have then. Backdating the rows afterwards would have left the
    numbers with the year of the seeding: wrong for a history that starts in December, seeded in January.

    A patch of the clock is fine for this one-shot command (one thread, one transaction); the services themselves
    take no date. The rows stamped by a column default get the moment just after the service ran."""
    last = {model: model.objects.aggregate(last=Max("pk"))["last"] or 0 for model in (*DEFAULT_STAMPED, OutgoingEmail)}
    with mock.patch("django.utils.timezone.now", lambda: moment):
        yield
    for model, columns in DEFAULT_STAMPED.items():
        model.objects.filter(pk__gt=last[model]).update(**dict.fromkeys(columns, moment))
    # The story's emails went out at the time, in the story: printed now, a hundred of them would bury the logins.
    OutgoingEmail.objects.filter(pk__gt=last[OutgoingEmail]).update(
        created_at=moment, next_attempt_at=moment, state=OutgoingEmail.State.SENT, sent_at=moment, attempts=1
    )


def referral_fields(referral, author, structure, deposited):
    return {
        "referral_date": timezone.localdate(deposited),
        "contexts": list(referral.contexts),
        "actions": list(referral.actions),
        "action_other": referral.action_other,
        "cares": list(referral.cares),
        "care_other": referral.care_other,
        "renunciation_duration": referral.duration,
        "causes": list(referral.causes),
        "cause_other": referral.cause_other,
        "detector_name": author.get_full_name(),
        "detector_structure": structure.name,
        "detector_email": author.email,
        "detector_phone": DETECTOR_PHONES[structure.siret],
        "consent_mode": MasReferral.ConsentMode.SIGNED if referral.signed else MasReferral.ConsentMode.REMOTE,
    }


def consent_sheet(person, author, structure, deposited):
    """The referral sheet the person signed, as the partner scanned it."""
    return Pdf(
        "fiche-saisine-mas-signee.pdf",
        "Fiche de saisine - Mission accompagnement santé",
        (
            f"Personne : {person.first_name} {person.last_name}, {'né' if person.civility == 'm' else 'née'} le "
            f"{person.birth:%d/%m/%Y}.",
            f"Détecteur : {author.get_full_name()} ({structure.name}).",
            f"Date de la saisine : {timezone.localdate(deposited):%d/%m/%Y}.",
            "J'ai pris connaissance de la notice d'information et j'accepte d'être accompagné(e)",
            "par la Mission accompagnement santé de l'Assurance Maladie.",
        ),
        signed=True,
    )


class Seeder:
    """Deposits a story's request, then runs its steps, each at its moment, by the demo accounts they name."""

    def __init__(self, now):
        self.now = now
        self.users = {
            user.email.removesuffix("@demo.example"): user
            for user in get_user_model()
            .objects.filter(email__endswith="@demo.example")
            .select_related("membership__structure", "caissemembership")
        }
        self.caisses = {caisse.code: caisse for caisse in Caisse.objects.all()}

    def deposit(self, item):
        author = self.users[item.author]
        structure = author.membership.structure
        moment = item.deposited.moment(self.now)
        deposit = {
            "structure": structure,
            "caisse": self.caisses[item.caisse],
            "author": author,
            "person": item.person.fields() if item.person else {},
            "files": uploads(item.files),
        }
        with clock(moment):
            if item.referral is None:
                return services.deposit_request(kind=item.kind, motif=item.motif, details=item.details, **deposit)
            consent = [consent_sheet(item.person, author, structure, moment)] if item.referral.signed else []
            return services.deposit_mas_referral(
                referral=referral_fields(item.referral, author, structure, moment),
                consent_document=uploads(consent),
                # At a distance, the partner read the information notice to the person before they agreed.
                notice_given=not item.referral.signed,
                **deposit,
            )

    def run(self, demande, step):
        user = self.users
        with clock(step.when.moment(self.now)):
            match step:
                case Take():
                    services.take_charge(demande, agent=user[step.agent])
                case Write():
                    services.post_message(
                        demande,
                        author=user[step.author],
                        body=step.body,
                        internal=step.internal,
                        files=uploads(step.files),
                    )
                case Resolve():
                    services.resolve(demande, agent=user[step.agent], answer=step.answer, files=uploads(step.files))
                case Reassign():
                    services.reassign(demande, admin=user[step.admin], agent=user[step.agent])
                case LetterSent():
                    services.mark_confirmation_letter_sent(demande, agent=user[step.agent])
                case Star():
                    services.toggle_follow(demande, user[step.user])


def demo_requests():
    return Request.objects.filter(structure__siret__in=STRUCTURES)


def _count(number, singular, plural):
    return f"{number} {singular if number == 1 else plural}"


def summary(requests, *, created):
    """One line: "42 demandes créées : 14 nouvelles, 13 prises en charge, 15 résolues ; 2 caisses, 2 structures"."""
    statuses = Counter(demande.status for demande in requests)
    total = (
        _count(len(requests), "demande créée", "demandes créées")
        if created
        else _count(len(requests), "demande", "demandes")
    )
    return (
        f"{total} : {_count(statuses[Status.NEW], 'nouvelle', 'nouvelles')}, "
        f"{_count(statuses[Status.IN_PROGRESS], 'prise en charge', 'prises en charge')}, "
        f"{_count(statuses[Status.RESOLVED], 'résolue', 'résolues')} ; "
        f"{_count(len({demande.caisse_id for demande in requests}), 'caisse', 'caisses')}, "
        f"{_count(len({demande.structure_id for demande in requests}), 'structure', 'structures')}"
    )


@transaction.atomic
def seed_requests(now=None):
    """Deposit and work the demo's requests, all of them in the order of their moments (numbers follow the deposit
    dates, as they would have); nothing when the demo structures already have requests. Returns those created."""
    if demo_requests().exists():
        return []
    now = now or timezone.now()
    seeder = Seeder(now)
    events = []
    for index, item in enumerate(stories()):
        deposited = item.deposited.moment(now)
        steps = [(step.when.moment(now), step) for step in item.steps]
        # Within a story, the deposit comes first, then the steps in their written order.
        moments = [deposited, *(moment for moment, _ in steps)]
        assert moments == sorted(moments) and deposited not in moments[1:], f"story {index} is not in order"
        events.append((deposited, index, 0, item))
        events += [(moment, index, position, step) for position, (moment, step) in enumerate(steps, start=1)]
    created = {}
    for _, index, _, event in sorted(events, key=lambda event: event[:3]):
        if isinstance(event, Story):
            created[index] = seeder.deposit(event)
        else:
            seeder.run(created[index], event)
    return list(Request.objects.filter(pk__in=[demande.pk for demande in created.values()]).order_by("created_at"))


# Canned texts of each demo caisse (AnswerTemplate), with their placeholders (requests/canned.py).
ANSWER_TEMPLATES = [
    (
        "message",
        "",
        "Demande de pièce complémentaire",
        "Bonjour,\n\nPour traiter la demande {numero}, pouvez-vous nous transmettre le dernier avis d'imposition de "
        "{civilite} {nom} ?\n\nCordialement,",
    ),
    (
        "message",
        "appointment",
        "Rendez-vous à confirmer",
        "Bonjour,\n\nNous proposons un rendez-vous à {civilite} {nom} : pouvez-vous nous confirmer ses "
        "disponibilités (demande {numero}) ?",
    ),
    (
        "answer",
        "",
        "Droits ouverts",
        "Bonjour,\n\nLes droits de {civilite} {nom} sont ouverts. L'attestation est jointe à la demande {numero}."
        "\n\nCordialement,",
    ),
    (
        "answer",
        "document",
        "Document joint",
        "Bonjour,\n\nVous trouverez ci-joint le document demandé pour {civilite} {nom} (demande {numero}).",
    ),
]


@transaction.atomic
def seed_answer_templates(caisse):
    """The demo caisse's canned messages and answers; nothing when it already has some."""
    if AnswerTemplate.objects.filter(caisse=caisse).exists():
        return []
    return AnswerTemplate.objects.bulk_create(
        AnswerTemplate(caisse=caisse, purpose=purpose, kind=kind, title=title, body=body)
        for purpose, kind, title, body in ANSWER_TEMPLATES
    )
