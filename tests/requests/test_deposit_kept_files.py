"""Files kept across a deposit form's errors (requests/staging.py), and the MAS referral started from « Signaler »."""

import os
import re
from datetime import timedelta

import pytest
from django.utils import timezone

from requests import staging
from requests.models import Attachment, MasReferral, Request, StagedFile
from tests.factories import MembershipFactory
from tests.requests.builders import MAS_REFERRAL_URL, a_pdf, create_url, form_data, referral_data, upload

KEPT = re.compile(r'name="(\w+_deja_joints)" value="([0-9a-f-]{36})"')


def stage_one(owner, name="justificatif.pdf"):
    return staging.stage(owner=owner, field="attachments", files=[(a_pdf(name), "application/pdf", "0" * 64)])


def kept_on_the_page(response):
    """(name, id) of each file the page shows as already joined, as its box sends it back."""
    return KEPT.findall(response.content.decode())


@pytest.mark.django_db
class TestKeptAcrossErrors:
    def test_a_checked_file_is_kept_and_shown_after_another_fields_error(self, technicien_client, stored_files):
        data = form_data("signaler", files=[a_pdf("bilan.pdf")], person_last_name="")
        response = technicien_client.post(create_url("signaler"), data)
        assert response.status_code == 200 and "person_last_name" in response.context["form"].errors
        page = response.content.decode()
        assert "bilan.pdf" in page and "déjà joint" in page
        ((name, public_id),) = kept_on_the_page(response)
        assert name == "attachments_deja_joints"
        staged = StagedFile.objects.get()
        assert str(staged.public_id) == public_id and staged.original_name == "bilan.pdf"
        assert stored_files() == [staged.file.name] and staged.file.name.startswith("staged/")
        assert not Request.objects.exists()

    def test_the_deposit_attaches_the_kept_file_and_removes_it(self, technicien_client, technicien, stored_files):
        first = technicien_client.post(
            create_url("etude-de-dossier"), form_data("etude-de-dossier", files=[a_pdf("avis.pdf")], description="")
        )
        ((name, public_id),) = kept_on_the_page(first)
        data = form_data("etude-de-dossier", files=[]) | {name: public_id}
        data.pop("attachments", None)
        response = technicien_client.post(create_url("etude-de-dossier"), data)
        assert response.status_code == 302
        attachment = Attachment.objects.get()
        assert attachment.original_name == "avis.pdf" and attachment.request == Request.objects.get()
        assert attachment.uploaded_by == technicien
        assert attachment.file.name.startswith("attachments/") and attachment.file.read().startswith(b"%PDF-")
        assert not StagedFile.objects.exists()
        assert stored_files() == [attachment.file.name]

    def test_a_refused_file_is_not_kept_but_the_accepted_one_is(self, technicien_client):
        files = [a_pdf("bon.pdf"), upload("faux.pdf", b"not a pdf")]
        response = technicien_client.post(create_url("signaler"), form_data("signaler", files=files))
        assert "attachments" in response.context["form"].errors
        assert [staged.original_name for staged in StagedFile.objects.all()] == ["bon.pdf"]
        assert len(kept_on_the_page(response)) == 1

    def test_an_unticked_kept_file_is_not_attached(self, technicien_client):
        first = technicien_client.post(create_url("signaler"), form_data("signaler", files=[a_pdf()], description=""))
        assert kept_on_the_page(first)
        response = technicien_client.post(create_url("signaler"), form_data("signaler"))
        assert response.status_code == 302
        assert not Attachment.objects.exists()

    def test_another_users_kept_file_is_refused(self, technicien_client, structure):
        colleague = MembershipFactory(structure=structure).user
        (theirs,) = staging.stage(
            owner=colleague, field="attachments", files=[(a_pdf("secret.pdf"), "application/pdf", "0" * 64)]
        )
        data = form_data("signaler") | {"attachments_deja_joints": str(theirs[0].public_id)}
        response = technicien_client.post(create_url("signaler"), data)
        assert response.status_code == 200
        assert response.context["form"].errors["attachments"] == [
            "Un fichier déjà joint n'est plus disponible (il n'est gardé que quelques heures) : choisissez-le de "
            "nouveau."
        ]
        assert "secret.pdf" not in response.content.decode()
        assert not Request.objects.exists() and StagedFile.objects.get().owner == colleague

    def test_an_expired_kept_file_is_refused_then_purged(self, technicien_client, technicien, stored_files):
        first = technicien_client.post(create_url("signaler"), form_data("signaler", files=[a_pdf()], description=""))
        ((name, public_id),) = kept_on_the_page(first)
        # As if typed hours ago (the session itself would have ended meanwhile: moving the clock signs out).
        StagedFile.objects.update(created_at=timezone.now() - staging.KEPT_FOR - timedelta(minutes=1))
        response = technicien_client.post(create_url("signaler"), form_data("signaler") | {name: public_id})
        assert "attachments" in response.context["form"].errors
        assert staging.purge_expired() == 1
        assert not StagedFile.objects.exists() and stored_files() == []

    def test_the_purge_sweeps_old_files_without_a_row(self, technicien, private_media, stored_files):
        (orphan,) = stage_one(technicien)
        (recent,) = stage_one(technicien)
        StagedFile.objects.filter(pk=orphan[0].staged.pk).delete()  # its file left behind
        old = (timezone.now() - staging.KEPT_FOR - timedelta(minutes=1)).timestamp()
        os.utime(private_media / orphan[0].staged.file.name, (old, old))
        assert staging.purge_expired() == 0
        assert stored_files() == [recent[0].staged.file.name]

    def test_the_purge_keeps_recent_files(self, technicien):
        stage_one(technicien)
        assert staging.purge_expired() == 0 and StagedFile.objects.count() == 1

    def test_the_signed_sheet_is_kept_in_its_own_field(self, technicien_client, commit):
        data = referral_data(consent_mode="signed", notice_given="", consent_document=[a_pdf("fiche-signee.pdf")])
        response = technicien_client.post(MAS_REFERRAL_URL, data | {"detector_email": ""})
        assert "detector_email" in response.context["form"].errors
        ((name, public_id),) = kept_on_the_page(response)
        assert name == "consent_document_deja_joints"
        data.pop("consent_document")
        with commit():
            deposited = technicien_client.post(MAS_REFERRAL_URL, data | {name: public_id})
        assert deposited.status_code == 302
        referral = MasReferral.objects.get()
        assert referral.consent_document.original_name == "fiche-signee.pdf"
        assert not StagedFile.objects.exists()


@pytest.mark.django_db
class TestMasCarryOver:
    def test_choosing_the_mas_motif_opens_the_referral_with_what_was_typed(self, technicien_client):
        data = form_data("signaler", motif="mas_referral", files=[a_pdf("courrier.pdf")])
        response = technicien_client.post(create_url("signaler"), data)
        assert response.status_code == 200
        assert response.templates[0].name == "requests/mas_form.html"
        form = response.context["form"]
        assert not form.is_bound and not form.errors
        for name in ("person_civility", "person_last_name", "person_first_name", "person_birth_date", "person_nir"):
            assert form[name].value() == data[name], name
        page = response.content.decode()
        assert f'action="{MAS_REFERRAL_URL}"' in page
        # The description has no field in the referral: shown, not lost unseen.
        assert "Ce que vous aviez saisi est repris ci-dessous" in page
        assert data["description"] in page and "Description de la situation" in page
        assert [n for n, _ in kept_on_the_page(response)] == ["attachments_deja_joints"] and "courrier.pdf" in page
        assert not Request.objects.exists()

    def test_nothing_typed_nothing_said(self, technicien_client):
        response = technicien_client.post(create_url("signaler"), {"motif": "mas_referral", "caisse": "331"})
        assert not response.context["form"].carried
        assert "Ce que vous aviez saisi" not in response.content.decode()

    def test_a_refused_file_is_said_not_carried(self, technicien_client):
        files = [a_pdf("bon.pdf"), upload("faux.pdf", b"not a pdf")]
        response = technicien_client.post(
            create_url("signaler"), form_data("signaler", motif="mas_referral", files=files)
        )
        form = response.context["form"]
        assert len(form.files_refused) == 1 and "« faux.pdf »" in form.files_refused[0]
        assert "Fichiers non repris" in response.content.decode()
        assert [staged.original_name for staged in StagedFile.objects.all()] == ["bon.pdf"]

    def test_the_carried_referral_deposits_with_the_kept_file(self, technicien_client, commit):
        carried = technicien_client.post(
            create_url("signaler"), form_data("signaler", motif="mas_referral", files=[a_pdf("courrier.pdf")])
        )
        ((name, public_id),) = kept_on_the_page(carried)
        with commit():
            response = technicien_client.post(MAS_REFERRAL_URL, referral_data() | {name: public_id})
        assert response.status_code == 302
        assert [a.original_name for a in Request.objects.get().attachments.all()] == ["courrier.pdf"]


@pytest.mark.django_db
def test_files_that_cannot_be_kept_are_asked_for_again(technicien_client, monkeypatch, stored_files):
    from requests.models import private_storage

    def refuse(name, content):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(private_storage, "_save", refuse)
    response = technicien_client.post(create_url("signaler"), form_data("signaler", files=[a_pdf()], description=""))
    assert response.status_code == 200
    assert response.context["form"].errors["attachments"] == [
        "Les fichiers joints n'ont pas pu être gardés pour le prochain envoi : choisissez-les de nouveau."
    ]
    assert not StagedFile.objects.exists() and stored_files() == [] and not kept_on_the_page(response)
