import importlib
import logging
from datetime import datetime

import pytest
import time_machine
from django.apps import apps
from django.utils import timezone
from django.utils.module_loading import import_string
from django_tasks import TaskResultStatus
from django_tasks_db.models import DBTaskResult

from extranet.models import JobRun
from extranet.scheduler import NIGHTLY_JOBS, daily_jobs

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


@pytest.fixture
def database_queue(settings):
    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}


def waiting_nights():
    return list(
        DBTaskResult.objects.filter(status=TaskResultStatus.READY, task_path=daily_jobs.module_path).values_list(
            "run_after", flat=True
        )
    )


@pytest.mark.django_db
class TestNightlyRun:
    def test_a_failing_job_does_not_stop_the_others_and_each_outcome_is_recorded(
        self, database_queue, monkeypatch, caplog
    ):
        def broken(**options):
            raise RuntimeError("Dupont Jean 1 93 11 69 387 947 42")  # what an exception may quote

        monkeypatch.setattr("extranet.scheduler.purge_expired_requests", broken)
        reminded = []
        monkeypatch.setattr("extranet.scheduler.remind_awaiting_partners", lambda: reminded.append(1) or 3)
        caplog.set_level(logging.ERROR, logger="extranet.scheduler")
        with time_machine.travel(timezone.make_aware(datetime(2026, 12, 2, 3, 0, 5)), tick=False):
            summary = daily_jobs.call()
        assert reminded == [1]
        assert "Relances des structures : 3 relance(s)" in summary
        runs = {run.job: run for run in JobRun.objects.all()}
        assert set(runs) == set(NIGHTLY_JOBS)
        assert runs["retention"].outcome == JobRun.Outcome.ERROR
        assert runs["retention"].summary == "Échec (RuntimeError), détail dans le journal du serveur"
        assert {key: run.outcome for key, run in runs.items() if key != "retention"} == dict.fromkeys(
            set(NIGHTLY_JOBS) - {"retention"}, JobRun.Outcome.OK
        )
        assert all(run.finished_at is not None for run in runs.values())
        [record] = caplog.records
        assert "RuntimeError" in record.getMessage() and "Dupont" not in record.getMessage()
        assert "947" not in record.getMessage() and record.exc_info is None
        assert waiting_nights() == [timezone.make_aware(datetime(2026, 12, 3, 3, 0))]

    def test_the_next_night_is_planned_before_any_job_runs(self, database_queue, monkeypatch):
        planned_when_retention_ran = []
        monkeypatch.setattr(
            "extranet.scheduler.purge_expired_requests",
            lambda **options: planned_when_retention_ran.append(waiting_nights()),
        )
        with time_machine.travel(timezone.make_aware(datetime(2026, 12, 2, 3, 0, 5)), tick=False):
            daily_jobs.call()
        assert planned_when_retention_ran == [[timezone.make_aware(datetime(2026, 12, 3, 3, 0))]]
        assert JobRun.objects.get(job="retention").outcome == JobRun.Outcome.OK
