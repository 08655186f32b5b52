"""A request's page and its API read cost as many queries with 5 exchanges, files and status changes as with 50,
and that number is pinned; the detail page and the take-charge keep a snapshot of their SQL (tests/snapshots.py).

The list pages (history, queue, dashboard, API list) have their own query tests next to their other tests
(test_history.py, test_queue.py, test_dashboard.py, tests/extranet/api/test_api_journey.py); these pin the request's
detail, as the partner and the caisse's agent see it, on the pages, in the PDF and in the API.
"""

from datetime import timedelta

import pytest
import time_machine
from django.core.files.base import ContentFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from requests.models import Attachment, Message, Request, Status, StatusChange
from tests.factories import CaisseMembershipFactory, MembershipFactory, RequestFactory
from tests.helpers import api_client
from tests.requests.builders import pdf_bytes
from tests.snapshots import snapshot_queries

pytestmark = pytest.mark.django_db

SMALL, LARGE = 5, 50


@pytest.fixture(autouse=True)
def generous_rate(monkeypatch):
    from extranet.api.throttling import PerTokenThrottle

    monkeypatch.setattr(PerTokenThrottle, "THROTTLE_RATES", {"token": "10000/minute"})


def _attach(demande, uploader, index, message=None):
    return Attachment.objects.create(
        request=demande,
        message=message,
        file=ContentFile(pdf_bytes(f"Pièce {index}"), name=f"piece-{index}.pdf"),
        original_name=f"piece-{index}.pdf",
        content_type=Attachment.FileType.PDF,
        size=len(pdf_bytes(f"Pièce {index}")),
        sha256="0" * 64,
        uploaded_by=uploader,
        uploaded_at=demande.created_at + timedelta(minutes=index),
    )


def _request_with(size, *, structure, caisse, technicien, agent):
    """A request in progress, assigned to `agent`, with `size` of everything: partner messages, caisse answers,
    internal notes (each a third), files of its own and of messages, status changes by several people."""
    partners = [technicien] + [MembershipFactory(structure=structure).user for _ in range(2)]
    agents = [agent] + [CaisseMembershipFactory(caisse=caisse).user for _ in range(2)]
    created = timezone.now() - timedelta(days=3)
    with time_machine.travel(created + timedelta(hours=1), tick=False):
        demande = RequestFactory(
            structure=structure, caisse=caisse, author=technicien, created_at=created, taken_by=agent
        )
    for index in range(size):
        kind = index % 3
        message = Message.objects.create(
            request=demande,
            author=partners[index % 3] if kind == 0 else agents[index % 3],
            side=Message.Side.PARTNER if kind == 0 else Message.Side.CAISSE,
            is_internal=kind == 2,
            body=f"Message n° {index}",
            created_at=created + timedelta(minutes=10 + index),
        )
        _attach(demande, message.author, 1000 + index, message=message)
        _attach(demande, partners[index % 3], index)
        StatusChange.objects.create(
            request=demande,
            from_status=Status.NEW if index % 2 == 0 else Status.IN_PROGRESS,
            to_status=Status.IN_PROGRESS if index % 2 == 0 else Status.NEW,
            by=agents[index % 3],
            assigned_to=agents[(index + 1) % 3] if index % 2 == 0 else None,
            at=created + timedelta(minutes=20 + index),
        )
    return demande


def _count(call):
    with CaptureQueriesContext(connection) as captured:
        response = call()
    assert response.status_code == 200, response.status_code
    return len(captured.captured_queries), [query["sql"] for query in captured.captured_queries], response


def _same_count(build, call, *, queries):
    """`queries` queries for `call(request)`, with SMALL then LARGE of everything, each on its own request."""
    small = build(SMALL)
    large = build(LARGE)
    # Warm every per-process cache (content types, permissions…) before counting; the detail page's first visit
    # also records it (requests/news.py): counted here is the page read again with nothing new.
    call(small)
    call(large)
    small_count, small_sql, small_response = _count(lambda: call(small))
    large_count, large_sql, large_response = _count(lambda: call(large))
    assert large_count == small_count == queries, "\n".join(
        [f"{SMALL}: {small_count} queries, {LARGE}: {large_count} queries, {queries} expected", *large_sql]
    )
    return small_response, large_response


@pytest.fixture
def build(structure, caisse, technicien, agent):
    return lambda size: _request_with(size, structure=structure, caisse=caisse, technicien=technicien, agent=agent)


def test_detail_page_as_partner(client, technicien, build):
    client.force_login(technicien)
    # 10: with the other requests for the same person (requests/search.py `same_person`).
    small, large = _same_count(build, lambda r: client.get(f"/demandes/{r.number}/"), queries=10)
    content = large.content.decode()
    # Internal notes (every third message) never reach the partner.
    assert "Message n° 48" in content and "Message n° 47" not in content
    assert "piece-49.pdf" in content


def test_detail_page_as_agent(client, agent, build):
    """Two more than the partner's: whether the agent holds the right to resolve (the one right kept per request),
    and the caisse's canned messages offered above the composer (an open request)."""
    client.force_login(agent)
    small, large = _same_count(build, lambda r: client.get(f"/demandes/{r.number}/"), queries=12)
    content = large.content.decode()
    assert "Message n° 47" in content and "piece-1049.pdf" in content


def test_api_detail_as_partner(technicien, build):
    client = api_client(technicien)
    small, large = _same_count(build, lambda r: client.get(f"/api/v1/requests/{r.number}/"), queries=6)
    assert len(large.json()["status_history"]) > len(small.json()["status_history"])


def test_api_detail_as_agent(agent, build):
    client = api_client(agent)
    small, large = _same_count(build, lambda r: client.get(f"/api/v1/requests/{r.number}/"), queries=6)
    assert len(large.json()["status_history"]) > len(small.json()["status_history"])


def test_api_messages_as_partner(technicien, build):
    client = api_client(technicien)
    small, large = _same_count(build, lambda r: client.get(f"/api/v1/requests/{r.number}/messages/"), queries=8)
    assert len(large.json()) == 34 and len(small.json()) == 4  # internal notes left out


def test_api_messages_as_agent(agent, build):
    client = api_client(agent)
    small, large = _same_count(build, lambda r: client.get(f"/api/v1/requests/{r.number}/messages/"), queries=8)
    assert len(large.json()) == LARGE and len(small.json()) == SMALL


def test_summary_pdf_as_partner(client, technicien, build):
    client.force_login(technicien)
    small, large = _same_count(build, lambda r: client.get(f"/demandes/{r.number}/recapitulatif.pdf"), queries=9)
    assert large["Content-Type"] == "application/pdf" and len(large.content) > len(small.content)


@pytest.mark.parametrize("reader", ["technicien", "agent"])
def test_detail_page_sql(client, request, reader, build, snapshot):
    """The detail page's queries, for the partner and for the agent in charge, the second time (the process's
    caches filled)."""
    client.force_login(request.getfixturevalue(reader))
    demande = build(SMALL)
    client.get(f"/demandes/{demande.number}/")
    with snapshot_queries(snapshot):
        response = client.get(f"/demandes/{demande.number}/")
    assert response.status_code == 200


def test_take_charge_sql(client, agent, structure, caisse, technicien, commit, snapshot):
    """The take-charge's queries, from the lock to the email queued once committed, by an agent who opened the page."""
    demande = RequestFactory(structure=structure, caisse=caisse, author=technicien)
    client.force_login(agent)
    client.get(f"/demandes/{demande.number}/")
    with snapshot_queries(snapshot), commit():
        response = client.post(f"/demandes/{demande.number}/prendre-en-charge/")
    assert response.status_code == 302
    assert Request.objects.get(pk=demande.pk).status == Status.IN_PROGRESS


def test_resolution_step_as_agent(client, agent, build):
    """The request, the agent's right to resolve, the caisse's canned answers; the preview reads nothing more."""
    client.force_login(agent)
    _same_count(build, lambda r: client.get(f"/demandes/{r.number}/resoudre/"), queries=6)
    _same_count(build, lambda r: client.post(f"/demandes/{r.number}/resoudre/", {"answer": "Réponse."}), queries=5)
