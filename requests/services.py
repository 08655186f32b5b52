"""Writes on requests. One transaction per user action; emails leave on commit."""

from contextlib import contextmanager

from django.core.exceptions import NON_FIELD_ERRORS
from django.db import transaction
from django.utils import timezone
from django.utils.html import format_html
from django_fsm import has_transition_perm
from guardian.shortcuts import assign_perm, remove_perm

from extranet.roles import ADMINISTER_CAISSE, HANDLE_REQUESTS, caisse_membership, holds
from requests import deposit_rules, mas, notifications
from requests.attachments import clean_original_name
from requests.catalog import MAS_REFERRAL, is_mas_referral
from requests.models import (
    RESOLVE_REQUEST,
    Attachment,
    Follow,
    MasReferral,
    Message,
    NumberSequence,
    Request,
    Status,
    StatusChange,
)
from requests.nir import nir_digest
from structures import conventions
from structures.models import Structure

SEQUENCE_CAPACITY = 99_999


class DepositRefused(Exception):
    """A deposit the domain forbids: {field: [messages in French]}, NON_FIELD_ERRORS for the deposit as a whole.
    Nothing was written: no request, no number, no file."""

    def __init__(self, errors):
        self.errors = errors
        super().__init__(errors)


class DuplicateOpenRequest(DepositRefused):
    """The structure already has an open request for this person, kind and motif."""

    def __init__(self, existing):
        self.existing = existing
        super().__init__({NON_FIELD_ERRORS: [self.message(f"n° {existing.number}")]})

    def message(self, number):
        """The refusal, with the existing request's number as given: plain text, or a link on a page."""
        return format_html(
            "Une demande est déjà en cours pour cette personne avec le même motif : {} ({}, déposée le {}). "
            "Complétez-la plutôt que d'en déposer une nouvelle.",
            number,
            self.existing.get_status_display(),
            timezone.localtime(self.existing.created_at).strftime("%d/%m/%Y"),
        )


class NoActiveConvention(DepositRefused):
    """The structure's convention with this caisse has ended (or never was): no deposit."""

    MESSAGE = "La convention de votre structure avec cette caisse n'est plus active : la demande n'a pas été déposée."

    def __init__(self):
        super().__init__({"caisse": [self.MESSAGE]})


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


def _store_attachments(request, files, by, written, message=None):
    stored = []
    for uploaded, file_type, digest in files:
        attachment = Attachment(
            request=request,
            message=message,
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


def _open_duplicate(structure, kind, motif, digest):
    """The structure's open request for the same person (NIR digest), kind and motif, if any: there may be one only."""
    return (
        Request.objects.open()
        .filter(structure=structure, kind=kind, motif=motif, person_nir_digest=digest)
        .order_by("-created_at")
        .first()
    )


def _deposit(written, *, kind, motif, structure, caisse, author, details, person, files):
    """The deposit of a request whose content the domain accepts (deposit_rules found nothing to refuse)."""
    if not conventions.is_active(structure, caisse):
        raise NoActiveConvention
    now = timezone.now()
    person = deposit_rules.stored_person(person)
    digest = nir_digest(person["person_nir"]) if person else ""
    if digest:
        # Under the structure's row lock: of two simultaneous deposits for the same person, even to two caisses,
        # the second waits and finds the first. The structure is locked before the sequence, always.
        Structure.objects.select_for_update().only("pk").get(pk=structure.pk)
        if existing := _open_duplicate(structure, kind, motif, digest):
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
        details=deposit_rules.stored_details(kind, motif, details),
        person_nir_digest=digest,
        **person,
    )
    request.save()
    StatusChange.objects.create(request=request, from_status="", to_status=Status.NEW, by=author, at=now)
    _store_attachments(request, files, author, written)
    notifications.deposited(request)
    return request


def deposit_request(*, kind, motif, structure, caisse, author, details, person, files):
    """Create a request with its number, its first log row and its attachments, then acknowledge it by email.

    Refuses (DepositRefused, nothing written) what the domain forbids, whoever calls: requests/deposit_rules.py.
    A MAS referral comes with its referral form and the person's consent: deposit_mas_referral."""
    if is_mas_referral(kind, motif):
        raise DepositRefused({"motif": [deposit_rules.MAS_REFERRAL_NEEDS_ITS_FORM]})
    deposit = {"kind": kind, "motif": motif, "structure": structure, "details": details, "person": person}
    if refused := deposit_rules.refusals(**deposit, attachments=len(files)):
        raise DepositRefused(refused)
    with files_removed_on_failure() as written, transaction.atomic():
        return _deposit(written, caisse=caisse, author=author, files=files, **deposit)


def deposit_mas_referral(*, referral, consent_document, structure, caisse, author, person, files):
    """A MAS referral: the request, the referral form and the evidence of the person's consent, together. Its kind and
    motif are the catalogue's (MAS_REFERRAL); it stores no details of its kind, its referral form has them."""
    deposit = {
        "kind": MAS_REFERRAL.kind,
        "motif": MAS_REFERRAL.motif,
        "structure": structure,
        "details": {},
        "person": person,
    }
    if refused := deposit_rules.merged(
        deposit_rules.refusals(**deposit, attachments=len(files)),
        mas.referral_refusals(referral, consent_documents=len(consent_document)),
    ):
        raise DepositRefused(refused)
    with files_removed_on_failure() as written, transaction.atomic():
        request = _deposit(written, caisse=caisse, author=author, files=files, **deposit)
        signed = _store_attachments(request, consent_document, author, written)
        MasReferral.objects.create(
            request=request,
            consent_collected_by=author,
            consent_collected_at=request.created_at,
            notice_version=mas.NOTICE_VERSION,
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


class WorkflowRefused(Exception):
    """A move the workflow or the user's role does not allow; the message says why, in French."""


class WrongStatus(WorkflowRefused):
    """The request is no longer where the move starts from (someone else moved it first)."""


class NotAllowed(WorkflowRefused):
    """The user's role or object permissions do not allow this move."""


class AlreadyTaken(WrongStatus):
    def __init__(self, request):
        holder = request.assigned_to.get_full_name() if request.assigned_to else "un autre agent"
        super().__init__(f"La demande {request.number} vient d'être prise en charge par {holder}.")
        self.holder = request.assigned_to


def _lock(request):
    """The request's row, locked. Related rows are read after the lock is granted: joined in the locking query,
    they would be those seen before waiting (a loser of the race would not know who won)."""
    locked = Request.objects.select_for_update().get(pk=request.pk)
    for relation in ("assigned_to", "author", "caisse"):
        getattr(locked, relation)
    return locked


def take_charge(request, *, agent):
    """Nouveau → Pris en charge, assigned to the agent. Of two agents at once, exactly one wins."""
    with transaction.atomic():
        locked = _lock(request)
        if locked.status == Status.RESOLVED:
            raise WrongStatus(f"La demande {locked.number} est déjà résolue.")
        if locked.status != Status.NEW:
            raise AlreadyTaken(locked)
        if not has_transition_perm(locked.take_charge, agent):
            raise NotAllowed("Seuls les agents de la caisse destinataire prennent en charge ses demandes.")
        now = timezone.now()
        locked.take_charge(agent=agent, at=now)
        locked.save()
        # Only the agent in charge (and the caisse's administrateurs) may resolve it.
        assign_perm(RESOLVE_REQUEST, agent, locked)
        StatusChange.objects.create(
            request=locked, from_status=Status.NEW, to_status=Status.IN_PROGRESS, by=agent, at=now, assigned_to=agent
        )
        notifications.taken_in_charge(locked)
    return locked


def resolve(request, *, agent, answer, files=()):
    """Pris en charge → Résolu, with the answer the partner receives (and its files, such as the document)."""
    with files_removed_on_failure() as written, transaction.atomic():
        locked = _lock(request)
        if locked.status != Status.IN_PROGRESS:
            raise WrongStatus(
                f"La demande {locked.number} est « {locked.get_status_display()} » : "
                "seule une demande prise en charge peut être résolue."
            )
        if not has_transition_perm(locked.resolve, agent):
            raise NotAllowed("Seul l'agent en charge, ou un administrateur de la caisse, résout cette demande.")
        if not answer.strip():
            raise WorkflowRefused("La réponse à la structure est obligatoire pour résoudre la demande.")
        now = timezone.now()
        message = Message.objects.create(
            request=locked, author=agent, side=Message.Side.CAISSE, body=answer, is_answer=True, created_at=now
        )
        _store_attachments(locked, files, agent, written, message=message)
        locked.resolve(at=now)
        locked.save()
        # A resolved request moves no more: the permission row would only linger.
        remove_perm(RESOLVE_REQUEST, locked.assigned_to, locked)
        StatusChange.objects.create(
            request=locked, from_status=Status.IN_PROGRESS, to_status=Status.RESOLVED, by=agent, at=now
        )
        notifications.resolved(locked, message)
    return locked


@transaction.atomic
def reassign(request, *, admin, agent):
    """An administrateur of the caisse gives a request in progress to another agent of the caisse."""
    locked = _lock(request)
    staff = caisse_membership(admin)
    if (
        staff is None
        or not staff.is_admin
        or staff.caisse_id != locked.caisse_id
        or not holds(admin, ADMINISTER_CAISSE, locked.caisse)
    ):
        raise NotAllowed("Seul un administrateur de la caisse réattribue une demande.")
    if locked.status != Status.IN_PROGRESS:
        raise WrongStatus("Seule une demande prise en charge peut être réattribuée.")
    target = caisse_membership(agent)
    if target is None or target.caisse_id != locked.caisse_id or not holds(agent, HANDLE_REQUESTS, locked.caisse):
        raise WorkflowRefused("Choisissez un agent actif de la caisse.")
    if locked.assigned_to_id == agent.pk:
        return locked
    remove_perm(RESOLVE_REQUEST, locked.assigned_to, locked)
    assign_perm(RESOLVE_REQUEST, agent, locked)
    locked.assigned_to = agent
    locked.save(update_fields=["assigned_to"])
    StatusChange.objects.create(
        request=locked, from_status=Status.IN_PROGRESS, to_status=Status.IN_PROGRESS, by=admin, assigned_to=agent
    )
    return locked


class RequestClosed(WrongStatus):
    def __init__(self, request):
        super().__init__(
            f"La demande {request.number} est résolue : déposez une nouvelle demande en citant ce numéro."
        )


def _lock_open_for(request, author):
    """The request locked for a writer who can reach it, while it is open. Returns (locked, from_caisse)."""
    locked = _lock(request)
    staff = caisse_membership(author)
    from_caisse = staff is not None and staff.caisse_id == locked.caisse_id
    if not from_caisse and not Request.objects.visible_to(author).filter(pk=locked.pk).exists():
        raise NotAllowed("Vous ne pouvez pas écrire sur cette demande.")
    if not locked.is_open:
        raise RequestClosed(locked)
    return locked, from_caisse


def add_attachments(request, *, author, files):
    """Files added to an open request by either side, outside any message (as at the deposit)."""
    with files_removed_on_failure() as written, transaction.atomic():
        locked, _ = _lock_open_for(request, author)
        return _store_attachments(locked, files, author, written)


def post_message(request, *, author, body, internal=False, files=()):
    """A message on an open request: from the partner, from the caisse, or an internal note between agents."""
    with files_removed_on_failure() as written, transaction.atomic():
        locked, from_caisse = _lock_open_for(request, author)
        if internal and not from_caisse:
            raise NotAllowed("Seuls les agents de la caisse écrivent des notes internes.")
        if not body.strip():
            raise WorkflowRefused("Le message est vide.")
        message = Message.objects.create(
            request=locked,
            author=author,
            side=Message.Side.CAISSE if from_caisse else Message.Side.PARTNER,
            is_internal=internal,
            body=body,
        )
        _store_attachments(locked, files, author, written, message=message)
        if from_caisse and not internal:
            notifications.caisse_message(locked, message)
    return message
