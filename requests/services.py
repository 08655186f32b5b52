"""Writes on requests. One transaction per user action; emails leave on commit."""

from contextlib import contextmanager

from django.db import transaction
from django.utils import timezone

from extranet.emails import absolute_url, send_templated_email
from requests.attachments import clean_original_name
from requests.mas import NOTICE_VERSION
from requests.models import Attachment, Follow, MasReferral, NumberSequence, Request, Status, StatusChange
from requests.nir import nir_digest
from structures.models import Structure

SEQUENCE_CAPACITY = 99_999


class DuplicateOpenRequest(Exception):
    def __init__(self, existing):
        self.existing = existing
        super().__init__(existing.number)


class YearlyNumberingExhausted(Exception):
    pass


def allocate_number(caisse, at):
    """Next number for this caisse and year: 2 digits of the year, the caisse code, 5 digits of sequence.

    The sequence row stays locked until the deposit commits, so concurrent deposits wait for each other and a
    rolled-back deposit gives its number back: no gap, no duplicate.
    """
    year = timezone.localtime(at).year
    NumberSequence.objects.get_or_create(caisse=caisse, year=year)
    sequence = NumberSequence.objects.select_for_update().get(caisse=caisse, year=year)
    if sequence.last_value >= SEQUENCE_CAPACITY:
        raise YearlyNumberingExhausted(f"{caisse.code}/{year}")
    sequence.last_value += 1
    sequence.save(update_fields=["last_value"])
    return f"{year % 100:02d}{caisse.code}{sequence.last_value:05d}"


@contextmanager
def files_removed_on_failure():
    """Files are written last in the transaction; if it still fails, they are removed so none is orphaned."""
    written = []
    try:
        yield written
    except BaseException:
        for stored in written:
            stored.storage.delete(stored.name)
        raise


def _store_attachments(request, files, by, written):
    stored = []
    for uploaded, file_type, digest in files:
        attachment = Attachment(
            request=request,
            original_name=clean_original_name(uploaded.name),
            content_type=file_type,
            size=uploaded.size,
            sha256=digest,
            uploaded_by=by,
        )
        attachment.file.save(uploaded.name, uploaded, save=False)
        written.append(attachment.file)
        attachment.save()
        stored.append(attachment)
    return stored


def _deposit(written, *, kind, motif, structure, caisse, author, details, person, files):
    now = timezone.now()
    digest = nir_digest(person["person_nir"]) if person else ""
    if digest:
        # Checked again under the structure's row lock: two simultaneous deposits for the same person, even to
        # two caisses, cannot both pass the form's check. The structure is locked before the sequence, always.
        Structure.objects.select_for_update().only("pk").get(pk=structure.pk)
        existing = (
            Request.objects.open()
            .filter(structure=structure, kind=kind, motif=motif, person_nir_digest=digest)
            .first()
        )
        if existing:
            raise DuplicateOpenRequest(existing)
    number = allocate_number(caisse, now)
    request = Request(
        number=number,
        kind=kind,
        motif=motif,
        caisse=caisse,
        structure=structure,
        author=author,
        created_at=now,
        details=details,
        person_nir_digest=digest,
        **person,
    )
    request.save()
    StatusChange.objects.create(request=request, from_status="", to_status=Status.NEW, by=author, at=now)
    _store_attachments(request, files, author, written)
    send_templated_email(
        author.email,
        "request_deposited",
        {"user": author, "request": request, "link": absolute_url("requests:detail", number)},
    )
    return request


def deposit_request(**deposit):
    """Create a request with its number, its first log row and its attachments, then acknowledge it by email."""
    with files_removed_on_failure() as written, transaction.atomic():
        return _deposit(written, **deposit)


def deposit_mas_referral(*, referral, consent_document, **deposit):
    """A MAS referral: the request, the referral form and the evidence of the person's consent, together."""
    with files_removed_on_failure() as written, transaction.atomic():
        request = _deposit(written, **deposit)
        signed = _store_attachments(request, consent_document, deposit["author"], written)
        MasReferral.objects.create(
            request=request,
            consent_collected_by=deposit["author"],
            consent_collected_at=request.created_at,
            notice_version=NOTICE_VERSION,
            consent_document=signed[0] if signed else None,
            **referral,
        )
        return request


@transaction.atomic
def mark_confirmation_letter_sent(request, *, agent):
    referral = MasReferral.objects.select_for_update().get(request=request)
    if referral.needs_confirmation_letter and referral.confirmation_letter_sent_at is None:
        referral.confirmation_letter_sent_at = timezone.now()
        referral.confirmation_letter_sent_by = agent
        referral.save(update_fields=["confirmation_letter_sent_at", "confirmation_letter_sent_by"])
    return referral


@transaction.atomic
def toggle_follow(request, user):
    """Star or unstar; returns whether the user now follows the request."""
    deleted, _ = Follow.objects.filter(request=request, user=user).delete()
    if deleted:
        return False
    Follow.objects.get_or_create(request=request, user=user)
    return True
