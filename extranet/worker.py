"""The background worker (`manage.py db_worker`): django-tasks-db's worker, made to outlive what stops it.

- A lost database connection (server restarted, `pg_terminate_backend`, network cut) does not end the process: it
  reconnects, with a growing delay, and goes on; the task it was running then is marked failed.
- Every WORKER_SWEEP_INTERVAL seconds it takes back what dead workers left (a killed worker leaves its task
  "running" forever): tasks still running past their timeout are marked failed, emails and webhooks past their
  lease are taken back (extranet/notifications/delivery.py, webhook_delivery.py), due pending ones without a task
  are queued again, and the next nightly run is planned if none is.
"""

import logging
import random
import time
from datetime import timedelta

from django.conf import settings
from django.db import InterfaceError, OperationalError, close_old_connections, connections
from django.utils import timezone
from django_tasks import TaskResultStatus
from django_tasks_db.management.commands import db_worker
from django_tasks_db.models import DBTaskResult
from django_tasks_db.utils import exclusive_transaction, is_locked_database_exception

from extranet.notifications import delivery, webhook_delivery
from extranet.scheduler import schedule_daily_jobs

logger = logging.getLogger(__name__)
CONNECTION_ERRORS = (OperationalError, InterfaceError)
MAX_RECONNECT_DELAY = 30


class WorkerLost(Exception):
    """The task's worker stopped while running it (killed, machine lost, connection to the database lost)."""


def mark_interrupted(tasks, now):
    return tasks.filter(status=TaskResultStatus.RUNNING).update(
        status=TaskResultStatus.FAILED,
        finished_at=now,
        return_value=None,
        exception_class_path=f"{WorkerLost.__module__}.{WorkerLost.__qualname__}",
        traceback="Interrompue : le travailleur qui l'exécutait s'est arrêté ou a perdu la base de données.",
    )


def reclaim_stale_tasks(now=None):
    """Tasks still "running" long after they started: their worker is gone. An email's or a webhook's delivery is
    stale once past its lease, anything else (the nightly run) after TASK_RUNNING_TIMEOUT."""
    now = now or timezone.now()
    running = DBTaskResult.objects.filter(status=TaskResultStatus.RUNNING)
    leases = {
        delivery.deliver_email.module_path: settings.EMAIL_SENDING_LEASE,
        webhook_delivery.deliver_webhook.module_path: settings.WEBHOOK_SENDING_LEASE,
    }
    reclaimed = sum(
        mark_interrupted(running.filter(task_path=path, started_at__lt=now - timedelta(seconds=lease)), now)
        for path, lease in leases.items()
    ) + mark_interrupted(
        running.exclude(task_path__in=leases).filter(
            started_at__lt=now - timedelta(seconds=settings.TASK_RUNNING_TIMEOUT)
        ),
        now,
    )
    if reclaimed:
        logger.warning(
            "%s tâche(s) restée(s) « en cours » après l'arrêt de leur travailleur : marquées en échec.", reclaimed
        )
    return reclaimed


def sweep():
    reclaim_stale_tasks()
    delivery.reclaim_stale()
    delivery.enqueue_orphans()
    webhook_delivery.reclaim_stale()
    webhook_delivery.enqueue_orphans()
    schedule_daily_jobs()


class Worker(db_worker.Worker):
    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.next_sweep = 0.0
        self.current = None
        self.interrupted = []

    def run(self):
        logger.info("Travailleur %s démarré (files : %s).", self.worker_id, ",".join(self.queue_names))
        if self.startup_delay and self.interval:
            # Several workers started together do not all poll at the same instant.
            time.sleep(random.random())  # noqa: S311
        failures = 0
        while self.running:
            try:
                finished = self.step()
            except CONNECTION_ERRORS as error:
                if error.args and is_locked_database_exception(error):  # SQLite, another writer: it unlocks soon
                    time.sleep(self.interval)
                    continue
                failures += 1
                self.reconnect(error, failures)
                continue
            failures = 0
            if finished:
                return

    def step(self):
        """One turn: the sweep when due, then the next ready task. Returns whether the worker is done."""
        close_old_connections()
        if self.interrupted:
            mark_interrupted(DBTaskResult.objects.filter(pk__in=self.interrupted), timezone.now())
            self.interrupted = []
        if time.monotonic() >= self.next_sweep:
            sweep()
            self.next_sweep = time.monotonic() + settings.WORKER_SWEEP_INTERVAL
        task_result = self.claim_next()
        if task_result is not None:
            self.current = task_result
            self.run_task(task_result)
            self.current = None
        elif self.batch:
            return True
        if self.max_tasks is not None and self._run_tasks >= self.max_tasks:
            return True
        close_old_connections()
        if self.running and task_result is None:
            time.sleep(self.interval)
        return False

    def claim_next(self):
        tasks = DBTaskResult.objects.ready().filter(backend_name=self.backend_name)
        if not self.process_all_queues:
            tasks = tasks.filter(queue_name__in=self.queue_names)
        if self.excluded_queue_names:
            tasks = tasks.exclude(queue_name__in=self.excluded_queue_names)
        with exclusive_transaction(tasks.db):
            task_result = tasks.get_locked()
            if task_result is not None:
                task_result.claim(self.worker_id)
        return task_result

    def reconnect(self, error, failures):
        if self.current is not None:
            # Its outcome could not be written: once reconnected, it is marked failed (its emails stay in the
            # outbox, which the sweep takes back).
            self.interrupted.append(self.current.pk)
            self.current = None
        self.running_task = False
        delay = min(2 ** (failures - 1), MAX_RECONNECT_DELAY)
        logger.warning("Connexion à la base perdue (%s) : nouvel essai dans %s s.", type(error).__name__, delay)
        connections.close_all()
        time.sleep(delay)
