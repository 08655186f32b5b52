"""Messages and attachments are named outside the database by random ids: their integer keys count every message and
file of the site, internal notes' included, so a partner who saw messages 9 and 11 knew of a note 10."""

import re
import uuid

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from requests import services
from requests.attachments import inspect_upload
from requests.models import Attachment, Message
from tests.helpers import api_client
from tests.requests.builders import a_pdf

pytestmark = pytest.mark.django_db

UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$")


def checked(upload):
    return (upload, *inspect_upload(upload))


@pytest.fixture
def exchange(demande, technicien, agent):
    """A partner's message, an internal note, a caisse message with a file: the note sits between the two."""
    services.take_charge(demande, agent=agent)
    first = services.post_message(demande, author=technicien, body="Bonjour")
    note = services.post_message(demande, author=agent, body="Note entre agents", internal=True)
    last = services.post_message(demande, author=agent, body="Voici", files=[checked(a_pdf("piece.pdf"))])
    return first, note, last


def test_the_api_names_messages_and_files_by_random_ids(technicien, demande, exchange):
    first, note, last = exchange
    partner = api_client(technicien)
    messages = partner.get(f"/api/v1/requests/{demande.number}/messages/").json()
    assert [message["body"] for message in messages] == ["Bonjour", "Voici"]
    ids = [message["id"] for message in messages]
    assert all(UUID.match(value) for value in ids), ids
    assert ids == [str(first.public_id), str(last.public_id)]
    assert str(first.pk) not in ids and str(last.pk) not in ids
    file = messages[1]["attachments"][0]
    attachment = Attachment.objects.get()
    assert file["id"] == str(attachment.public_id) and file["message"] == str(last.public_id)
    assert file["url"].endswith(f"/api/v1/requests/{demande.number}/attachments/{attachment.public_id}/")
    listed = partner.get(f"/api/v1/requests/{demande.number}/attachments/").json()
    assert [item["id"] for item in listed] == [str(attachment.public_id)]
    assert partner.get(file["url"]).status_code == 200


def test_the_integer_keys_no_longer_address_anything(technicien, technicien_client, demande, exchange):
    attachment = Attachment.objects.get()
    assert technicien_client.get(f"/demandes/{demande.number}/pieces/{attachment.pk}/").status_code == 404
    partner = api_client(technicien)
    assert partner.get(f"/api/v1/requests/{demande.number}/attachments/{attachment.pk}/").status_code == 404
    assert partner.get(f"/api/v1/requests/{demande.number}/attachments/{uuid.uuid4()}/").status_code == 404


def test_the_page_links_files_by_their_random_id(technicien_client, demande, exchange):
    attachment = Attachment.objects.get()
    html = technicien_client.get(f"/demandes/{demande.number}/").content.decode()
    assert f'href="/demandes/{demande.number}/pieces/{attachment.public_id}/"' in html
    assert f"/pieces/{attachment.pk}/" not in html
    download = technicien_client.get(f"/demandes/{demande.number}/pieces/{attachment.public_id}/")
    assert download.status_code == 200


def test_every_message_and_file_has_its_own_id(demande, exchange):
    assert Message.objects.values("public_id").distinct().count() == Message.objects.count() == 3
    assert Attachment.objects.filter(public_id__isnull=False).count() == 1


@pytest.mark.django_db(transaction=True)
def test_the_migration_gives_existing_rows_distinct_ids(demande, exchange):
    """Rows written before the field existed: each gets its own id (a default computed once would give them all
    the same one, and the unique index would refuse it)."""
    before = ("requests", "0012_handover_hand_back_dispatch")
    after = ("requests", "0015_public_ids")
    executor = MigrationExecutor(connection)
    latest = executor.loader.graph.leaf_nodes()
    try:
        executor.migrate([before])
        executor = MigrationExecutor(connection)
        executor.migrate([after])
        # Read as of that migration: the model's later columns (0016 on) are not there yet.
        ids = list(Message.objects.values_list("public_id", flat=True))
        attachment_id = Attachment.objects.values_list("public_id", flat=True).get()
    finally:
        # The database shared by the tests that follow goes back to today's tables (this test commits).
        MigrationExecutor(connection).migrate(latest)
    assert len(ids) == 3 and len(set(ids)) == 3 and all(isinstance(value, uuid.UUID) for value in ids)
    assert attachment_id not in ids
