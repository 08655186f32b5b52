import os

from django.core.management.base import CommandError
from django.utils.autoreload import DJANGO_AUTORELOAD_ENV, run_with_reloader
from django_tasks_db.management.commands import db_worker

from extranet.worker import Worker

WORKER_OPTIONS = ("interval", "backend_name", "startup_delay", "max_tasks", "worker_id")


class Command(db_worker.Command):
    """django-tasks-db's `db_worker` (same options), running the project's worker (extranet/worker.py): it survives a
    lost database connection and takes back what dead workers left. The `extranet` app comes before django_tasks_db
    in INSTALLED_APPS so that this is the command `manage.py db_worker` runs."""

    # Like gunicorn, the worker does not run the system checks at each start (`manage.py check --deploy` does, at
    # deployment): a worker restarted by its supervisor is back at work sooner.
    requires_system_checks = []
    help = "Exécute la file des tâches de fond ; reprend ce qu'un travailleur arrêté a laissé en cours."

    def handle(self, *, verbosity, queue_name, exclude_queues, reload, batch, **options):
        self.configure_logging(verbosity)
        queue_names = queue_name.split(",")
        excluded_queue_names = exclude_queues.split(",") if exclude_queues else []
        if excluded_queue_names and "*" not in queue_names:
            raise CommandError("--exclude-queues can only be used with --queue-name=*")
        worker = Worker(
            queue_names=queue_names,
            excluded_queue_names=excluded_queue_names,
            batch=batch,
            **{name: options[name] for name in WORKER_OPTIONS},
        )
        if reload and not batch:
            if os.environ.get(DJANGO_AUTORELOAD_ENV) == "true":
                worker.configure_signals()
            run_with_reloader(worker.run)
        else:
            worker.configure_signals()
            worker.run()
