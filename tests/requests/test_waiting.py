"""Waiting for the structure's answer: the flag, its log rows, the paused clock, the reminder, "sans réponse"."""

from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest
from django.core import mail

from extranet.notifications.models import OutgoingEmail
from requests import deadlines, services
from requests.models import Request, StatusChange
from requests.summary import status_history
from requests.workflow import NotAllowed, WrongStatus
from tests.factories import RequestFactory
from tests.helpers import visible_text

PARIS = ZoneInfo("Europe/Paris")
QUESTION = "Pouvez-vous nous transmettre l'avis d'imposition ?"
ANSWER = "Voici l'avis d'imposition demandé."


def at(day, hour=10):
    return datetime(day.year, day.month, day.day, hour, tzinfo=PARIS)


# March 2026: no public holiday. Monday 2 the deposit, Tuesday 3 the question.
DEPOSIT, ASKED = date(2026, 3, 2), date(2026, 3, 3)


@pytest.fixture
def demande(time_machine, structure, caisse, technicien, agent):
    time_machine.move_to(at(DEPOSIT), tick=False)
    return RequestFactory(structure=structure, caisse=caisse, author=technicien, in_progress=agent)


def ask(demande, agent, time_machine, day=ASKED):
    time_machine.move_to(at(day), tick=False)
    services.post_message(demande, author=agent, body=QUESTION, awaiting_answer=True)
    return Request.objects.get(pk=demande.pk)


def answer(demande, technicien, time_machine, day):
    time_machine.move_to(at(day), tick=False)
    services.post_message(demande, author=technicien, body=ANSWER)
    return Request.objects.get(pk=demande.pk)


@pytest.fixture
def browser(client_factory):
    """A browser logged in now (a session opened before a time travel would have expired)."""

    def logged_in(user):
        client = client_factory()
        client.force_login(user)
        return client

    return logged_in


def events(demande):
    return list(StatusChange.objects.filter(request=demande).values_list("event", "from_status", "to_status", "by"))


class TestTheFlag:
    def test_asking_sets_it_and_logs_it(self, demande, agent, time_machine):
        demande = ask(demande, agent, time_machine)
        assert demande.status == "in_progress"
        assert demande.awaiting_partner_since == at(ASKED)
        assert events(demande)[-1] == ("waiting", "in_progress", "in_progress", agent.pk)

    def test_asking_again_while_waiting_keeps_the_first_day_and_logs_nothing(self, demande, agent, time_machine):
        ask(demande, agent, time_machine)
        demande = ask(demande, agent, time_machine, day=date(2026, 3, 5))
        assert demande.awaiting_partner_since == at(ASKED)
        assert [event for event, *_ in events(demande)].count("waiting") == 1

    def test_the_structure_answer_clears_it_logs_it_and_tells_the_agent(
        self, demande, agent, technicien, time_machine, commit
    ):
        ask(demande, agent, time_machine)
        mail.outbox.clear()
        with commit():
            demande = answer(demande, technicien, time_machine, date(2026, 3, 4))
        assert demande.awaiting_partner_since is None and demande.reminded_at is None
        assert events(demande)[-1] == ("answered", "in_progress", "in_progress", technicien.pk)
        assert [message.to for message in mail.outbox] == [[agent.email]]
        assert demande.number in mail.outbox[0].body and ANSWER not in mail.outbox[0].body

    def test_a_caisse_message_without_asking_neither_sets_nor_clears(self, demande, agent, time_machine):
        ask(demande, agent, time_machine)
        services.post_message(demande, author=agent, body="Précision.")
        services.post_message(demande, author=agent, body="Note.", internal=True)
        assert Request.objects.get(pk=demande.pk).awaiting_partner_since == at(ASKED)

    def test_the_resolution_clears_it(self, demande, agent, time_machine):
        ask(demande, agent, time_machine)
        services.resolve(demande, agent=agent, answer="Sans réponse de votre part, nous clôturons la demande.")
        demande = Request.objects.get(pk=demande.pk)
        assert demande.status == "resolved" and demande.awaiting_partner_since is None
        assert [event for event, *_ in events(demande)] == ["", "", "waiting", ""]

    def test_a_note_never_waits(self, demande, agent):
        with pytest.raises(NotAllowed):
            services.post_message(demande, author=agent, body="Note.", internal=True, awaiting_answer=True)
        assert Request.objects.get(pk=demande.pk).awaiting_partner_since is None

    def test_a_partner_cannot_ask_for_a_wait(self, demande, technicien):
        with pytest.raises(NotAllowed):
            services.post_message(demande, author=technicien, body="Alors ?", awaiting_answer=True)

    def test_a_new_request_must_be_taken_in_charge_first(self, structure, caisse, agent):
        new = RequestFactory(structure=structure, caisse=caisse)
        with pytest.raises(WrongStatus):
            services.post_message(new, author=agent, body=QUESTION, awaiting_answer=True)
        assert not new.messages.exists()


class TestTheComposer:
    def post(self, client, demande, **data):
        return client.post(f"/demandes/{demande.number}/messages/", {"body": QUESTION, **data})

    def test_the_checkbox_with_send_waits(self, agent_client, demande):
        assert "En attente de la réponse de la structure" in agent_client.get(f"/demandes/{demande.number}/").text
        response = self.post(agent_client, demande, action="send", awaiting_answer="on")
        assert response.status_code == 302
        assert Request.objects.get(pk=demande.pk).awaiting_partner_since is not None

    def test_the_checkbox_with_the_note_button_is_ignored(self, agent_client, demande):
        response = self.post(agent_client, demande, action="note", awaiting_answer="on")
        assert response.status_code == 302
        demande = Request.objects.get(pk=demande.pk)
        assert demande.awaiting_partner_since is None and demande.messages.get().is_internal

    def test_a_partner_has_no_checkbox_and_cannot_forge_it(self, technicien_client, demande):
        page = technicien_client.get(f"/demandes/{demande.number}/").text
        assert "En attente de la réponse de la structure" not in page
        assert self.post(technicien_client, demande, awaiting_answer="on").status_code == 302
        assert Request.objects.get(pk=demande.pk).awaiting_partner_since is None

    def test_each_side_reads_the_wait(self, demande, agent, technicien, browser, time_machine):
        ask(demande, agent, time_machine)
        agent_client, technicien_client = browser(agent), browser(technicien)
        assert "Pris en charge — en attente de votre réponse" in technicien_client.get("/demandes/").text
        partner_page = technicien_client.get(f"/demandes/{demande.number}/").text
        assert "Pris en charge — en attente de votre réponse" in partner_page
        assert "En attente de la réponse de la structure" in partner_page  # the history row
        assert "Pris en charge — en attente de la structure" in agent_client.get(f"/demandes/{demande.number}/").text
        # The queue gives a request one line: the wait is its own short badge there.
        assert "Pris en charge En attente de la structure" in visible_text(agent_client.get("/caisse/demandes/").text)

    def test_the_history_rows(self, demande, agent, technicien, time_machine):
        ask(demande, agent, time_machine)
        answer(demande, technicien, time_machine, date(2026, 3, 4))
        changes = [row.change for row in status_history(demande.status_changes.all())]
        assert changes[-2:] == [
            "Pris en charge — En attente de la réponse de la structure",
            "Pris en charge — Réponse de la structure reçue",
        ]


class TestThePausedClock:
    """Resolution within 10 working days of the deposit (Monday 2 March), paused from the 3rd to the answer."""

    def overdue(self, demande, day):
        demande = Request.objects.get(pk=demande.pk)
        in_python = deadlines.is_overdue(demande, day)
        in_the_database = Request.objects.filter(
            deadlines.overdue_q(day, calendar=demande.caisse.calendar), pk=demande.pk
        ).exists()
        assert in_python == in_the_database
        return in_python

    def test_without_a_wait_the_deadline_passes(self, demande):
        assert not self.overdue(demande, date(2026, 3, 16))  # 10 working days
        assert self.overdue(demande, date(2026, 3, 17))

    def test_a_waiting_request_is_never_overdue(self, demande, agent, time_machine):
        ask(demande, agent, time_machine)
        assert not self.overdue(demande, date(2026, 3, 31))

    def test_the_days_waited_are_given_back(self, demande, agent, technicien, time_machine):
        ask(demande, agent, time_machine)
        # Answered on Friday 20 March: 13 working days waited, the clock counts from Thursday 19.
        demande = answer(demande, technicien, time_machine, date(2026, 3, 20))
        assert demande.clock_from == date(2026, 3, 19)
        assert deadlines.age(demande, date(2026, 3, 20)) == 1
        assert not self.overdue(demande, date(2026, 4, 2))  # 10 working days since the 19th
        assert self.overdue(demande, date(2026, 4, 3))

    def test_two_waits_add_up(self, demande, agent, technicien, time_machine):
        ask(demande, agent, time_machine)
        answer(demande, technicien, time_machine, date(2026, 3, 5))  # 2 days back: from the 4th
        ask(demande, agent, time_machine, day=date(2026, 3, 9))
        demande = answer(demande, technicien, time_machine, date(2026, 3, 11))  # 2 more: from the 6th
        assert demande.clock_from == date(2026, 3, 6)
        assert not self.overdue(demande, date(2026, 3, 20))
        assert self.overdue(demande, date(2026, 3, 23))

    def test_the_queue_shows_the_paused_age_and_no_overdue(self, demande, agent, browser, time_machine):
        ask(demande, agent, time_machine)
        time_machine.move_to(at(date(2026, 3, 23)), tick=False)  # 15 working days since the deposit
        agent_client = browser(agent)
        page = agent_client.get("/caisse/demandes/")
        assert page.status_code == 200, page
        assert "En retard" not in page.text.split("<tbody")[1]
        assert not agent_client.get("/caisse/demandes/", {"overdue": "on"}).context["rows"]


class TestTheReminder:
    def reminders(self):
        return [email for email in OutgoingEmail.objects.all() if "attend votre réponse" in email.subject]

    def test_once_past_the_delay(self, demande, agent, technicien, time_machine, commit):
        ask(demande, agent, time_machine)
        time_machine.move_to(at(date(2026, 3, 9), hour=3), tick=False)  # 4 working days
        assert services.remind_awaiting_partners() == 0
        time_machine.move_to(at(date(2026, 3, 10), hour=3), tick=False)  # 5 working days
        with commit():
            assert services.remind_awaiting_partners() == 1
            assert services.remind_awaiting_partners() == 0
        time_machine.move_to(at(date(2026, 3, 11), hour=3), tick=False)
        assert services.remind_awaiting_partners() == 0
        (reminder,) = self.reminders()
        assert reminder.recipient == technicien.email
        assert demande.number in reminder.subject and f"/demandes/{demande.number}/" in reminder.body
        assert QUESTION not in reminder.body and demande.person_last_name not in reminder.body
        assert Request.objects.get(pk=demande.pk).reminded_at == at(date(2026, 3, 10), hour=3)

    def test_the_nightly_job_sends_it_once(self, demande, agent, time_machine, commit):
        from extranet.scheduler import daily_jobs

        ask(demande, agent, time_machine)
        time_machine.move_to(at(date(2026, 3, 10), hour=3), tick=False)
        with commit():
            assert "1 relance(s)" in daily_jobs.call()
            assert "0 relance(s)" in daily_jobs.call()
        assert len(self.reminders()) == 1

    def test_a_new_wait_is_reminded_again(self, demande, agent, technicien, time_machine):
        ask(demande, agent, time_machine)
        time_machine.move_to(at(date(2026, 3, 10), hour=3), tick=False)
        assert services.remind_awaiting_partners() == 1
        answer(demande, technicien, time_machine, date(2026, 3, 10))
        ask(demande, agent, time_machine, day=date(2026, 3, 11))
        time_machine.move_to(at(date(2026, 3, 18), hour=3), tick=False)
        assert services.remind_awaiting_partners() == 1
        assert len(self.reminders()) == 2

    def test_the_author_gone_the_gestionnaires(self, demande, agent, technicien, gestionnaire, time_machine):
        ask(demande, agent, time_machine)
        technicien.is_active = False
        technicien.save(update_fields=["is_active"])
        time_machine.move_to(at(date(2026, 3, 10), hour=3), tick=False)
        services.remind_awaiting_partners()
        assert [email.recipient for email in self.reminders()] == [gestionnaire.email]
        assert "gestionnaire" in self.reminders()[0].body

    def test_not_when_answered_or_resolved(self, demande, agent, technicien, structure, caisse, time_machine):
        other = RequestFactory(structure=structure, caisse=caisse, author=technicien, in_progress=agent)
        ask(demande, agent, time_machine)
        ask(other, agent, time_machine)
        answer(demande, technicien, time_machine, date(2026, 3, 4))
        services.resolve(other, agent=agent, answer="Réglé par téléphone.")
        time_machine.move_to(at(date(2026, 3, 20), hour=3), tick=False)
        assert services.remind_awaiting_partners() == 0

    def test_the_delay_is_a_setting(self, demande, agent, time_machine, settings):
        settings.AWAITING_PARTNER_REMINDER_WORKING_DAYS = 2
        ask(demande, agent, time_machine)
        time_machine.move_to(at(date(2026, 3, 5), hour=3), tick=False)
        assert services.remind_awaiting_partners() == 1


class TestUnanswered:
    def test_after_the_second_delay(self, demande, agent, browser, structure, caisse, technicien, time_machine):
        other = RequestFactory(structure=structure, caisse=caisse, author=technicien, in_progress=agent)
        ask(demande, agent, time_machine)
        ask(other, agent, time_machine, day=date(2026, 3, 10))
        time_machine.move_to(at(date(2026, 3, 23)), tick=False)  # 14 working days since the 3rd
        agent_client = browser(agent)
        assert "Sans réponse" not in agent_client.get("/caisse/demandes/").text
        assert not agent_client.get("/caisse/demandes/", {"unanswered": "on"}).context["rows"]
        time_machine.move_to(at(date(2026, 3, 24)), tick=False)  # 15
        agent_client = browser(agent)
        page = agent_client.get("/caisse/demandes/")
        assert page.text.count("Sans réponse</span>") == 1
        assert [row.number for row in agent_client.get("/caisse/demandes/", {"unanswered": "on"}).context["rows"]] == [
            demande.number
        ]

    def test_the_structure_never_sees_it(self, demande, agent, technicien, browser, time_machine):
        ask(demande, agent, time_machine)
        time_machine.move_to(at(date(2026, 3, 31)), tick=False)
        technicien_client = browser(technicien)
        assert "Sans réponse" not in technicien_client.get("/demandes/").text
        assert "Sans réponse" not in technicien_client.get(f"/demandes/{demande.number}/").text


def test_another_structure_cannot_answer_or_see_the_wait(demande, agent, other_gestionnaire, client, time_machine):
    ask(demande, agent, time_machine)
    client.force_login(other_gestionnaire)
    assert client.get(f"/demandes/{demande.number}/").status_code == 404
    assert client.post(f"/demandes/{demande.number}/messages/", {"body": "Réponse"}).status_code == 404
    assert Request.objects.get(pk=demande.pk).awaiting_partner_since is not None
