"""The whole life of the extranet in one browser journey, from a new structure to a request's answer.

The administrateur caisse creates a structure and its gestionnaire; the gestionnaire activates her account, sets
up her second factor and invites a technicien; the technicien activates his account, sets up his second factor and
deposits each kind of request (and a MAS referral); an agent of the caisse takes charge of one, asks a question,
and resolves it with an answer, which the technicien reads and downloads as a PDF.

Each person works in their own browser (context), as they would: nobody signs out for somebody else to sign in.
Every page visited is captured, numbered in journey order (`NN-role-what`): these screenshots illustrate the user
guide, so they are taken at meaningful moments — forms filled in just before they are sent, then the page that
follows.
"""

import base64
import re
import time

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect

from tests.browser.helpers import (
    APPOINTMENT,
    CASE_REVIEW,
    CONTACT,
    DOCUMENT,
    GESTIONNAIRE_NAV,
    LEFEBVRE,
    MAS_MOTIF,
    SIGNALER,
    STRONG_PASSWORD,
    described,
    email_code,
    exact_field,
    expect_confirmation,
    field,
    fill_appointment,
    fill_case_review,
    fill_contact,
    fill_document,
    fill_person,
    history_rows,
    navigation_links,
    second_factor_code,
)
from tests.factories import make_nir
from tests.helpers import last_link, path_of
from tests.requests.builders import pdf_bytes

pytestmark = pytest.mark.browser

ADMIN = "admin@demo.example"
AGENT = "agent@demo.example"
GESTIONNAIRE = "agathe.delorme@quatre-vents.example"
TECHNICIEN = "hugo.ferreira@quatre-vents.example"
STRUCTURE = "Les Quatre Vents"
TECHNICIEN_PASSWORD = "Sept-cerises-rouges-2026"
GARCIA = ("Madame", "Garcia", "Inès", "1958-09-14", make_nir(sex="2", year="58", month="09", order="654"))

QUESTION = "Pouvez-vous préciser depuis quand les droits de M. Lefebvre sont interrompus ?"
REPLY = "Depuis le 1er mars : sa carte Vitale est refusée à la pharmacie."
ANSWER = "Les droits de M. Lefebvre sont rétablis au 1er mars ; l'attestation lui est envoyée par courrier."


class Shots:
    """`shots(page, "admin-accueil")` saves `01-admin-accueil.png`, then `02-…`: numbered in journey order."""

    def __init__(self, screenshot):
        self.screenshot = screenshot
        self.names = []

    def __call__(self, page: Page, name):
        self.names.append(f"{len(self.names) + 1:02d}-{name}")
        page.evaluate("document.activeElement && document.activeElement.blur()")  # no caret nor focus ring
        return self.screenshot(page, self.names[-1])


@pytest.fixture
def new_page(browser, live_server):
    """Another person's browser: a fresh context (own cookies and session) on the live server."""
    contexts = []

    def open_page():
        context = browser.new_context(base_url=live_server.url, locale="fr-FR")
        context.set_default_timeout(10_000)
        contexts.append(context)
        return context.new_page()

    yield open_page
    for context in contexts:
        context.close()


def heading(page: Page):
    return page.get_by_role("heading", level=1)


def exchanges(page: Page):
    return page.locator("section", has=page.get_by_role("heading", name=re.compile("^Échanges avec ")))


def sign_in(page: Page, shots, role, email, password):
    """The sign-in page, filled in; then, for accounts that have one, the second factor, filled in too."""
    page.goto("/connexion/")
    expect(heading(page)).to_have_text("Connexion")
    field(page, "Adresse électronique").fill(email)
    field(page, "Mot de passe").fill(password)
    shots(page, f"{role}-connexion")
    page.get_by_role("button", name="Se connecter").click()


def pass_second_factor(page: Page, shots, role, email):
    expect(heading(page)).to_have_text("Vérification en deux étapes")
    field(page, "Code de vérification").fill(second_factor_code(email))
    shots(page, f"{role}-verification-en-deux-etapes")
    page.get_by_role("button", name="Valider").click()
    expect(page).to_have_url(re.compile(r"://[^/]+/$"))


def activate(page: Page, shots, role, email, password):
    """The emailed activation link, the password chosen; then the sign-in page, which says the account is ready."""
    page.goto(path_of(last_link(email)))
    expect(heading(page)).to_have_text("Activer votre compte")
    expect(page.get_by_text(email)).to_be_visible()
    field(page, "Nouveau mot de passe").fill(password)
    field(page, "Confirmation du nouveau mot de passe").fill(password)
    shots(page, f"{role}-activation-du-compte")
    page.get_by_role("button", name="Activer mon compte").click()
    expect(page).to_have_url(re.compile(r"/connexion/$"))
    expect(page.get_by_role("status")).to_contain_text("Votre compte est activé.")


def see_backup_codes_and_continue(page: Page, shots, role):
    expect(heading(page)).to_have_text("Vos codes de secours")
    expect(page.get_by_test_id("backup-codes").get_by_role("listitem")).to_have_count(10)
    shots(page, f"{role}-codes-de-secours")
    page.get_by_role("link", name="J'ai noté mes codes, continuer").click()


def totp_code(base32_key):
    """What the authentication application shows now, for the key the set-up page gives."""
    from django_otp.oath import TOTP

    totp = TOTP(base64.b32decode(base32_key.replace(" ", "")))
    totp.time = time.time()
    return f"{totp.token():06d}"


def open_offer(page: Page, title):
    page.get_by_role("link", name="Accueil", exact=True).click()
    page.get_by_role("link", name=f"Nouvelle demande : {title}").click()
    expect(heading(page)).to_have_text(title)
    expect(page.get_by_text("Demande adressée à la CPAM de la Gironde.")).to_be_visible()


def fill_access_difficulty(page: Page):
    page.get_by_label("Droits", exact=True).check()
    field(page, "Description de la situation").fill("Rupture de droits depuis le mois de mars.")
    fill_person(page, LEFEBVRE)


# (offer, how to fill its form, what the screenshots call it)
DEPOSITS = [
    (CONTACT, fill_contact, "contact"),
    (SIGNALER, fill_access_difficulty, "signalement"),
    (APPOINTMENT, fill_appointment, "rendez-vous"),
    (CASE_REVIEW, fill_case_review, "etude-de-dossier"),
    (DOCUMENT, fill_document, "document"),
]


def test_from_a_new_structure_to_the_answer_of_its_first_request(page: Page, new_page, demo, screenshot, tmp_path):
    shots = Shots(screenshot)

    # 1. The administrateur caisse creates the structure, then its gestionnaire.
    admin = page
    sign_in(admin, shots, "admin", ADMIN, "Demo-Partenaires-2026")
    pass_second_factor(admin, shots, "admin", ADMIN)
    expect(heading(admin)).to_have_text("Bonjour Thomas")
    shots(admin, "admin-accueil")

    admin.get_by_role("link", name="Structures", exact=True).click()
    expect(admin.get_by_role("link", name="Nouvelle structure")).to_be_visible()
    shots(admin, "admin-structures")

    admin.get_by_role("link", name="Nouvelle structure").click()
    expect(heading(admin)).to_have_text("Nouvelle structure partenaire")
    field(admin, "Nom").fill(STRUCTURE)
    field(admin, "SIRET").fill("732 829 320 00074")
    field(admin, "Type de structure").select_option(label="Association")
    field(admin, "Effectif").fill("3")
    admin.get_by_label("Habilitée aux documents concernant un assuré").check()
    field(admin, "Date de signature de la convention").fill("2026-01-15")
    shots(admin, "admin-nouvelle-structure")
    admin.get_by_role("button", name="Enregistrer").click()

    expect(heading(admin)).to_have_text(STRUCTURE)
    expect(admin.get_by_role("status")).to_contain_text(f"La structure {STRUCTURE} est créée.")
    shots(admin, "admin-structure-creee")

    admin.get_by_role("link", name="Créer un gestionnaire").click()
    expect(heading(admin)).to_have_text(f"Nouveau gestionnaire — {STRUCTURE}")
    admin.get_by_label("Madame").check()
    field(admin, "Nom").fill("Delorme")
    field(admin, "Prénom").fill("Agathe")
    field(admin, "Adresse électronique").fill(GESTIONNAIRE)
    field(admin, "Téléphone").fill("05 56 00 00 00")
    shots(admin, "admin-nouveau-gestionnaire")
    admin.get_by_role("button", name="Enregistrer").click()

    expect(heading(admin)).to_have_text(STRUCTURE)
    expect(admin.get_by_role("status")).to_contain_text("Le compte de Agathe DELORME est créé")
    expect(admin.get_by_role("row").filter(has_text=GESTIONNAIRE)).to_contain_text("Invité")
    shots(admin, "admin-gestionnaire-cree")

    # 2. The gestionnaire activates her account, signs in, receives her codes by email, invites a technicien.
    gestionnaire = new_page()
    activate(gestionnaire, shots, "gestionnaire", GESTIONNAIRE, STRONG_PASSWORD)
    sign_in(gestionnaire, shots, "gestionnaire", GESTIONNAIRE, STRONG_PASSWORD)

    expect(heading(gestionnaire)).to_have_text("Double authentification")
    shots(gestionnaire, "gestionnaire-double-authentification")
    gestionnaire.get_by_role("link", name="Recevoir les codes par courriel").click()
    expect(heading(gestionnaire)).to_have_text("Recevoir les codes par courriel")
    field(gestionnaire, "Code à 6 chiffres").fill(email_code(GESTIONNAIRE))
    shots(gestionnaire, "gestionnaire-code-par-courriel")
    gestionnaire.get_by_role("button", name="Activer").click()
    see_backup_codes_and_continue(gestionnaire, shots, "gestionnaire")

    expect(heading(gestionnaire)).to_have_text("Bonjour Agathe")
    expect(navigation_links(gestionnaire)).to_have_text(GESTIONNAIRE_NAV)
    shots(gestionnaire, "gestionnaire-accueil")

    gestionnaire.get_by_role("link", name="Techniciens", exact=True).click()
    expect(heading(gestionnaire)).to_have_text(f"Techniciens de {STRUCTURE}")
    expect(gestionnaire.get_by_text("Aucun compte pour l'instant.")).to_be_visible()
    shots(gestionnaire, "gestionnaire-techniciens")

    gestionnaire.get_by_role("link", name="Nouveau technicien").click()
    expect(heading(gestionnaire)).to_have_text("Nouveau technicien")
    gestionnaire.get_by_label("Monsieur").check()
    field(gestionnaire, "Nom").fill("Ferreira")
    field(gestionnaire, "Prénom").fill("Hugo")
    field(gestionnaire, "Adresse électronique").fill(TECHNICIEN)
    shots(gestionnaire, "gestionnaire-nouveau-technicien")
    gestionnaire.get_by_role("button", name="Enregistrer").click()

    expect(heading(gestionnaire)).to_have_text(f"Techniciens de {STRUCTURE}")
    expect(gestionnaire.get_by_role("status")).to_contain_text("Le compte de Hugo FERREIRA est créé")
    technicien_row = gestionnaire.get_by_role("row").filter(has_text=TECHNICIEN)
    expect(technicien_row.get_by_text("Invité", exact=True)).to_be_visible()
    shots(gestionnaire, "gestionnaire-technicien-cree")

    # 3. The technicien activates his account, signs in, sets up an authentication application.
    technicien = new_page()
    activate(technicien, shots, "technicien", TECHNICIEN, TECHNICIEN_PASSWORD)
    sign_in(technicien, shots, "technicien", TECHNICIEN, TECHNICIEN_PASSWORD)

    expect(heading(technicien)).to_have_text("Double authentification")
    shots(technicien, "technicien-double-authentification")
    technicien.get_by_role("link", name="Utiliser une application").click()
    expect(heading(technicien)).to_have_text("Configurer votre application d'authentification")
    field(technicien, "Code à 6 chiffres").fill(totp_code(technicien.get_by_test_id("totp-key").inner_text()))
    shots(technicien, "technicien-application-d-authentification")
    technicien.get_by_role("button", name="Activer").click()
    see_backup_codes_and_continue(technicien, shots, "technicien")

    expect(heading(technicien)).to_have_text("Bonjour Hugo")
    expect(technicien.get_by_text(f"{STRUCTURE} — vous travaillez avec la CPAM de la Gironde")).to_be_visible()
    expect(technicien.get_by_text("Aucune demande déposée auprès de la CPAM de la Gironde")).to_be_visible()
    shots(technicien, "technicien-accueil")

    # He deposits each kind of request, from the offers of the home page.
    numbers = {}
    for title, fill, name in DEPOSITS:
        open_offer(technicien, title)
        fill(technicien)
        shots(technicien, f"technicien-demande-{name}")
        technicien.get_by_role("button", name="Déposer la demande").click()
        numbers[name] = expect_confirmation(technicien, title)
        shots(technicien, f"technicien-demande-{name}-deposee")

    # And a MAS referral: the access-difficulty form, its MAS motif, then the referral's own form.
    open_offer(technicien, SIGNALER)
    technicien.get_by_label(MAS_MOTIF, exact=True).check()
    shots(technicien, "technicien-signalement-motif-mas")
    technicien.get_by_role("button", name="Déposer la demande").click()
    # The referral's form answers that post (with what was typed: tests/browser/test_deposit_forms.py).
    expect(heading(technicien)).to_have_text("Saisine de la Mission accompagnement santé (MAS)")
    expect(exact_field(technicien, "Nom et prénom")).to_have_value("Hugo FERREIRA")
    expect(field(technicien, "Date de la saisine")).to_have_value(timezone.localdate().isoformat())
    technicien.get_by_label("Difficultés d'accès aux droits", exact=True).check()
    technicien.get_by_label("Renoncement ou difficultés d'accès à des soins", exact=True).check()
    fill_person(technicien, GARCIA)
    technicien.get_by_label("Pharmacie", exact=True).check()
    technicien.get_by_label("Plus d'1 an", exact=True).check()
    technicien.get_by_label("Transport", exact=True).check()
    technicien.get_by_label("Signée par l'assuré(e)", exact=True).check()
    signed_sheet = tmp_path / "fiche-saisine-signee.pdf"
    signed_sheet.write_bytes(pdf_bytes("Fiche de saisine signée"))
    field(technicien, "Fiche de saisine signée par la personne").set_input_files(signed_sheet)
    shots(technicien, "technicien-saisine-mas")
    technicien.get_by_role("button", name="Transmettre la saisine").click()
    numbers["saisine-mas"] = expect_confirmation(technicien, SIGNALER)
    shots(technicien, "technicien-saisine-mas-deposee")

    technicien.get_by_role("link", name="Consulter la demande").click()
    expect(heading(technicien)).to_have_text(f"Demande {numbers['saisine-mas']}")
    mas = technicien.get_by_role("region", name="Saisine de la Mission accompagnement santé")
    expect(mas).to_contain_text("Signée par l'assuré(e)")
    expect(mas).to_contain_text("fiche-saisine-signee.pdf")
    shots(technicien, "technicien-saisine-mas-detail")

    technicien.get_by_role("link", name="Accueil", exact=True).click()
    latest = technicien.get_by_role("region", name="Dernières demandes").get_by_role("listitem")
    expect(latest.first).to_contain_text(numbers["saisine-mas"])
    shots(technicien, "technicien-accueil-dernieres-demandes")

    technicien.get_by_role("link", name="Historique des demandes", exact=True).first.click()
    expect(heading(technicien)).to_have_text("Historique des demandes")
    expect(technicien.get_by_test_id("result-count")).to_have_text("1-6 sur 6 résultats")
    shots(technicien, "technicien-historique")

    # 4. An agent of the caisse takes charge of the access difficulty and asks the structure a question.
    number = numbers["signalement"]
    agent = new_page()
    sign_in(agent, shots, "agent", AGENT, "Demo-Partenaires-2026")
    pass_second_factor(agent, shots, "agent", AGENT)
    expect(heading(agent)).to_have_text("Bonjour Sophie")
    shots(agent, "agent-accueil")

    agent.get_by_role("link", name="File des demandes", exact=True).first.click()
    expect(heading(agent)).to_have_text("File des demandes")
    row = agent.get_by_test_id("queue-row").filter(has_text=number)
    expect(row).to_contain_text(STRUCTURE)
    expect(row).to_contain_text("Non attribuée")
    shots(agent, "agent-file-des-demandes")

    row.get_by_role("link", name=re.compile(rf"^{number}")).click()
    expect(heading(agent)).to_have_text(f"Demande {number}")
    shots(agent, "agent-demande-nouvelle")
    agent.get_by_role("button", name="Prendre en charge").click()
    expect(agent.get_by_text(f"Vous avez pris en charge la demande {number}.")).to_be_visible()
    expect(agent.get_by_text("Prise en charge par Sophie MARCHAND")).to_be_visible()
    field(agent, "Votre message").fill(QUESTION)
    shots(agent, "agent-demande-prise-en-charge-question")
    agent.get_by_role("button", name="Envoyer à la structure").click()
    expect(exchanges(agent)).to_contain_text(QUESTION)
    shots(agent, "agent-question-envoyee")

    # The technicien finds the request taken in charge, reads the question, answers.
    technicien.reload()
    row = history_rows(technicien).filter(has_text=number)
    expect(row.get_by_text("Pris en charge", exact=True)).to_be_visible()
    shots(technicien, "technicien-historique-pris-en-charge")
    row.get_by_role("link", name=f"Consulter le détail de la demande {number}").click()
    expect(heading(technicien)).to_have_text(f"Demande {number}")
    expect(exchanges(technicien)).to_contain_text(QUESTION)
    field(technicien, "Votre message").fill(REPLY)
    shots(technicien, "technicien-demande-question-et-reponse")
    technicien.get_by_role("button", name="Envoyer à la caisse").click()
    expect(technicien.get_by_text("Votre message est envoyé.")).to_be_visible()
    expect(exchanges(technicien)).to_contain_text(REPLY)
    shots(technicien, "technicien-message-envoye")

    # The agent reads the reply and resolves the request with the caisse's answer.
    agent.reload()
    expect(exchanges(agent)).to_contain_text(REPLY)
    agent.get_by_role("link", name="Résoudre…").click()
    field(agent, "Réponse à la structure").fill(ANSWER)
    agent.get_by_role("button", name="Relire la réponse").click()
    expect(agent.get_by_test_id("answer-preview")).to_contain_text(ANSWER)
    shots(agent, "agent-reponse-et-resolution")
    agent.get_by_role("button", name="Confirmer et résoudre").click()
    expect(agent.get_by_text(f"La demande {number} est résolue")).to_be_visible()
    shots(agent, "agent-demande-resolue")

    # 5. The technicien sees it resolved in the history, reads the answer, downloads the summary.
    technicien.get_by_role("link", name="← Historique des demandes").click()
    expect(heading(technicien)).to_have_text("Historique des demandes")
    row = history_rows(technicien).filter(has_text=number)
    expect(row.get_by_text("Résolu", exact=True)).to_be_visible()
    shots(technicien, "technicien-historique-resolu")

    row.get_by_role("link", name=f"Consulter le détail de la demande {number}").click()
    expect(heading(technicien)).to_have_text(f"Demande {number}")
    status = described(technicien.get_by_role("region", name="La demande"), "Statut")
    expect(status).to_have_text(re.compile(r"^Résolu"))
    expect(exchanges(technicien)).to_contain_text("Réponse de la caisse")
    expect(exchanges(technicien)).to_contain_text(ANSWER)
    expect(technicien.get_by_text("Cette demande est résolue : plus aucun message n'est possible.")).to_be_visible()
    shots(technicien, "technicien-demande-resolue-reponse")

    with technicien.expect_download() as download_info:
        technicien.get_by_role("link", name="Récapitulatif PDF").click()
    download = download_info.value
    assert download.suggested_filename == f"demande-{number}.pdf"
    summary = tmp_path / download.suggested_filename
    download.save_as(summary)
    assert summary.read_bytes().startswith(b"%PDF")

    assert len(shots.names) == len(set(shots.names))
