"""Checks on uploaded files: the type comes from the content, never from the name alone."""

import contextlib
import hashlib
import io
import os
import re
import resource
import select
import signal
import unicodedata
import warnings
import zipfile
from pathlib import PurePath

import pikepdf
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


class ImageTooLarge(Exception):
    pass


def _looks_complete(data, file_type):
    """Whether the image is whole and of its type. Raises ImageTooLarge for an image whose header announces more
    pixels than Pillow accepts to decode (a few hundred bytes may announce gigabytes: a "bomb")."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data)) as image:
                if image.format != PILLOW_FORMATS[file_type]:
                    return False
                image.verify()
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as bomb:
        raise ImageTooLarge from bomb
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError):
        return False
    return True


# What runs code, launches programs, submits or fetches data, or carries files in a PDF: such a PDF is refused
# outright, wherever the object sits (object streams included) and whatever its filters, since qpdf reads the objects
# as a viewer does (names unescaped, object streams decoded). Dictionary keys, and the values of /S (action types),
# /Type and /Subtype.
PDF_ACTIVE_KEYS = {"/JS", "/JavaScript", "/AA", "/EmbeddedFiles", "/EF", "/XFA", "/RichMediaContent"}
PDF_ACTIVE_ACTIONS = {
    "/JavaScript",
    "/Launch",
    "/GoToR",
    "/GoToE",
    "/SubmitForm",
    "/ImportData",
    "/RichMediaExecute",
    "/Rendition",
}
PDF_ACTIVE_TYPES = {"/EmbeddedFile", "/RichMedia", "/FileAttachment"}
# Whitespace may follow the last %%EOF (editors add a line end, some a NUL); anything else is another file riding
# along.
PDF_TRAILING_BLANKS = b"\r\n\t\x0c \x00"
PDF_SNIFFED_HEAD = 1024  # what a browser reads to guess a type: no markup there


class NotAPdf(Exception):
    pass


# What reading one PDF may take. qpdf decodes cross-reference and object streams whole to read their objects: a few
# megabytes of deflated data may claim gigabytes, so the reading runs in a child process held to these limits.
PDF_READING_MEMORY = 768 * 1024 * 1024  # bytes, beyond what the process already maps
PDF_READING_CPU_SECONDS = 20
PDF_READING_SECONDS = 30
VERDICTS = {b"active": True, b"clean": False}


def _pdf_active_content(data):
    """Whether the PDF carries active content (_read_pdf), read in a forked child process whose memory and CPU time
    are bounded; NotAPdf for what it refuses, or what exceeds the bounds."""
    read_end, write_end = os.pipe()
    child = os.fork()
    if child == 0:
        verdict = b"unreadable"
        try:
            os.close(read_end)
            mapped = _mapped_bytes()
            resource.setrlimit(resource.RLIMIT_AS, (mapped + PDF_READING_MEMORY, mapped + PDF_READING_MEMORY))
            resource.setrlimit(resource.RLIMIT_CPU, (PDF_READING_CPU_SECONDS, PDF_READING_CPU_SECONDS + 1))
            verdict = b"active" if _read_pdf(data) else b"clean"
        except NotAPdf:
            verdict = b"refused"
        except MemoryError:
            verdict = b"too large"
        finally:  # whatever else went wrong, the parent refuses the file
            os.write(write_end, verdict)
            os._exit(0)  # nothing of the parent's (database connections, atexit) is touched
    os.close(write_end)
    with os.fdopen(read_end, "rb") as pipe:
        answered, _, _ = select.select([pipe], [], [], PDF_READING_SECONDS)
        verdict = pipe.read() if answered else b""
    if not answered:  # stuck without using CPU time: stopped
        os.kill(child, signal.SIGKILL)
    with contextlib.suppress(ChildProcessError):  # already reaped where SIGCHLD is ignored
        os.waitpid(child, 0)
    if verdict not in VERDICTS:
        raise NotAPdf("unreadable within the limits")
    return VERDICTS[verdict]


def _mapped_bytes():
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[0]) * os.sysconf("SC_PAGE_SIZE")


def _read_pdf(data):
    """Whether the PDF carries active content, in any of its objects as qpdf reads them without repairing anything.
    Raises NotAPdf for what a viewer would have to repair or guess (no valid cross-reference table, damaged objects,
    another file before or after it)."""
    end = data.rfind(b"%%EOF")
    if end < 0 or data[end + 5 :].strip(PDF_TRAILING_BLANKS):
        raise NotAPdf("data after the last %%EOF")
    if IMAGE_MARKUP.search(data[:PDF_SNIFFED_HEAD]) or zipfile.is_zipfile(io.BytesIO(data)):
        raise NotAPdf("polyglot")
    try:
        with pikepdf.open(io.BytesIO(data), attempt_recovery=False) as pdf:
            objects = list(pdf.objects)
            if pdf.get_warnings():  # qpdf read around a damaged object: a viewer may read it otherwise
                raise NotAPdf("qpdf warnings")
            return any(_has_active_entry(obj) for obj in objects)
    except (pikepdf.PdfError, pikepdf.PasswordError, RecursionError) as error:
        raise NotAPdf(type(error).__name__) from error


def _has_active_entry(obj):
    """In the object or the direct objects nested in it (indirect ones are among the document's objects)."""
    pending = [obj]
    while pending:
        item = pending.pop()
        if isinstance(item, pikepdf.Stream):
            entries = item.stream_dict.items()
        elif isinstance(item, pikepdf.Dictionary):
            entries = item.items()
        elif isinstance(item, pikepdf.Array):
            entries = ((None, value) for value in item)
        else:
            continue
        for key, value in entries:
            if key is not None and _is_active(key, value):
                return True
            if isinstance(value, (pikepdf.Dictionary, pikepdf.Array)) and not value.is_indirect:
                pending.append(value)
    return False


def _is_active(key, value):
    if key in PDF_ACTIVE_KEYS:
        return True
    if key in {"/S", "/Type", "/Subtype"} and isinstance(value, pikepdf.Name):
        return str(value) in (PDF_ACTIVE_ACTIONS if key == "/S" else PDF_ACTIVE_TYPES)
    # An opening view given as a destination ([page /Fit]) is what office suites write: harmless. Any other opening
    # action (even a link) is not.
    return key == "/OpenAction" and not isinstance(value, pikepdf.Array)


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


class FileRefused(ValidationError):
    """A file refused by inspect_upload: the message names it for a person, `name` for a program (the API's
    `refused_files`); `code` says why."""

    def __init__(self, name, message, *, code):
        super().__init__(message, code=code)
        self.name = name


def inspect_upload(uploaded):
    """Returns (type, sha256 hex) for an acceptable file, or raises a FileRefused naming the file."""
    shown = clean_original_name(uploaded.name)
    suffix = PurePath(shown).suffix.lower()
    if suffix not in ACCEPTED:
        raise FileRefused(
            shown, f"« {shown} » : seuls les fichiers PDF, JPEG et PNG sont acceptés.", code="file_extension"
        )
    if uploaded.size == 0:
        raise FileRefused(shown, f"« {shown} » est vide.", code="file_empty")
    if uploaded.size > settings.ATTACHMENT_MAX_SIZE:
        raise FileRefused(
            shown,
            f"« {shown} » pèse {filesizeformat(uploaded.size)} : la taille maximale est de "
            f"{filesizeformat(settings.ATTACHMENT_MAX_SIZE)} par fichier.",
            code="file_size",
        )
    uploaded.seek(0)
    data = uploaded.read()
    uploaded.seek(0)
    file_type, signature = ACCEPTED[suffix]
    not_valid = FileRefused(
        shown,
        f"« {shown} » n'est pas un fichier {file_type.label} valide : son contenu ne correspond pas à son "
        "extension. Enregistrez le document au format PDF, JPEG ou PNG puis déposez-le de nouveau.",
        code="file_content",
    )
    if not data.startswith(signature):
        raise not_valid
    if file_type == FileType.PDF:
        try:
            active = _pdf_active_content(data)
        except NotAPdf:
            raise not_valid from None
        if active:
            raise FileRefused(
                shown,
                f"« {shown} » contient du code (JavaScript), une action automatique ou des fichiers intégrés, "
                "refusés pour la sécurité de tous. Imprimez le document en PDF (ou numérisez-le) puis "
                "déposez-le de nouveau.",
                code="file_active_content",
            )
        return file_type, hashlib.sha256(data).hexdigest()
    try:
        complete = _looks_complete(data, file_type)
    except ImageTooLarge:
        raise FileRefused(
            shown,
            f"« {shown} » annonce une image de plus de {Image.MAX_IMAGE_PIXELS // 1_000_000} millions de pixels, "
            "bien plus que ce qu'une photo ou une numérisation demande. Réduisez sa taille (ou numérisez le "
            "document de nouveau) puis déposez-la de nouveau.",
            code="image_too_large",
        ) from None
    if not complete:
        raise not_valid
    if file_type in PILLOW_FORMATS and _image_has_payload(data, file_type):
        raise FileRefused(
            shown,
            f"« {shown} » contient, en plus de l'image, des données étrangères à une image, refusées pour la "
            "sécurité de tous. Enregistrez l'image de nouveau (par exemple par une capture ou un export en "
            "JPEG ou PNG) puis déposez-la de nouveau.",
            code="file_payload",
        )
    return file_type, hashlib.sha256(data).hexdigest()


TOO_FEW_ATTACHMENTS = "Joignez au moins un justificatif."
KEPT_FILE_GONE = (
    "Un fichier déjà joint n'est plus disponible (il n'est gardé que quelques heures) : choisissez-le de nouveau."
)


class MultipleFileInput(forms.FileInput):
    """Several files; and, above the input, the files already joined on an earlier try (requests/staging.py), each
    kept while its box stays ticked."""

    allow_multiple_selected = True
    template_name = "forms/widgets/files_with_kept.html"
    kept = ()
    kept_name = ""

    def get_context(self, name, value, attrs):
        context = super().get_context(name, value, attrs)
        context["widget"]["kept"] = [upload for upload, _, _ in self.kept]
        context["widget"]["kept_name"] = self.kept_name
        return context


class AttachmentsField(forms.FileField):
    """Several files in one field, each checked; the whole set within the count limit. The files already joined
    (`kept`, set by the form) count with those sent now; `accepted` holds, even when the field fails, those sent now
    that passed the checks (the form keeps them for the next try), and `lost` how many kept files were asked for but
    are no longer available."""

    widget = MultipleFileInput
    kept = ()
    lost = 0

    def __init__(self, *, min_count=0, **kwargs):
        self.min_count = min_count
        self.accepted = []
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
        count = len(self.kept) + len(files)
        self.accepted = []
        if count > settings.ATTACHMENT_MAX_COUNT:
            raise ValidationError(
                f"Vous avez joint {count} fichiers : {settings.ATTACHMENT_MAX_COUNT} au plus par envoi.",
                code="file_count",
            )
        errors = [ValidationError(KEPT_FILE_GONE, code="kept_file_gone")] if self.lost else []
        for uploaded in files:
            try:
                file_type, digest = inspect_upload(uploaded)
            except ValidationError as error:
                errors.append(error)
            else:
                self.accepted.append((uploaded, file_type, digest))
        if errors:
            raise ValidationError(errors)
        if count < self.min_count:
            raise ValidationError(TOO_FEW_ATTACHMENTS, code="required")
        return [*self.kept, *self.accepted]
