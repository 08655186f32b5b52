"""Retention of personal data, per kind of request (settings.RETENTION_MONTHS): once a request has been resolved
for that long, the person's identity, the free texts, the exchanges and the files are erased. What is not
personal stays for the statistics: number, kind, motif, dates, caisse, structure, status history, and for MAS
referrals the contexts, cares, duration and causes. MAS referrals: 18 months after the end of the accompaniment,
as the notice given to the person says."""

import logging
from dataclasses import dataclass, field

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from extranet.core.dates import months_before
from requests.catalog import KINDS, MAS_REFERRAL
from requests.models import IS_MAS_REFERRAL, MasReferral, Message, Request, Status

logger = logging.getLogger(__name__)
ERASED_PERSON = {
    "person_civility": "",
    "person_last_name": "",
    "person_first_name": "",
    "person_last_name_key": "",
    "person_first_name_key": "",
    "person_birth_date": None,
    "person_nir": "",
    "person_nir_digest": "",
    "person_phone": "",
    "person_email": "",
    "details": {},
}
ERASED_REFERRAL = {
    "action_other": "",
    "care_other": "",
    "cause_other": "",
    "detector_name": "",
    "detector_email": "",
    "detector_phone": "",
    "consent_document": None,
}


# The keys of settings.RETENTION_MONTHS: the MAS referral's motif, then each kind.
POLICY_LABELS = {MAS_REFERRAL.motif: "saisine MAS", **{spec.value: spec.title for spec in KINDS.values()}}


ERASED_MESSAGE = "[Message effacé à l'échéance de la durée de conservation]"


@dataclass
class PurgeReport:
    by_policy: dict = field(default_factory=dict)
    attachments: int = 0
    messages: int = 0

    @property
    def requests(self):
        return sum(self.by_policy.values())

    def __str__(self):
        detail = ", ".join(f"{POLICY_LABELS[key]} : {count}" for key, count in sorted(self.by_policy.items()))
        return (
            f"{self.requests} demande(s){f' ({detail})' if detail else ''}, {self.messages} message(s), "
            f"{self.attachments} pièce(s) jointe(s)"
        )


def policy_filter(key):
    """The requests a retention setting applies to: the MAS referral has its own, apart from its kind's."""
    return IS_MAS_REFERRAL if key == MAS_REFERRAL.motif else Q(kind=key) & ~IS_MAS_REFERRAL


def expired_requests(now=None):
    """Resolved requests past their retention, not purged yet, with the setting that applies to each."""
    now = now or timezone.now()
    for key in POLICY_LABELS:
        months = settings.RETENTION_MONTHS.get(key, settings.RETENTION_MONTHS["default"])
        yield (
            key,
            Request.objects.filter(
                policy_filter(key),
                status=Status.RESOLVED,
                resolved_at__lt=months_before(now, months),
                purged_at__isnull=True,
            ),
        )


def purge_expired_requests(*, now=None, dry_run=False):
    """Erase the personal data of requests past retention. Idempotent: purged requests are marked and skipped;
    one transaction per request, so that an interruption leaves each request either whole or purged."""
    report = PurgeReport()
    for key, expired in expired_requests(now):
        for request_id in expired.values_list("pk", flat=True).iterator():
            if dry_run:
                attachments, messages = _counts(request_id)
            else:
                attachments, messages = _purge_one(request_id, now or timezone.now())
            report.by_policy[key] = report.by_policy.get(key, 0) + 1
            report.attachments += attachments
            report.messages += messages
    logger.info("Rétention%s : %s", " (simulation)" if dry_run else "", report)
    return report


def _counts(request_id):
    return (
        Request.objects.get(pk=request_id).attachments.count(),
        Message.objects.filter(request_id=request_id).count(),
    )


def _purge_one(request_id, now):
    files = []
    with transaction.atomic():
        demande = Request.objects.select_for_update().get(pk=request_id)
        if demande.purged_at:
            return 0, 0
        files = [attachment.file.name for attachment in demande.attachments.all()]
        MasReferral.objects.filter(request=demande).update(**ERASED_REFERRAL)
        demande.attachments.all().delete()
        messages = Message.objects.filter(request=demande).update(body=ERASED_MESSAGE)
        Request.objects.filter(pk=demande.pk).update(purged_at=now, updated_at=now, **ERASED_PERSON)
        transaction.on_commit(lambda: _delete_files(files))
    return len(files), messages


def _delete_files(names):
    from requests.models import private_storage

    for name in names:
        private_storage.delete(name)
