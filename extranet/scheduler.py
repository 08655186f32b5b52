from datetime import datetime, time, timedelta

from django.utils import timezone
from django_tasks import TaskResultStatus, task

from extranet.api.models import RateCounter
from extranet.audit.retention import purge_access_log
from extranet.notifications.delivery import send_pending
from requests.notifications import send_daily_digests
from requests.retention import purge_expired_requests
from requests.services import remind_awaiting_partners

DAILY_AT = time(3, 0)


@task()
def daily_jobs():
    """Every night: retention (requests' personal data, access journal), pending emails, the agents' morning
    digest, the reminders of the structures whose answer is awaited, the API's idle request counts; then plan the
    next night."""
    report = purge_expired_requests()
    purge_access_log()
    RateCounter.objects.purge()
    resent = send_pending()
    digests = send_daily_digests()
    reminded = remind_awaiting_partners()
    schedule_daily_jobs()
    return f"{report}; {resent} courriel(s) renvoyé(s); {digests} récapitulatif(s); {reminded} relance(s)"


def next_daily_run(now=None):
    local = timezone.localtime(now)
    run = timezone.make_aware(datetime.combine(local.date(), DAILY_AT))
    return run if run > local else timezone.make_aware(datetime.combine(local.date() + timedelta(days=1), DAILY_AT))


def schedule_daily_jobs():
    """Queue the next run for 3 a.m. unless one is already waiting; only queues that can defer run it daily."""
    if not daily_jobs.get_backend().supports_defer:
        return None
    from django_tasks_db.models import DBTaskResult

    waiting = DBTaskResult.objects.filter(status=TaskResultStatus.READY, task_path=daily_jobs.module_path)
    if waiting.exists():
        return None
    return daily_jobs.using(run_after=next_daily_run()).enqueue()
