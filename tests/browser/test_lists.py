"""The lists as agents and partners work them: the queue one line per request with its quick filters, the filter
panels folded on small screens with the count of filters in force, and the history's star toggled where it is."""

import re
from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect

from tests.browser.helpers import log_in, log_in_directly

pytestmark = pytest.mark.browser

UDAF = "UDAF de la Gironde — service des tutelles"
QUEUE = "/caisse/demandes/"
HISTORY = "/demandes/"


@pytest.fixture
def requests_of_every_kind(demo):
    """Thirty requests of the demo UDAF to the CPAM de la Gironde, of every kind, with the longest labels (the MAS
    referral, a complex case), long names, and some taken in charge by the demo agent and waiting for the structure."""
    from django.contrib.auth import get_user_model

    from requests import services
    from structures.models import Caisse, Structure
    from tests.factories import RequestFactory, advance

    users = get_user_model().objects
    technicien, agent = users.get(email="technicien@demo.example"), users.get(email="agent@demo.example")
    common = {"structure": Structure.objects.get(name=UDAF), "caisse": Caisse.objects.get(code="331")}
    traits = [
        {"motif": "mas_referral"},
        {"contact": True},
        {"appointment": True},
        {"case_review": True},
        {"document": True, "motif": "daily_allowance_certificate"},
        {"motif": "complex_case"},
    ]
    now = timezone.now()
    year = f"{timezone.localdate().year % 100:02d}"
    made = []
    for index in range(30):
        trait = traits[index % len(traits)]
        person = (
            {}
            if "contact" in trait
            else {"person_last_name": "De La Fontaine-Beaumarchais" if index % 2 else "Lefebvre"}
        )
        demande = RequestFactory(
            **common,
            **trait,
            **person,
            author=technicien,
            number=f"{year}3318{index:04d}",
            created_at=now - timedelta(days=index * 2, hours=1),
        )
        if index % 3 == 0:
            demande = advance(demande, "in_progress", agent=agent)
            if index % 2 == 0:
                services.post_message(
                    demande, author=agent, body="Merci de joindre l'avis d'imposition.", awaiting_answer=True
                )
        made.append(demande)
    return made


ROW_METRICS = """() => {
    const rows = [...document.querySelectorAll("[data-testid=queue-row]")];
    const cell = rows[0].querySelector("td");
    const lineHeight = parseFloat(getComputedStyle(cell).lineHeight);
    const region = document.querySelector("[data-testid=queue-table]");
    return {
        lineHeight,
        heights: rows.map((row) => row.getBoundingClientRect().height),
        inFirstScreen: rows.filter((row) => row.getBoundingClientRect().bottom <= window.innerHeight).length,
        tableScrolls: region.scrollWidth > region.clientWidth,
        pageScrolls: document.documentElement.scrollWidth > window.innerWidth,
    };
}"""


def test_the_queue_gives_each_request_one_line(page: Page, requests_of_every_kind):
    page.set_viewport_size({"width": 1280, "height": 900})
    log_in_directly(page, "agent@demo.example")
    page.goto(QUEUE + "?taille=50")  # the open requests: all of them
    expect(page.get_by_test_id("queue-row")).to_have_count(30)
    metrics = page.evaluate(ROW_METRICS)
    assert max(metrics["heights"]) <= 2 * metrics["lineHeight"], metrics
    # A ticketing tool's density: more than twice the five requests a screen showed.
    assert metrics["inFirstScreen"] >= 12, metrics
    assert not metrics["tableScrolls"] and not metrics["pageScrolls"], metrics
    # Short labels on the line; the full ones for screen readers and as tooltips.
    mas = page.get_by_test_id("queue-row").filter(has_text=requests_of_every_kind[0].number)
    kind = mas.locator("td").first
    expect(kind).to_contain_text("Signalement")
    expect(kind).to_contain_text("Saisine MAS")
    expect(kind).to_have_attribute(
        "title",
        "Signaler une situation de difficulté d'accès aux droits et aux soins — Saisine de la Mission "
        "accompagnement santé (MAS), avec l'accord de la personne",
    )
    expect(kind.locator(".visually-hidden").first).to_have_text(
        "Signaler une situation de difficulté d'accès aux droits et aux soins"
    )


def test_quick_filters_set_and_clear_their_filter(page: Page, requests_of_every_kind):
    page.set_viewport_size({"width": 1280, "height": 900})
    log_in_directly(page, "agent@demo.example")
    page.goto(QUEUE)
    quick = page.get_by_role("navigation", name="Filtres rapides")
    mine = quick.get_by_role("link", name="À moi")
    expect(mine).not_to_have_attribute("aria-current", "true")
    mine.click()
    expect(page).to_have_url(re.compile(r"assignment=me"))
    mine = page.get_by_role("navigation", name="Filtres rapides").get_by_role("link", name="À moi")
    expect(mine).to_have_attribute("aria-current", "true")
    taken = [demande.number for demande in requests_of_every_kind if demande.status == "in_progress"]
    expect(page.get_by_test_id("queue-row")).to_have_count(len(taken))
    expect(page.get_by_test_id("filter-panel").locator("summary")).to_have_text("Filtres (1 actif)")
    expect(page.get_by_label("Attribution")).to_have_value("me")

    page.get_by_role("navigation", name="Filtres rapides").get_by_role("link", name="Nouvelles").click()
    expect(page.get_by_test_id("result-count")).to_have_text("Aucune demande ne correspond.")  # mine are all taken
    expect(page.get_by_test_id("filter-panel").locator("summary")).to_have_text("Filtres (2 actifs)")
    page.get_by_role("navigation", name="Filtres rapides").get_by_role("link", name="À moi").click()
    new = [demande for demande in requests_of_every_kind if demande.status == "new"]
    expect(page.get_by_test_id("queue-row")).to_have_count(20)  # the first page of the new ones
    assert len(new) == 20

    page.get_by_role("navigation", name="Filtres rapides").get_by_role("link", name="Nouvelles").click()
    page.get_by_role("navigation", name="Filtres rapides").get_by_role("link", name="En retard").click()
    expect(page).to_have_url(re.compile(r"\?overdue=on$"))
    expect(
        page.get_by_role("navigation", name="Filtres rapides").get_by_role("link", name="En retard")
    ).to_have_attribute("aria-current", "true")
    for row in page.get_by_test_id("queue-row").all():
        expect(row).to_contain_text("En retard")


@pytest.mark.parametrize("path", [QUEUE, HISTORY])
def test_the_filter_panel_is_folded_on_small_screens_with_its_count(page: Page, requests_of_every_kind, path):
    user = "agent@demo.example" if path == QUEUE else "technicien@demo.example"
    log_in_directly(page, user)
    page.set_viewport_size({"width": 375, "height": 800})
    page.goto(path + "?status=new&kind=document")
    panel = page.get_by_test_id("filter-panel")
    expect(panel.locator("summary")).to_have_text("Filtres (2 actifs)")
    expect(panel).not_to_have_attribute("open", "")
    expect(page.get_by_label("Type de demande")).to_be_hidden()
    # The first request is on the first screen, not 1,200 px of filters down.
    first = page.locator("[data-testid=queue-row], main .list-group-item").first
    assert first.evaluate("(row) => row.getBoundingClientRect().top") < 800
    assert page.evaluate("() => document.documentElement.scrollWidth") <= 375
    panel.locator("summary").click()
    expect(page.get_by_label("Type de demande")).to_have_value("document")

    # On a large screen the filters in force are shown open; with none, folded under their summary.
    page.set_viewport_size({"width": 1280, "height": 900})
    page.goto(path + "?status=new&kind=document")
    expect(page.get_by_label("Type de demande")).to_be_visible()
    page.goto(path)
    expect(page.get_by_test_id("filter-panel").locator("summary")).to_have_text("Filtres")
    expect(page.get_by_label("Type de demande")).to_be_hidden()


def test_the_queue_does_not_scroll_sideways_at_320_px(page: Page, requests_of_every_kind):
    log_in_directly(page, "agent@demo.example")
    page.set_viewport_size({"width": 320, "height": 700})
    page.goto(QUEUE + "?status=all")
    expect(page.get_by_test_id("queue-row")).to_have_count(20)
    assert page.evaluate("() => document.documentElement.scrollWidth") <= 320
    # The table scrolls within its own region, which the keyboard reaches.
    expect(page.get_by_test_id("queue-table")).to_have_attribute("tabindex", "0")


STAR_BOX = "(button) => { const box = button.getBoundingClientRect(); return [box.width, box.height]; }"


def test_the_star_toggles_in_place(page: Page, requests_of_every_kind):
    from requests.models import Follow

    page.set_viewport_size({"width": 1280, "height": 800})
    log_in_directly(page, "technicien@demo.example")
    page.goto(HISTORY + "?taille=20")
    target = requests_of_every_kind[15]
    star = page.get_by_role("button", name=f"Suivre la demande n° {target.number}")
    expect(star).to_have_attribute("aria-pressed", "false")
    width, height = star.evaluate(STAR_BOX)
    assert width >= 24 and height >= 24
    # Beside the number, on its line.
    number = page.locator(f"#demande-{target.number} .font-monospace")
    star_box, number_box = star.bounding_box(), number.bounding_box()
    assert (
        star_box["x"] < number_box["x"]
        and abs((star_box["y"] + star_box["height"] / 2) - (number_box["y"] + number_box["height"] / 2))
        < star_box["height"] / 2
    )

    star.scroll_into_view_if_needed()
    scrolled = page.evaluate("() => window.scrollY")
    assert scrolled > 0
    star.click()
    expect(star).to_have_attribute("aria-pressed", "true")
    expect(star).to_contain_text("★")
    expect(page.locator("[data-follow-status]")).to_have_text(f"Vous suivez la demande {target.number}.")
    assert page.evaluate("() => window.scrollY") == scrolled
    assert page.url.endswith("?taille=20")  # no reload, no jump
    assert Follow.objects.filter(request__number=target.number, user__email="technicien@demo.example").exists()
    expect(star).to_be_focused()

    star.press("Enter")
    expect(star).to_have_attribute("aria-pressed", "false")
    expect(page.locator("[data-follow-status]")).to_have_text(f"Vous ne suivez plus la demande {target.number}.")
    assert page.evaluate("() => window.scrollY") == scrolled
    assert not Follow.objects.exists()


def test_without_javascript_the_star_comes_back_to_its_row(browser, live_server, requests_of_every_kind):
    from requests.models import Follow

    context = browser.new_context(base_url=live_server.url, locale="fr-FR", java_script_enabled=False)
    context.set_default_timeout(10_000)
    page = context.new_page()
    try:
        page.set_viewport_size({"width": 1280, "height": 800})
        log_in(page, "technicien@demo.example")
        page.goto(HISTORY + "?taille=20&page=1")
        target = requests_of_every_kind[15]
        page.get_by_role("button", name=f"Suivre la demande n° {target.number}").click()
        expect(page).to_have_url(re.compile(rf"/demandes/\?taille=20&page=1#demande-{target.number}$"))
        expect(page.get_by_role("main").get_by_text(f"Vous suivez la demande {target.number}.")).to_be_attached()
        star = page.get_by_role("button", name=f"Suivre la demande n° {target.number}")
        expect(star).to_have_attribute("aria-pressed", "true")
        expect(star).to_be_in_viewport()
        assert page.evaluate("() => window.scrollY") > 0
        assert Follow.objects.filter(request__number=target.number).exists()
        # Without JavaScript nothing folds the filters on a small screen: those in force are shown, as sent.
        page.set_viewport_size({"width": 375, "height": 800})
        page.goto(HISTORY + "?status=new")
        expect(page.get_by_label("Statut")).to_be_visible()
    finally:
        context.close()
