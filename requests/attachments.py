"""Checks on uploaded files: the type comes from the content, never from the name alone."""

import hashlib
import io
import unicodedata
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
    return file_type, hashlib.sha256(data).hexdigest()


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
            raise ValidationError("Joignez au moins un justificatif.", code="required")
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
