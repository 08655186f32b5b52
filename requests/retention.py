"""Retention of personal data. MAS referrals: erased 18 months after the request is resolved (the end of the
accompaniment); what is not personal (contexts, cares, duration, causes, dates, caisse, structure) stays."""

import logging
from calendar import monthrange
from dataclasses import dataclass

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from requests.models import MAS_REFERRAL_MOTIF, Kind, MasReferral, Request, Status

logger = logging.getLogger(__name__)
ERASED_PERSON = {
    "person_civility": "",
    "person_last_name": "",
    "person_first_name": "",
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


def months_before(moment, months):
    month_index = moment.year * 12 + moment.month - 1 - months
    year, month = divmod(month_index, 12)
    day = min(moment.day, monthrange(year, month + 1)[1])
    return moment.replace(year=year, month=month + 1, day=day)


@dataclass
class PurgeReport:
    requests: int = 0
    attachments: int = 0

    def __str__(self):
        return f"{self.requests} saisine(s) MAS, {self.attachments} pièce(s) jointe(s)"


def expired_mas_referrals(now=None):
    cutoff = months_before(now or timezone.now(), settings.MAS_RETENTION_MONTHS)
    return Request.objects.filter(
        kind=Kind.ACCESS_DIFFICULTY,
        motif=MAS_REFERRAL_MOTIF,
        status=Status.RESOLVED,
        resolved_at__lt=cutoff,
        purged_at__isnull=True,
    )


def purge_mas_referrals(*, now=None, dry_run=False):
    """Erase the personal data of MAS referrals past retention. Idempotent: purged requests are marked."""
    report = PurgeReport()
    for request_id in expired_mas_referrals(now).values_list("pk", flat=True).iterator():
        report.requests += 1
        if dry_run:
            report.attachments += Request.objects.get(pk=request_id).attachments.count()
        else:
            report.attachments += _purge_one(request_id, now or timezone.now())
    logger.info("Rétention MAS%s : %s", " (simulation)" if dry_run else "", report)
    return report


def _purge_one(request_id, now):
    files = []
    with transaction.atomic():
        request = Request.objects.select_for_update().get(pk=request_id)
        if request.purged_at:
            return 0
        attachments = list(request.attachments.all())
        files = [attachment.file.name for attachment in attachments]
        MasReferral.objects.filter(request=request).update(**ERASED_REFERRAL)
        request.attachments.all().delete()
        Request.objects.filter(pk=request.pk).update(purged_at=now, **ERASED_PERSON)
        transaction.on_commit(lambda: _delete_files(files))
    return len(files)


def _delete_files(names):
    from requests.models import private_storage

    for name in names:
        private_storage.delete(name)
