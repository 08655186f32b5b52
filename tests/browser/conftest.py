"""Fixtures for the browser journeys: Debian's Chromium driven by Playwright against pytest-django's live server."""

import io
import os
from pathlib import Path
from urllib.parse import urlsplit

import pytest

# Playwright's sync API runs an asyncio event loop in the test thread: without this, every ORM call made by a
# test (factories, seed_demo, assertions on the database) raises SynchronousOnlyOperation.
os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"

# Debian's Chromium (Playwright cannot download its own here); CHROMIUM names another build.
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
# Browser tests are never skipped silently: without Chromium the run stops at once and says what to do; they are
# skipped only when asked, and the summary then says so.
SKIP_BROWSER = os.environ.get("SKIP_BROWSER", "").strip().lower() not in {"", "0", "false", "no"}
MISSING_CHROMIUM = (
    f"Chromium introuvable ({CHROMIUM}) : les tests de navigateur en ont besoin. `make test` l'installe "
    "(paquets Debian chromium et chromium-l10n) ; pour les ignorer exprès : SKIP_BROWSER=1."
)


def pytest_collection_modifyitems(config, items):
    browser_items = [item for item in items if "browser" in item.keywords]
    if not browser_items:
        return
    if SKIP_BROWSER:
        skip = pytest.mark.skip(reason="SKIP_BROWSER=1")
        for item in browser_items:  # tests/conftest.py's summary counts them
            item.add_marker(skip)
    # A pytest-xdist worker cannot stop the run with a usage error (its controller reports a crash, not the reason):
    # there each browser test fails with the reason instead (`browser`).
    elif not os.path.exists(CHROMIUM) and not hasattr(config, "workerinput"):
        raise pytest.UsageError(MISSING_CHROMIUM)


@pytest.fixture(scope="package")
def browser():
    """One headless Chromium for the browser tests (starting one takes a second or two, per module it added up); the
    Playwright loop stops with it once this package's tests are done, so other packages are unaffected."""
    from playwright.sync_api import sync_playwright

    if not os.path.exists(CHROMIUM):
        pytest.fail(MISSING_CHROMIUM, pytrace=False)
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=CHROMIUM,
            headless=True,
            args=CHROMIUM_ARGS,
            # The browser's own controls in French too ("Choisir des fichiers", dates as JJ/MM/AAAA), as users see
            # them and as the guide's screenshots show them (Debian's chromium-l10n package).
            env={**os.environ, "LANG": "fr_FR.UTF-8", "LANGUAGE": "fr"},
        )
        yield chromium
        chromium.close()


class RecordedRequests(list):
    """Every URL the page's browser context requested."""

    def foreign(self, origin):
        expected = urlsplit(origin).netloc
        return [
            url
            for url in self
            if urlsplit(url).scheme not in ("data", "blob", "about") and urlsplit(url).netloc != expected
        ]


@pytest.fixture
def requests_made():
    return RecordedRequests()


@pytest.fixture
def context(browser, live_server, transactional_db, requests_made):
    """A fresh browser context (cookies, session) per test, with relative URLs resolved on the live server."""
    context = browser.new_context(base_url=live_server.url, locale="fr-FR")
    context.set_default_timeout(10_000)
    context.on("request", lambda request: requests_made.append(request.url))
    yield context
    context.close()


@pytest.fixture
def page(context):
    return context.new_page()


@pytest.fixture
def demo(transactional_db):
    """The demo accounts, caisses and structures (`manage.py seed_demo --no-requests`): journeys start empty. Seeded
    once, then copied back for each test (tests/browser/seeding.py)."""
    from django.core.management import call_command

    from tests.browser.seeding import seeded

    seeded("demo", lambda: call_command("seed_demo", "--no-requests", stdout=io.StringIO()))


# Screenshots of the journeys: kept as test artifacts (CI keeps this folder), and the source of the user guide's
# illustrations (`make guide-images` copies the ones the guide shows into static/guide/).
SCREENSHOTS = Path(
    os.environ.get("SCREENSHOTS_DIR", Path(__file__).resolve().parents[2] / "test-results" / "screenshots")
)


@pytest.fixture
def screenshot():
    """`screenshot(page, "gestionnaire-03-techniciens")`: the whole page, as PNG, under test-results/screenshots/."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)

    def take(page, name):
        path = SCREENSHOTS / f"{name}.png"
        page.screenshot(path=str(path), full_page=True)
        return path

    return take
