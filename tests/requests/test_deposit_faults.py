"""Real faults during a deposit: what fails after the commit, a commit whose outcome the connection cut hides, a
storage that is full or read-only, the database connection killed (PostgreSQL). Whatever happens, a committed
request keeps its files and is not reported as failed; an uncommitted one leaves nothing behind; the next action
works."""

import errno
import html
import os
import random
import threading

import pytest
from django.db import OperationalError, close_old_connections, connection, connections, transaction
from django.db.backends.base.base import BaseDatabaseWrapper
from django.test import Client

from extranet.notifications.models import OutgoingEmail
from requests import services
from requests.models import Attachment, DepositKey, Request
from tests.helpers import api_client
from tests.requests.builders import a_pdf, api_deposit, create_url, form_data, pdf_document, upload

SLUG = "etude-de-dossier"
NOT_STORED = "Le dépôt des pièces jointes est momentanément impossible, rien n'a été enregistré."
ERROR_PAGE = "Une erreur est survenue"


def two_pdfs():
    return [a_pdf("releve.pdf", "Relevé"), a_pdf("avis.pdf", "Avis")]


def big_pdf(name="gros.pdf", size=400_000):
    """A valid PDF written in several chunks (Django writes 64 KB at a time)."""
    pages = {1: b"<< /Type /Catalog /Pages 2 0 R >>", 2: b"<< /Type /Pages /Kids [] /Count 0 >>"}
    return upload(name, pdf_document(pages, comment=b"%" + b"x" * size + b"\n"))


def files_on_disk(private_media):
    return sorted(path for path in private_media.rglob("*") if path.is_file())


def assert_files_of_each_attachment_are_there(private_media):
    attachments = list(Attachment.objects.all())
    assert attachments
    assert files_on_disk(private_media) == sorted(private_media / a.file.name for a in attachments)


@pytest.fixture
def browser(client, technicien, settings):
    """The technicien's browser, shown the production error page (not Django's debug page) when something fails."""
    settings.DEBUG = False
    browser = Client(raise_request_exception=False)
    browser.force_login(technicien)
    return browser


class UnreachableQueue:
    """The task queue as a cut connection leaves it: handing an email to the worker fails."""

    def enqueue(self, *args):
        raise OperationalError("server closed the connection unexpectedly")


@pytest.mark.django_db(transaction=True)
class TestAfterTheCommit:
    def test_email_hand_off_failing_after_the_commit_keeps_the_deposit_and_its_files(
        self, browser, monkeypatch, private_media, caplog
    ):
        monkeypatch.setattr("extranet.notifications.emails.deliver_email", UnreachableQueue())

        response = browser.post(create_url(SLUG), form_data(SLUG, files=two_pdfs()))

        demande = Request.objects.get()
        assert response.status_code == 302
        assert response["Location"] == f"/demandes/{demande.number}/confirmation/"
        assert Attachment.objects.filter(request=demande).count() == 2
        assert_files_of_each_attachment_are_there(private_media)
        # The acknowledgement waits in the outbox for `send_pending_emails`; the failure is in the log.
        assert OutgoingEmail.objects.get().state == OutgoingEmail.State.PENDING
        assert "server closed the connection unexpectedly" in caplog.text

    def test_any_other_failure_after_the_commit_keeps_the_files(self, browser, monkeypatch, private_media):
        """Seen by the first callback of the transaction: a later one failing cannot make its files go."""

        def then_fail():
            raise RuntimeError("after the commit")

        deposited = services.notifications.deposited

        def deposited_then_fail(demande):
            deposited(demande)
            transaction.on_commit(then_fail)

        monkeypatch.setattr(services.notifications, "deposited", deposited_then_fail)
        response = browser.post(create_url(SLUG), form_data(SLUG, files=two_pdfs()))

        assert response.status_code == 500
        assert Request.objects.count() == 1
        assert_files_of_each_attachment_are_there(private_media)


def commit_then_lose_the_connection(real_commit):
    def commit(self):
        real_commit(self)
        raise OperationalError("server closed the connection unexpectedly")

    return commit


def lose_the_connection_before_committing(self):
    raise OperationalError("server closed the connection unexpectedly")


@pytest.mark.django_db(transaction=True)
class TestCommitInDoubt:
    """The connection drops while COMMIT is under way: the client cannot tell whether it went through. The files are
    kept exactly when the database has their rows."""

    @pytest.mark.parametrize("committed", [True, False], ids=["committed", "rolled-back"])
    def test_files_follow_what_the_database_kept(self, browser, monkeypatch, private_media, committed):
        real_commit = BaseDatabaseWrapper.commit
        failing = commit_then_lose_the_connection(real_commit) if committed else lose_the_connection_before_committing
        monkeypatch.setattr(BaseDatabaseWrapper, "commit", failing)

        response = browser.post(create_url(SLUG), form_data(SLUG, files=two_pdfs()))
        monkeypatch.setattr(BaseDatabaseWrapper, "commit", real_commit)

        assert response.status_code == 500
        page = response.content.decode()
        assert ERROR_PAGE in page and "Rien n'a été enregistré" not in page
        assert "vérifiez dans vos demandes si elle a été enregistrée" in html.unescape(page)
        if committed:
            assert Request.objects.count() == 1
            assert_files_of_each_attachment_are_there(private_media)
        else:
            assert not Request.objects.exists() and not Attachment.objects.exists()
            assert files_on_disk(private_media) == []


# --- storage failures -------------------------------------------------------------------------------------------


class FullDisk:
    """A file of the private folder whose writes fail with ENOSPC once `room` bytes are written: part is on disk."""

    def __init__(self, file, room):
        self.file, self.room = file, room

    def write(self, data):
        if len(data) > self.room:
            self.file.write(data[: self.room])
            self.file.flush()
            self.room = 0
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        self.room -= len(data)
        return self.file.write(data)

    def __getattr__(self, name):
        return getattr(self.file, name)


@pytest.fixture
def disk_full_after(monkeypatch, private_media):
    """The private folder's file system fills up after `room` bytes (in all, across the files written)."""

    def fill(room):
        real_fdopen = os.fdopen
        left = {"room": room}

        def fdopen(fd, *args, **kwargs):
            opened = real_fdopen(fd, *args, **kwargs)
            if not os.readlink(f"/proc/self/fd/{fd}").startswith(str(private_media)):
                return opened
            full = FullDisk(opened, left["room"])
            real_write = full.write

            def write(data):
                try:
                    return real_write(data)
                finally:
                    left["room"] = full.room

            full.write = write
            return full

        monkeypatch.setattr(os, "fdopen", fdopen)

    return fill


@pytest.fixture(params=[errno.EROFS, errno.EACCES], ids=["read-only", "permission-denied"])
def unwritable_storage(request, monkeypatch, private_media):
    """The private folder cannot be written (CI runs as root, which chmod would not stop: the refusal is made)."""
    real_open = os.open

    def refusing_open(path, flags, *args, **kwargs):
        if str(path).startswith(str(private_media)) and flags & (os.O_WRONLY | os.O_RDWR):
            raise (PermissionError if request.param == errno.EACCES else OSError)(
                request.param, os.strerror(request.param), str(path)
            )
        return real_open(path, flags, *args, **kwargs)

    monkeypatch.setattr(os, "open", refusing_open)


@pytest.mark.django_db
class TestStorageFailure:
    def test_disk_full_in_the_middle_of_the_second_file_leaves_no_file(
        self, technicien_client, disk_full_after, private_media, mailoutbox
    ):
        disk_full_after(500_000)  # the first file (~400 KB) fits, the second stops half-way

        response = technicien_client.post(
            create_url(SLUG), form_data(SLUG, files=[big_pdf("a.pdf"), big_pdf("b.pdf")])
        )

        assert response.status_code == 200
        assert response.context["form"].errors["attachments"] == [NOT_STORED]
        assert NOT_STORED in html.unescape(response.content.decode())
        assert not Request.objects.exists() and not Attachment.objects.exists() and not DepositKey.objects.exists()
        assert files_on_disk(private_media) == [] and mailoutbox == []

    def test_disk_full_on_the_api_deposit(self, technicien, disk_full_after, private_media):
        disk_full_after(100_000)
        data = form_data(SLUG, files=[big_pdf()])

        response = api_deposit(api_client(technicien), "case_review", data)

        assert response.status_code == 503
        assert response.json() == {"code": "storage_unavailable", "message": NOT_STORED}
        assert not Request.objects.exists() and files_on_disk(private_media) == []

    def test_unwritable_storage_on_the_deposit_page(self, technicien_client, unwritable_storage, private_media):
        response = technicien_client.post(create_url(SLUG), form_data(SLUG))

        assert response.status_code == 200
        assert response.context["form"].errors["attachments"] == [NOT_STORED]
        assert not Request.objects.exists() and files_on_disk(private_media) == []

    def test_unwritable_storage_on_the_api_attachments(self, technicien, demande, unwritable_storage, private_media):
        response = api_client(technicien).post(
            f"/api/v1/requests/{demande.number}/attachments/", {"files": two_pdfs()}, format="multipart"
        )

        assert response.status_code == 503
        assert response.json() == {"code": "storage_unavailable", "message": NOT_STORED}
        assert not Attachment.objects.exists() and files_on_disk(private_media) == []

    def test_unwritable_storage_on_the_message_form(self, technicien_client, demande, unwritable_storage):
        response = technicien_client.post(
            f"/demandes/{demande.number}/messages/", {"body": "Ci-joint.", "attachments": two_pdfs()}, follow=True
        )

        assert NOT_STORED in html.unescape(response.content.decode())
        assert not demande.messages.exists() and not Attachment.objects.exists()

    def test_the_next_deposit_works_once_the_storage_is_back(
        self, technicien_client, disk_full_after, monkeypatch, private_media
    ):
        disk_full_after(0)
        assert technicien_client.post(create_url(SLUG), form_data(SLUG)).status_code == 200
        monkeypatch.undo()

        response = technicien_client.post(create_url(SLUG), form_data(SLUG))

        assert response.status_code == 302
        assert_files_of_each_attachment_are_there(private_media)


# --- the database connection killed (PostgreSQL) ---------------------------------------------------------------


def terminate(pid):
    """pg_terminate_backend from another connection, as an administrator or a failover would."""
    killer = connections.create_connection("default")
    try:
        with killer.cursor() as cursor:
            cursor.execute("SELECT pg_terminate_backend(%s)", [pid])
    finally:
        killer.close()


def backend_pid():
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        return cursor.fetchone()[0]


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
class TestConnectionKilled:
    def test_killed_while_the_files_are_written(self, browser, monkeypatch, private_media):
        real_save = Attachment.file.field.storage._save

        def save_then_lose_the_connection(name, content):
            stored = real_save(name, content)
            terminate(backend_pid())
            return stored

        monkeypatch.setattr(Attachment.file.field.storage, "_save", save_then_lose_the_connection)
        response = browser.post(create_url(SLUG), form_data(SLUG, files=two_pdfs()))
        monkeypatch.undo()

        assert response.status_code == 500 and ERROR_PAGE in response.content.decode()
        assert not Request.objects.exists() and not Attachment.objects.exists()
        assert files_on_disk(private_media) == []
        # The next action works, on a new connection.
        again = browser.post(create_url(SLUG), form_data(SLUG, files=two_pdfs()))
        assert again.status_code == 302
        assert Request.objects.get().number.endswith("00001")  # the killed deposit gave its number back
        assert_files_of_each_attachment_are_there(private_media)

    def test_killed_while_the_email_is_handed_to_the_worker(self, browser, monkeypatch, private_media, settings):
        """After the commit, the email's task is written to the database queue (production's): the connection is
        killed right then."""
        from django_tasks_db.models import DBTaskResult

        from extranet.notifications import emails

        settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
        real_task = emails.deliver_email

        class KilledQueue:
            def enqueue(self, *args):
                terminate(backend_pid())
                return real_task.enqueue(*args)

        monkeypatch.setattr(emails, "deliver_email", KilledQueue())
        response = browser.post(create_url(SLUG), form_data(SLUG, files=two_pdfs()))
        monkeypatch.undo()
        close_old_connections()  # as Django does at the end of each request (the test client leaves it to the test)

        demande = Request.objects.get()
        assert response.status_code == 302
        assert response["Location"] == f"/demandes/{demande.number}/confirmation/"
        assert_files_of_each_attachment_are_there(private_media)
        # The hand-off failed (no task queued); the email waits in the outbox for `send_pending_emails`.
        assert OutgoingEmail.objects.get().state == OutgoingEmail.State.PENDING
        assert not DBTaskResult.objects.exists()
        assert browser.get(response["Location"]).status_code == 200


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_storm_of_killed_connections_never_loses_committed_files(browser, private_media, settings):
    """Deposits with two files while their connection is killed at a moment drawn at random (seeded), emails queued
    in the database as in production: whatever the moment, every committed request has its files, no file is left
    without its request, and a committed deposit is never answered with "nothing saved"."""
    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
    rounds, outcomes = 30, []
    for round_ in range(rounds):
        pid, delay = backend_pid(), random.Random(round_).uniform(0, 0.25)
        killer = threading.Timer(delay, terminate, args=[pid])
        before = Request.objects.count()
        killer.start()
        response = browser.post(create_url("contacter"), form_data("contacter", files=two_pdfs()))
        killer.join()
        close_old_connections()
        committed = Request.objects.count() > before
        outcomes.append((response.status_code, committed))
        if response.status_code == 500:
            assert "Rien n'a été enregistré" not in response.content.decode()
        if not committed:
            assert response.status_code == 500, response.status_code
    # What the database holds and what the disk holds are the same files, whatever was cut.
    assert sorted(Attachment.objects.values_list("file", flat=True)) == sorted(
        path.relative_to(private_media).as_posix() for path in files_on_disk(private_media)
    )
    for demande in Request.objects.all():
        assert demande.number and demande.attachments.count() == 2
    # The storm hit both sides of the commit (the seeds are fixed: the same draw each run).
    assert {committed for _, committed in outcomes} == {True, False}, outcomes
