"""Security headers on every page, no inline script or style, and a production configuration that passes
`check --deploy`."""

import base64
import json
import os
import re
import secrets
import subprocess
import sys

import pytest
from django.conf import settings
from django.urls import reverse

from tests.factories import RequestFactory

ANONYMOUS_PAGES = ["accounts:login", "accounts:password_reset", "legal_notice", "personal_data", "accessibility"]
ROLES = ["technicien", "gestionnaire", "agent", "caisse_admin"]


def csp_directives(response):
    header = response["Content-Security-Policy"]
    directives = {}
    for part in header.split(";"):
        name, *values = part.split()
        directives[name] = values
    return directives


def assert_common_headers(response):
    csp = csp_directives(response)
    assert csp["default-src"] == ["'self'"]
    assert csp["script-src"] == ["'self'"]
    assert csp["style-src"] == ["'self'"]
    assert csp["frame-ancestors"] == ["'none'"]
    assert csp["object-src"] == ["'none'"]
    assert csp["base-uri"] == ["'none'"]
    assert "'unsafe-inline'" not in response["Content-Security-Policy"]
    assert "'unsafe-eval'" not in response["Content-Security-Policy"]
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Referrer-Policy"] == "same-origin"
    assert response["X-Frame-Options"] == "DENY"
    assert response["Cross-Origin-Opener-Policy"] == "same-origin"


def assert_no_store(response):
    assert "no-store" in response["Cache-Control"]
    assert response["Pragma"] == "no-cache"


def assert_no_inline_code(html, url):
    scripts = re.findall(r"<script\b[^>]*>(.*?)</script>", html, re.S | re.I)
    assert all(not body.strip() for body in scripts), f"inline script in {url}"
    assert all("src=" in tag for tag in re.findall(r"<script\b[^>]*>", html, re.I)), f"inline script in {url}"
    assert not re.search(r"<[^>]+\sstyle\s*=", html, re.I), f"style attribute in {url}"
    assert not re.search(r"<style\b", html, re.I), f"<style> block in {url}"
    assert not re.search(r"<[^>]+\son[a-z]+\s*=", html, re.I), f"inline event handler in {url}"
    assert "javascript:" not in html.lower(), f"javascript: URL in {url}"


@pytest.fixture
def deposited(structure, caisse, technicien):
    return RequestFactory(structure=structure, caisse=caisse, author=technicien)


@pytest.mark.django_db
@pytest.mark.parametrize("name", ANONYMOUS_PAGES)
def test_anonymous_pages_send_the_security_headers(client, name):
    response = client.get(reverse(name))
    assert response.status_code == 200
    assert_common_headers(response)
    assert_no_inline_code(response.content.decode(), name)


@pytest.mark.django_db
def test_account_pages_are_not_stored_even_anonymous(client):
    assert_no_store(client.get(reverse("accounts:login")))
    assert_no_store(client.get(reverse("accounts:password_reset")))
    assert_no_store(client.get(reverse("accounts:activate", args=["not-a-real-secret"])))
    assert_no_store(client.get(reverse("accounts:password_reset_confirm", args=["not-a-real-secret"])))


@pytest.mark.django_db
def test_public_pages_of_anonymous_visitors_may_be_cached(client):
    response = client.get(reverse("legal_notice"))
    assert "no-store" not in response.get("Cache-Control", "")


@pytest.mark.django_db
def test_authenticated_pages_send_the_security_headers_and_are_never_stored(client, technicien, deposited):
    client.force_login(technicien)
    for url in (
        reverse("home"),
        reverse("requests:detail", args=[deposited.number]),
        reverse("legal_notice"),
        reverse("accounts:account"),
    ):
        response = client.get(url)
        assert response.status_code == 200, url
        assert_common_headers(response)
        assert_no_store(response)
    pdf = client.get(reverse("requests:summary_pdf", args=[deposited.number]))
    assert pdf.status_code == 200
    assert pdf["Content-Type"] == "application/pdf"
    assert pdf["X-Content-Type-Options"] == "nosniff"
    assert_no_store(pdf)


@pytest.mark.django_db
def test_error_pages_send_the_security_headers(client, technicien):
    client.force_login(technicien)
    response = client.get("/page-qui-n-existe-pas/")
    assert response.status_code == 404
    assert_common_headers(response)
    assert_no_store(response)


def internal_links(html):
    links = set(re.findall(r'href="(/[^"#]*)"', html))
    return {
        link
        for link in links
        if not link.startswith(("/static/", "/admin-technique/")) and not link.endswith((".pdf", ".csv"))
    }


@pytest.mark.django_db
@pytest.mark.parametrize("role", ROLES)
def test_no_inline_script_or_style_on_the_pages_of_each_role(request, client, role, deposited):
    client.force_login(request.getfixturevalue(role))
    home = client.get(reverse("home"))
    assert home.status_code == 200
    to_visit = {reverse("home"), reverse("requests:detail", args=[deposited.number])}
    to_visit |= internal_links(home.content.decode())
    visited = 0
    for url in sorted(to_visit):
        response = client.get(url)
        if response.status_code != 200 or not response["Content-Type"].startswith("text/html"):
            continue
        visited += 1
        html = response.content.decode()
        assert_no_inline_code(html, url)
        # One level further: the pages linked from the menu's pages (forms, lists' details).
        for link in sorted(internal_links(html) - to_visit)[:15]:
            deeper = client.get(link)
            if deeper.status_code == 200 and deeper["Content-Type"].startswith("text/html"):
                visited += 1
                assert_no_inline_code(deeper.content.decode(), link)
    assert visited >= 5


PRODUCTION_SETTINGS = """
import json
import django
django.setup()
from django.conf import settings as s
print(json.dumps({
    "DEBUG": s.DEBUG,
    "SESSION_COOKIE_NAME": s.SESSION_COOKIE_NAME,
    "CSRF_COOKIE_NAME": s.CSRF_COOKIE_NAME,
    "SESSION_COOKIE_SECURE": s.SESSION_COOKIE_SECURE,
    "CSRF_COOKIE_SECURE": s.CSRF_COOKIE_SECURE,
    "SESSION_COOKIE_HTTPONLY": s.SESSION_COOKIE_HTTPONLY,
    "CSRF_COOKIE_HTTPONLY": s.CSRF_COOKIE_HTTPONLY,
    "SESSION_COOKIE_SAMESITE": s.SESSION_COOKIE_SAMESITE,
    "CSRF_COOKIE_SAMESITE": s.CSRF_COOKIE_SAMESITE,
    "SECURE_HSTS_SECONDS": s.SECURE_HSTS_SECONDS,
    "SECURE_HSTS_INCLUDE_SUBDOMAINS": s.SECURE_HSTS_INCLUDE_SUBDOMAINS,
    "SECURE_HSTS_PRELOAD": s.SECURE_HSTS_PRELOAD,
    "SECURE_SSL_REDIRECT": s.SECURE_SSL_REDIRECT,
    "SECURE_PROXY_SSL_HEADER": s.SECURE_PROXY_SSL_HEADER,
}))
"""


def production_env(**extra):
    # A production process: none of the test run's own variables (the browser tests allow async-unsafe calls).
    dropped = {
        "DEBUG",
        "SECRET_KEY",
        "NIR_HASH_KEY",
        "NIR_ENCRYPTION_KEY",
        "ALLOWED_HOSTS",
        "DJANGO_ALLOW_ASYNC_UNSAFE",
    }
    keep = {k: v for k, v in os.environ.items() if k not in dropped}
    return keep | {
        "DJANGO_SETTINGS_MODULE": "extranet.settings",
        "DEBUG": "false",
        "SECRET_KEY": secrets.token_urlsafe(64),
        "NIR_HASH_KEY": secrets.token_urlsafe(32),
        "NIR_ENCRYPTION_KEY": base64.b64encode(secrets.token_bytes(32)).decode(),
        "ALLOWED_HOSTS": "extranet.example",
        **extra,
    }


def run(args, env):
    # Fixed arguments written in this file, not outside input.
    return subprocess.run(  # noqa: S603
        [sys.executable, *args], env=env, cwd=settings.BASE_DIR, capture_output=True, text=True, timeout=120
    )


@pytest.mark.one_database
def test_check_deploy_passes_with_production_settings():
    result = run(["manage.py", "check", "--deploy", "--fail-level", "WARNING"], production_env())
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


@pytest.mark.one_database
def test_production_cookies_are_host_prefixed_secure_httponly_lax():
    result = run(["-c", PRODUCTION_SETTINGS], production_env())
    assert result.returncode == 0, result.stderr
    values = json.loads(result.stdout.strip().splitlines()[-1])
    assert values["DEBUG"] is False
    assert values["SESSION_COOKIE_NAME"] == "__Host-sessionid"
    assert values["CSRF_COOKIE_NAME"] == "__Host-csrftoken"
    assert values["SESSION_COOKIE_SECURE"] is values["CSRF_COOKIE_SECURE"] is True
    assert values["SESSION_COOKIE_HTTPONLY"] is values["CSRF_COOKIE_HTTPONLY"] is True
    assert values["SESSION_COOKIE_SAMESITE"] == values["CSRF_COOKIE_SAMESITE"] == "Lax"
    assert values["SECURE_HSTS_SECONDS"] >= 365 * 24 * 60 * 60
    assert values["SECURE_HSTS_INCLUDE_SUBDOMAINS"] is values["SECURE_HSTS_PRELOAD"] is True
    assert values["SECURE_SSL_REDIRECT"] is True
    assert values["SECURE_PROXY_SSL_HEADER"] is None


@pytest.mark.one_database
def test_proxy_ssl_header_and_redirect_come_from_the_environment():
    env = production_env(SECURE_PROXY_SSL_HEADER="HTTP_X_FORWARDED_PROTO,https", SECURE_SSL_REDIRECT="false")
    result = run(["-c", PRODUCTION_SETTINGS], env)
    assert result.returncode == 0, result.stderr
    values = json.loads(result.stdout.strip().splitlines()[-1])
    assert values["SECURE_PROXY_SSL_HEADER"] == ["HTTP_X_FORWARDED_PROTO", "https"]
    assert values["SECURE_SSL_REDIRECT"] is False


def test_demo_keeps_plain_cookie_names_over_http():
    assert not settings.SESSION_COOKIE_NAME.startswith("__Host-")
    assert not settings.CSRF_COOKIE_NAME.startswith("__Host-")
