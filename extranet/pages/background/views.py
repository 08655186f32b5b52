from datetime import timedelta

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.db.models import Count, Q
from django.shortcuts import render
from django.utils import timezone
from django_tasks import TaskResultStatus

from extranet.models import JobRun
from extranet.notifications.models import OutgoingEmail
from extranet.scheduler import NIGHTLY_JOBS, daily_jobs, waiting_daily_run
from structures.guards import require_caisse_admin
from structures.models import CaisseMembership, Membership

# What an administrateur must act on: an email the relay refused for good, or one that may have left.
NEEDS_ATTENTION = [OutgoingEmail.State.FAILED, OutgoingEmail.State.UNKNOWN]
LISTED_EMAILS = 30


def uses_task_queue():
    return daily_jobs.get_backend().supports_defer


def queue_stalled_since(now=None):
    """When the oldest task due more than QUEUE_STALL_WARNING_MINUTES ago became due (no worker takes the queue),
    or None."""
    if not uses_task_queue():
        return None
    from django_tasks_db.models import DBTaskResult

    now = now or timezone.now()
    oldest = (
        DBTaskResult.objects.filter(status=TaskResultStatus.READY, run_after__lte=now)
        .order_by("run_after")
        .values_list("run_after", flat=True)
        .first()
    )
    if oldest is not None and oldest <= now - timedelta(minutes=settings.QUEUE_STALL_WARNING_MINUTES):
        return oldest
    return None


def emails_of_caisse(caisse):
    """The outbox's emails to the caisse's accounts and to those of the structures under convention with it: the
    accounts its administrateurs manage, and no other caisse's."""
    staff = CaisseMembership.objects.filter(caisse=caisse).values("user__email")
    partners = Membership.objects.filter(structure__conventions__caisse=caisse).values("user__email")
    return OutgoingEmail.objects.filter(Q(recipient__in=staff) | Q(recipient__in=partners))


def background_status(caisse):
    emails = emails_of_caisse(caisse)
    counts = dict(emails.values_list("state").annotate(count=Count("pk")).values_list("state", "count"))
    runs = {run.job: run for run in JobRun.objects.all()}
    jobs = [{"label": label, "run": runs.get(key)} for key, (label, _) in NIGHTLY_JOBS.items()]
    failed_jobs = [job for job in jobs if job["run"] and job["run"].outcome == JobRun.Outcome.ERROR]
    return {
        "stalled_since": queue_stalled_since(),
        "stall_minutes": settings.QUEUE_STALL_WARNING_MINUTES,
        "uses_task_queue": uses_task_queue(),
        "jobs": jobs,
        "failed_jobs": failed_jobs,
        "email_counts": [(state.label, counts.get(state.value, 0)) for state in OutgoingEmail.State],
        "attention_count": sum(counts.get(state, 0) for state in NEEDS_ATTENTION),
        "emails_to_check": emails.filter(state__in=NEEDS_ATTENTION).order_by("-created_at", "-pk")[:LISTED_EMAILS],
    }


def background_needs_attention(caisse):
    """For the administrateur's home: the queue stopped, a nightly job failed, or an email to check."""
    return (
        queue_stalled_since() is not None
        or JobRun.objects.filter(outcome=JobRun.Outcome.ERROR).exists()
        or emails_of_caisse(caisse).filter(state__in=NEEDS_ATTENTION).exists()
    )


@login_required
def tasks(request):
    """The administrateurs' view of the background work: whether the queue moves, the last run of each nightly
    job, and the emails refused for good or maybe sent (to the accounts of their caisse and its structures)."""
    caisse = require_caisse_admin(request.user).caisse
    status = background_status(caisse)
    next_night = waiting_daily_run() if status["uses_task_queue"] else None
    return render(request, "background/tasks.html", status | {"next_night": next_night})
