"""Every page the journeys visit, for each role, checked by axe-core against WCAG 2.0/2.1 levels A and AA, and, on
the same page state, for what axe-core does not check: reflow, non-text contrast, focus indicators and target sizes
(tests/browser/layout.py). Each state is reached once and gets both: the journeys are the slow part.

One browser context per role (the `page` fixture); each page is audited in its ordinary state and, for forms, once
submitted empty so that the error state (summary, invalid fields, messages) is audited too. Problems found on all
the pages of a role are gathered, then reported together: for axe-core, rule id, impact, help and the target
selectors; for the others, the check, the width and the elements.

Not audited: /api/docs/ (Swagger UI, a third-party page served as is) and the PDF and CSV downloads.
"""

import re

import pytest
from axe_playwright_python.base import AxeResults
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Page, expect

from tests.browser.helpers import DEMO_PASSWORD, email_code, enter_password, field, log_in_directly
from tests.browser.layout import LayoutChecks
from tests.browser.seeding import seeded
from tests.helpers import last_link, path_of

pytestmark = pytest.mark.browser

WCAG_A_AA = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
AXE_OPTIONS = {"runOnly": {"type": "tag", "values": WCAG_A_AA}, "resultTypes": ["violations", "incomplete"]}
# `Axe.run` returns the whole report (passes, inapplicable rules…) to Python: only the violations are needed here,
# so axe.run is called the same way but its report is cut down in the page, which is noticeably faster.
# Duplicate ids referenced by labels or ARIA attributes are only "to review" for axe-core (it cannot tell which of
# the elements a screen reader will use): here, they count as violations.
REVIEW_IS_VIOLATION = ["duplicate-id-aria"]
AXE_RUN = """([options, strict]) => axe.run(document, options).then(report => ({
    violations: report.violations.concat(report.incomplete.filter(rule => strict.includes(rule.id)))
}))"""
NEW_PASSWORD = "Quatre-pommes-vertes-2026"
NEWCOMER = "hugo.ferreira@quatre-vents.example"
NEW_ADDRESS = "nouvelle.adresse@demo.example"


class Audit:
    """Runs axe-core on the page as it is, and keeps what it finds, page by page."""

    def __init__(self, page: Page):
        self.page = page
        self.axe = Axe()
        self.pages = []
        self.violations = []
        # axe-core (half a megabyte) given once to the browser, which runs it in each page the context opens from now
        # on, rather than sent again for each page audited; the page open already gets it the first time it is audited.
        page.context.add_init_script(script=self.axe.axe_script)

    def __call__(self, name):
        self.page.wait_for_load_state("load")
        expect(self.page.locator("h1")).to_have_count(1)  # a page, not an error or an unexpected redirect
        result = self.run_axe()
        self.pages.append(name)
        for violation in result.response["violations"]:
            targets = ", ".join(" ".join(map(str, node["target"])) for node in violation["nodes"])
            self.violations.append(
                f"{name} ({self.page.url}): {violation['id']} [{violation['impact']}] {violation['help']}"
                f" — {len(violation['nodes'])} élément(s) : {targets}"
            )

    def run_axe(self):
        if not self.page.evaluate("typeof axe !== 'undefined'"):
            self.page.evaluate(self.axe.axe_script)
        return AxeResults(self.page.evaluate(AXE_RUN, [AXE_OPTIONS, REVIEW_IS_VIOLATION]))

    def visit(self, path, name=None, status=200):
        response = self.page.goto(path)
        assert response is not None and response.status == status, f"{path}: {response and response.status}"
        self(name or path)

    def submit_empty(self, button, name):
        """The form of the main content, sent as it is (empty): its error state."""
        self.page.get_by_role("main").get_by_role("button", name=button, exact=True).click()
        expect(self.page.locator(".is-invalid, [aria-invalid='true']").first).to_be_attached()
        self(name)

    def check(self):
        assert self.pages
        assert not self.violations, f"{len(self.violations)} violation(s) WCAG A/AA :\n" + "\n".join(self.violations)


class FullAudit(Audit):
    """axe-core, then the checks it does not make (tests/browser/layout.py), on each page state; one report."""

    def __init__(self, page: Page):
        super().__init__(page)
        self.layout = LayoutChecks(page)

    def __call__(self, name):
        super().__call__(name)
        self.layout(f"{name} ({self.page.url})")

    def check(self):
        assert self.pages
        assert self.layout.focused, "aucun élément n'a pris le focus : l'indicateur de focus n'est pas vérifié"
        problems = [f"WCAG A/AA (axe-core) : {violation}" for violation in self.violations] + self.layout.findings
        assert not problems, f"{len(problems)} problème(s) :\n" + "\n".join(problems)


def seed_requests():
    """The demo's requests; for each status, the UDAF's request to the Gironde with the most exchanges (the technicien
    and the agent both see it; the one in progress is the agent's, so that she may resolve it)."""
    from django.db.models import Count

    from requests import demo
    from requests.models import Request

    seeded("demo and its requests", demo.seed_requests)
    udaf_to_gironde = (
        Request.objects.filter(structure__siret=demo.UDAF, caisse__code="331")
        .annotate(exchanges=Count("messages"))
        .order_by("-exchanges", "-created_at")
    )
    return {
        "new": udaf_to_gironde.filter(status="new").first(),
        "in_progress": udaf_to_gironde.filter(status="in_progress", assigned_to__email="agent@demo.example").first(),
        "resolved": udaf_to_gironde.filter(status="resolved").first(),
    }


def anonymous(page: Page, audit: Audit):
    for path in ("/connexion/", "/mot-de-passe-oublie/", "/mentions-legales/", "/donnees-personnelles/"):
        audit.visit(path)
    audit.visit("/accessibilite/")
    audit.visit("/aide/")
    for guide in ("technicien", "gestionnaire", "agent", "administrateur"):
        audit.visit(f"/aide/{guide}/")
    # /api/docs/ is Swagger UI, third-party: not audited.

    enter_password(page, "technicien@demo.example", "pas-le-bon-mot-de-passe")
    expect(page.get_by_role("alert")).to_be_visible()
    audit("connexion, mot de passe refusé")

    page.goto("/mot-de-passe-oublie/")
    audit.submit_empty("Recevoir le lien", "mot de passe oublié, sans adresse")
    field(page, "Adresse électronique").fill("technicien@demo.example")
    page.get_by_role("button", name="Recevoir le lien").click()
    audit("mot de passe oublié, lien envoyé")
    audit.visit(path_of(last_link("technicien@demo.example")), "nouveau mot de passe (lien reçu)")
    audit.submit_empty("Enregistrer le mot de passe", "nouveau mot de passe, erreurs")

    # The second factor after the password: the code sent by email.
    enter_password(page, "technicien@demo.example", DEMO_PASSWORD)
    expect(page).to_have_url(re.compile(r"/connexion/verification/"))
    audit("vérification en deux étapes")
    field(page, "Code de vérification").fill("000000")
    page.get_by_role("button", name="Valider").click()
    expect(page.locator("[aria-invalid='true']").first).to_be_attached()
    audit("vérification en deux étapes, code refusé")
    page.context.clear_cookies()

    # A new account: the activation link, then the set-up of the second factor.
    from structures.models import Membership, Structure
    from structures.services import create_partner_account

    structure = Structure.objects.get(siret="31834567800011")
    gestionnaire = Membership.objects.get(user__email="gestionnaire@demo.example").user
    create_partner_account(
        structure,
        role=Membership.Role.TECHNICIEN,
        by=gestionnaire,
        email=NEWCOMER,
        civility="m",
        last_name="Ferreira",
        first_name="Hugo",
        phone="",
    )
    audit.visit(path_of(last_link(NEWCOMER)), "activation (lien reçu)")
    audit.submit_empty("Activer mon compte", "activation, erreurs")
    field(page, "Nouveau mot de passe").fill(NEW_PASSWORD)
    field(page, "Confirmation du nouveau mot de passe").fill(NEW_PASSWORD)
    page.get_by_role("button", name="Activer mon compte").click()
    expect(page).to_have_url(re.compile(r"/connexion/$"))
    audit("connexion, compte activé")
    enter_password(page, NEWCOMER, NEW_PASSWORD)
    expect(page).to_have_url(re.compile(r"/double-authentification/"))
    audit("double authentification : choix de la méthode")
    page.get_by_role("link", name=re.compile("application", re.I)).first.click()
    expect(page).to_have_url(re.compile(r"/double-authentification/application/"))
    audit("double authentification : application")
    audit.submit_empty("Activer", "double authentification : application, erreurs")
    page.goto("/double-authentification/")
    page.get_by_role("link", name="Recevoir les codes par courriel").click()
    audit("double authentification : courriel")
    field(page, "Code à 6 chiffres").fill("000000")
    page.get_by_role("button", name="Activer").click()
    expect(field(page, "Code à 6 chiffres")).to_have_attribute("aria-invalid", "true")
    audit("double authentification : courriel, code refusé")
    field(page, "Code à 6 chiffres").fill(email_code(NEWCOMER))
    page.get_by_role("button", name="Activer").click()
    expect(page).to_have_url(re.compile(r"/double-authentification/codes-de-secours/"))
    audit("codes de secours")

    page.context.clear_cookies()
    audit.visit("/page-qui-n-existe-pas/", "page introuvable", status=404)


def technicien(page: Page, audit: Audit, requests):
    log_in_directly(page, "technicien@demo.example")
    audit("accueil")
    audit.visit("/demandes/")
    audit.visit("/demandes/?kind=case_review&status=new&deposited_from=2020-01-01&followed=on")
    audit.visit("/demandes/?number=99999", "/demandes/ sans résultat")
    for slug in ("contacter", "signaler", "rendez-vous", "etude-de-dossier", "document"):
        audit.visit(f"/demandes/nouvelle/{slug}/")
        audit.submit_empty("Déposer la demande", f"/demandes/nouvelle/{slug}/ envoyé vide")
    audit.visit("/demandes/nouvelle/saisine-mas/")
    audit.submit_empty("Transmettre la saisine", "/demandes/nouvelle/saisine-mas/ envoyé vide")
    drafts(page, audit)
    for status, demande in requests.items():
        audit.visit(f"/demandes/{demande.number}/", f"demande {status}")
    audit.visit(f"/demandes/{requests['new'].number}/confirmation/")
    page.goto(f"/demandes/{requests['resolved'].number}/")
    page.get_by_test_id("linked-request").click()
    audit("nouvelle demande liée, préremplie")
    person_search(page, audit, requests["resolved"])
    account_pages(page, audit)


def drafts(page: Page, audit: Audit):
    """The form saved as a draft and resumed, the home page's « Brouillons », the deletion's confirmation."""
    page.get_by_role("button", name="Enregistrer le brouillon").click()
    expect(page.get_by_role("status")).to_contain_text("Brouillon enregistré.")
    audit("/demandes/nouvelle/saisine-mas/ brouillon repris")
    audit.visit("/", "accueil avec un brouillon")
    page.get_by_role("link", name=re.compile(r"^Supprimer le brouillon")).click()
    audit("supprimer un brouillon")


def person_search(page: Page, audit: Audit, demande):
    audit.visit("/recherche/")
    search = page.get_by_role("main").get_by_role("button", name="Rechercher", exact=True)
    search.click()
    expect(page.locator("[data-error-summary]")).to_be_visible()
    audit("recherche d'une personne, aucun critère")
    page.get_by_label("Nom", exact=True).fill("L")
    search.click()
    expect(page.get_by_label("Nom", exact=True)).to_have_attribute("aria-invalid", "true")
    audit("recherche d'une personne, nom trop court")
    page.get_by_label("Nom", exact=True).fill(demande.person_last_name[:3])
    search.click()
    expect(page.get_by_test_id("search-results")).to_be_visible()
    audit("recherche d'une personne, résultats")


def account_pages(page: Page, audit: Audit):
    audit.visit("/compte/")
    page.get_by_role("button", name="Générer de nouveaux codes de secours").click()
    expect(page).to_have_url(re.compile(r"/double-authentification/codes-de-secours/"))
    audit("nouveaux codes de secours")
    audit.visit("/compte/mot-de-passe/")
    audit.submit_empty("Enregistrer", "/compte/mot-de-passe/ envoyé vide")
    audit.visit("/compte/adresse/")
    audit.submit_empty("Envoyer le lien de confirmation", "/compte/adresse/ envoyé vide")
    page.locator("input[name='new_email']").fill(NEW_ADDRESS)
    page.locator("input[name='password']").fill(DEMO_PASSWORD)
    page.get_by_role("button", name="Envoyer le lien de confirmation").click()
    audit("/compte/adresse/ lien envoyé")
    audit.visit(path_of(last_link(NEW_ADDRESS)), "confirmation de la nouvelle adresse (lien reçu)")
    audit.visit("/double-authentification/?next=/compte/", "changer de méthode")


def api_token_pages(page: Page, audit: Audit):
    """A technicien has none (structures.policy.may_create_api_tokens): the gestionnaire's « Mon compte »."""
    audit.visit("/compte/", "/compte/ d'un gestionnaire")
    audit.submit_empty("Créer un jeton", "/compte/ jeton sans nom")
    page.locator("form[action='/compte/jetons-api/'] input[name='name']").fill("Logiciel de suivi")
    page.get_by_role("button", name="Créer un jeton").click()
    expect(page).to_have_url(re.compile(r"/compte/jetons-api/nouveau/"))
    audit("jeton d'API créé")
    audit.visit("/compte/", "/compte/ avec un jeton")


def gestionnaire(page: Page, audit: Audit, requests):
    from structures.models import Membership

    log_in_directly(page, "gestionnaire@demo.example")
    audit("accueil")
    audit.visit("/structure/techniciens/")
    audit.visit("/structure/techniciens/nouveau/")
    audit.submit_empty("Enregistrer", "nouveau technicien, erreurs")
    membership = Membership.objects.get(user__email="technicien@demo.example")
    audit.visit(f"/structure/techniciens/{membership.pk}/modifier/")
    audit.visit(f"/structure/techniciens/{membership.pk}/depart/", "départ d'un technicien, ses demandes en cours")
    audit.visit("/structure/tableau-de-bord/")
    audit.visit("/structure/webhooks/")
    audit.visit("/structure/webhooks/nouveau/")
    audit.submit_empty("Enregistrer", "nouveau webhook, erreurs")
    api_token_pages(page, audit)


def agent(page: Page, audit: Audit, requests):
    from requests.catalog import MAS_REFERRAL
    from requests.models import Request

    log_in_directly(page, "agent@demo.example")
    audit("accueil")
    audit.visit("/caisse/demandes/")
    audit.visit("/caisse/demandes/?status=all&kind=access_difficulty&assignment=me&deposited_from=2020-01-01")
    audit.visit("/caisse/demandes/?status=resolved&overdue=on", "/caisse/demandes/ sans résultat")
    for status, demande in requests.items():
        audit.visit(f"/demandes/{demande.number}/", f"demande {status}")
    in_progress = requests["in_progress"].number
    page.goto(f"/demandes/{in_progress}/")
    audit.submit_empty("Envoyer à la structure", "demande en cours, message vide")
    page.get_by_role("main").get_by_label("Modèle de message").select_option(label="Demande de pièce complémentaire")
    page.get_by_role("button", name="Utiliser ce modèle").click()
    audit("demande en cours, modèle de message choisi")
    audit.visit(f"/demandes/{in_progress}/resoudre/", "résoudre : rédiger la réponse")
    audit.submit_empty("Relire la réponse", "résoudre : réponse vide")
    page.get_by_label("Modèle de réponse").select_option(label="Droits ouverts")
    page.get_by_role("button", name="Utiliser ce modèle").click()
    page.get_by_role("button", name="Relire la réponse").click()
    expect(page.get_by_role("button", name="Confirmer et résoudre")).to_be_visible()
    audit("résoudre : aperçu et confirmation")
    person_search(page, audit, requests["in_progress"])
    audit.visit("/caisse/tableau-de-bord/")
    referral = Request.objects.filter(kind=MAS_REFERRAL.kind, caisse__code="331").order_by("-created_at").first()
    audit.visit(f"/demandes/{referral.number}/", "saisine MAS")


def admin_caisse(page: Page, audit: Audit, requests):
    from structures.models import Structure
    from tests.factories import MembershipFactory

    log_in_directly(page, "admin@demo.example")
    audit("accueil")
    audit.visit("/caisse/structures/")
    structure = Structure.objects.get(siret="31834567800011")
    audit.visit(f"/caisse/structures/{structure.pk}/", "fiche structure")
    audit.visit(f"/caisse/structures/{structure.pk}/modifier/")
    audit.visit(f"/caisse/structures/{structure.pk}/convention/")
    field(page, "Statut").select_option(label="Suspendue")
    page.get_by_role("main").get_by_role("button", name="Enregistrer").click()
    audit("convention, confirmation du changement de statut")
    page.get_by_role("button", name="Confirmer : convention suspendue").click()
    audit("fiche structure, historique de la convention")
    page.get_by_role("link", name=re.compile("^Modifier Karim BENALI")).click()
    audit("modifier un gestionnaire")
    field(page, "Nom").fill("")
    audit.submit_empty("Enregistrer", "modifier un gestionnaire, erreurs")
    audit.visit(f"/caisse/structures/{structure.pk}/gestionnaires/nouveau/")
    audit.submit_empty("Enregistrer", "nouveau gestionnaire, erreurs")
    full = Structure.objects.get(name="Association Solidarité Santé Bordeaux")
    for _ in range(full.gestionnaire_seat_cap - full.active_gestionnaires().count()):
        MembershipFactory(structure=full, gestionnaire=True)
    audit.visit(f"/caisse/structures/{full.pk}/gestionnaires/nouveau/", "places de gestionnaire occupées")
    audit.visit("/caisse/structures/nouvelle/")
    audit.submit_empty("Enregistrer", "nouvelle structure, erreurs")
    audit.visit("/caisse/structures/conventionner/")
    audit.submit_empty("Enregistrer la convention", "conventionner, erreurs")
    audit.visit("/caisse/agents/")
    audit.visit(f"/demandes/{requests['new'].number}/", "demande nouvelle, attribuer à un agent")
    audit.visit("/caisse/agents/nouveau/")
    audit.submit_empty("Enregistrer", "nouvel agent, erreurs")
    audit.visit("/caisse/administrateurs/")
    audit.visit("/caisse/administrateurs/nouveau/")
    audit.submit_empty("Enregistrer", "nouvel administrateur, erreurs")
    audit.visit("/caisse/journal-des-acces/")
    audit.visit("/caisse/webhooks/")
    audit.visit("/caisse/taches-de-fond/")
    audit.visit(f"/caisse/journal-des-acces/?numero={requests['new'].number}")
    audit.visit("/caisse/modeles-de-reponse/")
    audit.visit("/caisse/modeles-de-reponse/nouveau/")
    audit.submit_empty("Enregistrer", "nouveau modèle de réponse, erreurs")
    page.goto("/caisse/modeles-de-reponse/")
    page.get_by_role("link", name="Modifier le modèle « Droits ouverts »").click()
    audit("modifier un modèle de réponse")


ROLES = {
    "anonyme": lambda page, audit, requests: anonymous(page, audit),
    "technicien": technicien,
    "gestionnaire": gestionnaire,
    "agent": agent,
    "admin-caisse": admin_caisse,
}


@pytest.mark.parametrize("role", list(ROLES))
def test_pages_meet_wcag_a_aa_reflow_contrast_and_target_sizes(page: Page, demo, role):
    requests = seed_requests()
    audit = FullAudit(page)
    ROLES[role](page, audit, requests)
    audit.check()
