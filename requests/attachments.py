"""Checks on uploaded files: the type comes from the content, never from the name alone."""

import hashlib
import io
import re
import unicodedata
import zlib
from pathlib import PurePath

from django import forms
from django.conf import settings
from django.core.exceptions import ValidationError
from django.template.defaultfilters import filesizeformat
from PIL import Image, UnidentifiedImageError

from requests.models import Attachment

FileType = Attachment.FileType

# extension → (type, leading bytes every such file starts with)
ACCEPTED = {
    ".pdf": (FileType.PDF, b"%PDF-"),
    ".jpg": (FileType.JPEG, b"\xff\xd8\xff"),
    ".jpeg": (FileType.JPEG, b"\xff\xd8\xff"),
    ".png": (FileType.PNG, b"\x89PNG\r\n\x1a\n"),
}
PILLOW_FORMATS = {FileType.JPEG: "JPEG", FileType.PNG: "PNG"}


def clean_original_name(name):
    """The name shown and offered at download: no folders, no control or bidirectional characters."""
    name = PurePath(name.replace("\\", "/")).name
    name = "".join(ch for ch in name if unicodedata.category(ch)[0] != "C")
    name = name.strip(" .") or "document"
    stem, suffix = PurePath(name).stem, PurePath(name).suffix.lower()
    return f"{stem[: 100 - len(suffix)]}{suffix}"


def _looks_complete(data, file_type):
    if file_type == FileType.PDF:
        return b"%%EOF" in data[-2048:]
    try:
        with Image.open(io.BytesIO(data)) as image:
            if image.format != PILLOW_FORMATS[file_type]:
                return False
            image.verify()
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError):
        return False
    return True


# PDF names that run code, launch programs or carry files: such a PDF is refused outright. Names may be written
# with #xx escapes (/J#61vaScript), so they are decoded before comparison.
PDF_NAME = re.compile(rb"/([^\x00\t\n\x0c\r /%()<>\[\]{}]+)")
PDF_HEX_ESCAPE = re.compile(rb"#([0-9A-Fa-f]{2})")
PDF_ACTIVE_NAMES = {b"JS", b"JavaScript", b"Launch", b"EmbeddedFile", b"EmbeddedFiles", b"OpenAction"}
PDF_STREAM = re.compile(rb"stream\r?\n")
PDF_INFLATE_BUDGET = 32 * 1024 * 1024  # decompressed bytes looked at, at most: a deflate bomb stops here


def _pdf_texts(data):
    """The raw bytes, then the content of each deflated stream (object streams may hide the catalog)."""
    yield data
    budget = PDF_INFLATE_BUDGET
    for match in PDF_STREAM.finditer(data):
        if budget <= 0:
            return
        inflater = zlib.decompressobj()
        try:
            inflated = inflater.decompress(memoryview(data)[match.end() :], budget)
        except zlib.error:
            continue
        budget -= len(inflated)
        yield inflated


def _pdf_active_content(data):
    for text in _pdf_texts(data):
        for match in PDF_NAME.finditer(text):
            name = PDF_HEX_ESCAPE.sub(lambda m: bytes([int(m.group(1), 16)]), match.group(1))
            if name not in PDF_ACTIVE_NAMES:
                continue
            # An opening view given as a destination ([page /Fit]) is what office suites write: harmless.
            if name == b"OpenAction" and text[match.end() :].lstrip().startswith(b"["):
                continue
            return True
    return False


def _png_end(data):
    position = 8
    while position + 12 <= len(data):
        length = int.from_bytes(data[position : position + 4], "big")
        chunk_type = data[position + 4 : position + 8]
        position += 12 + length
        if chunk_type == b"IEND":
            return position
    return None


def _jpeg_end(data):
    """Where the End Of Image marker closes the main image (a thumbnail's own FFD9 lies inside a segment)."""
    position = 2
    while position + 1 < len(data):
        if data[position] != 0xFF:
            return None
        while position + 1 < len(data) and data[position + 1] == 0xFF:  # fill bytes
            position += 1
        if position + 1 >= len(data):
            return None
        marker = data[position + 1]
        position += 2
        if marker == 0xD9:
            return position
        if marker == 0x01 or 0xD0 <= marker <= 0xD7:
            continue
        position += int.from_bytes(data[position : position + 2], "big")
        if marker == 0xDA:  # entropy-coded data runs to the next marker that is not a stuffed byte or a restart
            while True:
                position = data.find(b"\xff", position)
                if position < 0 or position + 1 >= len(data):
                    return None
                following = data[position + 1]
                if following == 0x00 or 0xD0 <= following <= 0xD7 or following == 0xFF:
                    position += 1 if following == 0xFF else 2
                    continue
                break
    return None


# Markup or server code in an image only serves a browser or a server tricked into reading it as something else.
IMAGE_MARKUP = re.compile(rb"<\s*(script|\?php|html|svg|iframe|!doctype|body|object|embed)\b|<\?=", re.IGNORECASE)


def _image_has_payload(data, file_type):
    end = _png_end(data) if file_type == FileType.PNG else _jpeg_end(data)
    return end is None or data[end:].strip(b"\x00") != b"" or IMAGE_MARKUP.search(data) is not None


def inspect_upload(uploaded):
    """Returns (type, sha256 hex) for an acceptable file, or raises a ValidationError naming the file."""
    shown = clean_original_name(uploaded.name)
    suffix = PurePath(shown).suffix.lower()
    if suffix not in ACCEPTED:
        raise ValidationError(
            f"« {shown} » : seuls les fichiers PDF, JPEG et PNG sont acceptés.", code="file_extension"
        )
    if uploaded.size == 0:
        raise ValidationError(f"« {shown} » est vide.", code="file_empty")
    if uploaded.size > settings.ATTACHMENT_MAX_SIZE:
        raise ValidationError(
            f"« {shown} » pèse {filesizeformat(uploaded.size)} : la taille maximale est de "
            f"{filesizeformat(settings.ATTACHMENT_MAX_SIZE)} par fichier.",
            code="file_size",
        )
    uploaded.seek(0)
    data = uploaded.read()
    uploaded.seek(0)
    file_type, signature = ACCEPTED[suffix]
    if not data.startswith(signature) or not _looks_complete(data, file_type):
        raise ValidationError(
            f"« {shown} » n'est pas un fichier {file_type.label} valide : son contenu ne correspond pas à son "
            "extension. Enregistrez le document au format PDF, JPEG ou PNG puis déposez-le de nouveau.",
            code="file_content",
        )
    if file_type == FileType.PDF and _pdf_active_content(data):
        raise ValidationError(
            f"« {shown} » contient du code (JavaScript), une action automatique ou des fichiers intégrés, "
            "refusés pour la sécurité de tous. Imprimez le document en PDF (ou numérisez-le) puis "
            "déposez-le de nouveau.",
            code="file_active_content",
        )
    if file_type in PILLOW_FORMATS and _image_has_payload(data, file_type):
        raise ValidationError(
            f"« {shown} » contient, en plus de l'image, des données étrangères à une image, refusées pour la "
            "sécurité de tous. Enregistrez l'image de nouveau (par exemple par une capture ou un export en "
            "JPEG ou PNG) puis déposez-la de nouveau.",
            code="file_payload",
        )
    return file_type, hashlib.sha256(data).hexdigest()


TOO_FEW_ATTACHMENTS = "Joignez au moins un justificatif."


class MultipleFileInput(forms.FileInput):
    allow_multiple_selected = True


class AttachmentsField(forms.FileField):
    """Several files in one field, each checked; the whole set within the count limit."""

    widget = MultipleFileInput

    def __init__(self, *, min_count=0, **kwargs):
        self.min_count = min_count
        kwargs.setdefault("label", "Pièces jointes")
        kwargs.setdefault(
            "help_text",
            f"PDF, JPEG ou PNG, {filesizeformat(settings.ATTACHMENT_MAX_SIZE)} au plus par fichier, "
            f"{settings.ATTACHMENT_MAX_COUNT} fichiers au plus. Joignez seulement les pièces utiles à la demande.",
        )
        super().__init__(required=min_count > 0, **kwargs)
        self.widget.attrs["accept"] = ".pdf,.jpg,.jpeg,.png,application/pdf,image/jpeg,image/png"

    def clean(self, data, initial=None):
        files = [item for item in (data if isinstance(data, (list, tuple)) else [data]) if item]
        if len(files) < self.min_count:
            raise ValidationError(TOO_FEW_ATTACHMENTS, code="required")
        if len(files) > settings.ATTACHMENT_MAX_COUNT:
            raise ValidationError(
                f"Vous avez joint {len(files)} fichiers : {settings.ATTACHMENT_MAX_COUNT} au plus par envoi.",
                code="file_count",
            )
        errors, accepted = [], []
        for uploaded in files:
            try:
                file_type, digest = inspect_upload(uploaded)
            except ValidationError as error:
                errors.append(error)
            else:
                accepted.append((uploaded, file_type, digest))
        if errors:
            raise ValidationError(errors)
        return accepted
