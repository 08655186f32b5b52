"""What people do in the extranet, end to end in a real browser: log in, switch caisse, create accounts, activate."""

import re

import pytest
from playwright.sync_api import Page, expect

from tests.browser.helpers import (
    GESTIONNAIRE_NAV,
    STRONG_PASSWORD,
    email_code,
    enter_password,
    expect_header,
    expect_page_basics,
    field,
    log_in,
    log_in_directly,
    log_out,
    navigation_links,
)
from tests.helpers import last_link, path_of

pytestmark = pytest.mark.browser


# 1. Each demo role logs in, sees who they are and what they may do, and logs out.

ROLES = [
    pytest.param(
        "technicien@demo.example",
        "CPAM DE LA GIRONDE — Martine LAPIERRE",
        "Technicien",
        "Bonjour Martine",
        ["Accueil", "Historique des demandes", "Rechercher une personne", "Mon compte"],
        id="technicien",
    ),
    pytest.param(
        "gestionnaire@demo.example",
        "CPAM DE LA GIRONDE — Karim BENALI",
        "Gestionnaire",
        "Bonjour Karim",
        GESTIONNAIRE_NAV,
        id="gestionnaire",
    ),
    pytest.param(
        "agent@demo.example",
        "CPAM DE LA GIRONDE — Sophie MARCHAND",
        "Agent CPAM",
        "Bonjour Sophie",
        ["Accueil", "File des demandes", "Rechercher une personne", "Tableau de bord", "Mon compte"],
        id="agent",
    ),
    pytest.param(
        "admin@demo.example",
        "CPAM DE LA GIRONDE — Thomas GARNIER",
        "Administrateur caisse",
        "Bonjour Thomas",
        [
            "Accueil",
            "File des demandes",
            "Rechercher une personne",
            "Tableau de bord",
            "Structures",
            "Agents",
            "Modèles de réponse",
            "Mon compte",
        ],
        id="admin-caisse",
    ),
]


@pytest.mark.parametrize(("email", "identity", "role", "greeting", "links"), ROLES)
def test_demo_role_logs_in_sees_their_home_and_logs_out(page: Page, demo, email, identity, role, greeting, links):
    log_in(page, email)

    expect(page.get_by_role("heading", level=1)).to_have_text(greeting)
    expect_header(page, identity, role)
    expect(navigation_links(page)).to_have_text(links)
    expect(page.get_by_role("link", name="Accueil")).to_have_attribute("aria-current", "page")

    log_out(page)
    page.goto("/")
    expect(page).to_have_url(re.compile(r"/connexion/\?next=/$"))


# 2. A technicien whose structure has two conventions switches caisse from the header.


def test_technicien_switches_caisse_and_the_choice_persists(page: Page, demo):
    log_in_directly(page, "technicien@demo.example")
    expect_header(page, "CPAM DE LA GIRONDE — Martine LAPIERRE", "Technicien")
    switch = page.get_by_label("Caisse avec laquelle vous travaillez")
    expect(switch.locator("option")).to_have_text(["CPAM de la Gironde", "CPAM de la Loire"])

    switch.select_option(label="CPAM de la Loire")
    page.get_by_role("button", name="Changer").click()

    expect_header(page, "CPAM DE LA LOIRE — Martine LAPIERRE", "Technicien")
    expect(page.get_by_text("vous travaillez avec la CPAM de la Loire")).to_be_visible()

    page.get_by_role("link", name="Mon compte").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Mon compte")
    expect_header(page, "CPAM DE LA LOIRE — Martine LAPIERRE", "Technicien")
    expect(page.get_by_label("Caisse avec laquelle vous travaillez").locator("option:checked")).to_have_text(
        "CPAM de la Loire"
    )


def test_caisse_staff_have_no_caisse_switch(page: Page, demo):
    log_in_directly(page, "agent@demo.example")
    expect(page.get_by_label("Caisse avec laquelle vous travaillez")).to_have_count(0)
    expect(page.get_by_role("button", name="Changer")).to_have_count(0)


# 3. From a new structure to its first technicien: admin caisse, gestionnaire, technicien.


def test_admin_creates_structure_and_gestionnaire_who_activates_and_invites_a_technicien(page: Page, demo):
    log_in_directly(page, "admin@demo.example")
    page.get_by_role("link", name="Structures", exact=True).click()
    page.get_by_role("link", name="Nouvelle structure").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Nouvelle structure partenaire")

    field(page, "Nom").fill("Les Quatre Vents")
    field(page, "SIRET").fill("732 829 320 00075")
    field(page, "Type de structure").select_option(label="Association")
    field(page, "Effectif").fill("3")
    page.get_by_label("Habilitée aux documents concernant un assuré").check()
    field(page, "Date de signature de la convention").fill("2026-01-15")
    expect(field(page, "Statut de la convention").locator("option:checked")).to_have_text("Active")
    page.get_by_role("button", name="Enregistrer").click()

    # A mistyped SIRET: the error is given next to the field, and what was typed is kept.
    siret = field(page, "SIRET")
    siret_error = "Ce SIRET n'est pas valide : sa clé de contrôle ne correspond pas. Vérifiez chaque chiffre."
    expect(page.get_by_role("alert")).to_have_text("Le formulaire contient 1 erreur : corrigez les champs signalés.")
    expect(siret).to_have_attribute("aria-invalid", "true")
    expect(siret).to_have_accessible_description(re.compile(re.escape(siret_error)))
    expect(page.locator("#id_siret ~ .invalid-feedback")).to_have_text(siret_error)
    expect(field(page, "Nom")).to_have_value("Les Quatre Vents")
    expect(field(page, "Effectif")).to_have_value("3")

    siret.fill("73282932000074")
    page.get_by_role("button", name="Enregistrer").click()

    expect(page.get_by_role("heading", level=1)).to_have_text("Les Quatre Vents")
    expect(page.get_by_role("status")).to_contain_text(
        "La structure Les Quatre Vents est créée. Créez maintenant son premier gestionnaire."
    )
    expect(page.get_by_test_id("seats")).to_have_text("0 gestionnaire actif sur 2 places (effectif de 3).")

    page.get_by_role("link", name="Créer un gestionnaire").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Nouveau gestionnaire — Les Quatre Vents")
    page.get_by_label("Madame").check()
    field(page, "Nom").fill("Delorme")
    field(page, "Prénom").fill("Agathe")
    field(page, "Adresse électronique").fill("agathe.delorme@quatre-vents.example")
    field(page, "Téléphone").fill("05 56 00 00 00")
    page.get_by_role("button", name="Enregistrer").click()

    expect(page.get_by_role("heading", level=1)).to_have_text("Les Quatre Vents")
    expect(page.get_by_role("status")).to_contain_text(
        "Le compte de Agathe DELORME est créé ; un lien d'activation lui est envoyé."
    )
    gestionnaire_row = page.get_by_role("row").filter(has_text="agathe.delorme@quatre-vents.example")
    expect(gestionnaire_row).to_contain_text("Agathe DELORME")
    expect(gestionnaire_row).to_contain_text("Invité")
    log_out(page)

    # The gestionnaire opens the emailed link, chooses a password, logs in.
    page.goto(path_of(last_link("agathe.delorme@quatre-vents.example")))
    expect(page.get_by_role("heading", level=1)).to_have_text("Activer votre compte")
    expect(page.get_by_text("agathe.delorme@quatre-vents.example")).to_be_visible()
    field(page, "Nouveau mot de passe").fill(STRONG_PASSWORD)
    field(page, "Confirmation du nouveau mot de passe").fill(STRONG_PASSWORD)
    page.get_by_role("button", name="Activer mon compte").click()

    expect(page).to_have_url(re.compile(r"/connexion/$"))
    expect(page.get_by_role("status")).to_contain_text("Votre compte est activé.")
    # First sign-in: she sets up the second factor, by email, and is shown her backup codes once.
    enter_password(page, "agathe.delorme@quatre-vents.example", STRONG_PASSWORD)
    expect(page.get_by_role("heading", level=1)).to_have_text("Double authentification")
    page.get_by_role("link", name="Recevoir les codes par courriel").click()
    field(page, "Code à 6 chiffres").fill("000000")
    page.get_by_role("button", name="Activer").click()
    expect(page.get_by_text("Code incorrect ou expiré.")).to_be_visible()
    expect(field(page, "Code à 6 chiffres")).to_have_attribute("aria-invalid", "true")
    # A first typo costs no wait: the right code goes through at once.
    field(page, "Code à 6 chiffres").fill(email_code("agathe.delorme@quatre-vents.example"))
    page.get_by_role("button", name="Activer").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Vos codes de secours")
    expect(page.get_by_test_id("backup-codes").get_by_role("listitem")).to_have_count(10)
    page.get_by_role("link", name="J'ai noté mes codes, continuer").click()
    expect_header(page, "CPAM DE LA GIRONDE — Agathe DELORME", "Gestionnaire")
    expect(navigation_links(page)).to_have_text(GESTIONNAIRE_NAV)

    # She invites a technicien.
    page.get_by_role("link", name="Techniciens", exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Techniciens de Les Quatre Vents")
    expect(page.get_by_text("Aucun compte pour l'instant.")).to_be_visible()
    page.get_by_role("link", name="Nouveau technicien").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Nouveau technicien")
    page.get_by_label("Monsieur").check()
    field(page, "Nom").fill("Ferreira")
    field(page, "Prénom").fill("Hugo")
    field(page, "Adresse électronique").fill("hugo.ferreira@quatre-vents.example")
    page.get_by_role("button", name="Enregistrer").click()

    expect(page.get_by_role("heading", level=1)).to_have_text("Techniciens de Les Quatre Vents")
    expect(page.get_by_role("status")).to_contain_text(
        "Le compte de Hugo FERREIRA est créé ; un lien d'activation lui est envoyé."
    )
    technicien_row = page.get_by_role("row").filter(has_text="hugo.ferreira@quatre-vents.example")
    expect(technicien_row).to_contain_text("Hugo FERREIRA")
    expect(technicien_row.get_by_text("Invité", exact=True)).to_be_visible()
    expect(technicien_row).to_contain_text("jamais")
    assert "/activation/" in last_link("hugo.ferreira@quatre-vents.example")


# 4. Keyboard and accessibility smoke tests; the pages load nothing from elsewhere.


def expect_skip_link_first_then_main(page: Page):
    """The first Tab reaches "Aller au contenu", visible once focused; Enter moves the focus to the main content."""
    page.keyboard.press("Tab")
    skip_link = page.get_by_role("link", name="Aller au contenu")
    expect(skip_link).to_be_focused(timeout=2_000)
    expect(skip_link).to_be_visible()
    page.keyboard.press("Enter")
    expect(page.get_by_role("main")).to_be_focused()


def test_first_tab_on_login_page_focuses_the_skip_link(page: Page):
    page.goto("/connexion/")
    expect_skip_link_first_then_main(page)


def test_skip_link_is_the_first_tab_stop(page: Page, demo):
    page.goto("/mot-de-passe-oublie/")
    expect_skip_link_first_then_main(page)

    log_in(page, "gestionnaire@demo.example")
    expect_skip_link_first_then_main(page)
    # The home page opens on what to follow up, then the offers. A demo account has no backup codes yet: the message
    # asking for them comes first, its link the first stop.
    page.keyboard.press("Tab")
    expect(page.get_by_role("link", name="Générez vos codes de secours")).to_be_focused()
    page.keyboard.press("Tab")
    expect(page.get_by_role("link", name=re.compile(r"Avec du nouveau de la caisse"))).to_be_focused()


def test_pages_are_in_french_with_one_h1_and_load_nothing_from_elsewhere(page: Page, demo, live_server, requests_made):
    for path in (
        "/connexion/",
        "/mot-de-passe-oublie/",
        "/mentions-legales/",
        "/donnees-personnelles/",
        "/accessibilite/",
    ):
        page.goto(path)
        expect_page_basics(page)

    log_in(page, "admin@demo.example")
    expect_page_basics(page)
    for link in ("Structures", "Agents", "Mon compte"):
        page.get_by_role("link", name=link, exact=True).click()
        expect(page.get_by_role("link", name=link, exact=True)).to_have_attribute("aria-current", "page")
        expect_page_basics(page)
    page.get_by_role("link", name="Structures", exact=True).click()
    page.get_by_role("link", name="UDAF de la Gironde — service des tutelles").click()
    expect_page_basics(page)
    page.get_by_role("link", name="Créer un gestionnaire").click()
    expect_page_basics(page)
    page.get_by_role("button", name="Enregistrer").click()  # empty form: the page with its errors
    expect(page.get_by_role("alert")).to_be_visible()
    expect_page_basics(page)
    log_out(page)

    log_in(page, "gestionnaire@demo.example")
    expect_page_basics(page)
    page.get_by_role("link", name="Techniciens", exact=True).click()
    expect_page_basics(page)
    page.get_by_role("link", name="Nouveau technicien").click()
    expect_page_basics(page)

    assert any(url.endswith("/static/bootstrap/css/bootstrap.min.css") for url in requests_made)
    assert requests_made.foreign(live_server.url) == []


def test_civility_radios_can_be_chosen_with_the_mouse(page: Page, demo):
    log_in_directly(page, "gestionnaire@demo.example")
    page.goto("/structure/techniciens/nouveau/")
    monsieur = page.get_by_label("Monsieur")
    monsieur.click()
    expect(monsieur).to_be_checked(timeout=2_000)
