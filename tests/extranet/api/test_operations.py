"""The pages' operations through the API (extranet/api/operations.py, and files on messages and answers): the
owner's success, another structure's or caisse's 404, the wrong role's refusal, the state refusals, the journal."""

import errno
import os

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from extranet.api import operations
from extranet.api.throttling import PerTokenThrottle
from extranet.audit.models import AccessLog
from requests.models import Attachment, Follow, Message, Request
from structures.models import Membership
from tests.factories import (
    CaisseMembershipFactory,
    MasReferralFactory,
    MembershipFactory,
    RequestFactory,
    UserFactory,
)
from tests.helpers import api_client
from tests.requests.builders import pdf_bytes

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def generous_rate(monkeypatch):
    monkeypatch.setattr(PerTokenThrottle, "THROTTLE_RATES", {"token": "10000/minute"})


@pytest.fixture
def other_technicien(other_structure):
    return MembershipFactory(structure=other_structure).user


@pytest.fixture
def other_agent(other_caisse):
    return CaisseMembershipFactory(caisse=other_caisse).user


@pytest.fixture
def colleague(caisse):
    """Another agent of the caisse: whom a request is given to."""
    return CaisseMembershipFactory(caisse=caisse).user


@pytest.fixture
def referral(structure, caisse, technicien):
    """A MAS referral detected remotely: the caisse owes the person a confirmation letter."""
    return MasReferralFactory(request__structure=structure, request__caisse=caisse, request__author=technicien)


@pytest.fixture
def read_only_storage(monkeypatch, private_media):
    """The private folder cannot be written (refused here: CI runs as root, whom chmod would not stop)."""
    real_open = os.open

    def refusing_open(path, flags, *args, **kwargs):
        if str(path).startswith(str(private_media)) and flags & (os.O_WRONLY | os.O_RDWR):
            raise OSError(errno.EROFS, os.strerror(errno.EROFS), str(path))
        return real_open(path, flags, *args, **kwargs)

    monkeypatch.setattr(os, "open", refusing_open)


def a_pdf(name="piece.pdf", text="Pièce"):
    return SimpleUploadedFile(name, pdf_bytes(text), content_type="application/pdf")


def refusal(response, status, code):
    assert response.status_code == status, response.content[:500]
    assert response.json()["code"] == code, response.json()
    return response.json()


def journal(user, demande):
    return list(AccessLog.objects.filter(user=user, request=demande).order_by("pk").values_list("action", flat=True))


# The PDFs


class TestSummaryPdf:
    def url(self, demande):
        return f"/api/v1/requests/{demande.number}/summary.pdf"

    def test_the_pages_pdf_for_both_sides_each_download_journaled(self, demande, technicien, agent):
        for user in (technicien, agent):
            response = api_client(user).get(self.url(demande), HTTP_ACCEPT="application/pdf")
            assert response.status_code == 200
            assert response["Content-Type"] == "application/pdf"
            assert response["Content-Disposition"] == f'attachment; filename="demande-{demande.number}.pdf"'
            assert response.content.startswith(b"%PDF-")
            assert journal(user, demande) == ["pdf"]

    def test_out_of_reach_is_a_404_and_journals_nothing(self, demande, other_technicien, other_agent):
        for stranger in (other_technicien, other_agent):
            refusal(api_client(stranger).get(self.url(demande)), 404, "not_found")
        assert not AccessLog.objects.exists()

    def test_a_token_gets_no_login_redirect_and_needs_the_second_factor(self, client, demande, technicien):
        assert client.get(self.url(demande)).status_code == 401
        refusal(api_client(technicien, second_factor=False).get(self.url(demande)), 403, "second_factor_required")


class TestMasSheet:
    def test_the_referrals_sheet_journaled(self, referral, technicien, agent):
        demande = referral.request
        for user in (technicien, agent):
            response = api_client(user).get(f"/api/v1/requests/{demande.number}/mas-sheet.pdf")
            assert response.status_code == 200
            assert response["Content-Type"] == "application/pdf"
            assert response["Content-Disposition"] == f'attachment; filename="fiche-saisine-{demande.number}.pdf"'
            assert response.content.startswith(b"%PDF-")
            assert journal(user, demande) == ["mas_sheet"]

    def test_a_request_that_is_not_a_referral_has_no_sheet(self, demande, technicien):
        refusal(api_client(technicien).get(f"/api/v1/requests/{demande.number}/mas-sheet.pdf"), 404, "not_found")
        assert not AccessLog.objects.exists()

    def test_out_of_reach_is_a_404(self, referral, other_technicien, other_agent):
        for stranger in (other_technicien, other_agent):
            url = f"/api/v1/requests/{referral.request.number}/mas-sheet.pdf"
            refusal(api_client(stranger).get(url), 404, "not_found")


# Assignment and return to the queue


class TestAssign:
    def url(self, demande):
        return f"/api/v1/requests/{demande.number}/assign/"

    def test_the_administrateur_gives_a_new_request_then_gives_it_to_another_agent(
        self, demande, caisse_admin, agent, colleague
    ):
        admin = api_client(caisse_admin)
        given = admin.post(self.url(demande), {"agent": agent.pk}, format="json")
        assert given.status_code == 200, given.json()
        assert given.json()["status"] == "in_progress"
        assert given.json()["assigned_to"] == {"id": agent.pk, "name": agent.get_full_name()}
        again = admin.post(self.url(demande), {"agent": colleague.pk}, format="json")
        assert again.status_code == 200, again.json()
        demande.refresh_from_db()
        assert (demande.status, demande.assigned_to) == ("in_progress", colleague)
        # The right to resolve went with it: the new holder resolves, the former one no longer may.
        assert (
            api_client(agent).post(f"/api/v1/requests/{demande.number}/resolve/", {"answer": "Non."}).status_code
            == 403
        )

    def test_an_agent_may_not_and_nothing_changes(self, demande, agent, colleague):
        body = refusal(api_client(agent).post(self.url(demande), {"agent": colleague.pk}), 403, "not_allowed")
        assert "administrateur" in body["message"]
        demande.refresh_from_db()
        assert (demande.status, demande.assigned_to) == ("new", None)

    def test_partners_and_the_other_caisse_do_not_find_it(self, demande, technicien, other_caisse_admin, agent):
        for stranger in (technicien, other_caisse_admin):
            refusal(api_client(stranger).post(self.url(demande), {"agent": agent.pk}), 404, "not_found")
        assert Request.objects.get(pk=demande.pk).status == "new"

    def test_only_an_active_agent_of_the_requests_caisse(self, demande, caisse, caisse_admin, other_agent):
        inactive = CaisseMembershipFactory(caisse=caisse, is_active=False).user
        admin = api_client(caisse_admin)
        for candidate in (other_agent, inactive):
            body = refusal(admin.post(self.url(demande), {"agent": candidate.pk}, format="json"), 400, "invalid")
            assert body == operations.OTHER_AGENT  # the schema's example
        refusal(admin.post(self.url(demande), {"agent": "Sophie"}, format="json"), 400, "invalid")
        assert Request.objects.get(pk=demande.pk).status == "new"

    def test_a_resolved_request_is_not_given_again(self, structure, caisse, caisse_admin, colleague):
        resolved = RequestFactory(structure=structure, caisse=caisse, resolved=True)
        body = refusal(api_client(caisse_admin).post(self.url(resolved), {"agent": colleague.pk}), 409, "wrong_status")
        assert "prise en charge" in body["message"]


class TestHandBack:
    def url(self, demande):
        return f"/api/v1/requests/{demande.number}/hand-back/"

    def test_the_agent_in_charge_puts_it_back_in_the_queue(self, structure, caisse, agent):
        taken = RequestFactory(structure=structure, caisse=caisse, in_progress=agent)
        response = api_client(agent).post(self.url(taken))
        assert response.status_code == 200, response.json()
        assert (response.json()["status"], response.json()["assigned_to"]) == ("new", None)

    def test_a_new_request_is_a_409(self, demande, agent):
        body = refusal(api_client(agent).post(self.url(demande)), 409, "wrong_status")
        example = operations.WRONG_STATUS
        assert body == {**example, "message": example["message"].replace("1412600042", demande.number)}

    def test_another_agent_may_not_a_partner_does_not_find_it(self, structure, caisse, agent, colleague, technicien):
        taken = RequestFactory(structure=structure, caisse=caisse, in_progress=agent)
        refusal(api_client(colleague).post(self.url(taken)), 403, "not_allowed")
        refusal(api_client(technicien).post(self.url(taken)), 404, "not_found")
        taken.refresh_from_db()
        assert (taken.status, taken.assigned_to) == ("in_progress", agent)


# Following


class TestFollow:
    def url(self, demande):
        return f"/api/v1/requests/{demande.number}/follow/"

    def test_follow_twice_then_unfollow_twice(self, demande, technicien):
        partner = api_client(technicien)
        for _ in range(2):
            response = partner.post(self.url(demande))
            assert response.json() == {"number": demande.number, "following": True}
            assert list(Follow.objects.values_list("user", "request")) == [(technicien.pk, demande.pk)]
        for _ in range(2):
            response = partner.delete(self.url(demande))
            assert response.json() == {"number": demande.number, "following": False}
            assert not Follow.objects.exists()

    def test_the_caisse_follows_too_strangers_do_not_find_it(self, demande, agent, other_technicien, other_agent):
        assert api_client(agent).post(self.url(demande)).json()["following"] is True
        for stranger in (other_technicien, other_agent):
            refusal(api_client(stranger).post(self.url(demande)), 404, "not_found")
            refusal(api_client(stranger).delete(self.url(demande)), 404, "not_found")
        assert list(Follow.objects.values_list("user", flat=True)) == [agent.pk]


# The MAS confirmation letter


class TestMasLetterSent:
    def url(self, demande):
        return f"/api/v1/requests/{demande.number}/mas-letter-sent/"

    def test_the_agent_records_it_once(self, referral, agent, colleague):
        response = api_client(agent).post(self.url(referral.request))
        assert response.status_code == 200, response.json()
        sent_at = response.json()["mas_referral"]["confirmation_letter_sent_at"]
        assert sent_at is not None
        assert api_client(colleague).post(self.url(referral.request)).status_code == 200
        referral.refresh_from_db()
        assert referral.confirmation_letter_sent_by == agent

    def test_a_signed_consent_needs_no_letter(self, structure, caisse, agent):
        signed = MasReferralFactory(request__structure=structure, request__caisse=caisse, signed=True)
        refusal(api_client(agent).post(self.url(signed.request)), 409, "wrong_status")
        signed.refresh_from_db()
        assert signed.confirmation_letter_sent_at is None

    def test_not_a_referral_a_partner_or_the_other_caisse_is_a_404(
        self, demande, referral, agent, technicien, other_agent
    ):
        refusal(api_client(agent).post(self.url(demande)), 404, "not_found")
        for stranger in (technicien, other_agent):
            refusal(api_client(stranger).post(self.url(referral.request)), 404, "not_found")
        referral.refresh_from_db()
        assert referral.confirmation_letter_sent_at is None


# The structure's techniciens


class TestMemberReactivate:
    def url(self, membership):
        return f"/api/v1/structure/members/{membership.pk}/reactivate/"

    def test_the_gestionnaire_reactivates_a_technicien(self, structure, gestionnaire):
        leaver = MembershipFactory(structure=structure, is_active=False, user=UserFactory(is_active=False))
        response = api_client(gestionnaire).post(self.url(leaver))
        assert response.status_code == 200, response.json()
        assert (response.json()["id"], response.json()["is_active"]) == (leaver.pk, True)
        leaver.refresh_from_db()
        assert leaver.is_active and leaver.user.is_active

    def test_techniciens_only_of_ones_own_structure(self, structure, gestionnaire, other_gestionnaire):
        leaver = MembershipFactory(structure=structure, is_active=False, user=UserFactory(is_active=False))
        other = MembershipFactory(structure=structure, gestionnaire=True, is_active=False)
        refusal(api_client(other_gestionnaire).post(self.url(leaver)), 404, "not_found")
        refusal(api_client(gestionnaire).post(self.url(other)), 404, "not_found")
        assert not Membership.objects.get(pk=leaver.pk).is_active
        assert not Membership.objects.get(pk=other.pk).is_active

    def test_not_for_techniciens_nor_the_caisse(self, structure, technicien, agent):
        leaver = MembershipFactory(structure=structure, is_active=False)
        for user in (technicien, agent):
            refusal(api_client(user).post(self.url(leaver)), 403, "permission_denied")
        assert not Membership.objects.get(pk=leaver.pk).is_active


# The caisse's agents


class TestAgents:
    def test_the_caisse_staff_and_whom_a_request_may_be_given_to(
        self, demande, caisse, agent, caisse_admin, other_agent
    ):
        gone = CaisseMembershipFactory(caisse=caisse, is_active=False).user
        listed = api_client(agent).get("/api/v1/caisse/agents/")
        assert listed.status_code == 200
        rows = {row["id"]: row for row in listed.json()}
        assert set(rows) == {agent.pk, caisse_admin.pk, gone.pk}
        assert rows[caisse_admin.pk] == {
            "id": caisse_admin.pk,
            "name": caisse_admin.get_full_name(),
            "role": "admin",
            "role_label": "Administrateur caisse",
            "active": True,
        }
        assert (rows[agent.pk]["role"], rows[gone.pk]["active"]) == ("agent", False)
        # The ids are those `assign` takes.
        given = api_client(caisse_admin).post(
            f"/api/v1/requests/{demande.number}/assign/", {"agent": agent.pk}, format="json"
        )
        assert given.json()["assigned_to"] == {"id": agent.pk, "name": agent.get_full_name()}
        assert other_agent.pk not in [
            row["id"] for row in api_client(caisse_admin).get("/api/v1/caisse/agents/").json()
        ]

    def test_partners_are_refused(self, technicien, gestionnaire):
        for partner in (technicien, gestionnaire):
            refusal(api_client(partner).get("/api/v1/caisse/agents/"), 403, "permission_denied")


# Files on a message and on the answer


class TestFilesOnMessagesAndAnswers:
    def test_the_agent_sends_the_document_the_partner_downloads_it(self, demande, agent, technicien):
        sent = api_client(agent).post(
            f"/api/v1/requests/{demande.number}/messages/",
            {"body": "Voici l'attestation.", "files": [a_pdf("attestation.pdf", "Attestation"), a_pdf()]},
            format="multipart",
        )
        assert sent.status_code == 201, sent.json()
        files = sent.json()["attachments"]
        assert [file["name"] for file in files] == ["attestation.pdf", "piece.pdf"]
        assert {file["message"] for file in files} == {sent.json()["id"]}
        partner = api_client(technicien)
        listed = partner.get(f"/api/v1/requests/{demande.number}/messages/").json()
        assert [file["id"] for file in listed[0]["attachments"]] == [file["id"] for file in files]
        download = partner.get(files[0]["url"])
        assert download.status_code == 200
        assert b"".join(download.streaming_content) == pdf_bytes("Attestation")
        assert journal(technicien, demande) == ["api", "attachment"]

    # "True": what a client generated by openapi-python-client writes for a boolean part.
    @pytest.mark.parametrize("internal", ["true", "True"])
    def test_an_internal_notes_file_stays_with_the_caisse(self, demande, agent, technicien, internal):
        note = api_client(agent).post(
            f"/api/v1/requests/{demande.number}/messages/",
            {"body": "Pièce vue.", "internal": internal, "files": [a_pdf()]},
            format="multipart",
        )
        assert note.status_code == 201, note.json()
        assert note.json()["internal"] is True
        refusal(api_client(technicien).get(note.json()["attachments"][0]["url"]), 404, "not_found")

    def test_a_file_the_pages_refuse_is_refused_and_nothing_is_written(self, demande, technicien):
        fake = SimpleUploadedFile("photo.pdf", b"not a pdf at all", content_type="application/pdf")
        body = refusal(
            api_client(technicien).post(
                f"/api/v1/requests/{demande.number}/messages/",
                {"body": "Ci-joint.", "files": [fake]},
                format="multipart",
            ),
            400,
            "attachment_refused",
        )
        assert list(body["fields"]) == ["files"] and "photo.pdf" in body["fields"]["files"][0]
        assert not Message.objects.exists() and not Attachment.objects.exists()

    def test_a_text_in_a_files_place_is_refused(self, demande, technicien):
        body = refusal(
            api_client(technicien).post(
                f"/api/v1/requests/{demande.number}/messages/",
                {"body": "Ci-joint.", "files": "attestation.pdf"},
                format="multipart",
            ),
            400,
            "invalid",
        )
        assert list(body["fields"]) == ["files.0"]  # the first of the files
        assert not Message.objects.exists()

    def test_the_length_limit_counts_the_text_as_sent(self, demande, technicien):
        """Cut of its surrounding spaces (U+001E is one for Python), a text of 5001 characters would fit in 5000."""
        url = f"/api/v1/requests/{demande.number}/messages/"
        body = refusal(
            api_client(technicien).post(url, {"body": "\u001e" + "*" * 5000}, format="json"), 400, "invalid"
        )
        assert list(body["fields"]) == ["body"]
        assert not Message.objects.exists()

    def test_too_many_files_at_once(self, demande, technicien, settings):
        settings.ATTACHMENT_MAX_COUNT = 1
        body = refusal(
            api_client(technicien).post(
                f"/api/v1/requests/{demande.number}/messages/",
                {"body": "Ci-joint.", "files": [a_pdf(), a_pdf("autre.pdf")]},
                format="multipart",
            ),
            400,
            "too_many_attachments",
        )
        assert list(body["fields"]) == ["files"]
        assert not Message.objects.exists()

    def test_the_answer_with_its_document_read_by_the_partner(self, structure, caisse, agent, technicien):
        taken = RequestFactory(structure=structure, caisse=caisse, author=technicien, in_progress=agent)
        resolved = api_client(agent).post(
            f"/api/v1/requests/{taken.number}/resolve/",
            {"answer": "Vos droits sont rétablis : l'attestation est jointe.", "files": [a_pdf("attestation.pdf")]},
            format="multipart",
        )
        assert resolved.status_code == 200, resolved.json()
        assert resolved.json()["status"] == "resolved"
        partner = api_client(technicien)
        (answer,) = [m for m in partner.get(f"/api/v1/requests/{taken.number}/messages/").json() if m["answer"]]
        assert [file["name"] for file in answer["attachments"]] == ["attestation.pdf"]
        download = partner.get(answer["attachments"][0]["url"])
        assert download.status_code == 200 and b"".join(download.streaming_content).startswith(b"%PDF")

    def test_an_answer_with_a_refused_file_leaves_the_request_in_progress(self, structure, caisse, agent):
        taken = RequestFactory(structure=structure, caisse=caisse, in_progress=agent)
        fake = SimpleUploadedFile("attestation.png", b"not an image", content_type="image/png")
        refusal(
            api_client(agent).post(
                f"/api/v1/requests/{taken.number}/resolve/",
                {"answer": "Ci-joint.", "files": [fake]},
                format="multipart",
            ),
            400,
            "attachment_refused",
        )
        taken.refresh_from_db()
        assert taken.status == "in_progress" and not Attachment.objects.exists()

    def test_files_the_storage_cannot_keep_leave_nothing_written(self, structure, caisse, agent, read_only_storage):
        taken = RequestFactory(structure=structure, caisse=caisse, in_progress=agent)
        caisse_client = api_client(agent)
        for url, data in (
            (f"/api/v1/requests/{taken.number}/messages/", {"body": "Ci-joint."}),
            (f"/api/v1/requests/{taken.number}/resolve/", {"answer": "Ci-joint."}),
        ):
            response = caisse_client.post(url, {**data, "files": [a_pdf()]}, format="multipart")
            refusal(response, 503, "storage_unavailable")
        taken.refresh_from_db()
        assert taken.status == "in_progress"
        assert not Message.objects.exists() and not Attachment.objects.exists()
