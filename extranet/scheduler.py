import logging
import traceback
from datetime import datetime, time, timedelta

from django.db import connection, transaction
from django.utils import timezone
from django_tasks import TaskResultStatus, task

from extranet.api.models import RateCounter
from extranet.audit.retention import purge_access_log
from extranet.models import JobRun
from extranet.notifications import webhooks
from extranet.notifications.delivery import send_pending
from requests.drafts import purge_expired_drafts
from requests.notifications import send_daily_digests
from requests.retention import purge_expired_requests
from requests.services import remind_awaiting_partners
from requests.staging import purge_expired as purge_staged_files

logger = logging.getLogger(__name__)
DAILY_AT = time(3, 0)
# Serialises the planning of the next night between workers (PostgreSQL advisory lock; SQLite's write transactions
# are serialised already).
PLANNING_LOCK = 22_05

# Each nightly job: its label on the administrateurs' page, and what it does, returning a summary of counts.
NIGHTLY_JOBS = {
    "retention": ("Rétention des données des demandes", lambda: str(purge_expired_requests())),
    "access_log": ("Purge du journal des accès", lambda: f"{purge_access_log()} entrée(s) effacée(s)"),
    "emails": ("Courriels en attente", lambda: f"{send_pending()} courriel(s) envoyé(s)"),
    "digests": ("Récapitulatif quotidien des agents", lambda: f"{send_daily_digests()} récapitulatif(s)"),
    "reminders": ("Relances des structures", lambda: f"{remind_awaiting_partners()} relance(s)"),
    "rate_counts": ("Compteurs de débit de l'API inactifs", lambda: f"{RateCounter.objects.purge()} compteur(s)"),
    "staged_files": (
        "Fichiers gardés après une erreur de saisie",
        lambda: f"{purge_staged_files()} fichier(s) effacé(s)",
    ),
    "webhook_deliveries": (
        "Journal des webhooks",
        lambda: f"{webhooks.purge_old_deliveries()} livraison(s) ancienne(s) effacée(s)",
    ),
    "drafts": ("Brouillons de plus de 30 jours", lambda: f"{purge_expired_drafts()} brouillon(s) effacé(s)"),
}


@task()
def daily_jobs():
    """Every night: retention (requests' personal data, access journal), pending emails, the agents' morning digest,
    the reminders of the structures whose answer is awaited, the API's idle request counts, the files kept across a
    form's errors, the webhooks' old deliveries, the drafts left for 30 days. The next night is planned first, so
    that neither a failing job nor a worker killed mid-way stops the chain; each job runs whatever the others did."""
    schedule_daily_jobs()
    return "; ".join(f"{NIGHTLY_JOBS[key][0]} : {run_job(key)}" for key in NIGHTLY_JOBS)


def run_job(key):
    """Run one nightly job and record its outcome (JobRun). A failure is logged by kind and place (file, line,
    function of each frame) only: an exception's message can quote the data it was working on."""
    label, job = NIGHTLY_JOBS[key]
    JobRun.objects.update_or_create(
        job=key,
        defaults={"started_at": timezone.now(), "finished_at": None, "outcome": JobRun.Outcome.RUNNING, "summary": ""},
    )
    try:
        summary, outcome = job(), JobRun.Outcome.OK
    except Exception as error:
        summary, outcome = f"Échec ({type(error).__name__}), détail dans le journal du serveur", JobRun.Outcome.ERROR
        logger.error(
            "Tâche de nuit « %s » en échec : %s\n%s",
            label,
            type(error).__name__,
            "\n".join(
                f"  {frame.filename}:{frame.lineno} {frame.name}"
                for frame in traceback.extract_tb(error.__traceback__)
            ),
        )
    JobRun.objects.filter(job=key).update(finished_at=timezone.now(), outcome=outcome, summary=summary[:200])
    return summary


def next_daily_run(now=None):
    local = timezone.localtime(now)
    run = timezone.make_aware(datetime.combine(local.date(), DAILY_AT))
    return run if run > local else timezone.make_aware(datetime.combine(local.date() + timedelta(days=1), DAILY_AT))


def waiting_daily_run():
    """The next planned nightly run (a task result), if any."""
    from django_tasks_db.models import DBTaskResult

    return (
        DBTaskResult.objects.filter(status=TaskResultStatus.READY, task_path=daily_jobs.module_path)
        .order_by("run_after")
        .first()
    )


def schedule_daily_jobs():
    """Queue the next run for 3 a.m. unless one is already waiting; only queues that can defer run it daily."""
    if not daily_jobs.get_backend().supports_defer:
        return None
    with transaction.atomic():
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_xact_lock(%s)", [PLANNING_LOCK])
        if waiting_daily_run() is not None:
            return None
        return daily_jobs.using(run_after=next_daily_run()).enqueue()
