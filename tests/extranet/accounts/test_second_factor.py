"""Second factor, as users meet it: set-up after the first password, codes at each sign-in, backup codes."""

import base64
import re
import time
from datetime import timedelta

import pytest
from django.conf import settings
from django.core import mail
from django.utils import timezone
from django_otp.oath import TOTP
from django_otp.plugins.otp_email.models import EmailDevice
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken

from extranet.accounts import second_factor
from extranet.accounts.models import AuthenticatorApp, backup_code_digest
from extranet.audit.models import AccessLog
from tests.factories import PASSWORD, ConventionFactory, RequestFactory
from tests.helpers import log_in_with_password_only, text, visible_text

VERIFY = "/connexion/verification/"
SETUP = "/double-authentification/"
SETUP_TOTP = "/double-authentification/application/"
SETUP_EMAIL = "/double-authentification/courriel/"
BACKUP_CODES = "/double-authentification/codes-de-secours/"
REGENERATE = "/compte/codes-de-secours/"
WRONG_CODE = "Code incorrect"
THROTTLED = "Trop d'essais"


@pytest.fixture
def clock(time_machine):
    """Time starts a few seconds into a 30-second TOTP window, runs at its real pace (a frozen clock would hide
    the milliseconds between two requests), and jumps when a test says so."""
    now = timezone.now().replace(microsecond=0)
    time_machine.move_to(now - timedelta(seconds=now.timestamp() % 30 - 5), tick=True)
    return time_machine


# --- helpers -------------------------------------------------------------------------------------------------


def totp_code(device, *, seconds_ago=0):
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    totp.time = time.time() - seconds_ago
    return f"{totp.token():06d}"


def other_code(code):
    return f"{(int(code) + 1) % 1_000_000:06d}"


def key_shown(response):
    """The key the set-up page shows for typing into an application, as bytes."""
    match = re.search(r'data-testid="totp-key">([A-Z2-7 ]+)<', response.content.decode())
    assert match, "no key on the page"
    key = match.group(1).replace(" ", "")
    return base64.b32decode(key + "=" * (-len(key) % 8))


def code_for_key(key):
    totp = TOTP(key)
    totp.time = time.time()
    return f"{totp.token():06d}"


def emails_to(address):
    return [message for message in mail.outbox if address in message.to]


def emailed_code(address):
    messages = emails_to(address)
    assert messages, f"no email sent to {address}"
    match = re.search(r"est : (\d{6})", messages[-1].body)
    assert match, messages[-1].body
    return match.group(1)


def field_error(response):
    """The error shown under the code field (empty when there is none)."""
    match = re.search(r'id="id_code_error">(.*?)</div>', response.content.decode(), re.S)
    return visible_text(match.group(1)) if match else ""


def backup_codes_shown(response):
    block = re.search(r'data-testid="backup-codes">(.*?)</ul>', response.content.decode(), re.S)
    assert block, "no backup codes on the page"
    return re.findall(r"<li>\s*([^<\s]+)\s*</li>", block.group(1))


def password_sign_in(client, user, **extra):
    response = client.post("/connexion/", {"username": user.email, "password": PASSWORD}, **extra)
    assert response.status_code == 302, text(response)
    return response


def is_verified(client):
    """True when the session reaches the home page, i.e. its second factor has passed."""
    return client.get("/").status_code == 200


def totp_device(user):
    return AuthenticatorApp.objects.create(user=user, name=second_factor.METHOD_LABELS[second_factor.TOTP])


def email_device(user):
    return EmailDevice.objects.create(user=user, name=second_factor.METHOD_LABELS[second_factor.EMAIL])


# --- 1. no device yet ----------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_without_a_device_personal_pages_lead_to_the_set_up_and_show_nothing(
    client, client_factory, technicien, agent, structure, caisse
):
    # Names no page's own words contain: a random first name such as "Mary" is in every page's "btn-primary".
    demande = RequestFactory(
        structure=structure,
        caisse=caisse,
        author=technicien,
        person_last_name="Quenouillard",
        person_first_name="Zéphyrine",
    )
    secrets = [demande.person_last_name, demande.person_first_name, demande.person_nir]
    detail = f"/demandes/{demande.number}/"

    # Control: with the second factor passed, the same page shows the request.
    verified = client_factory()
    verified.force_login(technicien)
    shown = verified.get(detail)
    assert shown.status_code == 200
    assert demande.number in text(shown) and demande.person_last_name.casefold() in text(shown).casefold()
    logged = AccessLog.objects.count()
    AuthenticatorApp.objects.all().delete()

    for user, pages in [(technicien, ["/", "/demandes/", "/compte/", detail]), (agent, ["/caisse/demandes/", detail])]:
        browser = client_factory()
        password_sign_in(browser, user)
        for page in pages:
            response = browser.get(page)
            assert response.status_code == 302, page
            assert response["Location"].startswith(f"{SETUP}?next="), page
            final = browser.get(page, follow=True)
            assert final.status_code == 200
            for url, _ in final.redirect_chain:
                assert url.startswith(SETUP), url
            body = final.content.decode().casefold()
            assert demande.number not in text(final), page
            for secret in secrets:
                assert secret.casefold() not in body, page
    assert AccessLog.objects.count() == logged

    password_sign_in(client, technicien)
    for page in ["/mentions-legales/", "/donnees-personnelles/", "/accessibilite/"]:
        assert client.get(page).status_code == 200, page
    response = client.post("/deconnexion/")
    assert response.status_code == 302 and response["Location"].startswith("/connexion/")
    assert client.get("/")["Location"].startswith("/connexion/")


# --- 2. and 3. enrolment -------------------------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize("role", ["agent", "caisse_admin"])
def test_caisse_staff_enrol_an_application_only(client, request, role, clock):
    user = request.getfixturevalue(role)
    log_in_with_password_only(client, user)

    response = client.get(SETUP)
    assert response.status_code == 302 and response["Location"].startswith(f"{SETUP_TOTP}?next=")
    assert client.get(SETUP_EMAIL).status_code == 404
    assert not EmailDevice.objects.filter(user=user).exists()

    page = client.get(SETUP_TOTP)
    assert page.status_code == 200
    assert "<svg" in page.content.decode()
    key = key_shown(page)

    wrong = client.post(SETUP_TOTP, {"code": other_code(code_for_key(key))})
    assert wrong.status_code == 200
    assert WRONG_CODE in field_error(wrong)
    assert 'aria-invalid="true"' in wrong.content.decode()
    assert not is_verified(client)
    assert not AuthenticatorApp.objects.filter(user=user, confirmed=True).exists()

    clock.shift(5)  # django-otp's throttling after the wrong code
    response = client.post(SETUP_TOTP, {"code": code_for_key(key)})
    assert response.status_code == 302 and response["Location"].startswith(BACKUP_CODES)
    codes = backup_codes_shown(client.get(response["Location"]))
    assert len(codes) == len(set(codes)) == 10
    assert sorted(map(backup_code_digest, codes)) == sorted(
        StaticToken.objects.filter(device__user=user).values_list("token", flat=True)
    )
    again = client.get(response["Location"])
    assert again.status_code == 302 and again["Location"] == "/compte/"
    assert is_verified(client)
    assert AuthenticatorApp.objects.get(user=user).confirmed


@pytest.mark.django_db
def test_partner_enrols_codes_by_email(client, technicien, commit):
    log_in_with_password_only(client, technicien)
    choice = client.get(SETUP)
    assert choice.status_code == 200
    assert "Code par courriel" in text(choice) and "Application d'authentification" in text(choice)

    mail.outbox.clear()
    with commit():
        page = client.get(SETUP_EMAIL)
    assert page.status_code == 200
    assert len(emails_to(technicien.email)) == 1
    code = emailed_code(technicien.email)
    assert not is_verified(client)

    response = client.post(SETUP_EMAIL, {"code": code})
    assert response.status_code == 302 and response["Location"].startswith(BACKUP_CODES)
    assert len(backup_codes_shown(client.get(response["Location"]))) == 10
    assert is_verified(client)
    assert EmailDevice.objects.get(user=technicien).confirmed
    assert not AuthenticatorApp.objects.filter(user=technicien).exists()
    assert len(emails_to(technicien.email)) == 1


@pytest.mark.django_db
def test_partner_may_choose_an_application(client, gestionnaire, clock):
    log_in_with_password_only(client, gestionnaire)
    page = client.get(SETUP_TOTP)
    assert page.status_code == 200 and "<svg" in page.content.decode()
    response = client.post(SETUP_TOTP, {"code": code_for_key(key_shown(page))})
    assert response.status_code == 302 and response["Location"].startswith(BACKUP_CODES)
    assert is_verified(client)
    assert AuthenticatorApp.objects.get(user=gestionnaire).confirmed
    assert not EmailDevice.objects.filter(user=gestionnaire).exists()


# --- 4. and 5. sign-in ---------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_sign_in_with_an_application_and_no_replay(client, client_factory, technicien, clock):
    device = totp_device(technicien)
    response = password_sign_in(client, technicien)
    response = client.get(response["Location"])
    assert response.status_code == 302 and response["Location"].startswith(f"{VERIFY}?next=")
    page = client.get(response["Location"])
    assert page.status_code == 200 and "application d'authentification" in text(page)

    code = totp_code(device)
    response = client.post(VERIFY, {"code": code, "next": "/compte/"})
    assert response.status_code == 302 and response["Location"] == "/compte/"
    assert client.get("/compte/").status_code == 200

    replay = client_factory()
    password_sign_in(replay, technicien)
    refused = replay.post(VERIFY, {"code": code})
    assert refused.status_code == 200
    assert field_error(refused)
    assert not is_verified(replay)


@pytest.mark.django_db
def test_a_code_from_two_windows_ago_is_refused(client, technicien, clock):
    device = totp_device(technicien)
    password_sign_in(client, technicien)
    refused = client.post(VERIFY, {"code": totp_code(device, seconds_ago=2 * device.step)})
    assert refused.status_code == 200 and field_error(refused)
    assert not is_verified(client)

    clock.shift(5)
    assert client.post(VERIFY, {"code": totp_code(device)}).status_code == 302
    assert is_verified(client)


@pytest.mark.django_db
def test_sign_in_with_an_emailed_code_once(client, client_factory, technicien, commit, clock):
    email_device(technicien)
    password_sign_in(client, technicien)
    mail.outbox.clear()
    with commit():
        page = client.get(VERIFY)
    assert page.status_code == 200
    assert f"Un code à 6 chiffres vient d'être envoyé à {technicien.email}" in text(page)
    assert len(emails_to(technicien.email)) == 1
    code = emailed_code(technicien.email)

    clock.shift(30)
    with commit():
        assert client.get(VERIFY).status_code == 200
    assert len(emails_to(technicien.email)) == 1

    response = client.post(VERIFY, {"code": code})
    assert response.status_code == 302
    assert is_verified(client)

    other = client_factory()
    password_sign_in(other, technicien)
    refused = other.post(VERIFY, {"code": code})
    assert refused.status_code == 200 and field_error(refused)
    assert not is_verified(other)


@pytest.mark.django_db
@pytest.mark.parametrize(("minutes", "accepted"), [(9, True), (11, False)])
def test_emailed_code_lasts_ten_minutes(client, technicien, commit, clock, minutes, accepted):
    email_device(technicien)
    password_sign_in(client, technicien)
    with commit():
        client.get(VERIFY)
    code = emailed_code(technicien.email)
    clock.shift(timedelta(minutes=minutes))
    response = client.post(VERIFY, {"code": code})
    assert (response.status_code == 302) is accepted
    assert is_verified(client) is accepted
    if not accepted:
        assert field_error(response)


# --- 6. backup codes -----------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_a_backup_code_works_once(client, client_factory, technicien, clock):
    totp_device(technicien)
    codes = second_factor.regenerate_backup_codes(technicien)
    password_sign_in(client, technicien)
    response = client.post(VERIFY, {"code": codes[0].upper(), "next": "/compte/"})
    assert response.status_code == 302 and response["Location"] == "/compte/"
    page = client.get("/compte/")
    assert page.status_code == 200
    assert "il vous en reste 9" in text(page)

    other = client_factory()
    password_sign_in(other, technicien)
    refused = other.post(VERIFY, {"code": codes[0]})
    assert refused.status_code == 200 and field_error(refused)
    assert not is_verified(other)

    clock.shift(5)
    assert other.post(VERIFY, {"code": codes[1]}).status_code == 302
    assert "il vous en reste 8" in text(other.get("/"))


# --- 7. throttling of codes ----------------------------------------------------------------------------------


@pytest.mark.django_db
def test_a_right_code_just_after_a_first_typo_is_accepted_at_once(client, technicien, clock):
    device = totp_device(technicien)
    password_sign_in(client, technicien)
    code = totp_code(device)
    assert WRONG_CODE in field_error(client.post(VERIFY, {"code": other_code(code)}))

    assert client.post(VERIFY, {"code": code}).status_code == 302
    assert is_verified(client)


@pytest.mark.django_db
def test_a_burst_of_wrong_codes_is_still_slowed_down(client, technicien, clock):
    device = totp_device(technicien)
    password_sign_in(client, technicien)
    code = totp_code(device)
    assert WRONG_CODE in field_error(client.post(VERIFY, {"code": other_code(code)}))
    assert WRONG_CODE in field_error(client.post(VERIFY, {"code": other_code(other_code(code))}))

    refused = client.post(VERIFY, {"code": code})
    assert refused.status_code == 200
    assert THROTTLED in field_error(refused)
    assert not is_verified(client)

    clock.shift(3)
    assert client.post(VERIFY, {"code": totp_code(device)}).status_code == 302
    assert is_verified(client)


@pytest.mark.django_db
def test_a_first_typo_of_a_backup_code_is_retried_at_once(client, technicien, clock):
    totp_device(technicien)
    codes = second_factor.regenerate_backup_codes(technicien)
    password_sign_in(client, technicien)
    assert WRONG_CODE in field_error(client.post(VERIFY, {"code": "zzzzzzzz"}))
    assert client.post(VERIFY, {"code": codes[0]}).status_code == 302


@pytest.mark.django_db
def test_a_first_wrong_code_says_it_is_wrong(client, technicien, clock):
    device = totp_device(technicien)
    password_sign_in(client, technicien)
    refused = client.post(VERIFY, {"code": other_code(totp_code(device))})
    assert refused.status_code == 200
    assert WRONG_CODE in field_error(refused)


# --- 8. a password alone does not replace a device -----------------------------------------------------------


@pytest.mark.django_db
def test_password_only_session_cannot_replace_the_device(client, technicien, commit, clock):
    device = totp_device(technicien)
    password_sign_in(client, technicien)
    mail.outbox.clear()
    with commit():
        for page in [SETUP, SETUP_TOTP, SETUP_EMAIL]:
            response = client.get(page)
            assert response.status_code == 302, page
            assert response["Location"].startswith(f"{VERIFY}?next="), page
        response = client.post(SETUP_TOTP, {"code": "123456"})
        assert response.status_code == 302 and response["Location"].startswith(VERIFY)
        response = client.post(SETUP_EMAIL, {"code": "123456"})
        assert response.status_code == 302 and response["Location"].startswith(VERIFY)
        assert client.post("/connexion/verification/renvoyer/", {"enrolment": "1"}).status_code == 404
    assert list(AuthenticatorApp.objects.filter(user=technicien)) == [device]
    assert not EmailDevice.objects.filter(user=technicien).exists()
    assert not emails_to(technicien.email)
    assert not is_verified(client)


# --- 9. and 10. account page ---------------------------------------------------------------------------------


@pytest.mark.django_db
def test_account_page_shows_the_method_and_regenerates_backup_codes(client, client_factory, technicien, clock):
    client.force_login(technicien)
    old_codes = second_factor.regenerate_backup_codes(technicien)
    second_factor.verify(technicien, old_codes[0])
    page = text(client.get("/compte/"))
    assert "Méthode : Application d'authentification" in page
    assert "Codes de secours non utilisés : 9" in page

    response = client.post(REGENERATE)
    assert response.status_code == 302 and response["Location"].startswith(BACKUP_CODES)
    new_codes = backup_codes_shown(client.get(response["Location"]))
    assert len(new_codes) == 10 and not set(new_codes) & set(old_codes)
    assert "Codes de secours non utilisés : 10" in text(client.get("/compte/"))

    other = client_factory()
    password_sign_in(other, technicien)
    refused = other.post(VERIFY, {"code": old_codes[1]})
    assert refused.status_code == 200 and field_error(refused)
    clock.shift(5)
    assert other.post(VERIFY, {"code": new_codes[0]}).status_code == 302
    assert is_verified(other)


@pytest.mark.django_db
def test_password_only_session_cannot_regenerate_backup_codes(client, technicien):
    totp_device(technicien)
    codes = second_factor.regenerate_backup_codes(technicien)
    password_sign_in(client, technicien)
    response = client.post(REGENERATE)
    assert response.status_code == 302 and response["Location"].startswith(VERIFY)
    stored = StaticToken.objects.filter(device__user=technicien).values_list("token", flat=True)
    assert sorted(stored) == sorted(map(backup_code_digest, codes))


@pytest.mark.django_db
def test_changing_method_keeps_the_old_device_until_the_new_one_is_confirmed(
    client, client_factory, technicien, commit, clock
):
    old = totp_device(technicien)
    password_sign_in(client, technicien)
    assert client.post(VERIFY, {"code": totp_code(old)}).status_code == 302

    choice = client.get(f"{SETUP}?next=/compte/")
    assert choice.status_code == 200
    assert "Méthode actuelle : Application d'authentification" in text(choice)
    mail.outbox.clear()
    with commit():
        assert client.get(f"{SETUP_EMAIL}?next=/compte/").status_code == 200
    code = emailed_code(technicien.email)

    clock.shift(30)  # the next TOTP window: the old application shows a new code
    meanwhile = client_factory()
    password_sign_in(meanwhile, technicien)
    assert meanwhile.post(VERIFY, {"code": totp_code(old)}).status_code == 302
    assert is_verified(meanwhile)

    response = client.post(SETUP_EMAIL, {"code": code, "next": "/compte/"})
    assert response.status_code == 302 and response["Location"].startswith(BACKUP_CODES)
    assert is_verified(client)
    assert not AuthenticatorApp.objects.filter(user=technicien).exists()
    assert list(EmailDevice.objects.filter(user=technicien).values_list("confirmed", flat=True)) == [True]
    assert "Méthode : Code envoyé par courriel" in text(client.get("/compte/"))

    clock.shift(30)
    later = client_factory()
    password_sign_in(later, technicien)
    refused = later.post(VERIFY, {"code": totp_code(old)})
    assert refused.status_code == 200
    assert not is_verified(later)


# --- 11. and 12. sessions ------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_session_key_changes_when_the_second_factor_passes(client, client_factory, technicien, clock):
    device = totp_device(technicien)
    password_sign_in(client, technicien)
    before = client.session.session_key
    assert client.post(VERIFY, {"code": totp_code(device)}).status_code == 302
    assert client.session.session_key != before
    assert is_verified(client)

    stolen = client_factory()
    stolen.cookies[settings.SESSION_COOKIE_NAME] = before
    response = stolen.get("/")
    assert response.status_code == 302 and response["Location"].startswith("/connexion/")


@pytest.mark.django_db
def test_reset_sends_a_verified_session_back_to_set_up(client, technicien):
    client.force_login(technicien)
    assert client.get("/compte/").status_code == 200
    second_factor.reset(technicien)
    for page in ["/", "/compte/"]:
        response = client.get(page)
        assert response.status_code == 302 and response["Location"].startswith(f"{SETUP}?next="), page
    assert not StaticDevice.objects.filter(user=technicien).exists()


# --- 13. what the verification page shows -------------------------------------------------------------------


def header(response):
    match = re.search(r"<header\b.*?</header>", response.content.decode(), re.S)
    assert match, "no header"
    return match.group(0)


@pytest.mark.django_db
def test_until_verified_the_header_offers_only_the_way_out(client, client_factory, technicien, structure, clock):
    device = totp_device(technicien)
    # Two caisses: the verified header has the switcher, so its absence before is not an accident of the data.
    ConventionFactory(structure=structure)
    password_sign_in(client, technicien)
    before = header(client.get(VERIFY))
    assert re.findall(r"<a\b", before) == []
    assert "caisse-switch" not in before and "Mon compte" not in before
    assert "Se déconnecter" in visible_text(before) and "Espace Partenaires" in visible_text(before)

    assert client.post(VERIFY, {"code": totp_code(device)}).status_code == 302
    after = header(client.get(VERIFY, follow=True))
    assert "Mon compte" in visible_text(after) and "caisse-switch" in after


@pytest.mark.django_db
def test_an_application_user_is_told_no_code_is_sent(client, technicien, clock):
    totp_device(technicien)
    password_sign_in(client, technicien)
    page = text(client.get(VERIFY))
    assert "Aucun code ne vous est envoyé" in page
    assert "envoyé à" not in page and "courriel" not in page
    assert not emails_to(technicien.email)


@pytest.mark.django_db
def test_the_email_code_status_says_what_was_sent(client, technicien, commit, clock):
    email_device(technicien)
    password_sign_in(client, technicien)
    mail.outbox.clear()
    with commit():
        first = text(client.get(VERIFY))
    assert f"Un code à 6 chiffres vient d'être envoyé à {technicien.email}" in first
    assert len(emails_to(technicien.email)) == 1

    with commit():
        again = text(client.get(VERIFY))
    assert len(emails_to(technicien.email)) == 1
    assert "vient d'être envoyé" not in again
    assert f"Le code à 6 chiffres envoyé à {technicien.email} est valable jusqu'à" in again

    clock.shift(timedelta(minutes=11))
    expired = client.post(VERIFY, {"code": emailed_code(technicien.email)})
    assert field_error(expired)
    assert "Aucun code valable n'est en cours" in text(expired)
    assert "a été envoyé" not in text(expired) and "vient d'être envoyé" not in text(expired)


# --- 14. no backup codes left -------------------------------------------------------------------------------


PROMPT = "Vous n'avez aucun code de secours"


@pytest.mark.django_db
def test_without_backup_codes_the_sign_in_and_the_account_page_prompt_for_them(client, technicien, clock):
    device = totp_device(technicien)
    password_sign_in(client, technicien)
    landing = client.post(VERIFY, {"code": totp_code(device)}, follow=True)
    assert PROMPT in text(landing)
    assert 'href="/compte/#double-authentification-titre"' in landing.content.decode()
    account = client.get("/compte/")
    assert 'data-testid="backup-codes-prompt"' in account.content.decode()

    assert client.post(REGENERATE).status_code == 302
    assert 'data-testid="backup-codes-prompt"' not in client.get("/compte/").content.decode()


@pytest.mark.django_db
def test_with_backup_codes_nothing_prompts(client, technicien, clock):
    device = totp_device(technicien)
    second_factor.regenerate_backup_codes(technicien)
    password_sign_in(client, technicien)
    landing = client.post(VERIFY, {"code": totp_code(device)}, follow=True)
    assert landing.status_code == 200 and PROMPT not in text(landing)
    account = client.get("/compte/")
    assert "Codes de secours non utilisés : 10" in text(account)
    assert 'data-testid="backup-codes-prompt"' not in account.content.decode()
