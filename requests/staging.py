"""Files kept across a deposit form's errors. A file that passed the checks (requests/attachments.py) is stored here
when the form fails for another reason, shown on the page again as « déjà joint », and becomes an attachment of the
request like a fresh upload when the deposit succeeds, then goes. Scoped to the user who sent it: the page names it by
an unguessable id, always looked up with its owner; usable a few hours (KEPT_FOR), then purged every night
(extranet/scheduler.py).
"""

import contextlib
import logging
import uuid
from datetime import timedelta

from django.core.files import File
from django.db import transaction
from django.utils import timezone

from requests.attachments import clean_original_name
from requests.models import STAGED_FOLDER, StagedFile
from requests.written_files import files_removed_on_failure

logger = logging.getLogger(__name__)
# Long enough to correct a form (or fetch a missing document), short for personal documents nobody deposited.
KEPT_FOR = timedelta(hours=4)


def kept_name(field):
    """The name under which the page sends back the ids of the field's kept files."""
    return f"{field}_deja_joints"


class StagedUpload(File):
    """A kept file, read as an upload (the deposit service stores it as one): named as the user named it."""

    def __init__(self, staged):
        super().__init__(staged.file, name=staged.original_name)
        self.staged = staged
        self.size = staged.size

    @property
    def public_id(self):
        return self.staged.public_id


def _usable(owner, now=None):
    return StagedFile.objects.filter(owner=owner, created_at__gt=(now or timezone.now()) - KEPT_FOR)


def kept(owner, field, ids):
    """The owner's kept files of this field among `ids`, as (upload, type, sha256) like the checked uploads; and how
    many of the ids named nothing usable (expired, purged, removed, or not theirs: never told apart)."""
    wanted = set()
    for value in ids:
        with contextlib.suppress(ValueError):
            wanted.add(uuid.UUID(value))
    found = []
    if wanted:
        found = list(_usable(owner).filter(field=field, public_id__in=wanted).order_by("created_at", "pk"))
    return [(StagedUpload(staged), staged.content_type, staged.sha256) for staged in found], len(set(ids)) - len(found)


class FilesNotKept(Exception):
    """The storage refused the kept files (full, read-only): none is kept, the page asks for them again."""


def stage(*, owner, field, files):
    """Keep these checked files ((upload, type, sha256), as AttachmentsField gives them) for the owner's next try; the
    same, as kept files. Each file written, then its row, in one transaction (as the attachments): all or none."""
    staged = []
    try:
        with files_removed_on_failure() as written, transaction.atomic():
            for uploaded, file_type, digest in files:
                row = StagedFile(
                    owner=owner,
                    field=field,
                    original_name=clean_original_name(uploaded.name),
                    content_type=file_type,
                    size=uploaded.size,
                    sha256=digest,
                )
                row.file.save(uploaded.name, uploaded, save=False)
                written.append(row.file)
                row.save()
                staged.append(row)
    except OSError as error:
        logger.error("Fichiers non gardés après une erreur de saisie : %s", error.strerror or type(error).__name__)
        raise FilesNotKept from error
    return [(StagedUpload(row), row.content_type, row.sha256) for row in staged]


def discard(uploads):
    """After the deposit that stored them as its attachments: the kept files among these uploads go."""
    kept = [upload for upload, _, _ in uploads if isinstance(upload, StagedUpload)]
    for upload in kept:
        upload.close()  # read by the deposit
    _delete(StagedFile.objects.filter(pk__in=[upload.staged.pk for upload in kept]))


def purge_expired(now=None):
    """Every night: the kept files older than KEPT_FOR go (none is usable any more), and any file of the folder as old
    that lost its row (a deletion the storage refused, a worker stopped mid-way). Returns how many rows went."""
    limit = (now or timezone.now()) - KEPT_FOR
    purged = _delete(StagedFile.objects.filter(created_at__lte=limit))
    storage = StagedFile.file.field.storage
    with contextlib.suppress(FileNotFoundError):  # nothing staged yet
        for name in storage.listdir(STAGED_FOLDER)[1]:
            path = f"{STAGED_FOLDER}/{name}"
            if storage.get_modified_time(path) <= limit:
                _delete_file(storage, path)
    return purged


def _delete(rows):
    """The rows, then their files."""
    rows = list(rows)
    with transaction.atomic():
        StagedFile.objects.filter(pk__in=[row.pk for row in rows]).delete()
    for row in rows:
        _delete_file(row.file.storage, row.file.name)
    return len(rows)


def _delete_file(storage, name):
    # A file the storage does not let go is only disk space, gone at a later purge: never a failed deposit.
    try:
        storage.delete(name)
    except OSError as error:
        logger.error("Fichier gardé non effacé : %s", error.strerror or type(error).__name__)
