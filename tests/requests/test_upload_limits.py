"""What one request may receive: image "bombs" refused at each entry point, and a cap on the files a request holds
whatever the number of sends (settings MAX_ATTACHMENTS_PER_REQUEST, MAX_ATTACHMENT_BYTES_PER_REQUEST)."""

import html

import pytest

from extranet import settings as project_settings
from requests.models import Attachment, Message, Request
from tests.helpers import api_client, refusal
from tests.requests.builders import a_pdf, api_deposit, create_url, form_data, pdf_document, upload
from tests.requests.test_hostile_uploads import JPEG_BOMB, PNG_BOMB

pytestmark = pytest.mark.django_db

BOMB_MESSAGE = "annonce une image de plus de 89 millions de pixels"
BOMBS = [pytest.param("bombe.png", PNG_BOMB, id="png-20000x10000"), pytest.param("bombe.jpg", JPEG_BOMB, id="jpeg")]


def files(demande):
    return f"/api/v1/requests/{demande.number}/attachments/"


def a_pdf_of(size, name="gros.pdf"):
    """A valid PDF of about `size` bytes (a comment fills it)."""
    filler = b"%" + b"x" * max(size - 400, 0) + b"\n"
    return upload(
        name,
        pdf_document(
            {1: b"<< /Type /Catalog /Pages 2 0 R >>", 2: b"<< /Type /Pages /Kids [] /Count 0 >>"}, comment=filler
        ),
    )


class TestImageBombs:
    @pytest.mark.parametrize(("name", "content"), BOMBS)
    def test_api_upload(self, technicien, demande, stored_files, name, content):
        response = api_client(technicien).post(files(demande), {"files": [upload(name, content)]}, format="multipart")
        status, code, fields = refusal(response)
        assert (status, code, list(fields)) == (400, "attachment_refused", ["files"])
        [message] = fields["files"]
        assert message.startswith(f"« {name} » {BOMB_MESSAGE}")
        assert response.json()["message"] == message
        assert response.json()["refused_files"] == [
            {"field": "files", "name": name, "reason": "image_too_large", "message": message}
        ]
        assert not Attachment.objects.exists() and stored_files() == []

    @pytest.mark.parametrize(("name", "content"), BOMBS)
    def test_api_deposit(self, technicien, stored_files, name, content):
        data = form_data("etude-de-dossier", files=[upload(name, content)])
        response = api_deposit(api_client(technicien), "case_review", data)
        status, code, fields = refusal(response)
        assert (status, code) == (400, "attachment_refused")
        assert fields["attachments"][0].startswith(f"« {name} » {BOMB_MESSAGE}")
        assert [
            (refused["field"], refused["name"], refused["reason"]) for refused in response.json()["refused_files"]
        ] == [("attachments", name, "image_too_large")]
        assert not Request.objects.exists() and stored_files() == []

    @pytest.mark.parametrize(("name", "content"), BOMBS)
    def test_page_message_form(self, technicien_client, demande, stored_files, name, content):
        response = technicien_client.post(
            f"/demandes/{demande.number}/messages/",
            {"body": "Voici la photo.", "attachments": [upload(name, content)]},
        )
        assert response.status_code == 400
        [message] = response.context["message_form"].errors["attachments"]
        assert message.startswith(f"« {name} » {BOMB_MESSAGE}")
        assert message in html.unescape(response.content.decode())
        assert not Message.objects.exists() and stored_files() == []


def test_default_caps_per_request():
    assert (project_settings.MAX_ATTACHMENTS_PER_REQUEST, project_settings.MAX_ATTACHMENT_BYTES_PER_REQUEST) == (
        20,
        50 * 1024 * 1024,
    )


class TestAttachmentsPerRequest:
    @pytest.fixture(autouse=True)
    def small_caps(self, settings):
        settings.MAX_ATTACHMENTS_PER_REQUEST = 3
        settings.MAX_ATTACHMENT_BYTES_PER_REQUEST = 300_000

    def test_api_calls_add_up_to_the_count(self, technicien, demande, stored_files):
        partner = api_client(technicien)
        sent = partner.post(files(demande), {"files": [a_pdf("a.pdf"), a_pdf("b.pdf")]}, format="multipart")
        assert sent.status_code == 201
        refused = partner.post(files(demande), {"files": [a_pdf("c.pdf"), a_pdf("d.pdf")]}, format="multipart")
        assert refused.status_code == 400
        assert refused.json() == {
            "code": "too_many_attachments",
            "message": "Une demande compte 3 pièces jointes au plus : celle-ci en aurait 4. Regroupez les documents "
            "dans un seul PDF, ou joignez seulement les pièces utiles.",
        }
        assert Attachment.objects.count() == 2 and len(stored_files()) == 2
        assert partner.post(files(demande), {"files": [a_pdf("c.pdf")]}, format="multipart").status_code == 201
        assert partner.post(files(demande), {"files": [a_pdf("d.pdf")]}, format="multipart").status_code == 400
        assert Attachment.objects.count() == 3 and len(stored_files()) == 3

    def test_api_calls_add_up_to_the_size(self, technicien, demande, stored_files):
        partner = api_client(technicien)
        assert partner.post(files(demande), {"files": [a_pdf_of(200_000)]}, format="multipart").status_code == 201
        refused = partner.post(files(demande), {"files": [a_pdf_of(150_000)]}, format="multipart")
        assert (refused.status_code, refused.json()["code"]) == (400, "too_many_attachments")
        assert refused.json()["message"].startswith("Les pièces jointes d'une demande pèsent 293,0\xa0Kio au plus")
        assert Attachment.objects.count() == 1 and len(stored_files()) == 1

    def test_page_messages_add_up_to_the_count(self, technicien_client, demande, stored_files):
        url = f"/demandes/{demande.number}/messages/"
        first = technicien_client.post(url, {"body": "Deux pièces.", "attachments": [a_pdf("a.pdf"), a_pdf("b.pdf")]})
        assert first.status_code == 302
        second = technicien_client.post(
            url, {"body": "Deux autres.", "attachments": [a_pdf("c.pdf"), a_pdf("d.pdf")]}, follow=True
        )
        page = html.unescape(second.content.decode())
        assert "Une demande compte 3 pièces jointes au plus : celle-ci en aurait 4." in page
        assert list(Message.objects.values_list("body", flat=True)) == ["Deux pièces."]
        assert Attachment.objects.count() == 2 and len(stored_files()) == 2

    def test_deposit_page(self, technicien_client, settings, stored_files):
        settings.ATTACHMENT_MAX_COUNT = 5
        four = [a_pdf(f"{letter}.pdf") for letter in "abcd"]
        response = technicien_client.post(create_url("etude-de-dossier"), form_data("etude-de-dossier", files=four))
        assert response.status_code == 200
        assert response.context["form"].errors["attachments"] == [
            "Une demande compte 3 pièces jointes au plus : celle-ci en aurait 4. Regroupez les documents dans un "
            "seul PDF, ou joignez seulement les pièces utiles."
        ]
        assert not Request.objects.exists() and not Attachment.objects.exists()
        # Each file passed its checks: kept for the next try, where some can be removed.
        assert len(stored_files()) == 4 and all(name.startswith("staged/") for name in stored_files())
