"""The Content-Security-Policy in a real browser: nothing is refused, and Bootstrap's menu still works."""

import re

import pytest
from playwright.sync_api import Page, expect

from tests.browser.helpers import log_in

pytestmark = pytest.mark.browser


def test_pages_raise_no_csp_violation_and_the_collapsed_menu_opens(page: Page, demo):
    refused = []
    page.on(
        "console",
        lambda message: refused.append(message.text) if "Content Security Policy" in message.text else None,
    )
    page.set_viewport_size({"width": 600, "height": 900})
    log_in(page, "admin@demo.example")

    menu = page.locator("#menu-principal")
    expect(menu).to_be_hidden()
    page.get_by_role("button", name="Afficher le menu").click()
    expect(menu).to_be_visible()
    expect(page.get_by_role("button", name="Afficher le menu")).to_have_attribute("aria-expanded", "true")
    menu.get_by_role("link", name="Structures", exact=True).click()
    expect(page).to_have_url(re.compile(r"/caisse/structures/$"))

    for url in ("/caisse/demandes/", "/caisse/tableau-de-bord/", "/compte/", "/mentions-legales/"):
        page.goto(url)
        expect(page.locator("h1")).to_have_count(1)
    assert refused == []

    # The policy is enforced, and the listener above does hear refusals: an injected inline script does not run.
    # The refusal reaches the console a moment later: waited for, rather than a fixed while.
    with page.expect_console_message(lambda message: "Content Security Policy" in message.text):
        ran = page.evaluate(
            """() => {
                const script = document.createElement("script");
                script.textContent = "window.inlineRan = true";
                document.body.append(script);
                return window.inlineRan === true;
            }"""
        )
    assert ran is False
    assert refused and "script-src" in refused[0]


def test_api_documentation_works_offline_under_the_policy(page: Page, live_server, requests_made):
    refused = []
    page.on(
        "console",
        lambda message: refused.append(message.text) if "Content Security Policy" in message.text else None,
    )
    page.goto("/api/docs/")
    expect(page.get_by_text("API Espace Partenaires").first).to_be_visible()
    expect(page.get_by_text("/api/v1/requests/{number}/take-charge/").first).to_be_visible()
    assert refused == []
    assert requests_made.foreign(live_server.url) == []
