import contextlib
import os
import uuid
from pathlib import PurePath

from django.conf import settings
from django.core.files.storage import FileSystemStorage
from django.db import models
from django.db.models import Q
from django.db.models.lookups import In
from django.urls import reverse
from django.utils import timezone
from django_fsm import FSMField, transition
from guardian.models import UserObjectPermissionBase

from extranet.accounts.models import Civility
from extranet.core.crypto import EncryptedCharField
from extranet.core.links import object_url
from extranet.core.names import name_key
from requests import policy
from requests.catalog import KINDS, MAS_REFERRAL, Kind, is_mas_referral
from requests.nir import format_nir, mask_nir


class Status(models.TextChoices):
    NEW = "new", "Nouveau"
    IN_PROGRESS = "in_progress", "Pris en charge"
    RESOLVED = "resolved", "Résolu"


OPEN_STATUSES = (Status.NEW, Status.IN_PROGRESS)


class AmongStatuses(In):
    """`status__among=OPEN_STATUSES`: `IN` with the statuses written into the SQL, not bound as parameters.

    SQLite uses a partial index only when the query's terms imply the index's condition, and a bound parameter
    implies nothing: with `status IN (?, ?)` the indexes kept for the open requests (request_caisse_open_oldest,
    request_caisse_replied) were never used, and the replied queue read all of an agent's requests to sort them
    (1M requests: 134 ms instead of 0.1 ms). The values can only be the statuses' own slugs."""

    lookup_name = "among"

    def process_rhs(self, compiler, connection):
        values = list(dict.fromkeys(self.rhs))
        if not values or any(value not in Status.values for value in values):
            raise ValueError(f"status__among takes statuses, not {values!r}")
        return "({})".format(", ".join(f"'{value}'" for value in values)), ()


# The requests that are MAS referrals (requests.catalog.MAS_REFERRAL), as a condition of a query.
IS_MAS_REFERRAL = Q(kind=MAS_REFERRAL.kind, motif=MAS_REFERRAL.motif)


class RequestQuerySet(models.QuerySet):
    def visible_to(self, user):
        """Partners see their structure's requests, caisse staff their caisse's; nobody else sees any
        (requests/policy.py `request_scope`, which `can_see` reads too)."""
        scope = policy.request_scope(user)
        return self.none() if scope is None else self.filter(**scope)

    def open(self):
        return self.filter(status__among=OPEN_STATUSES)

    def mas_referrals(self):
        return self.filter(IS_MAS_REFERRAL)


_KIND_LABELS, _STATUS_LABELS, _CIVILITY_LABELS = dict(Kind.choices), dict(Status.choices), dict(Civility.choices)


class Request(models.Model):
    """A request (demande) from a partner structure to a caisse. Kind-specific answers live in `details`,
    described by the kind's entry in the catalogue (requests/catalog.py)."""

    number = models.CharField("numéro", max_length=10, unique=True, editable=False)
    kind = models.CharField("type de demande", max_length=20, choices=Kind.choices)
    motif = models.CharField("motif", max_length=40)
    caisse = models.ForeignKey("structures.Caisse", on_delete=models.PROTECT, related_name="requests")
    structure = models.ForeignKey("structures.Structure", on_delete=models.PROTECT, related_name="requests")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="authored_requests")
    created_at = models.DateTimeField("déposée le", default=timezone.now, editable=False)
    status = FSMField("statut", max_length=12, choices=Status.choices, default=Status.NEW, protected=True)
    details = models.JSONField("informations de la demande", default=dict)
    assigned_to = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="assigned_requests",
        verbose_name="agent en charge",
    )
    # The partner-side follower in charge when the author left the structure (handover at their deactivation): told
    # what the author would have been; the author stays the author.
    handled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="handled_requests",
        verbose_name="suivie par",
    )
    taken_at = models.DateTimeField("prise en charge le", null=True, blank=True, editable=False)
    resolved_at = models.DateTimeField("résolue le", null=True, blank=True, editable=False)
    # Waiting for the structure (an agent's message asked for an answer): since when, null when not waiting; cleared
    # by the structure's message or the resolution. The reminder is sent once per wait (`reminded_at`).
    awaiting_partner_since = models.DateTimeField("en attente de la structure depuis", null=True, blank=True)
    reminded_at = models.DateTimeField("relance de la structure le", null=True, blank=True, editable=False)
    # The day the working-day clock counts from (requests/deadlines.py) once waits have paused it: the deposit date
    # moved forward by the working days waited. Null: the deposit date.
    clock_from = models.DateField("délai compté depuis le", null=True, blank=True, editable=False)
    # "Du nouveau" (requests/news.py): when the other side last did something the request's readers should notice.
    # For the structure: a caisse message, a status change, the answer. For the caisse: the structure's message.
    # Compared with each reader's last visit (Visit); null: nothing yet.
    partner_news_at = models.DateTimeField("du nouveau pour la structure le", null=True, blank=True, editable=False)
    caisse_news_at = models.DateTimeField("du nouveau pour la caisse le", null=True, blank=True, editable=False)
    # Set when retention removed the person's data; the request stays for statistics.
    purged_at = models.DateTimeField("données personnelles effacées le", null=True, blank=True, editable=False)
    # When either side last had something to read on the request: a move, a message or a file the partner sees too,
    # the waiting flag, a handover, the MAS letter, the purge. What the API's incremental sync orders and filters by
    # (`updated_after`). Each service sets it with its own moment; an internal note never does: a partner syncing
    # would see the request change and learn that the caisse wrote something it is not shown.
    updated_at = models.DateTimeField("modifiée le", default=timezone.now, editable=False)

    person_civility = models.CharField("civilité", max_length=3, choices=Civility.choices, blank=True)
    person_last_name = models.CharField("nom", max_length=150, blank=True)
    person_first_name = models.CharField("prénom", max_length=150, blank=True)
    person_birth_date = models.DateField("date de naissance", null=True, blank=True)
    person_nir = EncryptedCharField("numéro de sécurité sociale", blank=True)
    person_nir_digest = models.CharField(max_length=64, blank=True, editable=False)
    person_phone = models.CharField("téléphone", max_length=20, blank=True)
    person_email = models.EmailField("adresse électronique", blank=True)
    # The names as the person search compares them (extranet/core/names.py), kept by `save` from the names.
    person_last_name_key = models.CharField(max_length=150, blank=True, editable=False)
    person_first_name_key = models.CharField(max_length=150, blank=True, editable=False)

    objects = RequestQuerySet.as_manager()

    class Meta:
        verbose_name = "demande"
        permissions = [("resolve_request", "Résoudre la demande (l'agent qui l'a prise en charge)")]
        indexes = [
            models.Index(fields=["structure", "caisse", "-created_at"], name="request_structure_newest"),
            # The API's list: a structure's requests to all its caisses, newest first.
            models.Index(fields=["structure", "-created_at"], name="request_structure_all_newest"),
            models.Index(fields=["caisse", "status", "-created_at"], name="request_caisse_status_newest"),
            # The caisse's queue: its open requests by age (the default view), and all of them by age.
            models.Index(
                fields=["caisse", "created_at"],
                condition=Q(status__in=["new", "in_progress"]),
                name="request_caisse_open_oldest",
            ),
            models.Index(fields=["caisse", "created_at"], name="request_caisse_oldest"),
            # The API's incremental sync (`?ordering=updated_at`, `updated_after`), on each side's scope: a
            # structure's requests for its partners, a caisse's for its staff, in the cursor's order (id breaks ties).
            models.Index(fields=["structure", "updated_at", "id"], name="request_structure_updated"),
            models.Index(fields=["caisse", "updated_at", "id"], name="request_caisse_updated"),
            models.Index(fields=["structure", "kind", "motif", "person_nir_digest"], name="request_duplicate_guard"),
            # The person search (requests/search.py) and a request's other requests for the same person, on each
            # side's scope: the caisse's agents, the structure's partners.
            # (created_at last: newest first straight from the index, without reading the scope's other rows.)
            models.Index(fields=["caisse", "person_nir_digest", "created_at"], name="request_caisse_person_nir"),
            models.Index(fields=["structure", "person_nir_digest", "created_at"], name="request_structure_person_nir"),
            # By name, then newest first, in the index's own order: a common name has thousands of requests in a
            # big caisse, and the first page is read without sorting them all (bench: person_search).
            models.Index(
                fields=["caisse", "person_last_name_key", "person_first_name_key", "-created_at", "-id"],
                name="request_caisse_person_names",
            ),
            models.Index(
                fields=["structure", "person_last_name_key", "person_first_name_key", "-created_at", "-id"],
                name="request_structure_person_names",
            ),
            models.Index(fields=["caisse", "person_birth_date", "created_at"], name="request_caisse_person_birth"),
            # The requests waiting for their structure's answer (requests/waiting.py): the nightly reminders, and
            # "sans réponse" in the queue. A few rows: only those waiting are in it.
            models.Index(
                fields=["awaiting_partner_since"],
                condition=Q(awaiting_partner_since__isnull=False),
                name="request_awaiting_partner",
            ),
            # "Réponses reçues" in the queue and on the agent's home page: the open requests the structure wrote on,
            # by age (requests/news.py). Only those: a small part of the caisse's open requests.
            models.Index(
                fields=["caisse", "assigned_to", "created_at"],
                condition=Q(status__in=["new", "in_progress"], caisse_news_at__isnull=False),
                name="request_caisse_replied",
            ),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(number__regex=r"^\d{10}$"), name="request_number_ten_digits"),
            models.CheckConstraint(
                condition=Q(kind=Kind.CONTACT)
                | Q(purged_at__isnull=False)
                | (
                    ~Q(person_last_name="")
                    & ~Q(person_first_name="")
                    & Q(person_birth_date__isnull=False)
                    & ~Q(person_nir="")
                    & ~Q(person_nir_digest="")
                ),
                name="request_person_required_but_for_contact",
            ),
            models.CheckConstraint(condition=~Q(motif=""), name="request_motif_required"),
        ]

    def __str__(self):
        return f"Demande {self.number}"

    def save(self, *args, **kwargs):
        self.person_last_name_key = name_key(self.person_last_name)
        self.person_first_name_key = name_key(self.person_first_name)
        super().save(*args, **kwargs)

    # The lists' links (history, queue, search): built without `reverse` per row (extranet/core/links.py).
    def get_absolute_url(self):
        return object_url("requests:detail", self.number)

    @property
    def follow_url(self):
        return object_url("requests:follow", self.number)

    # The workflow: only requests/workflow.py `move` calls these, under the row lock, asking the FSM whether the
    # request is where the transition starts and the policy (`permission`) whether the user may; it logs each move.

    @transition(
        field=status,
        source=Status.NEW,
        target=Status.IN_PROGRESS,
        permission=lambda demande, user: policy.can_take_charge(user, demande),
    )
    def take_charge(self, *, by, at):
        self.assigned_to = by
        self.taken_at = at

    @transition(
        field=status,
        source=Status.IN_PROGRESS,
        target=Status.RESOLVED,
        permission=lambda demande, user: policy.can_resolve(user, demande),
    )
    def resolve(self, *, by, at):
        self.resolved_at = at

    @transition(
        field=status,
        source=Status.IN_PROGRESS,
        target=Status.IN_PROGRESS,
        permission=lambda demande, user: policy.can_reassign(user, demande),
    )
    def reassign(self, *, by, at, to):
        self.assigned_to = to

    @transition(
        field=status,
        source=Status.IN_PROGRESS,
        target=Status.NEW,
        permission=lambda demande, user: policy.can_hand_back(user, demande),
    )
    def hand_back(self, *, by, at):
        """« Remettre dans la file »: unassigned, as if never taken (the workflow removes the right to resolve)."""
        self.assigned_to = None
        self.taken_at = None

    @transition(
        field=status,
        source=Status.NEW,
        target=Status.IN_PROGRESS,
        permission=lambda demande, user: policy.can_dispatch(user, demande),
    )
    def dispatch(self, *, by, at, to):
        """An administrateur gives a new request directly to an agent of the caisse."""
        self.assigned_to = to
        self.taken_at = at

    def refresh_from_db(self, using=None, fields=None, from_queryset=None):
        # The protected FSMField refuses any assignment once loaded, and reloading from the database is not one:
        # the status is dropped just before the reload, which puts it back (so it is protected again after).
        reload_everything = fields is None
        if reload_everything:
            deferred = self.get_deferred_fields()
            fields = [field.attname for field in self._meta.concrete_fields if field.attname not in deferred]
        if "status" in fields:
            self.__dict__.pop("status", None)
        super().refresh_from_db(using=using, fields=fields, from_queryset=from_queryset)
        if reload_everything:
            for relation in self._meta.related_objects:
                if relation.is_cached(self):
                    relation.delete_cached_value(self)

    # Django's get_FOO_display builds a dictionary of the field's choices at every call (9 µs): the lists call them a
    # few times a row (the queue five). The same answer: the choice's label, or the value when it has none.
    def get_kind_display(self):
        return _KIND_LABELS.get(self.kind, self.kind)

    def get_status_display(self):
        return _STATUS_LABELS.get(self.status, self.status)

    def get_person_civility_display(self):
        return _CIVILITY_LABELS.get(self.person_civility, self.person_civility)

    @property
    def spec(self):
        """The kind's entry in the catalogue."""
        return KINDS[self.kind]

    @property
    def motif_label(self):
        return self.spec.motif_display(self.motif)

    @property
    def kind_short_label(self):
        return self.spec.short_label

    @property
    def motif_short_label(self):
        return self.spec.motif_short_display(self.motif)

    @property
    def is_mas_referral(self):
        return is_mas_referral(self.kind, self.motif)

    @property
    def has_person(self):
        return bool(self.person_last_name)

    @property
    def person_name(self):
        if not self.has_person:
            return ""
        return f"{self.get_person_civility_display()} {self.person_last_name.upper()} {self.person_first_name}".strip()

    @property
    def masked_nir(self):
        return mask_nir(self.person_nir)

    @property
    def formatted_nir(self):
        return format_nir(self.person_nir)

    @property
    def is_open(self):
        return self.status in OPEN_STATUSES

    @property
    def is_awaiting_partner(self):
        return self.awaiting_partner_since is not None


Request._meta.get_field("status").register_lookup(AmongStatuses)


class RequestUserObjectPermission(UserObjectPermissionBase):
    """The agent in charge's right to resolve (requests/policy.py): the only right stored per object."""

    content_object = models.ForeignKey(Request, on_delete=models.CASCADE)


class NumberSequence(models.Model):
    """Last number given to a request of this caisse this year; locked while a deposit allocates the next one."""

    caisse = models.ForeignKey("structures.Caisse", on_delete=models.PROTECT)
    year = models.PositiveSmallIntegerField()
    last_value = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["caisse", "year"], name="one_sequence_per_caisse_year")]

    def __str__(self):
        return f"{self.caisse.code}/{self.year}: {self.last_value}"


class StatusChange(models.Model):
    """The log of a request's status: who, when, from, to. The deposit is the first row (from empty). A wait for the
    structure's answer is logged too, without a move (from and to are the same status): its `event` says which."""

    class Event(models.TextChoices):
        MOVE = "", "Changement de statut"
        WAITING = "waiting", "En attente de la réponse de la structure"
        ANSWERED = "answered", "Réponse de la structure reçue"

    request = models.ForeignKey(Request, on_delete=models.CASCADE, related_name="status_changes")
    from_status = models.CharField("ancien statut", max_length=12, choices=Status.choices, blank=True)
    to_status = models.CharField("nouveau statut", max_length=12, choices=Status.choices)
    by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    at = models.DateTimeField("date", default=timezone.now)
    # Who has the request after this change (take charge, reassignment).
    assigned_to = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    event = models.CharField(
        "événement", max_length=10, choices=Event.choices, blank=True, default=Event.MOVE, db_default=Event.MOVE
    )
    # A handover on the partner side (status unchanged): the colleague the request was entrusted to.
    handed_to = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )

    class Meta:
        ordering = ["at", "pk"]

    def __str__(self):
        return f"{self.request.number}: {self.from_status or '—'} → {self.to_status}"


class Follow(models.Model):
    """A star: the user follows this request."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="follows")
    request = models.ForeignKey(Request, on_delete=models.CASCADE, related_name="follows")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "request"], name="follow_once")]

    def __str__(self):
        return f"{self.user} ★ {self.request.number}"


class Visit(models.Model):
    """A user's last visit of a request's page: what happened on it after that is "du nouveau" for them."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    request = models.ForeignKey(Request, on_delete=models.CASCADE, related_name="visits")
    seen_at = models.DateTimeField("vue le")

    class Meta:
        verbose_name = "dernière visite"
        constraints = [models.UniqueConstraint(fields=["user", "request"], name="visit_once")]

    def __str__(self):
        return f"{self.user} a vu {self.request.number} le {self.seen_at:%d/%m/%Y %H:%M}"


class ExportLog(models.Model):
    """Every CSV export of the caisse's queue: who, when, with which filters, with or without personal data.

    Written before the first row leaves; `row_count` and `finished_at` are filled when the stream ends, and stay
    empty if the download was interrupted.
    """

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    caisse = models.ForeignKey("structures.Caisse", on_delete=models.PROTECT, related_name="+")
    at = models.DateTimeField("date", default=timezone.now)
    filters = models.JSONField("filtres", default=dict)
    with_personal_data = models.BooleanField("avec données personnelles", default=False)
    row_count = models.PositiveIntegerField("lignes exportées", null=True, blank=True)
    finished_at = models.DateTimeField("terminé le", null=True, blank=True)

    class Meta:
        verbose_name = "export de la file des demandes"
        ordering = ["-at", "-pk"]

    def __str__(self):
        return f"Export {self.at:%Y-%m-%d %H:%M} par {self.user}"


class PrivateStorage(FileSystemStorage):
    """Files outside any public folder, in settings.PRIVATE_MEDIA_ROOT as it is when a file is read or written."""

    @property
    def base_location(self):
        return str(settings.PRIVATE_MEDIA_ROOT)

    @property
    def location(self):
        return os.path.abspath(self.base_location)

    def _save(self, name, content):
        """A file the storage could not write whole (disk full, read-only, permissions) is not left behind: what was
        written of it goes. Names are generated and opened exclusively: a name found there before is not ours."""
        path = self.path(name)
        existed = os.path.lexists(path)
        try:
            return super()._save(name, content)
        except OSError:
            if not existed:
                with contextlib.suppress(OSError):
                    os.remove(path)
            raise


private_storage = PrivateStorage(base_url=None)


def attachment_path(instance, filename):
    """A generated name: nothing the user typed reaches the file system."""
    today = timezone.localdate()
    return f"attachments/{today:%Y/%m}/{uuid.uuid4().hex}{PurePath(filename).suffix.lower()}"


class MessageQuerySet(models.QuerySet):
    def visible_to(self, user):
        """Partners never see internal notes; caisse staff see everything on their caisse's requests."""
        return self.filter(request__in=Request.objects.visible_to(user))._readable_by(user)

    def of_visible_request(self, demande, user):
        """The messages of a request read through `Request.objects.visible_to(user)`: the same rule as
        `visible_to`, without asking the database again whether the request is visible (the request's page)."""
        return self.filter(request=demande)._readable_by(user)

    def _readable_by(self, user):
        return self if policy.reads_internal_notes(user) else self.filter(is_internal=False)


class Message(models.Model):
    """An exchange on a request: from the partner or from the caisse; internal notes are between agents only."""

    class Side(models.TextChoices):
        PARTNER = "partner", "Structure partenaire"
        CAISSE = "caisse", "Caisse"

    request = models.ForeignKey(Request, on_delete=models.CASCADE, related_name="messages")
    # What names the message outside the database (the API): its key counts every message of the site, internal
    # notes included, so a partner who sees messages 9 and 11 would know of a note 10.
    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    side = models.CharField("de la part de", max_length=10, choices=Side.choices)
    is_internal = models.BooleanField("note interne", default=False)
    is_answer = models.BooleanField("réponse de résolution", default=False)
    body = models.TextField("message")
    created_at = models.DateTimeField("envoyé le", default=timezone.now)

    objects = MessageQuerySet.as_manager()

    class Meta:
        ordering = ["created_at", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(is_internal=False) | Q(side="caisse"), name="internal_notes_are_from_the_caisse"
            ),
            models.CheckConstraint(
                condition=Q(is_answer=False) | Q(side="caisse", is_internal=False), name="answer_is_public"
            ),
        ]

    def __str__(self):
        return f"{self.get_side_display()} — {self.request.number}"


class AttachmentQuerySet(models.QuerySet):
    def visible_to(self, user):
        """As their request, except that the files of internal notes stay with the caisse."""
        return self.filter(request__in=Request.objects.visible_to(user))._readable_by(user)

    def of_visible_request(self, demande, user):
        """As `MessageQuerySet.of_visible_request`."""
        return self.filter(request=demande)._readable_by(user)

    def _readable_by(self, user):
        if policy.reads_internal_notes(user):
            return self
        return self.filter(Q(message__isnull=True) | Q(message__is_internal=False))


class Attachment(models.Model):
    class FileType(models.TextChoices):
        PDF = "application/pdf", "PDF"
        JPEG = "image/jpeg", "JPEG"
        PNG = "image/png", "PNG"

    request = models.ForeignKey(Request, on_delete=models.CASCADE, related_name="attachments")
    # What names the file in its download address and the API, for the same reason as Message.public_id.
    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    # Files of a message belong to it (an internal note's files are internal too); others to the request itself.
    message = models.ForeignKey("Message", on_delete=models.CASCADE, null=True, blank=True, related_name="attachments")
    file = models.FileField(storage=private_storage, upload_to=attachment_path, max_length=200)
    original_name = models.CharField("nom du fichier", max_length=120)
    content_type = models.CharField(max_length=20, choices=FileType.choices)
    size = models.PositiveIntegerField("taille")
    sha256 = models.CharField(max_length=64)
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    uploaded_at = models.DateTimeField(default=timezone.now)

    objects = AttachmentQuerySet.as_manager()

    class Meta:
        ordering = ["uploaded_at", "pk"]

    def __str__(self):
        return self.original_name


class MasReferral(models.Model):
    """Saisine de la Mission accompagnement santé: the referral form and the evidence of the person's consent.

    The person concerned is on the request. Lists (contexts, cares, causes, actions) are slugs from
    requests/mas.py; they stay after retention for statistics, while the free texts and contacts are erased.
    """

    class ConsentMode(models.TextChoices):
        SIGNED = "signed", "Signée par l'assuré(e)"
        REMOTE = "remote", "Détection à distance"

    request = models.OneToOneField(Request, on_delete=models.CASCADE, related_name="mas_referral")
    referral_date = models.DateField("date de la saisine")
    contexts = models.JSONField("contexte", default=list)
    actions = models.JSONField("actions déjà engagées", default=list)
    action_other = models.CharField("autre action", max_length=300, blank=True)
    cares = models.JSONField("soins non réalisés", default=list)
    care_other = models.CharField("autre soin", max_length=300, blank=True)
    renunciation_duration = models.CharField("depuis", max_length=20, blank=True)
    causes = models.JSONField("causes du renoncement", default=list)
    cause_other = models.CharField("autre cause", max_length=300, blank=True)

    detector_name = models.CharField("nom et prénom du détecteur", max_length=300)
    detector_email = models.EmailField("adresse électronique du détecteur")
    detector_structure = models.CharField("structure du détecteur", max_length=200)
    detector_phone = models.CharField("téléphone du détecteur", max_length=20, blank=True)

    consent_mode = models.CharField("accord de la personne", max_length=10, choices=ConsentMode.choices)
    consent_collected_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    consent_collected_at = models.DateTimeField("accord recueilli le")
    notice_version = models.CharField("version de la notice d'information", max_length=20)
    consent_document = models.ForeignKey(
        Attachment, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    confirmation_letter_sent_at = models.DateTimeField("courrier de confirmation envoyé le", null=True, blank=True)
    confirmation_letter_sent_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )

    class Meta:
        verbose_name = "saisine MAS"

    def __str__(self):
        return f"Saisine MAS {self.request.number}"

    @property
    def needs_confirmation_letter(self):
        return self.consent_mode == self.ConsentMode.REMOTE


class AnswerTemplate(models.Model):
    """A caisse's canned text: a message to the structure or the answer that resolves a request, for one kind of
    request or all of them. Kept when no longer wanted (deactivated, never deleted). Its placeholders are filled by
    requests/canned.py, never by a template engine."""

    class Purpose(models.TextChoices):
        MESSAGE = "message", "Message à la structure"
        ANSWER = "answer", "Réponse de résolution"

    caisse = models.ForeignKey("structures.Caisse", on_delete=models.PROTECT, related_name="answer_templates")
    purpose = models.CharField("usage", max_length=10, choices=Purpose.choices, default=Purpose.MESSAGE)
    # Blank: every kind of request.
    kind = models.CharField("type de demande", max_length=20, choices=Kind.choices, blank=True)
    title = models.CharField("titre", max_length=120)
    body = models.TextField("texte")
    is_active = models.BooleanField("actif", default=True)
    created_at = models.DateTimeField("créé le", default=timezone.now, editable=False)
    updated_at = models.DateTimeField("modifié le", default=timezone.now, editable=False)

    class Meta:
        verbose_name = "modèle de réponse"
        verbose_name_plural = "modèles de réponse"
        ordering = ["title", "pk"]
        indexes = [models.Index(fields=["caisse", "purpose", "is_active"], name="answer_template_usable")]

    def __str__(self):
        return self.title


class DepositKey(models.Model):
    """One deposit per key and author: an API client's `Idempotency-Key`, or the one-time token of a deposit page's
    form. Sent again (a retry after a cut connection, a double click), the key gives back the request it created;
    with other content, it is refused. `fingerprint` is a keyed digest of what was posted (no personal data)."""

    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    key = models.CharField(max_length=64)
    fingerprint = models.CharField(max_length=64)
    # Set in the deposit's own transaction: a committed key always has its request.
    request = models.ForeignKey(Request, on_delete=models.CASCADE, null=True, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["author", "key"], name="deposit_key_once_per_author")]

    def __str__(self):
        return self.key


class DraftQuerySet(models.QuerySet):
    def visible_to(self, user):
        """The author's own drafts, in the structure they work for now (requests/policy.py `draft_scope`)."""
        scope = policy.draft_scope(user)
        return self.none() if scope is None else self.filter(**scope)


class Draft(models.Model):
    """A deposit form saved before it is sent (requests/drafts.py): what was typed, without files, to resume later.
    Deleted by the deposit it becomes, or 30 days after it was last saved (the nightly purge): it holds a person's
    data. The NIR is out of `values`, encrypted as on a request."""

    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    structure = models.ForeignKey("structures.Structure", on_delete=models.CASCADE, related_name="+")
    kind = models.CharField("type de demande", max_length=20, choices=Kind.choices)
    # As typed (blank until a motif is chosen); the MAS referral's form saves the catalogue's (MAS_REFERRAL).
    motif = models.CharField("motif", max_length=40, blank=True)
    values = models.JSONField("saisie", default=dict)
    person_nir = EncryptedCharField("numéro de sécurité sociale", blank=True)
    created_at = models.DateTimeField("créé le", default=timezone.now, editable=False)
    updated_at = models.DateTimeField("enregistré le", default=timezone.now, editable=False)

    objects = DraftQuerySet.as_manager()
    # The deposit page's parameter naming the draft it resumes (requests/drafts.py `requested`).
    PARAMETER = "brouillon"

    class Meta:
        verbose_name = "brouillon"
        indexes = [
            # The home page's list (newest first) and the nightly purge (the oldest).
            models.Index(fields=["author", "structure", "-updated_at"], name="draft_author_newest"),
            models.Index(fields=["updated_at"], name="draft_updated"),
        ]

    def __str__(self):
        return f"Brouillon {self.pk}"

    def get_absolute_url(self):
        """Its form, resumed from it: the MAS referral's, or its kind's."""
        if self.is_mas_referral:
            return f"{reverse('requests:mas_create')}?{self.PARAMETER}={self.pk}"
        return f"{reverse('requests:create', args=[self.spec.slug])}?{self.PARAMETER}={self.pk}"

    @property
    def spec(self):
        return KINDS[self.kind]

    @property
    def is_mas_referral(self):
        return is_mas_referral(self.kind, self.motif)

    @property
    def title(self):
        return "Saisine de la Mission accompagnement santé" if self.is_mas_referral else self.spec.title

    @property
    def person_name(self):
        names = (self.values.get("person_last_name") or "").upper(), self.values.get("person_first_name") or ""
        return " ".join(name for name in names if name)


STAGED_FOLDER = "staged"


def staged_path(instance, filename):
    """As attachment_path, in its own folder, which the nightly purge sweeps (requests/staging.py)."""
    return f"{STAGED_FOLDER}/{uuid.uuid4().hex}{PurePath(filename).suffix.lower()}"


class StagedFile(models.Model):
    """A file that passed the checks on a deposit form that failed for another reason, kept for its owner's next try
    (requests/staging.py): a few hours at most, never readable by anyone else."""

    # The id the page sends back: unguessable, and looked up with its owner only.
    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    # The form field it was sent with (attachments, consent_document).
    field = models.CharField(max_length=30)
    file = models.FileField(storage=private_storage, upload_to=staged_path, max_length=200)
    original_name = models.CharField("nom du fichier", max_length=120)
    content_type = models.CharField(max_length=20, choices=Attachment.FileType.choices)
    size = models.PositiveIntegerField("taille")
    sha256 = models.CharField(max_length=64)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)

    def __str__(self):
        return self.original_name
