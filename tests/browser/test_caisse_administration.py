"""The administrateur's work on the caisse's partners and accounts, in a real browser: a convention suspended after
its confirmation, then read in the structure's history; another administrateur invited; the last one kept."""

import re

import pytest
from django.core import mail
from playwright.sync_api import Page, expect

from tests.browser.helpers import expect_page_basics, field, log_in_directly
from tests.browser.test_keyboard_and_mobile import expect_no_horizontal_scroll

pytestmark = pytest.mark.browser

UDAF = "UDAF de la Gironde — service des tutelles"
REASON = "Avenant en cours de signature."


def open_udaf(page: Page):
    page.get_by_role("link", name="Structures", exact=True).click()
    page.get_by_role("link", name=UDAF).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(UDAF)


def test_admin_suspends_a_convention_after_its_confirmation_and_reads_it_in_the_history(page: Page, demo, screenshot):
    log_in_directly(page, "admin@demo.example")
    open_udaf(page)
    expect(page.get_by_text("Aucun changement de statut enregistré.")).to_be_visible()

    page.get_by_role("link", name="Modifier la convention").click()
    expect(page.get_by_text("Statut actuel : Active.")).to_be_visible()
    field(page, "Statut").select_option(label="Suspendue")
    field(page, "Motif du changement de statut").fill(REASON)
    page.get_by_role("button", name="Enregistrer").click()

    # The confirmation: from what to what, what it means, who will be told; nothing is changed yet.
    expect(page.get_by_role("heading", level=1)).to_have_text("Confirmer le changement de la convention")
    expect_page_basics(page)
    expect(page.get_by_test_id("from-status")).to_have_text("Active")
    expect(page.get_by_test_id("to-status")).to_have_text("Suspendue")
    consequence = page.locator("#convention-consequence")
    expect(consequence).to_contain_text("ne pourront plus déposer de demande à la caisse")
    expect(consequence).to_contain_text("Karim BENALI")
    screenshot(page, "admin-convention-confirmation")
    # « Modifier » goes back to the form with what was typed.
    page.get_by_role("button", name="Modifier").click()
    expect(field(page, "Motif du changement de statut")).to_have_value(REASON)
    expect(field(page, "Statut").locator("option:checked")).to_have_text("Suspendue")
    page.get_by_role("button", name="Enregistrer").click()
    confirm = page.get_by_role("button", name="Confirmer : convention suspendue")
    expect(confirm).to_have_accessible_description(re.compile("ne pourront plus déposer"))
    confirm.click()

    expect(page.get_by_role("heading", level=1)).to_have_text(UDAF)
    expect(page.get_by_role("status")).to_contain_text(
        "La convention est désormais « Suspendue » ; les gestionnaires de la structure en sont prévenus par courriel."
    )
    history = page.get_by_test_id("convention-history")
    expect(history.get_by_role("row")).to_have_count(2)  # the header and the change
    row = history.get_by_role("row").nth(1)
    expect(row).to_contain_text("Thomas GARNIER")
    expect(row).to_contain_text("Active → Suspendue")
    expect(row).to_contain_text(REASON)
    screenshot(page, "admin-convention-historique")
    told = [message for message in mail.outbox if message.to == ["gestionnaire@demo.example"]]
    assert told and told[-1].subject == "Convention avec la CPAM de la Gironde : suspendue"
    assert REASON in told[-1].body

    # The structure's requests to the caisse, from its page: the queue, filtered on it, every status.
    page.get_by_role("link", name="Demandes de la structure à votre caisse").click()
    expect(page).to_have_url(re.compile(r"/caisse/demandes/\?structure=\d+&status=all$"))
    expect(page.get_by_label("Structure", exact=True).locator("option:checked")).to_have_text(UDAF)


def test_admin_invites_another_administrateur_and_cannot_leave_the_caisse_without_one(page: Page, demo):
    log_in_directly(page, "admin@demo.example")
    page.get_by_role("link", name="Agents", exact=True).click()
    page.get_by_role("navigation", name="Comptes de la caisse").get_by_role(
        "link", name="Administrateurs de la caisse"
    ).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Administrateurs de la CPAM de la Gironde")
    own_row = page.get_by_role("row").filter(has_text="admin@demo.example")
    expect(own_row).to_contain_text("Thomas GARNIER (vous)")

    page.get_by_role("link", name="Nouvel administrateur").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Nouvel administrateur — CPAM de la Gironde")
    page.get_by_label("Madame").check()
    field(page, "Nom").fill("Morel")
    field(page, "Prénom").fill("Claire")
    field(page, "Adresse électronique").fill("claire.morel@cpam-gironde.example")
    page.get_by_role("button", name="Enregistrer").click()

    expect(page.get_by_role("heading", level=1)).to_have_text("Administrateurs de la CPAM de la Gironde")
    expect(page.get_by_role("status")).to_contain_text(
        "Le compte de Claire MOREL est créé ; un lien d'activation lui est envoyé."
    )
    row = page.get_by_role("row").filter(has_text="claire.morel@cpam-gironde.example")
    expect(row.get_by_text("Invité", exact=True)).to_be_visible()
    assert any(message.to == ["claire.morel@cpam-gironde.example"] for message in mail.outbox)

    # She has not activated her account yet: he stays, and is told why.
    own_row.get_by_role("button", name="Désactiver Thomas GARNIER").click()
    expect(page.get_by_role("status")).to_contain_text(
        "La CPAM de la Gironde doit garder au moins un administrateur actif"
    )
    expect(
        page.get_by_role("row").filter(has_text="admin@demo.example").get_by_text("Actif", exact=True)
    ).to_be_visible()

    # Her name, corrected from the list.
    row.get_by_role("link", name="Modifier Claire MOREL").click()
    field(page, "Prénom").fill("Claire-Marie")
    page.get_by_role("button", name="Enregistrer").click()
    expect(page.get_by_role("status")).to_contain_text("Le compte de Claire-Marie MOREL est mis à jour.")


def test_the_administration_pages_fit_320_px(page: Page, demo):
    log_in_directly(page, "admin@demo.example")
    page.set_viewport_size({"width": 320, "height": 640})
    page.goto("/caisse/administrateurs/")
    expect_no_horizontal_scroll(page, "the administrateurs, 320 px wide")
    page.get_by_role("link", name="Modifier Thomas GARNIER").click()
    expect_no_horizontal_scroll(page, "an account's correction, 320 px wide")
    page.goto("/caisse/structures/")
    page.get_by_role("link", name=UDAF).click()
    page.get_by_role("link", name="Modifier la convention").click()
    field(page, "Statut").select_option(label="Terminée")
    field(page, "Motif du changement de statut").fill("Fin du partenariat décidée en comité, " * 5)
    page.get_by_role("button", name="Enregistrer").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Confirmer le changement de la convention")
    expect_no_horizontal_scroll(page, "the convention's confirmation, 320 px wide")
    page.get_by_role("button", name="Confirmer : convention terminée").click()
    expect(page.get_by_test_id("convention-history")).to_be_attached()
    expect_no_horizontal_scroll(page, "the structure with its convention's history, 320 px wide")
