"""Writes on requests. One transaction per user action; emails leave on commit."""

import logging
from dataclasses import dataclass

from django.conf import settings
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Count, Q, Sum
from django.template.defaultfilters import filesizeformat
from django.utils import timezone
from django.utils.html import format_html

from extranet.core.text import clean_text
from extranet.core.workdays import working_days_after
from requests import deadlines, deposit_rules, drafts, mas, notifications, policy, staging, waiting, workflow
from requests.attachments import clean_original_name
from requests.catalog import MAS_REFERRAL, is_mas_referral
from requests.models import (
    AnswerTemplate,
    Attachment,
    DepositKey,
    Follow,
    MasReferral,
    Message,
    NumberSequence,
    Request,
    Status,
    StatusChange,
)
from requests.nir import nir_digest
from requests.workflow import NotAllowed, WorkflowRefused, WrongStatus
from requests.written_files import files_removed_on_failure
from structures import conventions
from structures import policy as structure_policy
from structures import services as structure_services
from structures.models import Structure

SEQUENCE_CAPACITY = 99_999
logger = logging.getLogger(__name__)


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


class NotAMember(DepositRefused):
    """The author is not an active member of the structure (the pages and the API refuse such users before)."""

    MESSAGE = "Seuls les comptes actifs de la structure déposent ses demandes."

    def __init__(self):
        super().__init__({NON_FIELD_ERRORS: [self.MESSAGE]})


class DepositKeyReused(DepositRefused):
    """The key (API `Idempotency-Key`, or the page's one-time token) already served, for other content."""

    def __init__(self, earlier):
        self.earlier = earlier
        super().__init__(
            {
                NON_FIELD_ERRORS: [
                    f"Cette clé a déjà servi à déposer la demande n° {earlier.number}, avec un autre contenu : "
                    "rien n'a été déposé. Utilisez une nouvelle clé pour une nouvelle demande."
                ]
            }
        )


@dataclass(frozen=True)
class Once:
    """What makes a deposit happen once: its key, and the fingerprint of what was posted with it."""

    key: str
    fingerprint: str


def _claim(once, author):
    """(request deposited earlier under this key, None), or (None, the key claimed in this transaction). Of two
    deposits with the same key at once, the second waits for the first's commit on the unique index, then finds
    its request."""
    if once is None:
        return None, None
    try:
        with transaction.atomic():
            return None, DepositKey.objects.create(author=author, key=once.key, fingerprint=once.fingerprint)
    except IntegrityError:
        earlier = DepositKey.objects.select_related("request").get(author=author, key=once.key)
    if earlier.fingerprint != once.fingerprint:
        raise DepositKeyReused(earlier.request)
    return earlier.request, None


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


class AttachmentsNotStored(WorkflowRefused):
    """The private storage refused a file (full, read-only, gone): the action is rolled back, nothing is kept."""

    MESSAGE = "Le dépôt des pièces jointes est momentanément impossible, rien n'a été enregistré."

    def __init__(self):
        super().__init__(self.MESSAGE)


class DepositAttachmentsNotStored(DepositRefused):
    """The deposit's side of AttachmentsNotStored: the message next to the files."""

    def __init__(self):
        super().__init__({"attachments": [AttachmentsNotStored.MESSAGE]})


class TooManyAttachments(WorkflowRefused):
    """The request would hold more files, or more bytes, than settings allow (MAX_ATTACHMENTS_PER_REQUEST,
    MAX_ATTACHMENT_BYTES_PER_REQUEST), whatever the number of calls that brought them."""


class DepositTooManyAttachments(DepositRefused):
    def __init__(self, refusal):
        super().__init__({"attachments": [str(refusal)]})


def _check_attachment_room(demande, files):
    """Under the request's row lock: the request's files, with these, stay within the limits."""
    held = Attachment.objects.filter(request=demande).aggregate(count=Count("pk"), size=Sum("size"))
    _check_room(held["count"] + len(files), (held["size"] or 0) + sum(uploaded.size for uploaded, _, _ in files))


def _check_deposit_room(files):
    try:
        _check_room(len(files), sum(uploaded.size for uploaded, _, _ in files))
    except TooManyAttachments as refusal:
        raise DepositTooManyAttachments(refusal) from None


def _check_room(count, size):
    most, heaviest = settings.MAX_ATTACHMENTS_PER_REQUEST, settings.MAX_ATTACHMENT_BYTES_PER_REQUEST
    if count > most:
        raise TooManyAttachments(
            f"Une demande compte {most} pièces jointes au plus : celle-ci en aurait {count}. "
            "Regroupez les documents dans un seul PDF, ou joignez seulement les pièces utiles."
        )
    if size > heaviest:
        raise TooManyAttachments(
            f"Les pièces jointes d'une demande pèsent {filesizeformat(heaviest)} au plus : celles-ci pèseraient "
            f"{filesizeformat(size)}. Réduisez la taille des documents (numérisation en noir et blanc, en 150 ppp) "
            "ou joignez seulement les pièces utiles."
        )


def _store_attachments(demande, files, by, written, message=None, *, new_request=False):
    """The files saved, each with its row. A request being deposited was checked whole before (_check_deposit_room);
    an existing one is checked here, under its row lock, against what it holds already."""
    if files and not new_request:
        _check_attachment_room(demande, files)
    stored = []
    for uploaded, file_type, digest in files:
        attachment = Attachment(
            request=demande,
            message=message,
            original_name=clean_original_name(uploaded.name),
            content_type=file_type,
            size=uploaded.size,
            sha256=digest,
            uploaded_by=by,
        )
        try:
            attachment.file.save(uploaded.name, uploaded, save=False)
        except OSError as error:
            logger.error("Stockage des pièces jointes indisponible : %s", error.strerror or type(error).__name__)
            raise AttachmentsNotStored from error
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


def _deposit(written, *, kind, motif, structure, caisse, author, details, person, files, claimed):
    """The deposit of a request whose content the domain accepts (deposit_rules found nothing to refuse), under the
    key `claimed` if any."""
    if not structure_policy.works_for(author, structure):
        raise NotAMember
    # The caisse is the one the depositor chose and saw (the form carries it); its convention is read now, under its
    # row lock: a suspension committed meanwhile refuses the deposit, one that comes later waits for it.
    conventions.lock_convention(structure, caisse)
    if not structure_policy.can_deposit(author, structure, caisse):
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
    demande = Request(
        number=number,
        kind=kind,
        motif=motif,
        caisse=caisse,
        structure=structure,
        author=author,
        created_at=now,
        updated_at=now,
        details=deposit_rules.stored_details(kind, motif, details),
        person_nir_digest=digest,
        **person,
    )
    demande.save()
    workflow.log(demande, source="", target=demande.status, by=author, at=now)
    if claimed is not None:
        claimed.request = demande
        claimed.save(update_fields=["request"])
    _store_attachments(demande, files, author, written, new_request=True)
    notifications.deposited(demande)
    return demande


def deposit_request(*, kind, motif, structure, caisse, author, details, person, files, once=None, draft=None):
    """Create a request with its number, its first log row and its attachments, then acknowledge it by email.
    Under a key (`once`) already used by the author for the same content, returns the request it created. The
    author's `draft` it was resumed from, if any, goes with the deposit (requests/drafts.py).

    Refuses (DepositRefused, nothing written) what the domain forbids, whoever calls: requests/deposit_rules.py.
    A MAS referral comes with its referral form and the person's consent: deposit_mas_referral."""
    if is_mas_referral(kind, motif):
        raise DepositRefused({"motif": [deposit_rules.MAS_REFERRAL_NEEDS_ITS_FORM]})
    deposit = {"kind": kind, "motif": motif, "structure": structure, "details": details, "person": person}
    if refused := deposit_rules.refusals(**deposit, attachments=len(files)):
        raise DepositRefused(refused)
    _check_deposit_room(files)
    try:
        with files_removed_on_failure() as written, transaction.atomic():
            earlier, claimed = _claim(once, author)
            if earlier is not None:
                return earlier
            demande = _deposit(written, caisse=caisse, author=author, files=files, claimed=claimed, **deposit)
            staging.used_by_deposit(files)
            drafts.discard_deposited(draft, author)
            return demande
    except AttachmentsNotStored:
        raise DepositAttachmentsNotStored from None


def deposit_mas_referral(
    *, referral, consent_document, notice_given, structure, caisse, author, person, files, once=None, draft=None
):
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
        mas.referral_refusals(referral, consent_documents=len(consent_document), notice_given=notice_given),
    ):
        raise DepositRefused(refused)
    _check_deposit_room([*files, *consent_document])
    try:
        with files_removed_on_failure() as written, transaction.atomic():
            earlier, claimed = _claim(once, author)
            if earlier is not None:
                return earlier
            demande = _deposit(written, caisse=caisse, author=author, files=files, claimed=claimed, **deposit)
            signed = _store_attachments(demande, consent_document, author, written, new_request=True)
            MasReferral.objects.create(
                request=demande,
                consent_collected_by=author,
                consent_collected_at=demande.created_at,
                notice_version=mas.NOTICE_VERSION,
                consent_document=signed[0] if signed else None,
                **{name: deposit_rules.stored_text(value) for name, value in referral.items()},
            )
            staging.used_by_deposit([*files, *consent_document])
            drafts.discard_deposited(draft, author)
            return demande
    except AttachmentsNotStored:
        raise DepositAttachmentsNotStored from None


@transaction.atomic
def mark_confirmation_letter_sent(demande, *, agent):
    if not policy.can_mark_letter_sent(agent, demande):
        raise NotAllowed("Seuls les agents de la caisse enregistrent l'envoi du courrier de confirmation.")
    referral = MasReferral.objects.select_for_update().get(request=demande)
    if not referral.needs_confirmation_letter:
        raise WrongStatus(
            "L'accord de cette saisine est signé : il n'y a pas de courrier de confirmation à envoyer.",
            status=demande.status,
        )
    # Already recorded: the first record stands (a second click, or a retry of the API call, changes nothing).
    if referral.confirmation_letter_sent_at is None:
        referral.confirmation_letter_sent_at = timezone.now()
        referral.confirmation_letter_sent_by = agent
        referral.save(update_fields=["confirmation_letter_sent_at", "confirmation_letter_sent_by"])
        # The referral's detail shows when the letter went: the request changed for its readers.
        Request.objects.filter(pk=referral.request_id).update(updated_at=referral.confirmation_letter_sent_at)
    return referral


@transaction.atomic
def toggle_follow(demande, user):
    """Star or unstar; returns whether the user now follows the request."""
    deleted, _ = Follow.objects.filter(request=demande, user=user).delete()
    if deleted:
        return False
    Follow.objects.get_or_create(request=demande, user=user)
    return True


def set_following(demande, user, *, following):
    """Star or unstar, whatever the request was: what the API's follow and unfollow ask (a retry changes nothing).
    Returns whether the user now follows it."""
    if following:
        Follow.objects.get_or_create(request=demande, user=user)
    else:
        Follow.objects.filter(request=demande, user=user).delete()
    return following


def take_charge(demande, *, agent):
    """Nouveau → Pris en charge, assigned to the agent. Of two agents at once, exactly one wins."""
    return workflow.move(demande, "take_charge", by=agent)


def _stored_text(text):
    """A message's text as stored, whoever writes it (extranet/core/text.py): refused if it cannot be stored."""
    try:
        return clean_text(text)
    except ValidationError as error:
        raise WorkflowRefused(error.messages[0]) from None


def resolve(demande, *, agent, answer, files=()):
    """Pris en charge → Résolu, with the answer the partner receives (and its files, such as the document)."""
    answer = _stored_text(answer)

    def answer_required(demande):
        if not answer.strip():
            raise WorkflowRefused("La réponse à la structure est obligatoire pour résoudre la demande.")

    def write_answer(demande, at):
        if demande.is_awaiting_partner:  # the resolution ends the wait (its own row in the log says when)
            _end_wait(demande, at)
            demande.save(update_fields=WAIT_FIELDS)
        message = Message.objects.create(
            request=demande, author=agent, side=Message.Side.CAISSE, body=answer, is_answer=True, created_at=at
        )
        _store_attachments(demande, files, agent, written, message=message)
        return message

    with files_removed_on_failure() as written:
        return workflow.move(demande, "resolve", by=agent, check=answer_required, effects=write_answer)


def reassign(demande, *, admin, agent):
    """An administrateur of the caisse gives a request in progress to another agent of the caisse (the workflow checks
    who that may be)."""
    return workflow.move(demande, "reassign", by=admin, to=agent)


def hand_back(demande, *, agent):
    """« Remettre dans la file »: Pris en charge → Nouveau, unassigned; the right to resolve goes with it."""
    return workflow.move(demande, "hand_back", by=agent)


def dispatch(demande, *, admin, agent):
    """An administrateur of the caisse gives a new request directly to an agent of the caisse (Nouveau → Pris en
    charge, assigned to them; the workflow checks who that may be)."""
    return workflow.move(demande, "dispatch", by=admin, to=agent)


class HandoverRefused(Exception):
    """A departure the rules forbid; nothing was written (the account stays active)."""


def open_requests_followed_by(user, structure):
    """The open requests of the structure the partner-side user is the one told about: theirs (unless handed to
    someone else) and those handed to them."""
    return (
        Request.objects.open()
        .filter(structure=structure)
        .filter(Q(author=user, handled_by__isnull=True) | Q(handled_by=user))
        .order_by("created_at", "pk")
    )


def deactivate_technicien(membership, *, by, hand_to=None):
    """A technicien leaves: their account is deactivated and, if `hand_to` (an active colleague of the same
    structure) is given, their open requests are handed to them, in one transaction. The colleague becomes the
    one told (`handled_by`); the author stays the author; each request's log says « confiée à X par Y ».
    Returns the number of requests handed over."""
    structure = membership.structure
    with transaction.atomic():
        if not structure_policy.can_manage_technicians(by, structure):
            raise HandoverRefused("Seuls les gestionnaires de la structure désactivent ses techniciens.")
        if hand_to is not None and (
            hand_to.pk == membership.user_id or structure_policy.member_of_structure(hand_to, structure.pk) is None
        ):
            raise HandoverRefused("Choisissez un collègue actif de la même structure.")
        structure_services.deactivate_partner_account(membership, by=by)
        if hand_to is None:
            return 0
        followed = open_requests_followed_by(membership.user, structure).select_for_update()
        handed = list(followed.values_list("pk", "status"))
        if not handed:
            return 0
        at = timezone.now()
        # Its log has a new row: the request changed for its readers (Request.updated_at).
        Request.objects.filter(pk__in=[pk for pk, _ in handed]).update(handled_by=hand_to, updated_at=at)
        StatusChange.objects.bulk_create(
            StatusChange(request_id=pk, from_status=status, to_status=status, by=by, at=at, handed_to=hand_to)
            for pk, status in handed
        )
    return len(handed)


class RequestClosed(WrongStatus):
    def __init__(self, demande):
        super().__init__(
            f"La demande {demande.number} est résolue : déposez une nouvelle demande en citant ce numéro.",
            status=demande.status,
        )


def _lock_open_for(demande, author):
    """The request locked for a writer who can reach it, while it is open. Returns (locked, from_caisse)."""
    demande = workflow.lock(demande)
    if not policy.can_write(author, demande):
        raise NotAllowed("Vous ne pouvez pas écrire sur cette demande.")
    if not demande.is_open:
        raise RequestClosed(demande)
    return demande, policy.is_caisse_side(author, demande)


def add_attachments(demande, *, author, files):
    """Files added to an open request by either side, outside any message (as at the deposit)."""
    with files_removed_on_failure() as written, transaction.atomic():
        demande, _ = _lock_open_for(demande, author)
        stored = _store_attachments(demande, files, author, written)
        if stored:  # outside any message, the files are the request's: both sides see them
            demande.updated_at = stored[-1].uploaded_at
            demande.save(update_fields=["updated_at"])
        return stored


WAIT_FIELDS = ["awaiting_partner_since", "reminded_at", "clock_from"]


def _end_wait(demande, at):
    """The wait is over: the working days waited are given back to the clock (requests/deadlines.py)."""
    days = waiting.waited(demande, timezone.localdate(at))
    demande.clock_from = working_days_after(
        deadlines.clock_start(demande), days, calendar=deadlines.calendar_of(demande)
    )
    demande.awaiting_partner_since = None
    demande.reminded_at = None


def post_message(demande, *, author, body, internal=False, awaiting_answer=False, files=()):
    """A message on an open request: from the partner, from the caisse, or an internal note between agents.

    A caisse message to the structure may ask for its answer (`awaiting_answer`, on a request in progress): the
    request waits for it (requests/waiting.py) until the structure writes or the request is resolved. Each start and
    end of a wait is a row of the status log (from and to "Pris en charge", its `event` says which)."""
    body = _stored_text(body)
    with files_removed_on_failure() as written, transaction.atomic():
        demande, from_caisse = _lock_open_for(demande, author)
        if internal and not policy.can_post_internal_note(author, demande):
            raise NotAllowed("Seuls les agents de la caisse écrivent des notes internes.")
        if awaiting_answer and (internal or not policy.can_await_partner(author, demande)):
            raise NotAllowed("Seuls les messages de la caisse à la structure attendent sa réponse.")
        if awaiting_answer and demande.status != Status.IN_PROGRESS:
            raise WrongStatus(
                "Prenez la demande en charge avant d'attendre la réponse de la structure.", status=demande.status
            )
        if not body.strip():
            raise WorkflowRefused("Le message est vide.")
        at = timezone.now()
        message = Message.objects.create(
            request=demande,
            author=author,
            side=Message.Side.CAISSE if from_caisse else Message.Side.PARTNER,
            is_internal=internal,
            body=body,
            created_at=at,
        )
        event = None
        if awaiting_answer and not demande.is_awaiting_partner:
            demande.awaiting_partner_since, demande.reminded_at = at, None
            event = StatusChange.Event.WAITING
        elif not from_caisse and demande.is_awaiting_partner:
            _end_wait(demande, at)
            event = StatusChange.Event.ANSWERED
        changed = WAIT_FIELDS if event is not None else []
        if not internal:  # news for the other side (requests/news.py); an internal note is news for no one
            news = "partner_news_at" if from_caisse else "caisse_news_at"
            setattr(demande, news, at)
            # A partner's sync must not see the request change for a note (Request.updated_at): the wait's start
            # and end come with a message both sides read, never with a note.
            demande.updated_at = at
            changed = [*changed, news, "updated_at"]
        if changed:
            demande.save(update_fields=changed)
        if event is not None:
            workflow.log(demande, source=demande.status, target=demande.status, by=author, at=at, event=event)
        _store_attachments(demande, files, author, written, message=message)
        if not internal:  # an internal note stays between the caisse's staff: no email, to anyone
            tell = notifications.caisse_message if from_caisse else notifications.partner_message
            tell(demande, message, by=author)
    return message


def remind_awaiting_partners(today=None):
    """The nightly reminders: each request waiting for its structure's answer since
    AWAITING_PARTNER_REMINDER_WORKING_DAYS reminds the author (or, gone, the structure's gestionnaires), once per
    wait. Each in its own transaction, under the request's row lock: run twice, the job sends one. Returns how many
    requests were reminded."""
    reminded = 0
    due = Request.objects.filter(status=Status.IN_PROGRESS).filter(
        deadlines.per_calendar(lambda calendar: waiting.reminder_due_q(today, calendar=calendar))
    )
    for pk in due.order_by("pk").values_list("pk", flat=True).iterator():
        with transaction.atomic():
            demande = workflow.lock(Request(pk=pk))
            if demande.status != Status.IN_PROGRESS or not waiting.reminder_due(demande, today):
                continue  # answered, resolved or reminded meanwhile
            demande.reminded_at = timezone.now()
            demande.save(update_fields=["reminded_at"])
            notifications.awaiting_partner_reminder(demande)
            reminded += 1
    return reminded


ANSWER_TEMPLATE_FIELDS = ("purpose", "kind", "title", "body")


def _administrateur_of(admin, caisse):
    if not structure_policy.can_administer_caisse(admin, caisse):
        raise NotAllowed("Seuls les administrateurs de la caisse gèrent ses modèles de réponse.")


@transaction.atomic
def create_answer_template(*, admin, caisse, purpose, kind, title, body):
    """A canned message or answer of the caisse, active."""
    _administrateur_of(admin, caisse)
    return AnswerTemplate.objects.create(
        caisse=caisse, purpose=purpose, kind=kind, title=title, body=body, created_at=timezone.now()
    )


@transaction.atomic
def update_answer_template(template, *, admin, **fields):
    """Its usage, kind, title or text (ANSWER_TEMPLATE_FIELDS); texts already sent keep what they said."""
    template = AnswerTemplate.objects.select_for_update().select_related("caisse").get(pk=template.pk)
    _administrateur_of(admin, template.caisse)
    unknown = set(fields) - set(ANSWER_TEMPLATE_FIELDS)
    if unknown:
        raise TypeError(f"not a field of a template: {sorted(unknown)}")
    for name, value in fields.items():
        setattr(template, name, value)
    template.updated_at = timezone.now()
    template.save(update_fields=[*fields, "updated_at"])
    return template


@transaction.atomic
def set_answer_template_active(template, *, admin, active):
    """Deactivated, a template is no longer offered to the agents; it is kept, and may be reactivated."""
    template = AnswerTemplate.objects.select_for_update().select_related("caisse").get(pk=template.pk)
    _administrateur_of(admin, template.caisse)
    if template.is_active != active:
        template.is_active = active
        template.updated_at = timezone.now()
        template.save(update_fields=["is_active", "updated_at"])
    return template
