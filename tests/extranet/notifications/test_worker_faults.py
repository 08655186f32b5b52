"""The real worker (`manage.py db_worker` subprocess, PostgreSQL) against real faults: killed with SIGKILL during
batches of emails and during the nightly run, its database connection cut (`pg_terminate_backend`), a relay that
never answers. Each sends through a real SMTP server (aiosmtpd) counting what it accepted."""

import random
import time
from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone
from django_tasks import TaskResultStatus
from django_tasks_db.models import DBTaskResult

from extranet.models import JobRun
from extranet.notifications.delivery import deliver_email
from extranet.notifications.models import OutgoingEmail
from extranet.scheduler import daily_jobs, next_daily_run
from tests.extranet.notifications.relays import Relay, ScriptedRelay, WorkerProcess, wait_for

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]
State = OutgoingEmail.State
KILLS = 10
EMAILS = 80
# A killed attempt is taken back after 1 s, and the worker looks for such leftovers every 0.3 s.
FAST_RECOVERY = {"EMAIL_SENDING_LEASE": 1, "WORKER_SWEEP_INTERVAL": 0.3, "EMAIL_TIMEOUT": 5}


@pytest.fixture(autouse=True)
def database_queue(settings):
    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}


@pytest.fixture
def relay():
    relay = Relay().start()
    yield relay
    relay.stop()


@pytest.fixture
def workers(tmp_path):
    """`workers(port, **env)` starts a db_worker; every one started is stopped at the end."""
    started = []

    def start(port, **env):
        worker = WorkerProcess(port, tmp_path / "worker.log", **env).start()
        started.append(worker)
        return worker

    yield start
    for worker in started:
        worker.stop()


def queue_emails(count, prefix="Lot"):
    emails = [
        OutgoingEmail.objects.create(
            recipient=f"destinataire{number}@exemple.fr", subject=f"{prefix} {number}", body="."
        )
        for number in range(count)
    ]
    for email in emails:
        deliver_email.enqueue(email.pk)
    return emails


def unfinished():
    return OutgoingEmail.objects.filter(state__in=[State.PENDING, State.SENDING]).exists()


def test_killing_the_worker_mid_batch_loses_no_email_and_sends_none_twice(relay, workers):
    emails = queue_emails(EMAILS)
    chance = random.Random(2205)  # noqa: S311 — where the kills land, repeatable
    standby = workers(relay.port, **FAST_RECOVERY)
    for _ in range(KILLS):
        # The next worker starts while this one works, as a supervisor's restart would: boots overlap the batch.
        worker, standby = standby, workers(relay.port, **FAST_RECOVERY)
        target = relay.total() + chance.randint(2, 6)
        assert wait_for(lambda target=target: relay.total() >= target, timeout=15), worker.log()
        # Anywhere in the next attempt: claim, SMTP dialogue, hand-off, or the record of the outcome.
        time.sleep(chance.uniform(0, 0.03))
        worker.kill()
    assert relay.total() < EMAILS, "the kills did not land during the batch"

    worker = standby
    assert wait_for(lambda: not unfinished(), timeout=20), worker.log()
    received = {email.subject: relay.received[email.subject] for email in emails}
    states = dict(OutgoingEmail.objects.values_list("subject", "state"))
    duplicates = sum(count - 1 for count in received.values() if count > 1)
    maybe_sent = [subject for subject, state in states.items() if state == State.UNKNOWN]
    lost = [subject for subject, count in received.items() if count == 0 and states[subject] != State.UNKNOWN]
    print(  # the figures the issue asks for (pytest -s shows them)
        f"\n{KILLS} kills, {EMAILS} emails: {duplicates} sent twice, {len(lost)} lost, "
        f"{len(maybe_sent)} 'peut-être envoyé' ({sum(received[s] for s in maybe_sent)} of them received)"
    )
    assert duplicates == 0
    assert lost == []
    assert all(received[subject] == 1 for subject, state in states.items() if state == State.SENT)
    assert set(states.values()) <= {State.SENT, State.UNKNOWN}
    # The killed workers' tasks do not stay "running" forever.
    assert wait_for(lambda: not DBTaskResult.objects.filter(status=TaskResultStatus.RUNNING).exists(), timeout=5)
    assert worker.alive()


def test_the_worker_goes_on_after_its_database_connection_is_cut(relay, workers):
    worker = workers(relay.port, CONN_MAX_AGE=60)
    for round_number in range(3):
        queue_emails(1, prefix=f"Tour {round_number}")
        assert wait_for(lambda sent=round_number + 1: relay.total() == sent, timeout=10), worker.log()
        assert wait_for(lambda: not unfinished(), timeout=5), worker.log()
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                "WHERE datname = current_database() AND pid <> pg_backend_pid()"
            )
            assert cursor.fetchone()[0] >= 1
    queue_emails(1, prefix="Apres")
    assert wait_for(lambda: relay.received["Apres 0"] == 1, timeout=15), worker.log()
    assert wait_for(lambda: not unfinished(), timeout=5), worker.log()
    assert worker.alive()
    assert relay.total() == 4


def test_a_silent_relay_holds_no_transaction_open_and_the_email_is_retried(workers):
    silent = ScriptedRelay(until="greeting")
    try:
        worker = workers(silent.port, EMAIL_TIMEOUT=3)
        [email] = queue_emails(1)
        assert silent.connected.wait(timeout=10), worker.log()
        time.sleep(0.5)  # the worker is waiting for the relay's greeting
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT state FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()"
            )
            sessions = [state for (state,) in cursor.fetchall()]
        assert sessions, "the worker has no database session"
        assert not [state for state in sessions if state and state.startswith("idle in transaction")]
        retries = DBTaskResult.objects.filter(status=TaskResultStatus.READY, task_path=deliver_email.module_path)
        assert wait_for(retries.exists, timeout=10), worker.log()
    finally:
        silent.close()
    email.refresh_from_db()
    assert (email.state, email.attempts) == (State.PENDING, 1)
    assert email.last_error.endswith("timed out")
    [retry] = retries
    assert retry.args_kwargs["args"] == [email.pk]
    assert retry.run_after == email.next_attempt_at > timezone.now()


def test_killing_the_worker_during_the_nightly_run_leaves_the_next_night_planned(workers):
    silent = ScriptedRelay(until="greeting")
    try:
        # An email pending for later: the nightly run sends it now, and the silent relay holds it there.
        OutgoingEmail.objects.create(
            recipient="a@exemple.fr",
            subject="Essai",
            body=".",
            next_attempt_at=timezone.now() + timedelta(hours=1),
        )
        tonight = daily_jobs.enqueue()
        env = {"EMAIL_TIMEOUT": 5, "TASK_RUNNING_TIMEOUT": 1, "WORKER_SWEEP_INTERVAL": 0.3}
        worker = workers(silent.port, **env)
        assert silent.connected.wait(timeout=10), worker.log()
        worker.kill()
    finally:
        silent.close()
    runs = dict(JobRun.objects.values_list("job", "outcome"))
    assert runs == {"retention": JobRun.Outcome.OK, "access_log": JobRun.Outcome.OK, "emails": JobRun.Outcome.RUNNING}

    worker = workers(silent.port, **env)
    assert wait_for(lambda: DBTaskResult.objects.get(pk=tonight.id).status == TaskResultStatus.FAILED, timeout=10), (
        worker.log()
    )
    [next_night] = DBTaskResult.objects.filter(status=TaskResultStatus.READY, task_path=daily_jobs.module_path)
    assert next_night.run_after == next_daily_run()
