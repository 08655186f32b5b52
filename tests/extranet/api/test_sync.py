"""Incremental sync: `updated_at` moved by every change either side sees (never by an internal note), the
`updated_after` filter, the list by last change with a cursor that skips no row changed while a client pages, and the
detail's ETag."""

import importlib
from datetime import UTC, timedelta

import pytest
import time_machine
from django.apps import apps
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from extranet.api.throttling import PerTokenThrottle
from extranet.audit.models import AccessLog
from requests import services
from requests.attachments import inspect_upload
from requests.models import Request
from requests.retention import purge_expired_requests
from structures.models import Membership
from tests.extranet.api.test_read_shape import PERSON, REFERRAL
from tests.factories import CaisseFactory, CaisseMembershipFactory, MembershipFactory, RequestFactory, StructureFactory
from tests.helpers import api_client
from tests.requests.builders import a_pdf

pytestmark = pytest.mark.django_db

T0 = timezone.make_aware(timezone.datetime(2026, 3, 2, 9, 0))
T1, T2, T3, T4 = (T0 + timedelta(hours=hours) for hours in (1, 2, 3, 4))


@pytest.fixture(autouse=True)
def generous_rate(monkeypatch):
    monkeypatch.setattr(PerTokenThrottle, "THROTTLE_RATES", {"token": "10000/minute"})


def at(moment):
    return time_machine.travel(moment, tick=False)


def files(name="piece.pdf"):
    upload = a_pdf(name)
    return [(upload, *inspect_upload(upload))]


def numbers(response):
    assert response.status_code == 200, response.json()
    return [row["number"] for row in response.json()["results"]]


def synced(client, **query):
    """Every page of the list by last change, from the first; returns the numbers in the order read."""
    read, page = [], client.get("/api/v1/requests/", {"ordering": "updated_at", **query})
    while True:
        read += numbers(page)
        if page.json()["next"] is None:
            return read
        page = client.get(page.json()["next"])


# Each change a reader of either side sees, on a request in the state it starts from ("new" or "in_progress").
def take_charge(demande, people):
    services.take_charge(demande, agent=people.agent)


def dispatch(demande, people):
    services.dispatch(demande, admin=people.admin, agent=people.agent)


def reassign(demande, people):
    services.reassign(demande, admin=people.admin, agent=people.colleague)


def hand_back(demande, people):
    services.hand_back(demande, agent=people.agent)


def resolve(demande, people):
    services.resolve(demande, agent=people.agent, answer="C'est fait.")


def caisse_message(demande, people):
    services.post_message(demande, author=people.agent, body="Une question.")


def awaiting_answer(demande, people):
    services.post_message(demande, author=people.agent, body="Votre réponse ?", awaiting_answer=True)


def partner_message(demande, people):
    services.post_message(demande, author=people.technicien, body="Voici.")


def attachment(demande, people):
    services.add_attachments(demande, author=people.agent, files=files())


def handover(demande, people):
    leaving = Membership.objects.get(user=people.technicien)
    services.deactivate_technicien(leaving, by=people.gestionnaire, hand_to=people.partner_colleague)


CHANGES = {
    take_charge: "new",
    dispatch: "new",
    reassign: "in_progress",
    hand_back: "in_progress",
    resolve: "in_progress",
    caisse_message: "new",
    awaiting_answer: "in_progress",
    partner_message: "new",
    attachment: "new",
    handover: "new",
}


class People:
    def __init__(self, technicien, gestionnaire, agent, caisse_admin, structure, caisse):
        self.technicien, self.gestionnaire, self.agent, self.admin = technicien, gestionnaire, agent, caisse_admin
        self.colleague = CaisseMembershipFactory(caisse=caisse).user
        self.partner_colleague = MembershipFactory(structure=structure).user


@pytest.fixture
def people(technicien, gestionnaire, agent, caisse_admin, structure, caisse):
    return People(technicien, gestionnaire, agent, caisse_admin, structure, caisse)


@pytest.mark.parametrize("change", CHANGES, ids=lambda change: change.__name__)
def test_every_change_both_sides_see_moves_updated_at(change, people, structure, caisse):
    with at(T0):
        in_progress = people.agent if CHANGES[change] == "in_progress" else None
        demande = RequestFactory(structure=structure, caisse=caisse, author=people.technicien, in_progress=in_progress)
    assert Request.objects.get(pk=demande.pk).updated_at == T0
    with at(T1):
        change(demande, people)
    assert Request.objects.get(pk=demande.pk).updated_at == T1


def test_the_mas_letter_and_the_purge_move_updated_at(technicien, agent, structure, caisse):
    with at(T0):
        referral = services.deposit_mas_referral(
            referral=REFERRAL,
            consent_document=[],
            notice_given=True,
            structure=structure,
            caisse=caisse,
            author=technicien,
            person=PERSON,
            files=[],
        )
    with at(T1):
        services.mark_confirmation_letter_sent(referral, agent=agent)
    assert Request.objects.get(pk=referral.pk).updated_at == T1
    with at(T2):
        demande = RequestFactory(structure=structure, caisse=caisse, author=technicien, resolved=True)
    purged_on = T2 + timedelta(days=365 * 10)
    with at(purged_on):
        purge_expired_requests()
    assert Request.objects.get(pk=demande.pk).updated_at == purged_on


def test_an_internal_note_moves_nothing_a_partner_can_see(technicien, agent, structure, caisse):
    with at(T0):
        demande = RequestFactory(structure=structure, caisse=caisse, author=technicien, in_progress=agent)
    partner = api_client(technicien)
    seen = partner.get(f"/api/v1/requests/{demande.number}/")
    with at(T1):
        services.post_message(demande, author=agent, body="Dossier connu.", internal=True, files=files())
    assert Request.objects.get(pk=demande.pk).updated_at == T0
    assert numbers(partner.get("/api/v1/requests/", {"updated_after": T0.isoformat()})) == []
    again = partner.get(f"/api/v1/requests/{demande.number}/", HTTP_IF_NONE_MATCH=seen["ETag"])
    assert again.status_code == 304


def test_updated_after_is_strictly_after_a_moment_with_its_offset(technicien, structure, caisse):
    made = {}
    for moment in (T0, T1, T2):
        with at(moment):
            made[moment] = RequestFactory(structure=structure, caisse=caisse, author=technicien).number
    client = api_client(technicien)
    for written in (T1.isoformat(), T1.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")):
        assert numbers(client.get("/api/v1/requests/", {"updated_after": written})) == [made[T2]]
    assert numbers(client.get("/api/v1/requests/", {"updated_after": (T1 - timedelta(seconds=1)).isoformat()})) == [
        made[T2],
        made[T1],
    ]


@pytest.mark.parametrize(
    "value",
    [
        "2026-03-02T10:00:00",  # no offset: the server's time zone is not the client's
        "2026-03-02T10:00:00 01:00",  # a "+" left unencoded in the address arrives as a space
        "hier",
        "2026-03-02",
        "0001-01-01T00:00:00+01:00",
        "",
    ],
)
def test_a_wrong_updated_after_is_refused_by_name(technicien, value):
    refused = api_client(technicien).get("/api/v1/requests/", {"updated_after": value})
    assert refused.status_code == 400
    assert (refused.json()["code"], list(refused.json()["fields"])) == ("invalid", ["updated_after"])


def test_the_refusal_says_how_to_write_the_plus_of_an_offset(technicien):
    refused = api_client(technicien).get("/api/v1/requests/?updated_after=2026-03-02T10:00:00+01:00")
    assert "« + » s'écrit %2B" in refused.json()["fields"]["updated_after"][0]


def test_an_unknown_ordering_is_refused(technicien):
    refused = api_client(technicien).get("/api/v1/requests/", {"ordering": "-updated_at"})
    assert refused.status_code == 400
    assert (refused.json()["code"], list(refused.json()["fields"])) == ("invalid", ["ordering"])


def test_a_cursor_of_another_ordering_is_refused(technicien, structure, caisse):
    for _ in range(3):
        RequestFactory(structure=structure, caisse=caisse, author=technicien)
    client = api_client(technicien)
    newest_first = client.get("/api/v1/requests/", {"page_size": 1}).json()["next"]
    refused = client.get(newest_first + "&ordering=updated_at")
    assert refused.status_code == 400
    assert list(refused.json()["fields"]) == ["cursor"]


def test_the_list_by_last_change_is_oldest_change_first_with_id_breaking_ties(technicien, agent, structure, caisse):
    with at(T0):
        first, second, third = (RequestFactory(structure=structure, caisse=caisse, author=technicien) for _ in "abc")
    with at(T1):
        services.post_message(first, author=agent, body="Une question.")
    client = api_client(technicien)
    assert numbers(client.get("/api/v1/requests/", {"ordering": "updated_at"})) == [
        second.number,
        third.number,
        first.number,
    ]
    rows = client.get("/api/v1/requests/", {"ordering": "updated_at"}).json()["results"]
    assert [row["updated_at"] for row in rows] == [T0.isoformat(), T0.isoformat(), T1.isoformat()]


def test_a_request_changed_while_a_client_pages_is_read_again_and_none_is_skipped(
    technicien, agent, structure, caisse
):
    """Six requests changed at the same moment, read two by two; after the first page, one already read and one not
    yet read change. Both come again at the end, and none of the others is skipped (with DRF's cursor, a position
    and an offset among equal moments, the request that left the run would shift the offset: one would be)."""
    with at(T0):
        made = [RequestFactory(structure=structure, caisse=caisse, author=technicien).number for _ in range(6)]
    client = api_client(technicien)
    first = client.get("/api/v1/requests/", {"ordering": "updated_at", "page_size": 2})
    assert numbers(first) == made[:2]
    with at(T1):
        for number in (made[0], made[2]):
            services.post_message(Request.objects.get(number=number), author=agent, body="Du nouveau.")
    read, page = numbers(first), first
    while page.json()["next"] is not None:
        page = client.get(page.json()["next"])
        read += numbers(page)
    assert read == [made[0], made[1], made[3], made[4], made[5], made[0], made[2]]


def test_the_previous_link_goes_back_a_page_by_last_change(technicien, structure, caisse):
    made = []
    for minutes in range(5):
        with at(T0 + timedelta(minutes=minutes)):
            made.append(RequestFactory(structure=structure, caisse=caisse, author=technicien).number)
    client = api_client(technicien)
    first = client.get("/api/v1/requests/", {"ordering": "updated_at", "page_size": 2}).json()
    assert first["previous"] is None
    second = client.get(first["next"]).json()
    third = client.get(second["next"]).json()
    assert [row["number"] for row in third["results"]] == made[4:]
    assert third["next"] is None
    back = client.get(third["previous"]).json()
    assert [row["number"] for row in back["results"]] == made[2:4]
    assert [row["number"] for row in client.get(back["previous"]).json()["results"]] == made[:2]


def test_a_sync_reads_every_change_once_more_with_its_overlap(technicien, agent, structure, caisse):
    """The client's loop as the list's documentation gives it: from the last `updated_at` read, less a minute."""
    with at(T0):
        made = [RequestFactory(structure=structure, caisse=caisse, author=technicien).number for _ in range(3)]
    client = api_client(technicien)
    assert synced(client, page_size=2) == made
    last = max(row["updated_at"] for row in client.get("/api/v1/requests/").json()["results"])
    with at(T1):
        services.post_message(Request.objects.get(number=made[1]), author=agent, body="Du nouveau.")
    since = (timezone.datetime.fromisoformat(last) - timedelta(minutes=1)).isoformat()
    assert synced(client, updated_after=since) == [made[0], made[2], made[1]]
    assert synced(client, updated_after=T0.isoformat()) == [made[1]]


def test_the_detail_has_an_etag_and_if_none_match_gives_a_304_not_journaled(technicien, structure, caisse):
    demande = RequestFactory(structure=structure, caisse=caisse, author=technicien)
    client = api_client(technicien)
    read = client.get(f"/api/v1/requests/{demande.number}/")
    tag = read["ETag"]
    assert tag.startswith('W/"') and AccessLog.objects.count() == 1
    for sent in (tag, tag.removeprefix("W/"), f'"autre", {tag}', "*"):
        unchanged = client.get(f"/api/v1/requests/{demande.number}/", HTTP_IF_NONE_MATCH=sent)
        assert (unchanged.status_code, unchanged.content, unchanged["ETag"]) == (304, b"", tag)
    assert AccessLog.objects.count() == 1
    stale = client.get(f"/api/v1/requests/{demande.number}/", HTTP_IF_NONE_MATCH='W/"autre"')
    assert (stale.status_code, stale["ETag"]) == (200, tag)
    assert AccessLog.objects.count() == 2


def test_the_etag_changes_with_the_request_and_the_purge(technicien, agent, structure, caisse):
    with at(T0):
        demande = RequestFactory(structure=structure, caisse=caisse, author=technicien, in_progress=agent)
    client = api_client(technicien)
    before = client.get(f"/api/v1/requests/{demande.number}/")["ETag"]
    with at(T1):
        services.post_message(demande, author=agent, body="Une question.")
    moved = client.get(f"/api/v1/requests/{demande.number}/", HTTP_IF_NONE_MATCH=before)
    assert moved.status_code == 200 and moved["ETag"] != before
    with at(T2):
        services.resolve(demande, agent=agent, answer="Fait.")
    resolved = client.get(f"/api/v1/requests/{demande.number}/")["ETag"]
    with at(T2 + timedelta(days=365 * 10)):
        purge_expired_requests()
    purged = client.get(f"/api/v1/requests/{demande.number}/", HTTP_IF_NONE_MATCH=resolved)
    assert (purged.status_code, purged.json()["person"]) == (200, None)
    assert purged["ETag"] != resolved


def test_two_readers_never_share_an_etag(technicien, agent, structure, caisse):
    demande = RequestFactory(structure=structure, caisse=caisse, author=technicien)
    readers = [technicien, MembershipFactory(structure=structure).user, agent]
    tags = [api_client(reader).get(f"/api/v1/requests/{demande.number}/")["ETag"] for reader in readers]
    assert len(set(tags)) == 3
    # The same body, but not their tag: a colleague sending the technicien's is sent the detail (and journaled).
    colleague = api_client(readers[1]).get(f"/api/v1/requests/{demande.number}/", HTTP_IF_NONE_MATCH=tags[0])
    assert colleague.status_code == 200


def test_the_migration_gives_every_request_its_last_change_seen_by_both_sides(technicien, agent, structure, caisse):
    backfill = importlib.import_module("requests.migrations.0018_updated_at").last_change_of_every_request
    with at(T0):
        untouched = RequestFactory(structure=structure, caisse=caisse, author=technicien)
        written = RequestFactory(structure=structure, caisse=caisse, author=technicien)
        noted = RequestFactory(structure=structure, caisse=caisse, author=technicien)
        reassigned = RequestFactory(structure=structure, caisse=caisse, author=technicien, in_progress=agent)
        filed = RequestFactory(structure=structure, caisse=caisse, author=technicien)
        referral = services.deposit_mas_referral(
            referral=REFERRAL,
            consent_document=[],
            notice_given=True,
            structure=structure,
            caisse=caisse,
            author=technicien,
            person=PERSON,
            files=[],
        )
    with at(T1):
        services.post_message(written, author=technicien, body="Voici.")
        services.post_message(noted, author=agent, body="Une question.")
        services.add_attachments(filed, author=technicien, files=files())
    with at(T2):
        services.post_message(noted, author=agent, body="Note.", internal=True, files=files())
        admin, colleague = (CaisseMembershipFactory(caisse=caisse, admin=admin).user for admin in (True, False))
        services.reassign(reassigned, admin=admin, agent=colleague)
    with at(T3):
        services.mark_confirmation_letter_sent(referral, agent=agent)
    with at(T4):
        resolved = RequestFactory(structure=structure, caisse=caisse, author=technicien, resolved=True)
    purged_on = T4 + timedelta(days=365 * 10)
    with at(purged_on):
        purge_expired_requests()
    expected = {
        untouched.pk: T0,
        written.pk: T1,
        noted.pk: T1,  # the internal note of T2 and its file count for nobody
        filed.pk: T1,
        reassigned.pk: T2,
        referral.pk: T3,
        resolved.pk: purged_on,
    }
    Request.objects.update(updated_at=T0 - timedelta(days=1))
    backfill(apps, None)
    assert dict(Request.objects.values_list("pk", "updated_at")) == expected


@pytest.mark.postgres
@pytest.mark.parametrize("side", ["partner", "caisse"])
def test_the_sync_reads_its_scopes_index_on_postgresql(side, technicien, agent, structure, caisse):
    """EXPLAIN of the query the list runs: the scope's (…, updated_at, id) index, read in its order from the cursor,
    among enough requests of other structures and caisses for the planner to choose."""
    others = [StructureFactory() for _ in range(20)]
    caisses = [caisse, *(CaisseFactory() for _ in range(4))]
    rows = []
    for n in range(4000):
        rows.append(
            Request(
                number=f"26{n:08d}",
                kind="contact",
                motif="technical",
                caisse=caisses[n % 5],
                structure=structure if n % 4 == 0 else others[n % 20],
                author=technicien,
                details={"channel": "phone", "availabilities": "Matin", "message": "?"},
                updated_at=T0 + timedelta(seconds=n),
            )
        )
    Request.objects.bulk_create(rows)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE requests_request")
    client = api_client(technicien if side == "partner" else agent)
    first = client.get("/api/v1/requests/", {"ordering": "updated_at", "updated_after": T0.isoformat()}).json()
    with CaptureQueriesContext(connection) as queries:
        assert client.get(first["next"]).status_code == 200
    (listing,) = [query["sql"] for query in queries if 'FROM "requests_request"' in query["sql"]]
    with connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN {listing}")
        plan = "\n".join(row[0] for row in cursor.fetchall())
    index = "request_structure_updated" if side == "partner" else "request_caisse_updated"
    assert f"Index Scan using {index}" in plan, plan
    assert "Sort" not in plan, plan
