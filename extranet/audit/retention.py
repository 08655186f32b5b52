import logging

from django.conf import settings
from django.utils import timezone

from extranet.audit.models import AccessLog
from extranet.core.dates import months_before

logger = logging.getLogger(__name__)


def purge_access_log(now=None):
    cutoff = months_before(now or timezone.now(), settings.ACCESS_LOG_RETENTION_MONTHS)
    purged = AccessLog.objects.purge_before(cutoff)
    logger.info(
        "Journal des accès : %s entrée(s) de plus de %s mois effacée(s)", purged, settings.ACCESS_LOG_RETENTION_MONTHS
    )
    return purged
