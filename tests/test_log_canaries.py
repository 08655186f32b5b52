"""Logs hold no person's NIR, phone or email: a unique person, followed through every journey, never shows in them.

Every record is captured at DEBUG (root logger, and the loggers the settings quieten), then its message, its
arguments and its formatted text, traceback included, are searched for the canaries.
"""

import logging
import re
import smtplib
import uuid

import pytest
from django.core import mail
from django.core.mail.backends.base import BaseEmailBackend

from extranet.notifications.delivery import send_pending
from extranet.notifications.models import OutgoingEmail
from requests.models import Attachment, Request
from requests.retention import purge_expired_requests
from tests.factories import make_nir
from tests.requests.builders import MAS_REFERRAL_URL, a_pdf, create_url, form_data, image_bytes, referral_data, upload

NIR = make_nir(sex="2", year="93", month="11", department="69", commune="387", order="947")
NIR_SPACED = " ".join((NIR[0], NIR[1:3], NIR[3:5], NIR[5:7], NIR[7:10], NIR[10:13], NIR[13:]))
PHONE = "06 98 76 54 32"
EMAIL = "canari.personne@exemple.fr"
LAST_NAME = "Canarivaldo"
CANARY_PERSON = {
    "person_civility": "mme",
    "person_last_name": LAST_NAME,
    "person_first_name": "Oriane",
    "person_birth_date": "1993-11-07",
    "person_nir": NIR_SPACED,
    "person_phone": PHONE,
    "person_email": EMAIL,
}
PHONE_DIGITS = PHONE.replace(" ", "")
CANARIES = [NIR, NIR_SPACED, NIR[:13], PHONE, PHONE_DIGITS, "+33" + PHONE_DIGITS[1:], EMAIL, "canari.personne"]
QUIETENED = ["weasyprint", "fontTools", "django_tasks"]


@pytest.fixture
def logs(caplog):
    caplog.set_level(logging.DEBUG)
    for name in QUIETENED:
        caplog.set_level(logging.DEBUG, logger=name)
    return caplog


def assert_no_canary(caplog):
    assert caplog.records, "nothing was captured: the capture itself is broken"
    for record in caplog.records:
        texts = [str(record.msg), repr(record.args), record.getMessage()]
        if record.exc_info:
            texts.append(logging.Formatter().formatException(record.exc_info))
        found = "\n".join(texts)
        digits = re.sub(r"\D", "", found)
        for canary in CANARIES:
            assert canary.lower() not in found.lower(), f"{canary!r} in a {record.name} record: {found[:300]}"
        assert NIR not in digits and PHONE_DIGITS[1:] not in digits, f"NIR or phone in {record.name}: {found[:300]}"
    assert "canari" not in caplog.text.lower() and NIR not in re.sub(r"\D", "", caplog.text)


def deposit(client, slug, **overrides):
    return client.post(create_url(slug), form_data(slug, **overrides) | CANARY_PERSON | overrides)


def not_found(client):
    """A 404 logged by django.request, proving the capture sees the request log."""
    assert client.get("/demandes/2699999999/").status_code == 404


@pytest.fixture
def deposited(technicien_client, commit):
    with commit():
        response = deposit(technicien_client, "etude-de-dossier", files=[a_pdf("avis canari.pdf")])
    assert response.status_code == 302, response.context["form"].errors if response.context else response
    return Request.objects.get(person_last_name=LAST_NAME)


@pytest.fixture
def staff_client(client_factory):
    def logged_in(user):
        browser = client_factory()
        browser.force_login(user)
        return browser

    return logged_in


@pytest.mark.django_db
def test_partner_journey(logs, technicien_client, commit, mailoutbox):
    # invalid submissions: bad email, bad phone, missing field, hostile file, NIR/birth date mismatch
    for overrides in (
        {"person_email": "canari.personne@"},
        {"person_phone": "06 98 76"},
        {"description": ""},
        {"files": [upload("canari.pdf", b"MZ\x90\x00" + bytes(64))]},
        {"person_birth_date": "1994-01-07"},
    ):
        assert deposit(technicien_client, "etude-de-dossier", **overrides).status_code == 200
    with commit():
        first = deposit(technicien_client, "signaler")
        second = deposit(
            technicien_client, "etude-de-dossier", files=[a_pdf("avis.pdf"), upload("photo.png", image_bytes())]
        )
    assert first.status_code == 302 and second.status_code == 302
    duplicate = deposit(technicien_client, "signaler")
    assert duplicate.status_code == 200 and duplicate.context["form"].non_field_errors()
    assert Request.objects.count() == 2

    request = Request.objects.get(kind="case_review")
    number = request.number
    for url in (
        f"/demandes/{number}/",
        f"/demandes/{number}/confirmation/",
        f"/demandes/{number}/recapitulatif.pdf",
        "/demandes/",
        *(f"/demandes/{number}/pieces/{attachment.public_id}/" for attachment in request.attachments.all()),
    ):
        response = technicien_client.get(url)
        assert response.status_code == 200, url
        b"".join(response.streaming_content) if response.streaming else response.content
    assert technicien_client.get(f"/demandes/{number}/pieces/{uuid.uuid4()}/").status_code == 404
    not_found(technicien_client)
    send_pending()
    assert mailoutbox, "the deposit sends its acknowledgements"
    assert_no_canary(logs)


@pytest.mark.django_db
def test_caisse_journey(logs, deposited, staff_client, agent, caisse_admin, commit):
    number = deposited.number
    agent_client = staff_client(agent)
    with commit():
        assert agent_client.post(f"/demandes/{number}/prendre-en-charge/").status_code == 302
        assert (
            agent_client.post(
                f"/demandes/{number}/messages/",
                {"body": f"Rappeler la personne au {PHONE} ?", "action": "note"},
            ).status_code
            == 302
        )
        assert agent_client.post(f"/demandes/{number}/resoudre/", {"answer": ""}).status_code == 400
        resolved = agent_client.post(
            f"/demandes/{number}/resoudre/",
            {"answer": "Droits ouverts.", "confirm": "1", "attachments": [a_pdf("reponse.pdf")]},
        )
    assert resolved.status_code == 302
    assert Request.objects.get(pk=deposited.pk).status == "resolved"
    for url in (
        "/caisse/demandes/",
        "/caisse/demandes/?number=26&status=all",
        f"/demandes/{number}/",
        "/caisse/tableau-de-bord/",
    ):
        assert agent_client.get(url).status_code == 200, url
    for attachment in Attachment.objects.all():
        b"".join(agent_client.get(f"/demandes/{number}/pieces/{attachment.public_id}/").streaming_content)
    assert agent_client.get("/caisse/demandes/export.csv?donnees_personnelles=1").status_code == 403

    admin_client = staff_client(caisse_admin)
    export = admin_client.get("/caisse/demandes/export.csv?donnees_personnelles=1&status=all")
    assert export.status_code == 200
    assert NIR_SPACED.encode() in b"".join(export.streaming_content), "the export carries the personal data asked for"
    assert admin_client.get("/caisse/demandes/export.csv?deposited_from=hier").status_code in (200, 400)
    not_found(admin_client)
    assert mail.outbox
    assert_no_canary(logs)


@pytest.mark.django_db
def test_mas_referral_journey(logs, technicien_client, staff_client, agent, commit, settings):
    data = referral_data(
        **CANARY_PERSON, consent_mode="signed", notice_given="", consent_document=a_pdf("fiche canari.pdf")
    )
    assert technicien_client.post(MAS_REFERRAL_URL, referral_data(**CANARY_PERSON, contexts=[])).status_code == 200
    with commit():
        response = technicien_client.post(MAS_REFERRAL_URL, data)
    assert response.status_code == 302, response.context["form"].errors if response.context else response
    request = Request.objects.get(person_last_name=LAST_NAME)
    assert technicien_client.get(f"/demandes/{request.number}/fiche-saisine.pdf").status_code == 200
    agent_client = staff_client(agent)
    assert agent_client.get(f"/demandes/{request.number}/").status_code == 200
    assert agent_client.get(f"/demandes/{request.number}/fiche-saisine.pdf").status_code == 200
    purge_expired_requests(dry_run=True)
    not_found(agent_client)
    assert_no_canary(logs)


@pytest.mark.django_db
def test_failed_email_delivery(logs, deposited, settings):
    settings.EMAIL_BACKEND = "tests.test_log_canaries.RefusingBackend"
    OutgoingEmail.objects.update(state=OutgoingEmail.State.PENDING, sent_at=None)
    assert send_pending() == 0
    assert any(record.name == "extranet.notifications.delivery" for record in logs.records)
    assert_no_canary(logs)


class RefusingBackend(BaseEmailBackend):
    def send_messages(self, email_messages):
        recipients = [recipient for message in email_messages for recipient in message.recipients()]
        raise smtplib.SMTPRecipientsRefused(dict.fromkeys(recipients, (550, b"Mailbox unavailable")))


@pytest.mark.parametrize("leak", [NIR_SPACED, NIR, "06.98.76.54.32", "+33 6 98 76 54 32", EMAIL.upper(), LAST_NAME])
def test_the_check_catches_a_leak(logs, leak):
    logging.getLogger("requests.views").info("Demande reçue pour %s", leak)
    with pytest.raises(AssertionError):
        assert_no_canary(logs)


def _urls(response):
    """Every URL a response points to: its redirect, and each link, form action and source of its page."""
    html = response.content.decode() if not response.streaming else ""
    return [response.get("Location", ""), *re.findall(r'(?:href|action|src)="([^"]*)"', html)]


@pytest.mark.django_db
def test_person_search_journey(logs, deposited, technicien_client, staff_client, agent):
    """A search by NIR (POST) leaves the NIR in no URL (redirects, links, pagination), no log record and no page
    but the request's detail, on both sides; a GET carrying it is ignored."""
    for browser in (technicien_client, staff_client(agent)):
        pages = [browser.get("/recherche/")]
        for typed in (NIR_SPACED, NIR, NIR[:13] + "00"):
            pages.append(browser.post("/recherche/", {"nir": typed}))
        pages.append(browser.post("/recherche/", {"nir": NIR_SPACED, "last_name": LAST_NAME, "first_name": "O"}))
        found = pages[1]
        assert found.status_code == 200 and [row.pk for row in found.context["results"]] == [deposited.pk]
        assert pages[3].status_code == 400 and pages[4].status_code == 400
        for page in pages:
            html = page.content.decode()
            digits = re.sub(r"\D", "", html)
            assert NIR not in digits and NIR[:13] not in digits and NIR_SPACED not in html
            for url in _urls(page):
                assert NIR[:13] not in re.sub(r"\D", "", url), url
        detail = browser.get(f"/demandes/{deposited.number}/")
        assert NIR_SPACED in detail.content.decode(), "the detail is the one page that shows the NIR"
        for url in _urls(detail):
            assert NIR[:13] not in re.sub(r"\D", "", url), url
        ignored = browser.get(f"/recherche/?nir={NIR}")
        assert ignored.status_code == 200 and not ignored.context["searched"]
        assert NIR not in re.sub(r"\D", "", ignored.content.decode())
    not_found(technicien_client)
    assert_no_canary(logs)
