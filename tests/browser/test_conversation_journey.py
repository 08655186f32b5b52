"""The conversation both ways (issue 16), in a browser: an agent's question waits for the structure's answer, each
side sees « du nouveau » in its lists and counts and gets its email, and the wait reminds the structure once."""

import re
from datetime import timedelta

import pytest
import time_machine
from django.core import mail
from django.utils import timezone
from playwright.sync_api import Page, expect

from requests import services
from tests.browser.helpers import (
    SIGNALER,
    expect_confirmation,
    field,
    fill_access_difficulty,
    log_in_directly,
    log_out,
    start_request,
)

pytestmark = pytest.mark.browser

TECHNICIEN, AGENT = "technicien@demo.example", "agent@demo.example"


def deposit(page: Page):
    log_in_directly(page, TECHNICIEN)
    start_request(page, SIGNALER)
    fill_access_difficulty(page)
    page.get_by_role("button", name="Déposer la demande").click()
    number = expect_confirmation(page, SIGNALER)
    log_out(page)
    return number


def ask_and_wait(page: Page, number, question):
    """The agent takes the request in charge and asks the structure, waiting for its answer."""
    log_in_directly(page, AGENT)
    page.goto(f"/demandes/{number}/")
    page.get_by_role("button", name="Prendre en charge").click()
    field(page, "Votre message").fill(question)
    page.get_by_label("En attente de la réponse de la structure").check()
    page.get_by_role("button", name="Envoyer à la structure").click()
    expect(
        page.get_by_text("Votre message est envoyé : la demande attend la réponse de la structure.")
    ).to_be_visible()
    expect(page.get_by_text("Pris en charge — en attente de la structure").first).to_be_visible()
    log_out(page)


def count_card(page: Page, label):
    return page.locator("a.count-card", has_text=label)


def emails_to(address, subject):
    return [message for message in mail.outbox if address in message.to and message.subject.startswith(subject)]


def test_a_question_waits_for_the_answer_then_the_request_is_resolved(page: Page, demo, screenshot):
    number = deposit(page)
    ask_and_wait(page, number, "Pouvez-vous joindre le dernier avis d'imposition ?")

    # The technicien: the email, the home page's counts, the badge in the history.
    assert len(emails_to(TECHNICIEN, f"Nouveau message de la caisse sur la demande {number}")) == 1
    log_in_directly(page, TECHNICIEN)
    expect(count_card(page, "En attente de votre réponse")).to_contain_text("1")
    expect(count_card(page, "Avec du nouveau de la caisse")).to_contain_text("1")
    screenshot(page, "technicien-10-accueil-du-nouveau")
    count_card(page, "En attente de votre réponse").click()
    row = page.locator("li.list-group-item", has_text=number)
    expect(row).to_contain_text("Pris en charge — en attente de votre réponse")
    expect(row).to_contain_text("Du nouveau")
    row.get_by_role("link", name=re.compile("^Consulter le détail")).click()
    field(page, "Votre message").fill("L'avis d'imposition 2026 est joint à ce message.")
    page.get_by_role("button", name="Envoyer à la caisse").click()
    expect(page.get_by_text("Votre message est envoyé.")).to_be_visible()
    page.goto("/")
    expect(count_card(page, "En attente de votre réponse")).to_contain_text("0")
    expect(count_card(page, "Avec du nouveau de la caisse")).to_contain_text("0")
    log_out(page)

    # The agent: the email, « réponses reçues » at home and in the queue, then the resolution, confirmed.
    assert len(emails_to(AGENT, f"La structure a répondu sur la demande {number}")) == 1
    log_in_directly(page, AGENT)
    expect(count_card(page, "Réponses reçues")).to_contain_text("1")
    screenshot(page, "agent-10-accueil-reponses-recues")
    count_card(page, "Réponses reçues").click()
    row = page.get_by_test_id("queue-row").filter(has_text=number)
    expect(row).to_contain_text("Réponse reçue")
    row.get_by_role("link", name=re.compile(number)).click()
    page.get_by_role("link", name="Résoudre…").click()
    field(page, "Réponse à la structure").fill("Droits ouverts à la complémentaire santé solidaire.")
    page.get_by_role("button", name="Relire la réponse").click()
    expect(page.get_by_test_id("answer-preview")).to_contain_text("complémentaire santé solidaire")
    page.get_by_role("button", name="Confirmer et résoudre").click()
    expect(page.get_by_text(f"La demande {number} est résolue")).to_be_visible()
    page.goto("/")
    expect(count_card(page, "Réponses reçues")).to_contain_text("0")
    log_out(page)

    # The technicien is told, and the answer is news in the history until read.
    log_in_directly(page, TECHNICIEN)
    expect(count_card(page, "Avec du nouveau de la caisse")).to_contain_text("1")
    page.goto("/demandes/?news=on")
    expect(page.locator("li.list-group-item", has_text=number)).to_contain_text("Résolu")


def test_the_wait_reminds_the_structure_once_then_shows_sans_réponse(page: Page, demo):
    number = deposit(page)
    ask_and_wait(page, number, "Merci de nous transmettre l'attestation de la CAF.")
    reminder = f"La caisse attend votre réponse sur la demande {number}"
    start = timezone.now()

    # Past the reminder delay (5 working days; the nightly job runs twice that night): exactly one reminder.
    with time_machine.travel(start + timedelta(days=8), tick=True):
        services.remind_awaiting_partners()
        services.remind_awaiting_partners()
    assert len(emails_to(TECHNICIEN, reminder)) == 1

    # Past the second delay (15 working days): « sans réponse » in the queue, for the agent to resolve saying so.
    with time_machine.travel(start + timedelta(days=23), tick=True):
        services.remind_awaiting_partners()
        assert len(emails_to(TECHNICIEN, reminder)) == 1
        log_in_directly(page, AGENT)
        page.goto("/caisse/demandes/?unanswered=on")
        expect(page.get_by_test_id("queue-row").filter(has_text=number)).to_contain_text("Sans réponse")
