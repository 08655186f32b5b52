"""The benchmark generator (bench/generate.py), small: counts, valid rows, visibility, numbering that continues."""

import re
from datetime import date

import pytest
from django.db.models import Count

from bench import generate as bench
from extranet.accounts.models import User
from requests import services
from requests.models import NumberSequence, Request, RequestUserObjectPermission, StatusChange
from requests.nir import nir_digest, validate_nir
from structures import policy
from structures.models import Structure
from tests.factories import make_nir
from tests.helpers import built_once

REQUESTS, STRUCTURES, BIG = 2000, 20, 300


@pytest.fixture(scope="module")
def generated(django_db_setup, django_db_blocker):
    """Generated once for the module (seconds on PostgreSQL, for each test when each had its own), in a transaction
    rolled back at the end of the module; each test runs in a savepoint of it (`counts`), rolled back after it."""
    yield from built_once(
        django_db_blocker,
        lambda: bench.generate(requests=REQUESTS, structures=STRUCTURES, big=BIG, out=lambda line: None),
    )


@pytest.fixture
def counts(generated, db):
    return generated


def test_counts(counts):
    assert counts["requests"] == REQUESTS
    assert counts["structures"] == STRUCTURES
    assert counts["requests of the big structure"] == BIG
    assert counts["requests new"] + counts["requests in_progress"] + counts["requests resolved"] == REQUESTS
    assert set(Request.objects.values_list("kind", flat=True).distinct()) == {
        "contact",
        "access_difficulty",
        "appointment",
        "case_review",
        "document",
    }
    # One log row per move: the deposit, then one per take charge and per resolution.
    expected = (
        REQUESTS + Request.objects.exclude(taken_at=None).count() + Request.objects.exclude(resolved_at=None).count()
    )
    assert StatusChange.objects.count() == expected
    assert RequestUserObjectPermission.objects.count() == counts["requests in_progress"]


def test_rows_are_valid(counts):
    numbers = list(Request.objects.values_list("number", flat=True))
    assert len(set(numbers)) == REQUESTS and all(re.fullmatch(r"\d{10}", n) for n in numbers)
    # The agent in charge and its membership read with the request, not in two queries of their own for each.
    sample = Request.objects.select_related("caisse", "assigned_to__caissemembership").order_by("?")[:200]
    for request in sample:
        assert request.number[2:5] == request.caisse.code
        assert request.motif in dict(request.spec.motif_choices())
        if request.kind == "contact":
            assert not request.person_nir
        else:
            assert validate_nir(request.person_nir) == request.person_nir  # decrypted by the model field
            assert request.person_nir_digest == nir_digest(request.person_nir)
            assert request.person_birth_date and request.person_last_name
        if request.status == "new":
            assert request.assigned_to_id is None and request.taken_at is None and request.resolved_at is None
        else:
            assert request.assigned_to.caissemembership.caisse_id == request.caisse_id
            assert request.created_at <= request.taken_at
        if request.status == "resolved":
            assert request.taken_at <= request.resolved_at
        elif request.status == "in_progress":
            assert request.resolved_at is None
            assert request.assigned_to.has_perm("requests.resolve_request", request)
        statuses = list(request.status_changes.values_list("to_status", flat=True))
        assert statuses == ["new", "in_progress", "resolved"][: len(statuses)] and statuses[-1] == request.status


def test_login_accounts_see_their_requests(counts):
    technicien = User.objects.get(email=bench.BIG_TECHNICIEN)
    structure = technicien.membership.structure
    assert technicien.check_password(bench.BENCH_PASSWORD)
    assert policy.can_deposit(technicien, structure, structure.conventions.get().caisse)
    assert technicien.totpdevice_set.get().confirmed
    assert Request.objects.visible_to(technicien).count() == structure.requests.count() == BIG
    gestionnaire = User.objects.get(email=bench.BIG_GESTIONNAIRE)
    assert policy.can_manage_technicians(gestionnaire, structure)
    for caisse_id, total in Request.objects.values_list("caisse").annotate(total=Count("pk")):
        agent = User.objects.filter(caissemembership__caisse_id=caisse_id).first()
        assert policy.can_handle_requests(agent, agent.caissemembership.caisse)
        assert Request.objects.visible_to(agent).count() == total


def test_a_new_deposit_takes_the_next_number(counts):
    technicien = User.objects.get(email=bench.BIG_TECHNICIEN)
    structure = Structure.objects.get(pk=technicien.membership.structure_id)
    caisse = structure.conventions.get().caisse
    year = date.today().year
    before = NumberSequence.objects.filter(caisse=caisse, year=year).values_list("last_value", flat=True).first() or 0
    this_year = Request.objects.filter(caisse=caisse, number__startswith=f"{year % 100:02d}")
    assert before == max((int(number[5:]) for number in this_year.values_list("number", flat=True)), default=0)
    request = services.deposit_request(
        kind="appointment",
        motif="c2s",
        structure=structure,
        caisse=caisse,
        author=technicien,
        details={"channel": "phone", "availabilities": "Lundi", "needs_accompaniment": "no", "message": ""},
        person={
            "person_civility": "mme",
            "person_last_name": "Nouvelle",
            "person_first_name": "Anne",
            "person_birth_date": date(1985, 5, 1),
            "person_nir": make_nir(sex="2", order="987"),
        },
        files=[],
    )
    assert request.number == f"{year % 100:02d}{caisse.code}{before + 1:05d}"


def test_news_and_visits_are_what_the_services_would_have_written(counts):
    """Status changes are news for the structure; the replied requests have the caisse's question and the
    structure's reply, news for the caisse; the agents in charge have seen half of those; the lists' badges agree."""
    from requests import news
    from requests.models import Message, Visit

    for request in Request.objects.exclude(taken_at=None).order_by("?")[:100]:
        assert request.partner_news_at == (request.resolved_at or request.taken_at)
    assert not Request.objects.filter(taken_at=None).exclude(partner_news_at=None).exists()
    replied = Request.objects.exclude(caisse_news_at=None)
    assert replied.exists() and not replied.exclude(status="in_progress").exists()
    for request in replied:
        assert list(request.messages.values_list("side", "is_internal")) == [("caisse", False), ("partner", False)]
        assert request.caisse_news_at == request.messages.get(side="partner").created_at
    assert Message.objects.count() == 2 * replied.count()
    agent = replied.first().assigned_to
    mine = replied.filter(assigned_to=agent)
    unseen = news.with_news(mine, agent).filter(has_news=True).count()
    assert unseen == mine.count() - Visit.objects.filter(user=agent, request__in=mine).count()
    assert mine.filter(news.unseen_q(agent)).count() == unseen


def test_past_a_million_the_requests_spread_over_more_years():
    """The numbering gives a caisse 99,999 numbers a year: 10M requests over 8 years would run out of them."""
    from bench.generate import REQUESTS_PER_YEAR, years_for

    assert years_for(10_000) == years_for(1_000_000) == 8
    assert years_for(10_000_000) == 80
    assert REQUESTS_PER_YEAR * 0.6 < 99_999  # caisse 331 gets about 60 % of them
    with pytest.raises(ValueError, match="two-digit year"):
        years_for(99 * REQUESTS_PER_YEAR)
