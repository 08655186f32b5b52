"""Form data and real small files for the request tests."""

import io
import re

from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone
from PIL import Image

from tests.factories import make_nir

NIR = make_nir()  # 1 85 05 75 056 123 + key: born in May 1985
NIR_SPACED = " ".join((NIR[0], NIR[1:3], NIR[3:5], NIR[5:7], NIR[7:10], NIR[10:13], NIR[13:]))

PERSON = {
    "person_civility": "m",
    "person_last_name": "Lefebvre-Kermadec",
    "person_first_name": "Armandine",
    "person_birth_date": "1985-05-12",
    "person_nir": NIR_SPACED,
    "person_phone": "06 12 34 56 78",
    "person_email": "armandine.lk@exemple.fr",
}
PERSON_FIELDS = list(PERSON)
REQUIRED_PERSON_FIELDS = {
    "person_civility",
    "person_last_name",
    "person_first_name",
    "person_birth_date",
    "person_nir",
}

# The caisse a deposit page shows and sends (the `caisse` fixture's).
CAISSE_CODE = "331"

SLUGS = ["contacter", "signaler", "rendez-vous", "etude-de-dossier", "document"]
KIND_OF_SLUG = {
    "contacter": "contact",
    "signaler": "access_difficulty",
    "rendez-vous": "appointment",
    "etude-de-dossier": "case_review",
    "document": "document",
}
# What each kind asks besides the person concerned, filled as a user would.
KIND_FIELDS = {
    "contacter": {
        "motif": "technical",
        "channel": "phone",
        "availabilities": "Lundi et jeudi matin",
        "message": "Comment déclarer un changement d'adresse pour nos usagers ?",
    },
    "signaler": {"motif": "rights", "description": "Rupture de droits depuis le mois de mars."},
    "rendez-vous": {
        "motif": "c2s",
        "motif_other": "",
        "channel": "in_person",
        "availabilities": "Mardi après-midi",
        "needs_accompaniment": "yes",
        "message": "Personne malentendante.",
    },
    "etude-de-dossier": {"motif": "puma", "motif_other": "", "description": "Dossier PUMa déposé en janvier."},
    "document": {"motif": "vaccination", "comment": "Calendrier vaccinal à jour."},
}
TEXT_FIELDS = {
    "contacter": ["availabilities", "message"],
    "signaler": ["description"],
    "rendez-vous": ["motif_other", "availabilities", "message"],
    "etude-de-dossier": ["motif_other", "description"],
    "document": ["comment"],
}


def create_url(slug):
    return f"/demandes/nouvelle/{slug}/"


PDF_HEAD = b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n"
CATALOG = b"<< /Type /Catalog /Pages 2 0 R >>"
PAGES = b"<< /Type /Pages /Kids [] /Count 0 >>"


def pdf_document(objects, *, comment=b"", head=PDF_HEAD):
    """A PDF as a viewer reads it without repairing anything: the objects ({number: body}, numbered from 1, the
    catalog first), their cross-reference table, and `comment` before the trailer."""
    out = bytearray(head)
    offsets = []
    for number in range(1, len(objects) + 1):
        offsets.append(len(out))
        out += b"%d 0 obj\n%s\nendobj\n" % (number, objects[number])
    out += comment
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    return bytes(out)


def pdf_bytes(text="Justificatif"):
    return pdf_document({1: CATALOG, 2: PAGES}, comment=b"% " + text.encode() + b"\n")


def image_bytes(fmt="PNG", size=(4, 3), color=(200, 30, 30)):
    buffer = io.BytesIO()
    Image.new("RGB", size, color).save(buffer, format=fmt)
    return buffer.getvalue()


def upload(name, content, content_type="application/octet-stream"):
    return SimpleUploadedFile(name, content, content_type=content_type)


def a_pdf(name="justificatif.pdf", text="Justificatif"):
    return upload(name, pdf_bytes(text), "application/pdf")


def form_data(slug, *, files=None, **overrides):
    """A valid submission of this kind (with the person concerned, but for "contacter")."""
    data = dict(KIND_FIELDS[slug], caisse=CAISSE_CODE)
    if slug != "contacter":
        data |= PERSON
    if slug == "etude-de-dossier" and files is None:
        files = [a_pdf()]
    if files:
        data["attachments"] = files
    return data | overrides


SHOWN_CAISSE = re.compile(r'<input type="hidden" name="caisse" id="id_caisse" value="([^"]*)">')


def shown_caisse(response):
    """The code of the caisse a deposit page shows, which its form sends."""
    return SHOWN_CAISSE.search(response.content.decode()).group(1)


def empty_submission(slug):
    """What a browser sends when the user submits the form without filling anything."""
    names = TEXT_FIELDS[slug] + ([] if slug == "contacter" else [f for f in PERSON_FIELDS if f != "person_civility"])
    return dict.fromkeys(names, "") | {"caisse": CAISSE_CODE}


NUMBER = re.compile(r'<span class="font-monospace">(\d{10})</span>')


def listed_numbers(response):
    """The request numbers in a history page, in the order shown."""
    return NUMBER.findall(response.content.decode())


MAS_REFERRAL_URL = "/demandes/nouvelle/saisine-mas/"


def referral_data(**overrides):
    return {
        "caisse": CAISSE_CODE,
        "referral_date": timezone.localdate().isoformat(),
        "contexts": ["care_renunciation", "digital_fragility"],
        "person_civility": "mme",
        "person_last_name": "Durand",
        "person_first_name": "Léa",
        "person_birth_date": "1985-05-12",
        "person_nir": make_nir(sex="2"),
        "person_phone": "06 12 34 56 78",
        "detector_email": "referente@exemple.fr",
        "detector_phone": "05 56 00 00 00",
        "actions": ["c2s_application"],
        "cares": ["pharmacy", "other"],
        "care_other": "Kinésithérapie",
        "renunciation_duration": "over_1_year",
        "causes": ["transport"],
        "consent_mode": "remote",
        "notice_given": "on",
    } | overrides


def api_body(kind, data):
    """A submission as the pages post it (flat: `form_data`, or a MAS referral's) as the API's deposit body: the
    person's fields in `person`, the kind's details in `details`, the MAS referral's own in `mas_referral`. Files and
    the page's one-time token stay out (the API takes files in multipart, beside the body)."""
    from requests.catalog import KINDS

    body = {"kind": kind}
    details = {spec.name for spec in KINDS[kind].details}
    for name, value in data.items():
        if name in ("motif", "caisse"):
            body[name] = value
        elif name.startswith("person_"):
            body.setdefault("person", {})[name.removeprefix("person_")] = value
        elif name in ("attachments", "consent_document", "deposit_token"):
            continue
        elif name in details and data.get("motif") != "mas_referral":
            body.setdefault("details", {})[name] = value
        else:
            # A page posts a ticked box as "on", an unticked one not at all; JSON says true or false.
            value = value == "on" if name == "notice_given" and isinstance(value, str) else value
            body.setdefault("mas_referral", {})[name] = value
    return body


def api_deposit(client, kind, data, **extra):
    """Deposit `data` (flat, as the pages post it) through the API: JSON, or multipart when it carries files."""
    import json

    body = api_body(kind, data)
    files = {name: data[name] for name in ("attachments", "consent_document") if data.get(name)}
    if files:
        return client.post("/api/v1/requests/", {"data": json.dumps(body), **files}, format="multipart", **extra)
    return client.post("/api/v1/requests/", body, format="json", **extra)
