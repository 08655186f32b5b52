"""The whole workflow in a browser, between the demo partner and the demo agent."""

import re

import pytest
from playwright.sync_api import Page, expect

from tests.browser.helpers import (
    LEFEBVRE,
    expect_confirmation,
    field,
    fill_access_difficulty,
    log_in_directly,
    log_out,
    start_request,
)

pytestmark = pytest.mark.browser


def open_request(page: Page, number):
    page.goto(f"/demandes/{number}/")
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Demande {number}")


def exchanges(page: Page):
    return page.locator("section", has=page.get_by_role("heading", name=re.compile("^Échanges avec ")))


def test_partner_and_agent_work_a_request_to_its_answer(page: Page, demo):
    log_in_directly(page, "technicien@demo.example")
    start_request(page, "Signaler une situation de difficulté d'accès aux droits et aux soins")
    fill_access_difficulty(page)
    page.get_by_role("button", name="Déposer la demande").click()
    number = expect_confirmation(page, "Signaler une situation de difficulté d'accès aux droits et aux soins")
    log_out(page)

    # The agent takes charge, asks the structure a question and leaves a note for colleagues.
    log_in_directly(page, "agent@demo.example")
    open_request(page, number)
    page.get_by_role("button", name="Prendre en charge").click()
    expect(page.get_by_text(f"Vous avez pris en charge la demande {number}.")).to_be_visible()
    expect(page.get_by_text("Prise en charge par Sophie MARCHAND")).to_be_visible()
    # One composer, two actions: the exchange is with the structure, named in the heading.
    expect(
        page.get_by_role("heading", name="Échanges avec la structure : UDAF de la Gironde — service des tutelles")
    ).to_be_visible()
    expect(page.get_by_role("button", name=re.compile("^Envoyer"))).to_have_count(1)
    field(page, "Votre message").fill("Pouvez-vous préciser la date de la rupture de droits ?")
    page.get_by_role("button", name="Envoyer à la structure").click()
    expect(page.get_by_text("Votre message est envoyé.")).to_be_visible()
    field(page, "Votre message").fill("Dossier déjà vu en 2025 : voir la note du service.")
    page.get_by_role("button", name="Ajouter une note interne").click()
    expect(page.get_by_text("Votre note interne est enregistrée")).to_be_visible()
    expect(exchanges(page).get_by_text("Note interne —")).to_be_visible()
    log_out(page)

    # The partner sees the question, never the note, and answers.
    log_in_directly(page, "technicien@demo.example")
    open_request(page, number)
    expect(page.get_by_text("Pris en charge", exact=True).first).to_be_visible()
    expect(exchanges(page)).to_contain_text("Pouvez-vous préciser la date de la rupture de droits ?")
    expect(exchanges(page)).not_to_contain_text("Dossier déjà vu en 2025")
    expect(page.get_by_role("heading", name="Échanges avec la caisse : CPAM de la Gironde")).to_be_visible()
    expect(page.get_by_role("button", name="Ajouter une note interne")).to_have_count(0)
    field(page, "Votre message").fill("Depuis le 1er mars.")
    page.get_by_role("button", name="Envoyer à la caisse").click()
    expect(page.get_by_text("Votre message est envoyé.")).to_be_visible()
    log_out(page)

    # The agent resolves with the answer.
    log_in_directly(page, "agent@demo.example")
    open_request(page, number)
    expect(exchanges(page)).to_contain_text("Depuis le 1er mars.")
    # Resolution is its own step: write, read the preview, confirm.
    page.get_by_role("link", name="Résoudre…").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Résoudre la demande {number}")
    page.get_by_role("button", name="Relire la réponse").click()
    expect(page.get_by_text("Ce champ est obligatoire.")).to_be_visible()
    field(page, "Réponse à la structure").fill("Droits rétablis au 1er mars ; l'attestation suit par courrier.")
    page.get_by_role("button", name="Relire la réponse").click()
    expect(page.get_by_test_id("answer-preview")).to_contain_text("Droits rétablis au 1er mars")
    expect(page.get_by_text("Action définitive.")).to_be_visible()
    page.get_by_role("button", name="Confirmer et résoudre").click()
    expect(page.get_by_text(f"La demande {number} est résolue")).to_be_visible()
    log_out(page)

    # The partner reads the answer; the request is closed to new messages.
    log_in_directly(page, "technicien@demo.example")
    open_request(page, number)
    expect(page.get_by_text("Résolu", exact=True).first).to_be_visible()
    expect(exchanges(page)).to_contain_text("Réponse de la caisse")
    expect(exchanges(page)).to_contain_text("Droits rétablis au 1er mars")
    expect(page.get_by_text("Cette demande est résolue : plus aucun message n'est possible.")).to_be_visible()
    expect(field(page, "Votre message")).to_have_count(0)
    history = page.locator("#statuts-titre").locator("xpath=..")
    expect(history).to_contain_text("Nouveau → Pris en charge (en charge : Sophie MARCHAND)")
    expect(history).to_contain_text("Pris en charge → Résolu")
    assert LEFEBVRE[1].upper() in page.get_by_role("main").inner_text()
