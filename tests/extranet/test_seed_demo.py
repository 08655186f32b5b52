"""The demo (`manage.py seed_demo`, extranet/management/commands/seed_demo.py and requests/demo.py): one account
per role, idempotent, and six weeks of a working caisse that every page shows.

The demo is seeded once for the tests of `TestTheSeededDemo` (seeding is most of each one's setup: a second or two,
nine times); the one test that needs a database without it stays outside the class."""

import contextlib
import io
import re
from collections import Counter

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.db.models import Count
from django.test import override_settings
from django.utils import timezone

from extranet.accounts.models import User
from extranet.notifications.models import OutgoingEmail
from requests import deadlines
from requests.attachments import inspect_upload
from requests.models import Attachment, Follow, Kind, MasReferral, Message, Request, Status, StatusChange
from requests.nir import nir_birth_mismatch, validate_nir
from structures.models import Caisse, CaisseMembership, Convention, Membership, Structure
from tests.helpers import built_once, sign_in, text

SEEDED = (
    Caisse,
    Structure,
    Convention,
    User,
    Membership,
    CaisseMembership,
    Request,
    StatusChange,
    Message,
    Attachment,
    MasReferral,
    Follow,
)


@pytest.mark.django_db
def test_seed_demo_without_requests_creates_the_accounts_only():
    output = io.StringIO()
    call_command("seed_demo", "--no-requests", stdout=output)
    assert User.objects.filter(email__endswith="@demo.example").count() == 6
    assert not Request.objects.exists()
    assert output.getvalue().rstrip().endswith("Aucune demande créée (--no-requests).")


def _on(moment):
    return timezone.localdate(moment)


class SeededDemo:
    def __init__(self, output, counts):
        self.output = output  # what the first run printed, on a database without the demo
        self.counts = counts  # the rows of SEEDED after it


@pytest.fixture(scope="class")
def demo_files(tmp_path_factory):
    return tmp_path_factory.mktemp("demo-private")


@pytest.fixture(scope="class")
def seeded_demo(django_db_setup, django_db_blocker, demo_files):
    """`seed_demo` run once, on the empty test database, in a transaction rolled back after the class's tests. Each
    test runs in a savepoint of it (pytest-django's `db`, see `seeded`) rolled back after it: each starts from the demo
    just as the command left it, as when it seeded it itself, whatever an earlier test changed (a second run, a
    sign-in)."""

    def build():
        output = io.StringIO()
        # What the command prints goes to sys.stdout, as from a terminal.
        with contextlib.redirect_stdout(output):
            call_command("seed_demo")
        return SeededDemo(output.getvalue(), [model.objects.count() for model in SEEDED])

    with override_settings(PRIVATE_MEDIA_ROOT=demo_files):
        yield from built_once(django_db_blocker, build)


class TestTheSeededDemo:
    @pytest.fixture
    def private_media(self, settings, demo_files):
        """The demo's files stay where it was seeded (the suite's `private_media` gives each test a new folder)."""
        settings.PRIVATE_MEDIA_ROOT = demo_files
        return demo_files

    @pytest.fixture
    def seeded(self, seeded_demo, db):
        return seeded_demo

    def test_seed_demo_is_idempotent_and_gives_one_account_per_role(self, seeded):
        second_run = io.StringIO()
        with contextlib.redirect_stdout(second_run):
            call_command("seed_demo")
        counts = seeded.counts
        assert [model.objects.count() for model in SEEDED] == counts
        assert counts[:3] == [2, 3, 4]
        assert sorted(Membership.objects.values_list("role", flat=True)) == [
            "gestionnaire",
            "technicien",
            "technicien",
        ]
        assert sorted(CaisseMembership.objects.values_list("role", flat=True)) == ["admin", "agent", "agent"]
        assert sorted(Structure.objects.values_list("headcount", flat=True)) == [8, 18, 40]
        output = seeded.output + second_run.getvalue()
        assert "technicien@demo.example" in output and "Demo-Partenaires-2026" in output
        # How to pass the second factor: the application key of the caisse accounts, and their backup codes.
        assert "MRSW23ZNMVZXAYLDMUWXAYLSORXGK4TT" in output
        assert re.search(r"agent@demo\.example\s+([a-z2-7]{8} ){9}[a-z2-7]{8}", output)
        # After the logins, what was created; the second run created nothing and says so.
        statuses = Counter(Request.objects.values_list("status", flat=True))
        summary = (
            f"{Request.objects.count()} demandes créées : {statuses['new']} nouvelles, {statuses['in_progress']} "
            f"prises en charge, {statuses['resolved']} résolues ; 2 caisses, 2 structures."
        )
        first_run, second_run = output.split("Données de démonstration prêtes.")[1:]
        assert first_run.rstrip().endswith(summary)
        assert (
            second_run.rstrip().splitlines()[-1].startswith("Aucune demande créée : les structures de démonstration")
        )
        # Nothing queued for the console: the story's emails were "sent" at their time, they do not bury the logins.
        assert not OutgoingEmail.objects.exclude(state=OutgoingEmail.State.SENT).exists()

    def test_seed_demo_looks_like_a_working_caisse(self, seeded):
        """Both structures and both caisses at work, over weeks: every kind in every status, late requests as the
        queue counts them, MAS referrals under both consent modes, exchanges both ways, internal notes, answers with
        files."""
        demo = list(Request.objects.select_related("caisse", "structure").order_by("created_at"))
        assert len(demo) >= 40
        assert {(r.structure.siret, r.caisse.code) for r in demo} == {
            ("31834567800011", "331"),
            ("31834567800011", "421"),
            ("77530082800016", "331"),
        }
        by_kind_and_status = Counter((r.kind, r.status) for r in demo)
        for kind in Kind.values:
            assert sum(by_kind_and_status[kind, status] for status in Status.values) >= 5, kind
        for status in Status.values:
            assert sum(by_kind_and_status[kind, status] for kind in Kind.values) >= 10, status
            assert len({r.caisse.code for r in demo if r.status == status}) == 2, status
            assert len({r.structure_id for r in demo if r.status == status}) == 2, status
        # A history of several weeks, numbered in the order of deposit within each caisse and year.
        today = timezone.localdate()
        assert (today - _on(demo[0].created_at)).days >= 28 and (today - _on(demo[-1].created_at)).days <= 1
        for caisse in ("331", "421"):
            numbers = [r.number for r in demo if r.caisse.code == caisse]
            assert numbers == sorted(numbers)
        assert all(r.number[:2] == f"{_on(r.created_at):%y}" for r in demo)

        # Late, as the queue says: in the page (Python) and in its "en retard" filter (database) alike.
        overdue = [r for r in demo if deadlines.is_overdue(r)]
        assert {r.pk for r in overdue} == set(
            Request.objects.filter(deadlines.per_calendar(lambda c: deadlines.overdue_q(calendar=c))).values_list(
                "pk", flat=True
            )
        )
        assert Counter(r.status for r in overdue).keys() == {"new", "in_progress"}
        assert {r.caisse.code for r in overdue} == {"331", "421"}
        assert any(r.status == "in_progress" and not deadlines.is_overdue(r) for r in demo)

        # The log and the exchanges follow the deposit, in the past; resolved requests were answered once.
        now = timezone.now()
        for r in demo:
            times = [c.at for c in r.status_changes.all()] + [m.created_at for m in r.messages.all()]
            assert all(r.created_at <= at <= now for at in times), r.number
            assert [c.to_status for c in r.status_changes.all()][-1] == r.status
            assert r.messages.filter(is_answer=True).count() == (r.status == "resolved")
        messages = Message.objects.all()
        assert messages.filter(side="partner").exists() and messages.filter(side="caisse", is_answer=False).exists()
        assert messages.filter(is_internal=True).exists()
        assert Request.objects.filter(messages__side="partner").filter(messages__side="caisse").distinct().count() >= 5
        assert Attachment.objects.filter(message__is_answer=True).exists()
        assert StatusChange.objects.filter(from_status="in_progress", to_status="in_progress").exists()  # reassigned
        assert Follow.objects.exists()

        # MAS referrals: the signed sheet attached, or consent at a distance with the caisse's letter, sent or to send.
        referrals = list(MasReferral.objects.select_related("request", "consent_document"))
        signed = [ref for ref in referrals if ref.consent_mode == "signed"]
        remote = [ref for ref in referrals if ref.consent_mode == "remote"]
        assert signed and remote and all(ref.request.motif == "mas_referral" for ref in referrals)
        assert all(ref.consent_document and ref.consent_document.request_id == ref.request_id for ref in signed)
        assert not any(ref.consent_document for ref in remote)
        assert {ref.confirmation_letter_sent_at is None for ref in remote} == {True, False}
        assert all(ref.referral_date == _on(ref.request.created_at) for ref in referrals)

        # What the forms would have accepted: the kind's own fields and motifs, valid NIRs that agree with the birth
        # date, documents about an insured person for the habilitated structure only; files that pass the upload
        # checks.
        for r in demo:
            assert r.motif in dict(r.spec.motif_choices()), r.number
            if r.motif != "mas_referral":
                assert set(r.details) == {detail.name for detail in r.spec.details}, r.number
            if r.has_person:
                assert nir_birth_mismatch(validate_nir(r.person_nir), r.person_birth_date) is None, r.number
            if r.spec.motif(r.motif).insured_document:
                assert r.structure.insured_documents_habilitation, r.number
        for attachment in Attachment.objects.all():
            with attachment.file.open("rb") as stored:
                uploaded = SimpleUploadedFile(attachment.original_name, stored.read())
            assert inspect_upload(uploaded) == (attachment.content_type, attachment.sha256)

    def test_demo_pages_render_for_who_may_see_them(self, seeded, client):
        """The queue, the history, the dashboards, each request's page for its structure and its caisse, and PDFs."""
        partner_of = {"31834567800011": "technicien", "77530082800016": "technicien.asso"}
        agent_of = {"331": "agent", "421": "agent.loire"}
        demo = Request.objects.select_related("caisse", "structure").annotate(exchanges=Count("messages"))
        for key, pages in {
            "technicien": ["/", "/demandes/", "/demandes/?status=resolved&kind=document"],
            "technicien.asso": ["/", "/demandes/", "/demandes/?followed=on"],
            "gestionnaire": ["/structure/tableau-de-bord/"],
            "agent": ["/", "/caisse/demandes/", "/caisse/demandes/?overdue=on", "/caisse/demandes/?status=all"],
            "agent.loire": ["/caisse/demandes/?status=all&assignment=me", "/caisse/tableau-de-bord/"],
            "admin": ["/caisse/tableau-de-bord/?periode=30j"],
        }.items():
            client.force_login(User.objects.get(email=f"{key}@demo.example"))
            for page in pages:
                assert client.get(page).status_code == 200, (key, page)
            for r in demo:
                if key in (partner_of[r.structure.siret], agent_of[r.caisse.code]):
                    assert client.get(f"/demandes/{r.number}/").status_code == 200, (key, r.number)
        # The queue shows the late ones; the history, the requests of the selected caisse.
        client.force_login(User.objects.get(email="agent@demo.example"))
        late = text(client.get("/caisse/demandes/?overdue=on"))
        assert all(
            r.number in late for r in demo.filter(deadlines.overdue_q(calendar="metropole"), caisse__code="331")
        )
        # A PDF per kind, of its request with the most exchanges, and an answer's file, as the partner.
        client.force_login(User.objects.get(email="technicien@demo.example"))
        for kind in Kind.values:
            r = demo.filter(kind=kind, structure__siret="31834567800011").order_by("-exchanges").first()
            response = client.get(f"/demandes/{r.number}/recapitulatif.pdf")
            assert response.status_code == 200 and response.content.startswith(b"%PDF-"), r.number
        answer_file = Attachment.objects.filter(message__is_answer=True, request__structure__siret="31834567800011")[0]
        response = client.get(f"/demandes/{answer_file.request.number}/pieces/{answer_file.public_id}/")
        assert response.status_code == 200 and b"".join(response.streaming_content).startswith(b"%PDF-")

    @pytest.mark.parametrize(
        ("email", "role_page"),
        [
            ("technicien", "/demandes/"),
            ("gestionnaire", "/structure/techniciens/"),
            ("agent", "/caisse/demandes/"),
            ("admin", "/caisse/structures/"),
            ("technicien.asso", "/demandes/"),
            ("agent.loire", "/caisse/demandes/"),
        ],
    )
    def test_each_demo_login_reaches_its_home_page_and_its_role_pages(self, seeded, client, email, role_page):
        response = sign_in(client, f"{email}@demo.example", "Demo-Partenaires-2026")
        assert response.status_code == 302
        assert "Bonjour" in text(client.get("/"))
        assert client.get(role_page).status_code == 200
