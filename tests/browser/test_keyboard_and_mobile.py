"""Keyboard only and small screens: a request deposited without a mouse, with a visible focus and announced errors
linked to their fields; the history, the queue, the forms, a detail and the login page at 375 px wide."""

import re
from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect

from tests.browser.helpers import log_in_directly
from tests.browser.test_accessibility import Audit

pytestmark = pytest.mark.browser

CONTACT = "Contacter votre organisme d'assurance maladie"
UDAF = "UDAF de la Gironde — service des tutelles"
MAX_TABS = 150

# What the focused element is, and the styles that draw a focus indicator, once transitions are over (Bootstrap
# fades its focus shadows in). `ring`: an outline, or a box-shadow ring, at least 2 px wide and mostly opaque
# (Bootstrap's own focus shadow, 25 % opaque, is too faint to count).
FOCUS_STATE = r"""(element) => {
    for (const animation of document.getAnimations()) {
        try { animation.finish(); } catch (error) { /* an infinite animation */ }
    }
    const style = getComputedStyle(element);
    const alpha = (color) => {
        const parts = (color.match(/rgba?\(([^)]*)\)/) || [null, "0, 0, 0, 0"])[1].split(",");
        return parts.length === 4 ? parseFloat(parts[3]) : 1;
    };
    const outline = style.outlineStyle !== "none" && parseFloat(style.outlineWidth) >= 2
        && alpha(style.outlineColor) >= 0.5;
    const shadows = style.boxShadow === "none" ? [] : style.boxShadow.split(/,(?![^(]*\))/);
    const shadow = shadows.some((value) => {
        const lengths = value.replace(/rgba?\([^)]*\)/, "").trim().split(/\s+/).map(parseFloat);
        return !value.includes("inset") && alpha(value) >= 0.5 && (lengths[3] || 0) >= 2;
    });
    return {
        tag: element.tagName.toLowerCase(),
        id: element.id,
        type: element.getAttribute("type") || "",
        name: (element.textContent || element.value || element.getAttribute("aria-label") || "")
            .replace(/\s+/g, " ").trim().slice(0, 80),
        ring: outline || shadow,
        outlineStyle: style.outlineStyle,
        outlineWidth: style.outlineWidth,
        outlineColor: style.outlineColor,
        boxShadow: style.boxShadow,
    };
}"""


def active(page: Page):
    """The focused element's description and focus styles (None when nothing in the page has the focus)."""
    handle = page.evaluate_handle("() => document.activeElement === document.body ? null : document.activeElement")
    element = handle.as_element()
    return None if element is None else (element, element.evaluate(FOCUS_STATE))


def tab(page: Page, key="Tab"):
    page.keyboard.press(key)
    return active(page)


def tab_to(page: Page, predicate, what):
    """Press Tab until the focused element's state satisfies `predicate`; returns that element."""
    for _ in range(MAX_TABS):
        focused = tab(page)
        if focused and predicate(focused[1]):
            return focused[0]
    raise AssertionError(f"{what} never got the focus with the Tab key")


def tab_to_id(page: Page, element_id):
    return tab_to(page, lambda state: state["id"] == element_id, f"#{element_id}")


def tab_to_text(page: Page, text):
    return tab_to(page, lambda state: state["name"].startswith(text), f"« {text} »")


def styles(state):
    return (state["outlineStyle"], state["outlineWidth"], state["outlineColor"], state["boxShadow"])


def expect_visible_focus_while_tabbing(page: Page):
    """Tab from the top of the page to its end: each focused element shows a focus indicator that it has not
    without the focus. Returns how many elements were met."""
    page.evaluate("() => { document.activeElement?.blur(); window.scrollTo(0, 0); }")
    met = []
    focused = tab(page)
    while focused is not None and len(met) < MAX_TABS:
        element, state = focused
        assert state["ring"], f"no visible focus on {state}"
        focused = tab(page)
        if focused is not None and focused[0].evaluate("(element, other) => element === other", element):
            break
        unfocused = element.evaluate(FOCUS_STATE)
        assert styles(unfocused) != styles(state), f"the focus does not change how {state} looks"
        met.append(state)
    assert met, "nothing to focus"
    return met


# 1. Keyboard only: from the home page to the confirmation, errors announced and linked to their fields.


def test_technicien_deposits_a_request_with_the_keyboard_only(page: Page, demo, screenshot):
    log_in_directly(page, "technicien@demo.example")
    expect(page.get_by_role("heading", level=1)).to_have_text("Bonjour Martine")

    tab_to_text(page, f"Nouvelle demande : {CONTACT}")
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", level=1)).to_have_text(CONTACT)

    # Submitted empty: the summary is announced and takes the focus; each invalid field says why.
    tab_to_text(page, "Déposer la demande")
    page.keyboard.press("Enter")
    summary = page.get_by_role("alert")
    expect(summary).to_contain_text("Le formulaire contient 4 erreurs : corrigez les champs signalés.")
    focused_in_summary = page.evaluate(
        "() => !!document.activeElement.closest('[data-error-summary]') && document.activeElement !== document.body"
    )
    assert focused_in_summary, "the error summary does not take the focus"
    screenshot(page, "clavier-erreurs")

    invalid = page.locator("[aria-invalid='true']")
    invalid_ids = invalid.evaluate_all("(elements) => elements.map((element) => element.id)")
    assert invalid_ids, "no field marked invalid"
    for element_id in invalid_ids:
        control = page.locator(f"#{element_id}")
        described_by = control.get_attribute("aria-describedby")
        assert described_by, f"#{element_id} has no aria-describedby"
        error_id = re.sub(r"_\d+$", "", element_id) + "_error"
        assert error_id in described_by.split(), f"#{element_id} is not described by its error"
        for described_id in described_by.split():
            expect(page.locator(f"#{described_id}")).to_have_count(1)
        message = page.locator(f"#{error_id}").inner_text().strip()
        assert message, f"#{error_id} is empty"
        expect(control).to_have_accessible_description(re.compile(re.escape(message)))

    # The summary lists each invalid field as a link to it, named by the field's label (the message is next to
    # the field, and read with it).
    links = page.locator("[data-error-summary] a")
    expect(links).to_have_count(4)
    targets = links.evaluate_all("(links) => links.map((link) => [link.getAttribute('href'), link.innerText])")
    invalid_groups = {re.sub(r"_\d+$", "", element_id) for element_id in invalid_ids}
    assert {re.sub(r"_\d+$", "", href.removeprefix("#")) for href, _ in targets} == invalid_groups
    assert [text for _, text in targets] == [
        "Objet de votre demande",
        "Rendez-vous souhaité",
        "Vos disponibilités",
        "Votre question",
    ]
    for href, text in targets:
        assert href.startswith("#id_"), href
        expect(page.locator(href)).to_have_count(1)
        label = page.locator(href).evaluate(
            """(field) => {
                const fieldset = field.closest("fieldset");
                const grouped = (field.type === "radio" || field.type === "checkbox") && fieldset;
                return (grouped ? fieldset.querySelector("legend") : field.labels[0]).textContent;
            }"""
        )
        assert label.strip().startswith(text), f"the link {text!r} is not named after its field {label!r}"

    # Following the first link with the keyboard puts the focus on its field.
    first_href = targets[0][0]
    tab_to(page, lambda state: state["tag"] == "a" and state["name"] == targets[0][1].strip(), "the first link")
    page.keyboard.press("Enter")
    assert page.evaluate("() => document.activeElement.id") == first_href.removeprefix("#")

    # Filled with the keyboard: arrows choose a radio, Space checks one, text is typed.
    page.evaluate("() => document.activeElement.blur()")
    tab_to_id(page, "id_motif_0")
    page.keyboard.press("ArrowDown")
    page.keyboard.press("ArrowDown")
    expect(page.get_by_label("Technique", exact=True)).to_be_checked()
    tab_to(page, lambda state: state["id"].startswith("id_channel_"), "the channel radios")
    page.keyboard.press("ArrowDown")
    page.keyboard.press("ArrowUp")
    page.keyboard.press("Space")
    expect(page.get_by_label("Téléphone", exact=True)).to_be_checked()
    tab_to_id(page, "id_availabilities")
    page.keyboard.type("Lundi et jeudi matin")
    tab_to_id(page, "id_message")
    page.keyboard.type("Comment déclarer un changement d'adresse pour nos usagers ?")
    tab_to_text(page, "Déposer la demande")
    page.keyboard.press("Space")

    expect(page.get_by_role("heading", level=1)).to_have_text("Votre demande est déposée")
    expect(page.get_by_text(f"{CONTACT} — adressée à la CPAM de la Gironde")).to_be_visible()
    expect_no_horizontal_scroll(page, "the confirmation, 1280 px wide")


# 2. The focus is visible on every element met with the Tab key.


def test_focus_is_visible_on_the_login_page_the_home_page_and_a_deposit_form(page: Page, demo):
    page.goto("/connexion/")
    met = expect_visible_focus_while_tabbing(page)
    assert {"Aller au contenu", "Se connecter", "Mot de passe oublié ?"} <= {state["name"] for state in met}

    log_in_directly(page, "technicien@demo.example")
    met = expect_visible_focus_while_tabbing(page)
    assert f"Nouvelle demande : {CONTACT}" in {state["name"] for state in met}

    page.goto("/demandes/nouvelle/contacter/")
    met = expect_visible_focus_while_tabbing(page)
    assert {"id_motif_0", "id_availabilities", "id_message"} <= {state["id"] for state in met}

    # With errors too: the summary's links and the invalid fields.
    page.get_by_role("button", name="Déposer la demande").press("Enter")
    expect(page.get_by_role("alert")).to_be_visible()
    met = expect_visible_focus_while_tabbing(page)
    assert any(state["tag"] == "a" and state["name"].startswith("Objet de votre demande") for state in met)


# 3. At 375 px wide, nothing scrolls the page sideways.


@pytest.fixture
def many_requests(demo):
    """Ten requests of the demo UDAF to the CPAM de la Gironde, by the demo technicien, of every kind."""
    from django.contrib.auth import get_user_model

    from structures.models import Caisse, Structure
    from tests.factories import RequestFactory

    technicien = get_user_model().objects.get(email="technicien@demo.example")
    common = {
        "structure": Structure.objects.get(name=UDAF),
        "caisse": Caisse.objects.get(code="331"),
        "author": technicien,
    }
    traits = [{}, {"contact": True}, {"appointment": True}, {"case_review": True}, {"document": True}]
    now = timezone.now()
    year = f"{timezone.localdate().year % 100:02d}"
    return [
        RequestFactory(
            **common,
            **traits[index % len(traits)],
            number=f"{year}3319{index:04d}",
            person_last_name="De La Fontaine-Beaumarchais" if index % 2 else "Lefebvre",
            created_at=now - timedelta(days=index),
        )
        for index in range(10)
    ]


def expect_no_horizontal_scroll(page: Page, what):
    # Right after a click on a link, the next document may not be there yet (its root still null): measured loaded.
    page.wait_for_load_state()
    sizes = page.evaluate(
        """() => {
            const width = window.innerWidth;
            const overflowing = [...document.querySelectorAll("body *")]
                .filter((element) => element.getBoundingClientRect().right > width + 1)
                .filter((element) => !element.closest(".table-responsive"))
                .slice(0, 5)
                .map((element) => element.tagName.toLowerCase() + "." + [...element.classList].join("."));
            return {scroll: document.documentElement.scrollWidth, width, overflowing};
        }"""
    )
    assert sizes["scroll"] <= sizes["width"], f"{what} scrolls sideways: {sizes}"


def test_pages_fit_375_px_without_horizontal_scrolling(page: Page, many_requests, screenshot):
    page.set_viewport_size({"width": 375, "height": 800})

    page.goto("/connexion/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Connexion")
    expect_no_horizontal_scroll(page, "the login page")
    screenshot(page, "mobile-connexion")

    log_in_directly(page, "technicien@demo.example")
    expect_no_horizontal_scroll(page, "the home page")
    screenshot(page, "mobile-accueil")
    forms = page.locator("main a", has_text="Nouvelle demande").evaluate_all(
        "(links) => links.map((link) => link.getAttribute('href'))"
    )
    assert len(forms) == 5
    forms.append("/demandes/nouvelle/saisine-mas/")

    page.goto("/demandes/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Historique des demandes")
    expect(page.get_by_test_id("result-count")).to_have_text("1-10 sur 10 résultats")
    expect_no_horizontal_scroll(page, "the history, 375 px wide")
    screenshot(page, "mobile-historique")

    for url in forms:
        page.goto(url)
        # The form's main button (the MAS form's first one is hidden, its default for Enter; then comes the fiche's).
        expect(page.locator("main form button[type=submit].btn-primary").first).to_be_visible()
        expect_no_horizontal_scroll(page, url)
        screenshot(page, f"mobile-formulaire-{url.rstrip('/').rsplit('/', 1)[-1]}")
        # With its errors shown too.
        page.locator("main form button[type=submit].btn-primary").first.press("Enter")
        expect(page.locator("[data-error-summary]")).to_be_visible()
        expect_no_horizontal_scroll(page, f"{url} with errors")

    page.goto(f"/demandes/{many_requests[2].number}/")
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Demande {many_requests[2].number}")
    expect_no_horizontal_scroll(page, "a request's detail")
    screenshot(page, "mobile-detail")

    page.context.clear_cookies()
    log_in_directly(page, "agent@demo.example")
    page.goto("/caisse/demandes/")
    expect(page.get_by_role("heading", level=1)).to_have_text("File des demandes")
    expect(page.get_by_test_id("queue-row")).to_have_count(10)
    expect_no_horizontal_scroll(page, "the queue")
    screenshot(page, "mobile-file")
    # The table scrolls within its region, which the keyboard can scroll; the request numbers are in view.
    table = page.get_by_role("region", name=re.compile(r"^File des demandes de la caisse"))
    expect(table).to_have_attribute("tabindex", "0")
    number_right = (
        page.get_by_test_id("queue-row").first.locator("th a").evaluate("(link) => link.getBoundingClientRect().right")
    )
    assert number_right <= 375
    if table.evaluate("(region) => region.scrollWidth > region.clientWidth"):
        table.focus()
        page.keyboard.press("ArrowRight")
        page.wait_for_function("() => document.activeElement.scrollLeft > 0")
    page.goto(f"/demandes/{many_requests[0].number}/")
    expect_no_horizontal_scroll(page, "a request's detail, for the caisse")
    screenshot(page, "mobile-detail-caisse")
    # The composer's two actions, a canned message, and the resolution's two steps.
    page.get_by_role("button", name="Prendre en charge").click()
    page.get_by_label("Modèle de message").select_option(label="Demande de pièce complémentaire")
    page.get_by_role("button", name="Utiliser ce modèle").click()
    expect(page.get_by_role("button", name="Ajouter une note interne")).to_be_visible()
    expect_no_horizontal_scroll(page, "the composer with a canned message")
    page.get_by_role("link", name="Résoudre…").click()
    expect_no_horizontal_scroll(page, "the resolution, first step")
    page.get_by_label(re.compile("^Réponse à la structure")).fill("Droits ouverts au 1er mars.")
    page.get_by_role("button", name="Relire la réponse").click()
    expect(page.get_by_role("button", name="Confirmer et résoudre")).to_be_visible()
    expect_no_horizontal_scroll(page, "the resolution's preview")
    screenshot(page, "mobile-resolution-apercu")


def test_the_full_seat_page_says_so_before_any_form_at_320_px(page: Page, demo, screenshot):
    """The association's effectif of 18 gives 3 seats, all held (one by an invitation never opened): the page for a
    new gestionnaire says so first, without the form, and freeing the invited seat brings the form back."""
    from structures.models import Structure
    from tests.factories import MembershipFactory, UserFactory

    structure = Structure.objects.get(name="Association Solidarité Santé Bordeaux")
    for last_name in ("Garcia", "Rousseau-Delacroix"):
        MembershipFactory(structure=structure, gestionnaire=True, user__last_name=last_name)
    invited = MembershipFactory(
        structure=structure,
        gestionnaire=True,
        user=UserFactory(
            invited=True,
            first_name="Marie-Amélie",
            last_name="de La Tour-Beauregard",
            email="marie-amelie.de-la-tour-beauregard@solidarite-sante-bordeaux.example",
        ),
    )
    log_in_directly(page, "admin@demo.example")
    page.set_viewport_size({"width": 320, "height": 640})
    page.goto(f"/caisse/structures/{structure.pk}/gestionnaires/nouveau/")
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Nouveau gestionnaire — {structure.name}")
    full = page.get_by_test_id("seats-full")
    expect(full).to_contain_text("Toutes les places de gestionnaire sont occupées")
    expect(full).to_contain_text(
        "3 gestionnaires actifs sur 3 places (effectif de 18 personnes), dont 1 invité qui n'a pas encore activé son "
        "compte."
    )
    expect(full).to_be_in_viewport()
    expect(page.locator("main input[name=email]")).to_have_count(0)
    first_form_top = page.locator("main form").first.evaluate("(form) => form.getBoundingClientRect().top")
    assert full.evaluate("(alert) => alert.getBoundingClientRect().bottom") <= first_form_top
    expect(page.get_by_role("link", name="Mettre à jour l'effectif")).to_be_visible()
    expect(page.get_by_role("button", name=re.compile(r"^Désactiver"))).to_have_count(2)
    expect_no_horizontal_scroll(page, "the full seat page, 320 px wide")
    screenshot(page, "mobile-places-gestionnaires-occupees")
    audit = Audit(page)
    audit("places de gestionnaire occupées, 320 px")
    audit.check()

    page.get_by_role("button", name=f"Retirer l'invitation de {invited.user.get_full_name()}").click()
    expect(page.get_by_role("status")).to_contain_text(f"L'invitation de {invited.user} est retirée")
    page.get_by_role("link", name="Créer un gestionnaire").click()
    expect(page.get_by_text("2 gestionnaires actifs sur 3 places : 1 place libre.")).to_be_visible()
    expect(page.locator("main input[name=email]")).to_be_visible()
