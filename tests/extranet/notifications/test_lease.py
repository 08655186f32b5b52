"""What a worker killed mid-attempt leaves (extranet/notifications/delivery.py, extranet/worker.py): an email claimed
but never handed to the relay is sent again once its lease ran out; one whose hand-off had started is "peut-être
envoyé", logged, never resent; the dead worker's task is marked failed; a pending email without a task is queued."""

import logging
from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone
from django_tasks import TaskResultStatus
from django_tasks_db.models import DBTaskResult

from extranet.notifications import delivery
from extranet.notifications.models import OutgoingEmail
from extranet.worker import reclaim_stale_tasks

State = OutgoingEmail.State


def claimed(*, handed_off, since):
    """An email as a worker killed during its attempt leaves it."""
    return OutgoingEmail.objects.create(
        recipient="a@exemple.fr",
        subject="Essai",
        body="Bonjour",
        state=State.SENDING,
        attempts=1,
        attempting_since=since,
        handed_off_at=since if handed_off else None,
    )


@pytest.mark.django_db
class TestLease:
    def test_an_attempt_within_its_lease_is_left_alone(self, settings):
        now = timezone.now()
        email = claimed(handed_off=False, since=now - timedelta(seconds=settings.EMAIL_SENDING_LEASE - 5))
        assert delivery.reclaim_stale(now) == (0, 0)
        email.refresh_from_db()
        assert email.state == State.SENDING

    def test_a_claim_never_handed_off_is_sent_again_once_the_lease_ran_out(self, settings, mailoutbox):
        now = timezone.now()
        email = claimed(handed_off=False, since=now - timedelta(seconds=settings.EMAIL_SENDING_LEASE + 1))
        assert delivery.deliver(email.pk, force=True) == "skipped"  # still held
        assert delivery.reclaim_stale(now) == (1, 0)
        email.refresh_from_db()
        assert (email.state, email.attempting_since) == (State.PENDING, None)
        assert delivery.deliver(email.pk) == "sent"
        assert len(mailoutbox) == 1
        email.refresh_from_db()
        assert (email.state, email.attempts) == (State.SENT, 2)

    def test_a_claim_whose_hand_off_started_is_maybe_sent_and_never_resent(self, settings, mailoutbox, caplog):
        caplog.set_level(logging.WARNING, logger=delivery.__name__)
        now = timezone.now()
        email = claimed(handed_off=True, since=now - timedelta(seconds=settings.EMAIL_SENDING_LEASE + 1))
        assert delivery.reclaim_stale(now) == (0, 1)
        email.refresh_from_db()
        assert email.state == State.UNKNOWN
        assert email.last_error == "Envoi interrompu pendant la remise du message au serveur SMTP"
        [record] = [record for record in caplog.records if record.name == delivery.__name__]
        assert record.levelname == "ERROR" and f"Courriel {email.pk} peut-être envoyé" in record.getMessage()
        assert delivery.send_pending() == 0
        assert mailoutbox == []

    def test_a_late_attempt_cannot_hand_off_an_email_taken_back(self, settings, mailoutbox):
        email = OutgoingEmail.objects.create(recipient="a@exemple.fr", subject="Essai", body="Bonjour")
        slow = delivery._claim(email.pk, force=False)
        later = timezone.now() + timedelta(seconds=settings.EMAIL_SENDING_LEASE + 1)
        with time_machine.travel(later):
            assert delivery.reclaim_stale() == (1, 0)
            assert delivery.deliver(email.pk) == "sent"
        # The first attempt wakes up: its lease is gone, it stops before DATA.
        with pytest.raises(delivery.LeaseLost):
            delivery._mark_handed_off(slow)
        assert delivery._finish(slow, state=State.PENDING) == 0
        email.refresh_from_db()
        assert (email.state, email.attempts) == (State.SENT, 2)
        assert len(mailoutbox) == 1

    def test_a_dead_workers_tasks_are_marked_failed_after_their_timeout(self, settings):
        settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
        now = timezone.now()

        def running(path, started):
            return DBTaskResult.objects.create(
                task_path=path,
                args_kwargs={"args": [1], "kwargs": {}},
                run_after=now,
                backend_name="default",
                status=TaskResultStatus.RUNNING,
                started_at=started,
            )

        lease, timeout = settings.EMAIL_SENDING_LEASE, settings.TASK_RUNNING_TIMEOUT
        email_stale = running(delivery.deliver_email.module_path, now - timedelta(seconds=lease + 1))
        email_alive = running(delivery.deliver_email.module_path, now - timedelta(seconds=lease - 5))
        night_alive = running("extranet.scheduler.daily_jobs", now - timedelta(seconds=lease + 1))
        night_stale = running("extranet.scheduler.daily_jobs", now - timedelta(seconds=timeout + 1))
        assert reclaim_stale_tasks(now) == 2
        statuses = {task.pk: task.status for task in DBTaskResult.objects.all()}
        assert statuses == {
            email_stale.pk: TaskResultStatus.FAILED,
            email_alive.pk: TaskResultStatus.RUNNING,
            night_alive.pk: TaskResultStatus.RUNNING,
            night_stale.pk: TaskResultStatus.FAILED,
        }
        failed = DBTaskResult.objects.get(pk=night_stale.pk)
        assert failed.exception_class_path == "extranet.worker.WorkerLost"
        assert failed.task_result.errors[0].exception_class.__name__ == "WorkerLost"

    def test_a_due_pending_email_without_a_waiting_task_is_queued_again(self, settings):
        settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
        orphan, queued, later = (
            OutgoingEmail.objects.create(recipient=f"{name}@exemple.fr", subject="Essai", body="Bonjour")
            for name in ("orphelin", "en-file", "plus-tard")
        )
        delivery.deliver_email.enqueue(queued.pk)
        OutgoingEmail.objects.filter(pk=later.pk).update(next_attempt_at=timezone.now() + timedelta(minutes=5))
        assert delivery.enqueue_orphans() == 1
        waiting = DBTaskResult.objects.filter(status=TaskResultStatus.READY).values_list("args_kwargs", flat=True)
        assert sorted(call["args"][0] for call in waiting) == sorted([orphan.pk, queued.pk])
        assert delivery.enqueue_orphans() == 0


# Committed for real: the worker closes its connection between tasks, as in production.
@pytest.mark.django_db(transaction=True)
def test_the_project_worker_runs_the_queue_and_takes_back_what_a_dead_worker_left(settings, mailoutbox):
    """`manage.py db_worker` is the project's (extranet/worker.py): one pass sends a queued email and one whose
    killed worker left it claimed past its lease, and marks that worker's task failed."""
    from django.core.management import call_command, get_commands

    assert get_commands()["db_worker"] == "extranet"
    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
    queued = OutgoingEmail.objects.create(recipient="a@exemple.fr", subject="En file", body=".")
    deliver_email_task = delivery.deliver_email.enqueue(queued.pk)
    long_ago = timezone.now() - timedelta(seconds=settings.EMAIL_SENDING_LEASE + 1)
    left = claimed(handed_off=False, since=long_ago)
    dead = DBTaskResult.objects.create(
        task_path=delivery.deliver_email.module_path,
        args_kwargs={"args": [left.pk], "kwargs": {}},
        run_after=long_ago,
        backend_name="default",
        status=TaskResultStatus.RUNNING,
        started_at=long_ago,
    )
    call_command("db_worker", "--batch", "--no-startup-delay", "--no-reload", verbosity=0)
    assert sorted(message.subject for message in mailoutbox) == ["En file", "Essai"]
    assert DBTaskResult.objects.get(pk=deliver_email_task.id).status == TaskResultStatus.SUCCESSFUL
    assert DBTaskResult.objects.get(pk=dead.pk).status == TaskResultStatus.FAILED
    assert set(OutgoingEmail.objects.values_list("state", flat=True)) == {State.SENT}
