"""The nightly task moved from requests/tasks.py to extranet/scheduler.py: a run already waiting in the queue names
its task by path, and the worker would fail to import the old one."""

from django.db import migrations

OLD, NEW = "requests.tasks.daily_jobs", "extranet.scheduler.daily_jobs"


def rename(old, new):
    def run(apps, schema_editor):
        apps.get_model("django_tasks_database", "DBTaskResult").objects.filter(task_path=old).update(task_path=new)

    return run


class Migration(migrations.Migration):
    dependencies = [("django_tasks_database", "0021_conditional_partial_index_ordering")]

    operations = [migrations.RunPython(rename(OLD, NEW), rename(NEW, OLD))]
