"""The deposit forms' mechanics in a real browser: the MAS referral started from « Signaler » with what was typed,
files kept across an error, the MAS form's parts shown when they apply, and forms saying they are being sent."""

import re

import pytest
from playwright.sync_api import Page, expect

from tests.browser.helpers import (
    CASE_REVIEW,
    LEFEBVRE,
    MAS_MOTIF,
    SIGNALER,
    exact_field,
    expect_confirmation,
    field,
    fill_access_difficulty,
    fill_case_review,
    fill_person,
    log_in,
    log_in_directly,
    pdf_file,
    start_request,
)
from tests.browser.test_accessibility import Audit

pytestmark = pytest.mark.browser

MAS_TITLE = "Saisine de la Mission accompagnement santé (MAS)"
DESCRIPTION = "Renonce à ses soins dentaires faute de complémentaire."


@pytest.fixture
def audit(page: Page):
    return Audit(page)


SEEN_WHILE_SENDING = """() => document.addEventListener("submit", () => setTimeout(() => {
    const seen = [...document.querySelectorAll("main form .btn")].map(
        b => ({text: b.textContent, disabled: !!b.disabled})
    );
    sessionStorage.setItem("seen", JSON.stringify(seen));
    console.log("boutons notés");
}, 200))"""


def hold_posts(route, held):
    """A route handler holding the posts (the test lets them go on when it has seen the page waiting)."""
    if route.request.method == "POST":
        held.append(route)
    else:
        route.continue_()


def kept_file(page: Page, name):
    return page.get_by_label(re.compile(rf"^{re.escape(name)} \(.*\) : déjà joint$"))


def test_choosing_the_mas_motif_carries_what_was_typed_into_the_referral(page: Page, demo, audit):
    log_in_directly(page, "technicien@demo.example")
    start_request(page, SIGNALER)
    page.get_by_label(MAS_MOTIF, exact=True).check()
    field(page, "Description de la situation").fill(DESCRIPTION)
    fill_person(page, LEFEBVRE)
    field(page, "Pièces jointes").set_input_files(files=pdf_file("courrier-caisse.pdf"))
    page.get_by_role("button", name="Déposer la demande").click()

    expect(page.get_by_role("heading", level=1)).to_have_text(MAS_TITLE)
    civility, last_name, first_name, birth_date, nir = LEFEBVRE
    expect(page.get_by_label(civility, exact=True)).to_be_checked()
    expect(exact_field(page, "Nom")).to_have_value(last_name)
    expect(exact_field(page, "Prénom")).to_have_value(first_name)
    expect(field(page, "Date de naissance")).to_have_value(birth_date)
    expect(field(page, "Numéro de sécurité sociale")).to_have_value(nir)
    # The description has no field in the referral: shown, so that nothing typed disappears unseen.
    expect(page.get_by_text(DESCRIPTION)).to_be_visible()
    expect(kept_file(page, "courrier-caisse.pdf")).to_be_checked()
    audit("saisine MAS reprise de « Signaler »")

    page.get_by_label("Difficultés d'accès aux droits", exact=True).check()
    page.get_by_label("Détection à distance", exact=True).check()
    page.get_by_label("Je confirme avoir donné à la personne l'information ci-dessus").check()
    page.get_by_role("button", name="Transmettre la saisine").click()

    expect_confirmation(page, SIGNALER)
    page.get_by_role("link", name="Consulter la demande").click()
    expect(page.get_by_role("main")).to_contain_text("Monsieur LEFEBVRE Armand")
    expect(page.get_by_role("link", name=re.compile("courrier-caisse.pdf"))).to_be_visible()
    audit.check()


def test_files_are_kept_across_an_error_then_attached(page: Page, demo, audit):
    log_in_directly(page, "technicien@demo.example")
    start_request(page, CASE_REVIEW)
    fill_case_review(page)  # with its attachment
    field(page, "Description de la demande").fill("")
    # While the files are sent, their progress shows (the answer is held until it is seen).
    held = []
    page.route(re.compile(r"/demandes/nouvelle/"), lambda route: hold_posts(route, held))
    page.get_by_role("button", name="Déposer la demande").click()
    expect(page.locator("[data-upload-progress] progress")).to_be_visible()
    expect(page.get_by_role("button", name="Envoi en cours…")).to_be_disabled()
    held[0].continue_()
    page.unroute(re.compile(r"/demandes/nouvelle/"))

    expect(page.get_by_role("alert")).to_contain_text("Le formulaire contient 1 erreur")
    expect(kept_file(page, "justificatif.pdf")).to_be_checked()
    expect(page.get_by_text("Déjà joint, à ne pas choisir de nouveau")).to_be_visible()
    audit("étude de dossier, pièce déjà jointe")

    field(page, "Description de la demande").fill("Dossier PUMa déposé en janvier.")
    page.get_by_role("button", name="Déposer la demande").click()
    expect_confirmation(page, CASE_REVIEW)
    page.get_by_role("link", name="Consulter la demande").click()
    expect(page.get_by_role("link", name=re.compile("justificatif.pdf"))).to_be_visible()
    audit.check()


def test_the_mas_form_shows_each_part_when_it_applies(page: Page, demo, audit):
    log_in_directly(page, "technicien@demo.example")
    page.goto("/demandes/nouvelle/saisine-mas/")
    renunciation = page.get_by_role("group", name="Renoncement aux soins")
    expect(renunciation).to_be_hidden()
    page.get_by_label("Renoncement ou difficultés d'accès à des soins", exact=True).check()
    expect(renunciation).to_be_visible()
    care_other = field(page, "Autre soin : précisez")
    expect(care_other).to_be_hidden()
    renunciation.get_by_role("group", name="Soins non réalisés").get_by_label("Autre", exact=True).check()
    expect(care_other).to_be_visible()
    page.get_by_label("Renoncement ou difficultés d'accès à des soins", exact=True).uncheck()
    expect(renunciation).to_be_hidden()

    expect(field(page, "Autre action : précisez")).to_be_hidden()
    consent = page.get_by_role("group", name="Accord de la personne", exact=True)
    signed_sheet = field(page, "Fiche de saisine signée par la personne")
    notice = page.get_by_label("Je confirme avoir donné à la personne l'information ci-dessus")
    expect(signed_sheet).to_be_hidden()
    expect(notice).to_be_hidden()
    # The sheet to have signed is downloaded from the consent's part.
    expect(consent.get_by_role("button", name="Télécharger la fiche de saisine (PDF)")).to_be_visible()
    page.get_by_label("Signée par l'assuré(e)", exact=True).check()
    expect(signed_sheet).to_be_visible()
    expect(notice).to_be_hidden()
    page.get_by_label("Détection à distance", exact=True).check()
    expect(signed_sheet).to_be_hidden()
    expect(notice).to_be_visible()
    audit("saisine MAS, parties dévoilées")
    # Enter in a field transmits (the form's first, hidden, button), not the fiche's download.
    exact_field(page, "Nom").press("Enter")
    expect(page.get_by_role("alert")).to_contain_text("Le formulaire contient")
    expect(page.get_by_role("button", name="Transmettre la saisine")).to_be_enabled()

    with page.expect_download():
        consent.get_by_role("button", name="Télécharger la fiche de saisine (PDF)").click()
    # The download leaves the page where it is: the button comes back.
    expect(consent.get_by_role("button", name="Télécharger la fiche de saisine (PDF)")).to_be_enabled(timeout=8000)
    expect(page.get_by_role("button", name="Transmettre la saisine")).to_be_enabled()
    audit.check()


def test_the_mas_form_without_javascript_shows_every_part(browser, live_server, demo):
    context = browser.new_context(base_url=live_server.url, locale="fr-FR", java_script_enabled=False)
    page = context.new_page()
    try:
        log_in(page, "technicien@demo.example")
        page.goto("/demandes/nouvelle/saisine-mas/")
        expect(page.get_by_role("group", name="Renoncement aux soins")).to_be_visible()
        expect(field(page, "Autre soin : précisez")).to_be_visible()
        expect(field(page, "Fiche de saisine signée par la personne")).to_be_visible()
        expect(page.get_by_label("Je confirme avoir donné à la personne l'information ci-dessus")).to_be_visible()
    finally:
        context.close()


def test_a_form_being_sent_says_so_until_the_page_is_shown_again(page: Page, demo):
    log_in_directly(page, "technicien@demo.example")
    start_request(page, SIGNALER)
    fill_access_difficulty(page)
    # While a navigation is on its way the page is not read from outside: it notes its own buttons, shortly after
    # the click, and the post is held meanwhile.
    page.evaluate(SEEN_WHILE_SENDING)
    held = []
    page.route(re.compile(r"/demandes/nouvelle/signaler/$"), lambda route: hold_posts(route, held))
    # Let go once the page says it has noted them (its console), rather than after a fixed wait.
    with page.expect_console_message(lambda message: message.text == "boutons notés"):
        page.get_by_role("button", name="Déposer la demande").click(no_wait_after=True)
    for _ in range(100):  # the held post reaches its handler before the page's note, 200 ms after the click
        if held:
            break
        page.wait_for_timeout(20)
    held[0].continue_()
    page.unroute(re.compile(r"/demandes/nouvelle/signaler/$"))
    expect_confirmation(page, SIGNALER)
    assert page.evaluate("JSON.parse(sessionStorage.getItem('seen'))") == [
        {"text": "Envoi en cours…", "disabled": True},
        {"text": "Enregistrer le brouillon", "disabled": True},  # the form's other button: one send at a time
        {"text": "Annuler", "disabled": False},  # a link
    ]

    page.go_back()
    expect(page.get_by_role("button", name="Déposer la demande")).to_be_enabled()
