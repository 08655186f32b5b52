"""Drafts in a real browser: a MAS referral saved half typed, found again on the home page after signing in again,
then transmitted; the warning before the idle timeout and « Rester connecté »; and, when nobody answers it, what was
typed saved as a draft just before the session ends, and brought back after signing in again.

The idle timeout's minutes are not waited for: the page's clock (Playwright's) and the server's (time_machine) are
stopped, then moved forward together, so that the page and the server see the same time pass, as they would."""

import re
import time
from contextlib import contextmanager

import pytest
import time_machine
from django.conf import settings as django_settings
from playwright.sync_api import Page, expect

from requests.models import Draft
from tests.browser.helpers import (
    MOREAU,
    SIGNALER,
    exact_field,
    expect_confirmation,
    expect_page_basics,
    field,
    fill_person,
    log_in,
    log_in_directly,
    log_out,
    second_factor_code,
)
from tests.browser.test_accessibility import Audit

pytestmark = pytest.mark.browser

TECHNICIEN = "technicien@demo.example"
MAS_FORM = "/demandes/nouvelle/saisine-mas/"
WARNING_TITLE = "Votre session va expirer"


def short_session(settings, *, timeout, warning, draft_save):
    settings.SESSION_IDLE_TIMEOUT = timeout
    settings.SESSION_IDLE_WARNING = warning
    settings.SESSION_IDLE_DRAFT_SAVE = draft_save


@contextmanager
def stopped_clocks(page: Page):
    """The page's clock and the server's stopped at the same moment; `advance(seconds)` moves both forward, the page's
    timers then running once (as after a tab left in the background), without waiting for any of it."""
    now = time.time()
    with time_machine.travel(now, tick=False) as traveller:
        page.clock.install(time=now)
        page.clock.pause_at(now)

        def advance(seconds):
            traveller.shift(seconds)
            page.clock.fast_forward(seconds * 1000)

        yield advance


def drafts_on_home(page: Page):
    return page.get_by_role("region", name="Brouillons")


def test_a_draft_saved_is_resumed_from_the_home_page_after_signing_in_again_then_deposited(page: Page, demo):
    log_in_directly(page, TECHNICIEN)
    expect(drafts_on_home(page)).to_have_count(0)
    page.goto(MAS_FORM)
    expect(page.get_by_text("Les pièces jointes ne sont pas conservées dans le brouillon")).to_be_visible()
    page.get_by_label("Renoncement ou difficultés d'accès à des soins", exact=True).check()
    fill_person(page, MOREAU)
    page.get_by_role("button", name="Enregistrer le brouillon").click()
    expect(page.get_by_role("status")).to_contain_text("Brouillon enregistré.")
    expect(page).to_have_url(re.compile(r"/demandes/nouvelle/saisine-mas/\?brouillon=\d+$"))
    # The NIR is in the page's field, never in its address.
    assert MOREAU[4] not in page.url
    log_out(page)

    log_in(page, TECHNICIEN)
    drafts = drafts_on_home(page)
    expect(drafts).to_contain_text("Saisine de la Mission accompagnement santé — MOREAU Lucie")
    drafts.get_by_role("link", name=re.compile(r"^Reprendre le brouillon")).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Saisine de la Mission accompagnement santé (MAS)")
    expect_page_basics(page)
    expect(page.get_by_text("Vous reprenez votre brouillon enregistré le")).to_be_visible()
    expect(exact_field(page, "Nom")).to_have_value("Moreau")
    expect(field(page, "Numéro de sécurité sociale")).to_have_value(MOREAU[4])
    expect(page.get_by_label("Renoncement ou difficultés d'accès à des soins", exact=True)).to_be_checked()

    page.get_by_label("Pharmacie", exact=True).check()
    page.get_by_label("Plus d'1 an", exact=True).check()
    page.get_by_label("Transport", exact=True).check()
    page.get_by_label("Détection à distance", exact=True).check()
    page.get_by_label("Je confirme avoir donné à la personne l'information ci-dessus").check()
    page.get_by_role("button", name="Transmettre la saisine").click()
    expect_confirmation(page, SIGNALER)
    assert Draft.objects.count() == 0
    page.get_by_role("link", name="Accueil", exact=True).click()
    expect(drafts_on_home(page)).to_have_count(0)


def test_a_draft_is_deleted_from_the_home_page_once_confirmed(page: Page, demo):
    log_in_directly(page, TECHNICIEN)
    page.goto("/demandes/nouvelle/signaler/")
    fill_person(page, MOREAU)
    page.get_by_role("button", name="Enregistrer le brouillon").click()
    expect(page.get_by_role("status")).to_contain_text("Brouillon enregistré.")
    page.get_by_role("link", name="Accueil", exact=True).click()
    drafts = drafts_on_home(page)
    expect(drafts).to_contain_text(f"{SIGNALER} — MOREAU Lucie")
    drafts.get_by_role("link", name=re.compile(r"^Supprimer le brouillon")).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Supprimer le brouillon ?")
    page.get_by_role("button", name="Supprimer le brouillon").click()
    expect(page.get_by_role("status")).to_contain_text("Brouillon supprimé.")
    expect(drafts_on_home(page)).to_have_count(0)


def test_the_idle_warning_appears_and_rester_connecte_keeps_the_session(page: Page, demo, settings):
    log_in_directly(page, TECHNICIEN)
    # Under a minute: requests write the last-seen moment once a minute at most (extranet/middleware.py), so only
    # « Rester connecté » itself can push the end of the session back here.
    short_session(settings, timeout=50, warning=40, draft_save=4)
    with stopped_clocks(page) as advance:
        page.goto("/demandes/")
        advance(15)
        dialog = page.get_by_role("alertdialog", name=WARNING_TITLE)
        expect(dialog).to_be_visible()
        expect(dialog).to_contain_text("vous serez déconnecté dans")
        # No form here: nothing to say about drafts.
        expect(dialog.get_by_text("sera enregistré dans vos brouillons")).to_be_hidden()
        staying = dialog.get_by_role("button", name="Rester connecté")
        expect(staying).to_be_focused()
        page.clock.resume()  # axe-core's run waits on the page's timers; the server's clock stays stopped
        Audit(page)("avertissement avant la fin de la session")
        page.keyboard.press("Enter")
        expect(dialog).to_be_hidden()

        # Past the moment the session would have ended without it (55 s after the sign-in): still signed in.
        advance(40)
        page.goto("/demandes/")
        expect(page.get_by_role("heading", level=1)).to_have_text("Historique des demandes")


def test_at_the_idle_timeout_what_was_typed_is_saved_and_brought_back_after_signing_in(page: Page, demo):
    # The settings' own timeout, warning and draft's moment: the minutes go by in a moment.
    timeout = django_settings.SESSION_IDLE_TIMEOUT
    warning = django_settings.SESSION_IDLE_WARNING
    draft_save = django_settings.SESSION_IDLE_DRAFT_SAVE
    log_in_directly(page, TECHNICIEN)
    with stopped_clocks(page) as advance:
        page.goto(MAS_FORM)
        fill_person(page, MOREAU)
        advance(timeout - warning + 5)
        dialog = page.get_by_role("alertdialog", name=WARNING_TITLE)
        expect(dialog).to_be_visible()
        expect(dialog).to_contain_text("Ce que vous avez saisi dans le formulaire sera enregistré dans vos brouillons")
        assert Draft.objects.count() == 0

        # Nobody answers: the form is saved, the session ended, the login page says so.
        advance(warning - draft_save)
        expect(page).to_have_url(re.compile(r"/connexion/\?next="))
        expect(page.get_by_role("status")).to_contain_text("Votre saisie est enregistrée dans un brouillon")
        [draft] = Draft.objects.all()
        assert draft.values["person_last_name"] == "Moreau" and draft.person_nir == MOREAU[4]

        page.clock.resume()
        field(page, "Adresse électronique").fill(TECHNICIEN)
        field(page, "Mot de passe").fill("Demo-Partenaires-2026")
        page.get_by_role("button", name="Se connecter").click()
        field(page, "Code de vérification").fill(second_factor_code(TECHNICIEN))
        page.get_by_role("button", name="Valider").click()
        expect(page).to_have_url(re.compile(rf"/demandes/nouvelle/saisine-mas/\?brouillon={draft.pk}$"))
        expect(exact_field(page, "Nom")).to_have_value("Moreau")
        expect(exact_field(page, "Prénom")).to_have_value("Lucie")
        expect(field(page, "Numéro de sécurité sociale")).to_have_value(MOREAU[4])
