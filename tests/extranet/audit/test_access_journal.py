from datetime import timedelta

import pytest
import time_machine
from django.db import connection, transaction
from django.db.utils import DatabaseError
from django.utils import timezone

from extranet.audit.models import AccessLog, AppendOnlyError, record_access
from extranet.audit.retention import purge_access_log
from requests.models import Attachment
from tests.factories import CaisseMembershipFactory, RequestFactory
from tests.helpers import api_client, text
from tests.requests.builders import a_pdf


def entries():
    return list(AccessLog.objects.order_by("pk").values_list("user_id", "action", "target", "request_id"))


def stored_pdf(demande, name, by):
    attachment = Attachment(
        request=demande, original_name=name, content_type="application/pdf", size=10, sha256="0" * 64, uploaded_by=by
    )
    attachment.file.save(name, a_pdf(name), save=False)
    attachment.save()
    return attachment


@pytest.mark.django_db
class TestReadsAreRecorded:
    def test_detail_and_pdf_by_partner_and_agent(self, client, client_factory, demande, technicien, agent):
        client.force_login(technicien)
        client.get(f"/demandes/{demande.number}/")
        staff = client_factory()
        staff.force_login(agent)
        staff.get(f"/demandes/{demande.number}/recapitulatif.pdf")
        assert entries() == [
            (technicien.pk, "detail", demande.number, demande.pk),
            (agent.pk, "pdf", demande.number, demande.pk),
        ]
        assert {entry.caisse_id for entry in AccessLog.objects.all()} == {demande.caisse_id}

    def test_attachment_download(self, client, demande, technicien, private_media):
        attachment = stored_pdf(demande, "avis.pdf", technicien)
        client.force_login(technicien)
        client.get(f"/demandes/{demande.number}/pieces/{attachment.public_id}/")
        assert entries() == [(technicien.pk, "attachment", f"{demande.number} — pièce n° {attachment.pk}", demande.pk)]

    @pytest.mark.parametrize("through", ["page", "api"])
    def test_a_file_is_journaled_whoever_it_names_on_the_pages_and_the_api_alike(
        self, client, structure, caisse, technicien, private_media, through
    ):
        """A contact request names nobody, but its files may: their download is journaled (the API used to skip it)."""
        contact = RequestFactory(structure=structure, caisse=caisse, author=technicien, contact=True)
        attachment = stored_pdf(contact, "courrier.pdf", technicien)
        if through == "page":
            client.force_login(technicien)
            response = client.get(f"/demandes/{contact.number}/pieces/{attachment.public_id}/")
        else:
            response = api_client(technicien).get(
                f"/api/v1/requests/{contact.number}/attachments/{attachment.public_id}/"
            )
        assert response.status_code == 200
        assert entries() == [(technicien.pk, "attachment", f"{contact.number} — pièce n° {attachment.pk}", contact.pk)]

    def test_a_request_without_a_person_is_not_personal_data(self, client, structure, caisse, technicien):
        contact = RequestFactory(structure=structure, caisse=caisse, author=technicien, contact=True)
        client.force_login(technicien)
        client.get(f"/demandes/{contact.number}/")
        assert entries() == []

    def test_export_with_personal_data(self, client, demande, caisse_admin):
        client.force_login(caisse_admin)
        response = client.get("/caisse/demandes/export.csv?donnees_personnelles=1&statut=tous")
        b"".join(response.streaming_content)
        [(user_id, action, target, request_id)] = entries()
        assert (user_id, action, request_id) == (caisse_admin.pk, "export", None)
        assert target.startswith("export n° ")

    def test_outsiders_leave_no_entry_and_see_nothing(self, client, demande, other_gestionnaire):
        client.force_login(other_gestionnaire)
        assert client.get(f"/demandes/{demande.number}/").status_code == 404
        assert entries() == []


@pytest.mark.django_db
class TestAppendOnly:
    def test_the_model_refuses_changes_and_deletions(self, demande, technicien):
        entry = record_access(technicien, "detail", caisse=demande.caisse, request=demande)
        entry.target = "autre chose"
        with pytest.raises(AppendOnlyError):
            entry.save()
        with pytest.raises(AppendOnlyError):
            entry.delete()
        with pytest.raises(AppendOnlyError):
            AccessLog.objects.filter(pk=entry.pk).update(target="x")
        with pytest.raises(AppendOnlyError):
            AccessLog.objects.all().delete()
        assert AccessLog.objects.get(pk=entry.pk).target == demande.number

    @pytest.mark.postgres
    def test_postgresql_refuses_updates_and_early_deletions(self, demande, technicien):
        entry = record_access(technicien, "detail", caisse=demande.caisse, request=demande)
        for statement in (
            "UPDATE audit_accesslog SET target = 'x' WHERE id = %s",
            "DELETE FROM audit_accesslog WHERE id = %s",
        ):
            with (
                pytest.raises(DatabaseError, match="append-only"),
                transaction.atomic(),
                connection.cursor() as cursor,
            ):
                cursor.execute(statement, [entry.pk])
        assert AccessLog.objects.filter(pk=entry.pk, target=demande.number).exists()


@pytest.mark.django_db
def test_purged_after_twelve_months(demande, technicien):
    read_at = timezone.make_aware(timezone.datetime(2025, 3, 10, 9, 0))
    with time_machine.travel(read_at):
        record_access(technicien, "detail", caisse=demande.caisse, request=demande)
    with time_machine.travel(read_at + timedelta(days=364)):
        assert purge_access_log() == 0
    with time_machine.travel(read_at + timedelta(days=367)):
        assert purge_access_log() == 1
        assert purge_access_log() == 0
    assert not AccessLog.objects.exists()


@pytest.mark.django_db
class TestJournalPage:
    def test_administrateur_reads_the_journal_of_the_caisse(self, client, demande, technicien, caisse_admin):
        record_access(technicien, "detail", caisse=demande.caisse, request=demande)
        client.force_login(caisse_admin)
        page = text(client.get("/caisse/journal-des-acces/"))
        assert f"{technicien.get_full_name()} ({technicien.email}) Consultation de la demande {demande.number}" in page

    def test_other_caisse_entries_are_not_shown(self, client, demande, technicien, other_caisse_admin):
        record_access(technicien, "detail", caisse=demande.caisse, request=demande)
        client.force_login(other_caisse_admin)
        assert demande.number not in text(client.get("/caisse/journal-des-acces/"))

    @pytest.mark.parametrize("role", ["agent", "technicien", "gestionnaire"])
    def test_only_administrateurs(self, client, request, role):
        client.force_login(request.getfixturevalue(role))
        assert client.get("/caisse/journal-des-acces/").status_code == 403

    def test_agent_of_the_caisse_is_recorded_too(self, client, demande, caisse):
        agent = CaisseMembershipFactory(caisse=caisse).user
        client.force_login(agent)
        client.get(f"/demandes/{demande.number}/")
        assert entries() == [(agent.pk, "detail", demande.number, demande.pk)]
