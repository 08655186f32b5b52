import hashlib
import re

import pytest
from django.utils import timezone

from requests.models import Attachment, Request, StagedFile
from tests.requests.builders import a_pdf, create_url, form_data, image_bytes, pdf_bytes, upload

ELF = b"\x7fELF\x02\x01\x01\x00" + bytes(56) + b"\x00" * 200
MZ = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00" + b"This program cannot be run in DOS mode." * 5
HTML = b"<!doctype html><html><body><script>alert(document.cookie)</script></body></html>"
STORED_NAME = re.compile(r"^attachments/\d{4}/\d{2}/[0-9a-f]{32}\.(pdf|png|jpg|jpeg)$")


def content_error(name, label):
    return (
        f"« {name} » n'est pas un fichier {label} valide : son contenu ne correspond pas à son extension. "
        "Enregistrez le document au format PDF, JPEG ou PNG puis déposez-le de nouveau."
    )


def deposit(client, *files, slug="signaler"):
    return client.post(create_url(slug), form_data(slug, files=list(files)))


def attachment_errors(response):
    assert response.status_code == 200, "the deposit went through"
    return response.context["form"].errors["attachments"]


@pytest.mark.django_db
class TestRefusedFiles:
    @pytest.mark.parametrize(
        ("name", "content", "message"),
        [
            ("ordonnance.pdf", ELF, content_error("ordonnance.pdf", "PDF")),
            ("attestation.pdf", MZ, content_error("attestation.pdf", "PDF")),
            ("scan.pdf", image_bytes("PNG"), content_error("scan.pdf", "PDF")),
            ("page.png", HTML, content_error("page.png", "PNG")),
            ("photo.png", image_bytes("JPEG"), content_error("photo.png", "PNG")),
            ("photo.jpg", image_bytes("PNG"), content_error("photo.jpg", "JPEG")),
            ("tronque.pdf", pdf_bytes()[:-7], content_error("tronque.pdf", "PDF")),
            ("tronque.png", image_bytes("PNG", size=(64, 64))[:40], content_error("tronque.png", "PNG")),
            ("vide.pdf", b"", "« vide.pdf » est vide."),
            ("programme.exe", MZ, "« programme.exe » : seuls les fichiers PDF, JPEG et PNG sont acceptés."),
            ("notes.txt", b"Bonjour", "« notes.txt » : seuls les fichiers PDF, JPEG et PNG sont acceptés."),
            (
                "archive.pdf.zip",
                b"PK\x03\x04",
                "« archive.pdf.zip » : seuls les fichiers PDF, JPEG et PNG sont acceptés.",
            ),
            ("sans-extension", pdf_bytes(), "« sans-extension » : seuls les fichiers PDF, JPEG et PNG sont acceptés."),
        ],
    )
    def test_hostile_or_broken_file_is_refused_by_name(
        self, technicien_client, stored_files, mailoutbox, name, content, message
    ):
        response = deposit(technicien_client, upload(name, content, "application/pdf"))
        assert attachment_errors(response) == [message]
        assert message in response.content.decode().replace("&laquo;", "«").replace("&raquo;", "»").replace(
            "&#x27;", "'"
        )
        assert not Request.objects.exists() and not Attachment.objects.exists()
        assert stored_files() == [] and mailoutbox == []

    def test_one_bad_file_among_good_ones_stops_everything(self, technicien_client, stored_files):
        response = deposit(
            technicien_client,
            a_pdf("bon.pdf"),
            upload("faux.pdf", ELF),
            upload("image.png", image_bytes("PNG"), "image/png"),
        )
        assert attachment_errors(response) == [content_error("faux.pdf", "PDF")]
        assert not Request.objects.exists() and not Attachment.objects.exists()
        # The good ones are kept for the next try (tests/requests/test_deposit_kept_files.py), the bad one is not.
        assert sorted(StagedFile.objects.values_list("original_name", flat=True)) == ["bon.pdf", "image.png"]
        assert all(name.startswith("staged/") for name in stored_files()) and len(stored_files()) == 2

    def test_every_bad_file_is_named(self, technicien_client):
        response = deposit(
            technicien_client, upload("un.pdf", ELF), upload("deux.png", HTML), upload("trois.pdf", b"")
        )
        assert attachment_errors(response) == [
            content_error("un.pdf", "PDF"),
            content_error("deux.png", "PNG"),
            "« trois.pdf » est vide.",
        ]

    def test_file_over_the_size_limit(self, technicien_client, settings, stored_files):
        settings.ATTACHMENT_MAX_SIZE = 2048
        big = pdf_bytes("x" * 2048)
        response = deposit(technicien_client, upload("gros.pdf", big, "application/pdf"))
        [message] = attachment_errors(response)
        size = f"{len(big) / 1024:.1f}".replace(".", ",")
        assert message == f"« gros.pdf » pèse {size}\xa0Kio : la taille maximale est de 2,0\xa0Kio par fichier."
        assert not Request.objects.exists() and stored_files() == []

    def test_file_at_the_size_limit_is_accepted(self, technicien_client, settings):
        content = pdf_bytes("y" * 1000)
        settings.ATTACHMENT_MAX_SIZE = len(content)
        assert deposit(technicien_client, upload("juste.pdf", content)).status_code == 302
        assert Attachment.objects.get().size == len(content)

    def test_default_size_limit_is_5_mb(self, technicien_client):
        content = pdf_bytes("z" * (5 * 1024 * 1024))
        [message] = attachment_errors(deposit(technicien_client, upload("lourd.pdf", content)))
        assert message == "« lourd.pdf » pèse 5,0\xa0Mio : la taille maximale est de 5,0\xa0Mio par fichier."

    def test_more_files_than_the_default_count_limit(self, technicien_client, stored_files):
        files = [a_pdf(f"piece{n}.pdf") for n in range(6)]
        assert attachment_errors(deposit(technicien_client, *files)) == [
            "Vous avez joint 6 fichiers : 5 au plus par envoi."
        ]
        assert not Request.objects.exists() and stored_files() == []

    def test_count_limit_is_configurable(self, technicien_client, settings, stored_files):
        settings.ATTACHMENT_MAX_COUNT = 2
        assert attachment_errors(deposit(technicien_client, a_pdf("a.pdf"), a_pdf("b.pdf"), a_pdf("c.pdf"))) == [
            "Vous avez joint 3 fichiers : 2 au plus par envoi."
        ]
        assert stored_files() == []
        assert deposit(technicien_client, a_pdf("a.pdf"), a_pdf("b.pdf")).status_code == 302
        assert Attachment.objects.count() == 2

    def test_limits_are_announced_next_to_the_field(self, technicien_client, settings):
        settings.ATTACHMENT_MAX_COUNT = 3
        page = technicien_client.get(create_url("etude-de-dossier")).content.decode()
        assert "PDF, JPEG ou PNG, 5,0\xa0Mio au plus par fichier, 3 fichiers au plus." in page
        assert 'accept=".pdf,.jpg,.jpeg,.png' in page


@pytest.mark.django_db
class TestAcceptedFiles:
    def test_pdf_png_and_jpeg_are_stored_under_generated_names_and_downloaded_intact(
        self, technicien_client, private_media, stored_files
    ):
        files = {
            "Justificatif de domicile.pdf": (pdf_bytes("domicile"), "application/pdf", "pdf"),
            "Carte-vitale.PNG": (image_bytes("PNG"), "image/png", "png"),
            "avis_imposition.jpg": (image_bytes("JPEG"), "image/jpeg", "jpg"),
            "photo.jpeg": (image_bytes("JPEG", color=(1, 2, 3)), "image/jpeg", "jpeg"),
        }
        uploads = [upload(name, content) for name, (content, _, _) in files.items()]
        response = deposit(technicien_client, *uploads, slug="etude-de-dossier")
        assert response.status_code == 302
        deposited = Request.objects.get()
        month = timezone.localdate().strftime("%Y/%m")

        attachments = list(deposited.attachments.all())
        assert sorted(a.original_name for a in attachments) == sorted(
            ["Justificatif de domicile.pdf", "Carte-vitale.png", "avis_imposition.jpg", "photo.jpeg"]
        )
        assert len(stored_files()) == 4
        for attachment in attachments:
            original = next(name for name in files if name.lower() == attachment.original_name.lower())
            content, content_type, extension = files[original]
            stored = attachment.file.name
            assert STORED_NAME.match(stored), stored
            assert stored.startswith(f"attachments/{month}/") and stored.endswith(f".{extension}")
            stem = original.rsplit(".", 1)[0]
            for piece in re.split(r"[\s_\-]+", stem.lower()):
                if not re.fullmatch(r"[0-9a-f]+", piece):  # hexadecimal words could appear in the uuid by chance
                    assert piece not in stored.lower(), (piece, stored)
            on_disk = private_media / stored
            assert on_disk.read_bytes() == content
            assert (attachment.content_type, attachment.size) == (content_type, len(content))
            assert attachment.sha256 == hashlib.sha256(content).hexdigest()

            download = technicien_client.get(f"/demandes/{deposited.number}/pieces/{attachment.public_id}/")
            assert download.status_code == 200
            assert download["Content-Type"] == content_type
            assert download["Content-Disposition"] == f'attachment; filename="{attachment.original_name}"'
            assert b"".join(download.streaming_content) == content  # read to the end: the file is closed

    def test_files_live_in_the_private_folder_not_in_media(self, technicien_client, private_media, settings):
        deposit(technicien_client, a_pdf())
        path = Attachment.objects.get().file.path
        assert path.startswith(str(private_media))
        assert not path.startswith(str(settings.BASE_DIR))

    def test_detail_lists_the_attachments_with_download_links(self, technicien_client):
        deposit(technicien_client, a_pdf("releve.pdf"), upload("scan.png", image_bytes("PNG")))
        deposited = Request.objects.get()
        html = technicien_client.get(f"/demandes/{deposited.number}/").content.decode()
        for attachment in deposited.attachments.all():
            link = f'<a href="/demandes/{deposited.number}/pieces/{attachment.public_id}/" download>'
            assert f"{link}{attachment.original_name}</a>" in html

    @pytest.mark.parametrize(
        ("sent", "shown", "disposition"),
        [
            ("..\\..\\etc\\passwd.pdf", "passwd.pdf", 'attachment; filename="passwd.pdf"'),
            ("rapport médical.pdf", "rapport médical.pdf", "attachment; filename*=utf-8''rapport%20m%C3%A9dical.pdf"),
            ("facture\u202efdp.pdf", "facturefdp.pdf", 'attachment; filename="facturefdp.pdf"'),
            ('dit "bonjour".pdf', 'dit "bonjour".pdf', 'attachment; filename="dit \\"bonjour\\".pdf"'),
        ],
    )
    def test_original_name_is_cleaned_for_display_and_download(
        self, technicien_client, stored_files, sent, shown, disposition
    ):
        deposit(technicien_client, upload(sent, pdf_bytes()))
        attachment = Attachment.objects.get()
        assert attachment.original_name == shown
        assert STORED_NAME.match(attachment.file.name)
        [on_disk] = stored_files()
        assert on_disk == attachment.file.name
        download = technicien_client.get(f"/demandes/{attachment.request.number}/pieces/{attachment.public_id}/")
        assert download["Content-Disposition"] == disposition
        assert b"".join(download.streaming_content) == pdf_bytes()

    def test_same_original_name_twice_gives_two_files(self, technicien_client, stored_files):
        deposit(technicien_client, a_pdf("piece.pdf", "une"), a_pdf("piece.pdf", "deux"))
        first, second = Attachment.objects.all()
        assert first.file.name != second.file.name
        assert len(stored_files()) == 2
        assert first.file.read() != second.file.read()
