import html as html_module
import re
import smtplib

from django.contrib.auth import get_user_model
from django.contrib.auth.models import AnonymousUser
from django.core import mail
from django.core.mail.backends.base import BaseEmailBackend
from django.db import connection, transaction
from django.test.client import ClientMixin

LINK = re.compile(r"https?://\S+")


def last_link(to):
    """The link in the last email sent to this address."""
    messages = [message for message in mail.outbox if to in message.to]
    assert messages, f"no email sent to {to}"
    return LINK.findall(messages[-1].body)[0]


def path_of(link):
    return "/" + link.split("/", 3)[3]


def visible_text(html):
    """Text a reader sees in this HTML, whitespace collapsed."""
    html = re.sub(r"<(script|style)\b.*?</\1>", " ", html, flags=re.S)
    return " ".join(html_module.unescape(re.sub(r"<[^>]+>", " ", html)).split())


def text(response):
    return visible_text(response.content.decode())


def pass_second_factor(client, user):
    """Completes a password sign-in the way a user holding a backup code would (the real verification page)."""
    from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
    from django_otp.plugins.otp_totp.models import TOTPDevice

    if not TOTPDevice.objects.filter(user=user, confirmed=True).exists():
        TOTPDevice.objects.create(user=user, name="Application d'authentification")
    device, _ = StaticDevice.objects.get_or_create(user=user, name="Codes de secours", defaults={"confirmed": True})
    code = StaticToken.random_token()
    device.token_set.create(token=code)
    response = client.post("/connexion/verification/", {"code": code})
    assert response.status_code == 302 and "/connexion/verification/" not in response["Location"], (
        "the backup code was refused"
    )
    return response


def sign_in(client, email, password):
    """The login form, then the second factor. Returns the login page's response."""
    from django.contrib.auth import get_user_model

    response = client.post("/connexion/", {"username": email, "password": password})
    user = get_user_model().objects.filter(email__iexact=email.strip()).first()
    if response.status_code == 302 and user is not None:
        pass_second_factor(client, user)
    return response


def log_in_with_password_only(client, user, backend=None):
    """Django's own `force_login`: a session whose second factor is still to pass (tests/conftest.py makes
    `client.force_login` pass it too, as most tests need)."""
    ClientMixin.force_login(client, user, backend)


def api_client(user, *, second_factor=True):
    """An API client with a fresh personal token of `user`, whose second factor is set up unless said otherwise."""
    from django_otp.plugins.otp_totp.models import TOTPDevice
    from rest_framework.test import APIClient

    from extranet.accounts.models import ApiToken

    if second_factor:
        TOTPDevice.objects.get_or_create(user=user, name="Application", defaults={"confirmed": True})
    _, key = ApiToken.objects.issue(user, name="Logiciel de suivi")
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    return client


class FailingBackend(BaseEmailBackend):
    """An SMTP server that hangs up (settings.EMAIL_BACKEND = "tests.helpers.FailingBackend")."""

    def send_messages(self, email_messages):
        raise smtplib.SMTPServerDisconnected("Connection unexpectedly closed")


def as_loaded(user):
    """The user as the authentication backend loads them for every request: memberships joined."""
    if isinstance(user, AnonymousUser):
        return user
    return get_user_model().objects.select_related("membership__structure", "caissemembership__caisse").get(pk=user.pk)


def refusal(response):
    """An API refusal as (HTTP status, code, fields): what a client branches on (extranet/api/errors.py)."""
    body = response.json()
    return response.status_code, body["code"], body.get("fields")


def built_once(django_db_blocker, build):
    """For a module- or class-scoped fixture: `yield from built_once(django_db_blocker, build)` yields what `build()`
    makes, in a transaction rolled back once the fixture's tests are done. Each test runs in a savepoint of it
    (pytest-django's `db`) rolled back after it: every test starts from the very same rows, whatever an earlier one
    changed, without building them again. The fixture must ask for `django_db_setup`; no `transaction=True` test may
    use it (it would run inside this transaction)."""
    with django_db_blocker.unblock(), transaction.atomic():
        built = build()
        # Foreign keys checked here once: left deferred, PostgreSQL would check all these rows again at the end of
        # each test (pytest-django's teardown checks the constraints, in the savepoint it then rolls back).
        connection.check_constraints()
        yield built
        transaction.set_rollback(True)
