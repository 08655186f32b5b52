import importlib

import pytest
from django.apps import apps
from django.utils import timezone
from django.utils.module_loading import import_string
from django_tasks_db.models import DBTaskResult

from extranet.scheduler import daily_jobs

moved = importlib.import_module("extranet.migrations.0001_daily_jobs_moved_to_the_scheduler")


@pytest.mark.django_db
def test_a_nightly_run_queued_before_the_move_points_to_the_scheduler():
    def queued(path):
        return DBTaskResult.objects.create(
            task_path=path, args_kwargs={"args": [], "kwargs": {}}, run_after=timezone.now(), backend_name="default"
        )

    waiting, other = queued(moved.OLD), queued("extranet.notifications.delivery.deliver_email")
    moved.rename(moved.OLD, moved.NEW)(apps, None)
    waiting.refresh_from_db()
    other.refresh_from_db()
    assert waiting.task_path == daily_jobs.module_path == moved.NEW
    assert other.task_path == "extranet.notifications.delivery.deliver_email"
    assert import_string(waiting.task_path) is daily_jobs  # what the worker imports
