from django.db import models


class JobRun(models.Model):
    """The last run of each nightly job (extranet/scheduler.py), for the administrateurs' "Tâches de fond" page:
    when it started and ended, how, and a short summary made of counts (nothing of a person)."""

    class Outcome(models.TextChoices):
        RUNNING = "running", "En cours"
        OK = "ok", "Réussie"
        ERROR = "error", "En échec"

    job = models.CharField(max_length=40, unique=True)
    started_at = models.DateTimeField()
    finished_at = models.DateTimeField(null=True, blank=True)
    outcome = models.CharField(max_length=10, choices=Outcome.choices)
    summary = models.CharField(max_length=200, blank=True)

    def __str__(self):
        return f"{self.job} ({self.get_outcome_display()})"
