"""The administrateurs' "Tâches de fond" page (extranet/pages/background/): whether the queue moves, the last run of
each nightly job, and the emails refused for good or maybe sent to the accounts of their caisse and its structures."""

from datetime import timedelta

import pytest
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from extranet.models import JobRun
from extranet.notifications.delivery import deliver_email
from extranet.notifications.models import OutgoingEmail
from tests.helpers import text

URL = "/caisse/taches-de-fond/"
State = OutgoingEmail.State


def email_to(address, state, error=""):
    return OutgoingEmail.objects.create(
        recipient=address, subject=f"Objet pour {address}", body=".", state=state, last_error=error
    )


@pytest.mark.django_db
class TestBackgroundPage:
    def test_nothing_to_report(self, admin_client):
        page = text(admin_client.get(URL))
        assert "Jamais exécutée" in page
        assert "Aucun courriel refusé ni peut-être envoyé." in page
        assert "n'avance plus" not in page
        assert "rien à signaler" in text(admin_client.get("/"))

    def test_the_last_run_of_each_job_and_the_emails_to_check_of_this_caisse_only(
        self, admin_client, agent, gestionnaire, other_gestionnaire
    ):
        now = timezone.now()
        JobRun.objects.create(
            job="retention", started_at=now, finished_at=now, outcome=JobRun.Outcome.ERROR, summary="Échec (X)"
        )
        JobRun.objects.create(
            job="digests", started_at=now, finished_at=now, outcome="ok", summary="2 récapitulatif(s)"
        )
        email_to(agent.email, State.FAILED, "SMTPRecipientsRefused: 550 5.1.1 Mailbox unavailable")
        email_to(gestionnaire.email, State.UNKNOWN, "Envoi interrompu pendant la remise du message au serveur SMTP")
        email_to(gestionnaire.email, State.SENT)
        email_to(other_gestionnaire.email, State.FAILED, "SMTPRecipientsRefused: 550 autre caisse")
        page = text(admin_client.get(URL))
        assert "Rétention des données des demandes" in page and "En échec" in page and "Échec (X)" in page
        assert "2 récapitulatif(s)" in page and "Réussie" in page
        assert "1 tâche de la nuit en échec" in page
        assert f"Objet pour {agent.email}" in page and "550 5.1.1 Mailbox unavailable" in page
        assert f"Objet pour {gestionnaire.email}" in page and "Peut-être envoyé" in page
        assert other_gestionnaire.email not in page and "autre caisse" not in page
        assert "Abandonné : 1" in page and "Peut-être envoyé : 1" in page and "Envoyé : 1" in page
        assert "À vérifier" in text(admin_client.get("/"))

    def test_a_queue_that_has_not_moved_for_minutes_is_reported(self, admin_client, settings):
        settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
        task = deliver_email.enqueue(1)
        due = timezone.now() - timedelta(minutes=settings.QUEUE_STALL_WARNING_MINUTES - 2)
        DBTaskResult.objects.filter(pk=task.id).update(run_after=due)
        page = text(admin_client.get(URL))
        assert "n'avance plus" not in page
        assert "Aucune exécution n'est planifiée" in page

        DBTaskResult.objects.filter(pk=task.id).update(run_after=due - timedelta(minutes=3))
        page = text(admin_client.get(URL))
        assert "La file des tâches de fond n'avance plus" in page
        assert f"plus de {settings.QUEUE_STALL_WARNING_MINUTES} minutes" in page
        assert "À vérifier" in text(admin_client.get("/"))

    def test_for_the_caisse_administrateur_only(self, agent_client):
        assert agent_client.get(URL).status_code == 403
