"""Login throttling (django-axes): 5 failures lock an account, and separately an address, for 15 minutes."""

from datetime import timedelta

import pytest
from django.contrib.auth.hashers import MD5PasswordHasher
from django.utils import timezone

from tests.factories import PASSWORD, UserFactory
from tests.helpers import text

LOCKED = "Trop de tentatives"
WRONG = "Adresse électronique ou mot de passe incorrect."
BAD_PASSWORD = "pas-le-bon-mot-de-passe"


@pytest.fixture
def clock(time_machine):
    time_machine.move_to(timezone.now().replace(microsecond=0), tick=False)
    return time_machine


def attempt(client, email, password=BAD_PASSWORD, ip="10.0.0.1"):
    return client.post("/connexion/", {"username": email, "password": password}, REMOTE_ADDR=ip)


def signed_in(response):
    return response.status_code == 302


def assert_locked(response):
    assert response.status_code == 429
    assert LOCKED in text(response)


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("wait", "unlocked"), [(timedelta(minutes=14), False), (timedelta(minutes=15, seconds=1), True)]
)
def test_five_failures_lock_the_account_for_fifteen_minutes(client, client_factory, technicien, clock, wait, unlocked):
    for number in range(4):
        response = attempt(client, technicien.email)
        assert response.status_code == 200, number
        assert WRONG in text(response) and LOCKED not in text(response)
    attempt(client, technicien.email)

    response = attempt(client, technicien.email, PASSWORD)
    assert_locked(response)
    assert client.get("/")["Location"].startswith("/connexion/")

    # One attempt per test: an attempt during the lock starts the 15 minutes again (django-axes' default).
    clock.shift(wait)
    response = attempt(client_factory(), technicien.email, PASSWORD)
    if unlocked:
        assert signed_in(response)
    else:
        assert_locked(response)


@pytest.mark.django_db
def test_unknown_email_is_locked_the_same_way(client_factory, technicien, clock):
    unknown = "personne@nulle-part.fr"

    def journey(email, ip):
        client = client_factory()
        responses = [attempt(client, email, ip=ip) for _ in range(5)]
        responses.append(attempt(client, email, PASSWORD, ip=ip))
        return [(response.status_code, text(response).replace(email, "EMAIL")) for response in responses]

    known = journey(technicien.email, "10.0.0.1")
    other = journey(unknown, "10.0.0.2")
    assert known[-1][0] == 429 and LOCKED in known[-1][1]
    assert known == other


@pytest.mark.django_db
def test_the_account_is_locked_whatever_the_address(client_factory, technicien, gestionnaire):
    for number in range(1, 6):
        attempt(client_factory(), technicien.email, ip=f"10.0.0.{number}")
    assert_locked(attempt(client_factory(), technicien.email, PASSWORD, ip="10.0.0.6"))
    # The sixth address itself is not locked: another account signs in from it.
    assert signed_in(attempt(client_factory(), gestionnaire.email, PASSWORD, ip="10.0.0.6"))


@pytest.mark.django_db
def test_the_address_is_locked_whatever_the_account(client_factory, technicien):
    for number in range(5):
        attempt(client_factory(), f"inconnu{number}@exemple.fr", ip="10.0.1.1")
    assert_locked(attempt(client_factory(), technicien.email, PASSWORD, ip="10.0.1.1"))
    assert signed_in(attempt(client_factory(), technicien.email, PASSWORD, ip="10.0.1.2"))


@pytest.mark.django_db
def test_case_and_spaces_do_not_make_another_account(client_factory, technicien):
    email = technicien.email
    local, domain = email.split("@")
    variants = [email.upper(), f"  {email}  ", f"{local.capitalize()}@{domain.upper()}", f"\t{email.upper()} ", email]
    for number, variant in enumerate(variants, start=1):
        response = attempt(client_factory(), variant, ip=f"10.0.2.{number}")
        assert response.status_code in (200, 429), variant
    assert_locked(attempt(client_factory(), email, PASSWORD, ip="10.0.2.9"))


@pytest.mark.django_db
def test_a_success_before_the_limit_starts_the_count_again(client_factory, technicien):
    browser = client_factory()
    for _ in range(4):
        attempt(browser, technicien.email, ip="10.0.3.1")
    assert signed_in(attempt(browser, technicien.email, PASSWORD, ip="10.0.3.1"))
    browser.post("/deconnexion/")
    for _ in range(4):
        assert attempt(browser, technicien.email, ip="10.0.3.1").status_code == 200
    assert signed_in(attempt(browser, technicien.email, PASSWORD, ip="10.0.3.1"))


class CountingHasher(MD5PasswordHasher):
    """The suite's fast hasher, counting its hash computations (MD5's `verify` computes through `encode`)."""

    computed = 0

    def encode(self, password, salt):
        CountingHasher.computed += 1
        return super().encode(password, salt)


@pytest.mark.django_db
@pytest.mark.parametrize("known", [True, False], ids=["known email", "unknown email"])
def test_an_unknown_email_costs_the_same_password_hash_as_a_wrong_password(client, settings, known):
    """Whether the email exists must not show in the time the answer takes: both cases compute one hash, with the
    default hasher (Argon2 in production, tests/extranet/accounts/test_accounts.py), and nothing else costly."""
    settings.PASSWORD_HASHERS = [f"{__name__}.CountingHasher"]
    user = UserFactory()
    CountingHasher.computed = 0
    response = attempt(client, user.email if known else "absent@exemple.fr")
    assert response.status_code == 200 and WRONG in text(response)
    assert CountingHasher.computed == 1
