"""What the browser journeys share: signing in and out, the page basics, and depositing each kind of request as a
technicien would (the offers' titles, the person concerned, each kind's form)."""

import re
import time
from urllib.parse import urlsplit

from django.conf import settings
from django.core import mail
from playwright.sync_api import Page, expect

from tests.factories import make_nir
from tests.requests.builders import pdf_bytes

DEMO_PASSWORD = "Demo-Partenaires-2026"
STRONG_PASSWORD = "Quatre-pommes-vertes-2026"


def field(page: Page, label):
    """The form control whose label starts with `label` (labels end with a hidden "(obligatoire)")."""
    return page.get_by_label(re.compile(rf"^{re.escape(label)}(\s|$)"))


def log_in(page: Page, email, password=DEMO_PASSWORD):
    """Password, then the second factor: the code the email brought (partners), or the application's (caisse)."""
    enter_password(page, email, password)
    expect(page.get_by_role("heading", level=1)).to_have_text("Vérification en deux étapes")
    field(page, "Code de vérification").fill(second_factor_code(email))
    page.get_by_role("button", name="Valider").click()
    expect(page).to_have_url(re.compile(r"://[^/]+/$"))  # the home page


def log_in_directly(page: Page, email, password=DEMO_PASSWORD):
    """Signed in as `log_in` signs in (the same forms posted to the live server, CSRF token included: the password,
    then the code the email brought or the application's), but by requests sharing the browser's cookies rather than
    through pages the browser draws (three of them, a second in all): for the journeys where signing in is only the
    way in. The sign-in pages themselves stay driven in the browser: `log_in` in test_journeys.py, test_security.py,
    test_drafts.py (signing in again) and without JavaScript; step by step in test_full_journey.py, test_drafts.py
    (after the session ended) and the accessibility audit's anonymous journey."""
    http = page.request
    http.get("/connexion/")  # the CSRF cookie, as the login page gives it
    answer = http.post("/connexion/", form={"username": email, "password": password}, headers=csrf_header(page))
    assert urlsplit(answer.url).path == "/connexion/verification/", f"{email}: {answer.status} {answer.url}"
    # The code as the verification page asks it; the home page next, as after `log_in`.
    answer = http.post(
        answer.url, form={"code": second_factor_code(email)}, headers=csrf_header(page), max_redirects=0
    )
    assert answer.status == 302 and answer.headers["location"] == "/", f"{email}: {answer.status} {answer.headers}"
    page.goto("/")
    expect(page).to_have_url(re.compile(r"://[^/]+/$"))


def csrf_header(page: Page):
    """Django's CSRF token for a post outside a form: the browser's cookie (renewed at sign-in), in its header."""
    [token] = [cookie["value"] for cookie in page.context.cookies() if cookie["name"] == settings.CSRF_COOKIE_NAME]
    return {"X-CSRFToken": token}


def enter_password(page: Page, email, password):
    page.goto("/connexion/")
    field(page, "Adresse électronique").fill(email)
    field(page, "Mot de passe").fill(password)
    page.get_by_role("button", name="Se connecter").click()


def second_factor_code(email):
    from django_otp.oath import TOTP

    from extranet.accounts.models import AuthenticatorApp

    device = AuthenticatorApp.objects.filter(user__email=email, confirmed=True).first()
    if device is None:
        return email_code(email)
    # Codes are never accepted twice: a test that signs in again within 30 seconds takes the next time step,
    # which the device tolerates (one step of clock drift).
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    totp.time = time.time()
    step = max(totp.t(), device.last_t + 1)
    totp.time = (step - device.drift) * device.step + device.t0
    return f"{totp.token():0{device.digits}d}"


def email_code(email):
    codes = [message.body for message in mail.outbox if email in message.to and "code de connexion" in message.subject]
    assert codes, f"no sign-in code sent to {email}"
    return re.search(r"\b(\d{6})\b", codes[-1]).group(1)


def log_out(page: Page):
    page.get_by_role("button", name="Se déconnecter").click()
    expect(page).to_have_url(re.compile(r"/connexion/$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Connexion")


def expect_header(page: Page, identity, role):
    header_identity = page.get_by_test_id("header-identity")
    expect(header_identity).to_contain_text(identity)
    expect(header_identity.get_by_text(role, exact=True)).to_be_visible()


def navigation_links(page: Page):
    return page.get_by_role("navigation", name="Navigation principale").get_by_role("list").get_by_role("link")


def expect_page_basics(page: Page):
    """Every page: French, and one (and only one) main heading."""
    expect(page.locator("html")).to_have_attribute("lang", "fr")
    expect(page.locator("h1")).to_have_count(1)


NUMBER = re.compile(r"^\d{10}$")

CONTACT = "Contacter votre organisme d'assurance maladie"
SIGNALER = "Signaler une situation de difficulté d'accès aux droits et aux soins"
APPOINTMENT = "Demander un rendez-vous pour un assuré"
CASE_REVIEW = "Soumettre une demande d'étude de dossier"
DOCUMENT = "Demander un document"

MAS_MOTIF = "Saisine de la Mission accompagnement santé (MAS), avec l'accord de la personne"


def exact_field(page: Page, label):
    """The control labelled exactly `label`, required or not (where `field()` would also match a longer label
    starting with the same words, e.g. "Nom" and "Nom et prénom")."""
    return page.get_by_label(re.compile(rf"^{re.escape(label)}(\s*\*)?(\s*\(obligatoire\))?$"))


def pdf_file(name="justificatif.pdf", text="Justificatif"):
    return [{"name": name, "mimeType": "application/pdf", "buffer": pdf_bytes(text)}]


def start_request(page: Page, title):
    """From the home page, the "Nouvelle demande" button of the offer card `title`."""
    page.get_by_role("link", name="Accueil", exact=True).click()
    page.get_by_role("link", name=f"Nouvelle demande : {title}").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(title)
    expect_page_basics(page)


def fill_person(page: Page, person):
    """The "Personne concernée" block: person = (civility, last name, first name, birth date, NIR)."""
    civility, last_name, first_name, birth_date, nir = person
    page.get_by_label(civility, exact=True).check()
    exact_field(page, "Nom").fill(last_name)
    exact_field(page, "Prénom").fill(first_name)
    field(page, "Date de naissance").fill(birth_date)
    field(page, "Numéro de sécurité sociale").fill(nir)


def expect_confirmation(page: Page, kind_label):
    """The confirmation page; returns the request's number."""
    expect(page.get_by_role("heading", level=1)).to_have_text("Votre demande est déposée")
    expect_page_basics(page)
    number = page.get_by_test_id("request-number")
    expect(number).to_have_text(NUMBER)
    expect(page.get_by_text(f"{kind_label} — adressée à la CPAM de la Gironde")).to_be_visible()
    return number.inner_text()


def described(scope, term):
    """In a description list, the value (dd) of the term (dt) `term`."""
    return scope.locator("dt", has_text=re.compile(rf"^{re.escape(term)}$")).locator("xpath=following-sibling::dd[1]")


def history_rows(page: Page):
    return page.get_by_role("main").get_by_role("listitem").filter(has_text="Consulter le détail")


LEFEBVRE = ("Monsieur", "Lefebvre", "Armand", "1985-05-12", make_nir())
MOREAU = ("Madame", "Moreau", "Lucie", "1990-11-03", make_nir(sex="2", year="90", month="11"))
PETIT = ("Monsieur", "Petit", "Jules", "1972-02-20", make_nir(year="72", month="02", order="456"))
ROUX = ("Madame", "Roux", "Nadia", "1964-07-08", make_nir(sex="2", year="64", month="07", order="789"))


def fill_contact(page: Page):
    page.get_by_label("Technique", exact=True).check()
    page.get_by_label("Téléphone", exact=True).check()
    field(page, "Vos disponibilités").fill("Lundi et jeudi matin")
    field(page, "Votre question").fill("Comment déclarer un changement d'adresse pour nos usagers ?")


def fill_access_difficulty(page: Page):
    page.get_by_label("Droits", exact=True).check()
    field(page, "Description de la situation").fill("Rupture de droits depuis le mois de mars.")
    fill_person(page, LEFEBVRE)


def fill_appointment(page: Page):
    page.get_by_label("Complémentaire santé solidaire (C2S)", exact=True).check()
    page.get_by_label("Sur place, à l'accueil de la caisse", exact=True).check()
    field(page, "Disponibilités de la personne").fill("Mardi après-midi")
    page.get_by_label("Oui", exact=True).check()
    field(page, "Informations utiles").fill("Personne malentendante.")
    fill_person(page, MOREAU)
    field(page, "Téléphone de la personne").fill("06 12 34 56 78")


def fill_case_review(page: Page):
    page.get_by_label("Protection universelle maladie (PUMa)", exact=True).check()
    field(page, "Description de la demande").fill("Dossier PUMa déposé en janvier.")
    fill_person(page, PETIT)
    field(page, "Pièces jointes").set_input_files(files=pdf_file())


def fill_document(page: Page):
    document = field(page, "Document demandé")
    expect(document.locator("option")).to_contain_text(["Attestation de droits", "Vaccination"])
    document.select_option(label="Attestation de droits")
    field(page, "Précisions").fill("Pour le dossier de tutelle.")
    fill_person(page, ROUX)


# The gestionnaire's header links, as the journeys check them.
GESTIONNAIRE_NAV = [
    "Accueil",
    "Historique des demandes",
    "Rechercher une personne",
    "Tableau de bord",
    "Techniciens",
    "Mon compte",
]
