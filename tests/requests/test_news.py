"""« Du nouveau » (requests/news.py): what the other side did since a user last opened the request's page, as badges
in the history and the queue, list filters, and bounded counts on the home pages; at constant query counts."""

import re
from datetime import timedelta

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from requests import news, services
from requests.models import Visit
from tests.factories import CaisseMembershipFactory, ConventionFactory, MembershipFactory, RequestFactory
from tests.helpers import visible_text
from tests.requests.builders import listed_numbers

pytestmark = pytest.mark.django_db

HISTORY, QUEUE = "/demandes/", "/caisse/demandes/"


def history_badges(response):
    """The numbers of the history's rows showing « Du nouveau »."""
    rows = re.findall(r'<li class="list-group-item py-3[^"]*"[^>]*>(.*?)</li>', response.content.decode(), re.S)
    return {re.search(r"\d{10}", row).group(0) for row in rows if "Du nouveau" in visible_text(row)}


def queue_badges(response):
    rows = re.findall(r'<tr[^>]*data-testid="queue-row">(.*?)</tr>', response.content.decode(), re.S)
    return {re.search(r"\d{10}", row).group(0) for row in rows if "Réponse reçue" in visible_text(row)}


def home_count(response, label):
    """The number shown on the home page's card `label` ("99+" beyond the cap), and where it leads."""
    cards = re.findall(r'<a class="card[^"]*count-card" href="([^"]*)">(.*?)</a>', response.content.decode(), re.S)
    found = [(visible_text(body), href) for href, body in cards if label in visible_text(body)]
    assert len(found) == 1, f"no card {label!r}"
    shown, href = found[0]
    return shown.split()[0], href.replace("&amp;", "&")


def later(minutes=5):
    return time_machine.travel(timezone.now() + timedelta(minutes=minutes), tick=False)


@pytest.fixture
def taken(demande, agent):
    """The request, in progress with `agent`, the partner having seen it since."""
    services.take_charge(demande, agent=agent)
    return demande


class TestPartnerSide:
    def test_a_caisse_message_is_new_until_the_partner_opens_the_request(self, technicien_client, taken, agent):
        technicien_client.get(f"/demandes/{taken.number}/")
        assert history_badges(technicien_client.get(HISTORY)) == set()
        with later():
            services.post_message(taken, author=agent, body="Pouvez-vous joindre l'avis d'imposition ?")
        assert history_badges(technicien_client.get(HISTORY)) == {taken.number}
        with later(10):
            technicien_client.get(f"/demandes/{taken.number}/")
        assert history_badges(technicien_client.get(HISTORY)) == set()

    def test_status_changes_and_the_answer_are_news(self, technicien_client, demande, agent):
        technicien_client.get(f"/demandes/{demande.number}/")
        with later():
            services.take_charge(demande, agent=agent)
        assert history_badges(technicien_client.get(HISTORY)) == {demande.number}
        with later(10):
            technicien_client.get(f"/demandes/{demande.number}/")
        with later(20):
            services.resolve(demande, agent=agent, answer="Dossier régularisé.")
        assert history_badges(technicien_client.get(HISTORY)) == {demande.number}

    def test_an_internal_note_is_news_for_no_one(self, technicien_client, client_factory, taken, agent):
        technicien_client.get(f"/demandes/{taken.number}/")
        other_agent = client_factory()
        other_agent.force_login(CaisseMembershipFactory(caisse=taken.caisse).user)
        other_agent.get(f"/demandes/{taken.number}/")
        with later():
            services.post_message(taken, author=agent, body="Note : vérifier le RIB.", internal=True)
        assert history_badges(technicien_client.get(HISTORY)) == set()
        assert queue_badges(other_agent.get(QUEUE)) == set()

    def test_the_partners_own_reply_is_no_news_for_their_side(self, technicien_client, gestionnaire, taken):
        technicien_client.get(f"/demandes/{taken.number}/")
        with later():
            services.post_message(taken, author=gestionnaire, body="Voici le document.")
        assert history_badges(technicien_client.get(HISTORY)) == set()

    def test_filters_news_and_awaiting(self, technicien_client, technicien, structure, caisse, agent):
        quiet, asked, told = (RequestFactory(structure=structure, caisse=caisse, author=technicien) for _ in range(3))
        for demande in (asked, told):
            services.take_charge(demande, agent=agent)
        for demande in (quiet, asked, told):
            technicien_client.get(f"/demandes/{demande.number}/")
        with later():
            services.post_message(asked, author=agent, body="Quel est son RIB ?", awaiting_answer=True)
            services.post_message(told, author=agent, body="Dossier en cours.")
        assert set(listed_numbers(technicien_client.get(HISTORY + "?news=on"))) == {asked.number, told.number}
        assert listed_numbers(technicien_client.get(HISTORY + "?awaiting=on")) == [asked.number]

    def test_home_counts_link_to_the_filtered_history(self, technicien_client, taken, agent):
        with later():
            services.post_message(taken, author=agent, body="Quel est son RIB ?", awaiting_answer=True)
        home = technicien_client.get("/")
        assert home_count(home, "Avec du nouveau de la caisse") == ("1", "/demandes/?news=on")
        assert home_count(home, "En attente de votre réponse") == ("1", "/demandes/?awaiting=on")
        with later(10):
            technicien_client.get(f"/demandes/{taken.number}/")
            services.post_message(taken, author=taken.author, body="FR76 …")
        home = technicien_client.get("/")
        assert home_count(home, "Avec du nouveau de la caisse")[0] == "0"
        assert home_count(home, "En attente de votre réponse")[0] == "0"

    def test_another_structures_news_never_counts(self, client, taken, agent, structure, caisse):
        with later():
            services.post_message(taken, author=agent, body="Question.", awaiting_answer=True)
        neighbour = ConventionFactory(caisse=caisse).structure
        client.force_login(MembershipFactory(structure=neighbour, gestionnaire=True).user)
        home = client.get("/")
        assert home_count(home, "Avec du nouveau de la caisse")[0] == "0"
        assert home_count(home, "En attente de votre réponse")[0] == "0"
        assert history_badges(client.get(HISTORY + "?news=on")) == set()


class TestCaisseSide:
    def test_a_partner_reply_shows_réponse_reçue_to_the_agent(self, agent_client, taken, technicien, agent):
        agent_client.get(f"/demandes/{taken.number}/")
        with later():
            services.post_message(taken, author=agent, body="Quel est son RIB ?", awaiting_answer=True)
        assert queue_badges(agent_client.get(QUEUE)) == set()  # the agent's own message
        with later(10):
            services.post_message(taken, author=technicien, body="FR76 3000 …")
        queue = agent_client.get(QUEUE)
        assert queue_badges(queue) == {taken.number}
        assert listed_in_queue(agent_client.get(QUEUE + "?news=on")) == [taken.number]
        assert home_count(agent_client.get("/"), "Réponses reçues") == ("1", "/caisse/demandes/?assignment=me&news=on")
        with later(20):
            agent_client.get(f"/demandes/{taken.number}/")
        assert queue_badges(agent_client.get(QUEUE)) == set()
        assert home_count(agent_client.get("/"), "Réponses reçues")[0] == "0"

    def test_agent_home_counts(self, agent_client, agent, structure, caisse, technicien):
        mine, other, fresh = (RequestFactory(structure=structure, caisse=caisse, author=technicien) for _ in range(3))
        services.take_charge(mine, agent=agent)
        services.take_charge(other, agent=CaisseMembershipFactory(caisse=caisse).user)
        home = agent_client.get("/")
        assert home_count(home, "À moi") == ("1", "/caisse/demandes/?assignment=me")
        assert home_count(home, "Nouvelles") == ("1", "/caisse/demandes/?status=new")
        assert home_count(home, "En retard") == ("0", "/caisse/demandes/?overdue=on")
        long_ago = timezone.now() - timedelta(days=60)
        RequestFactory(structure=structure, caisse=caisse, author=technicien, created_at=long_ago)
        assert home_count(agent_client.get("/"), "En retard")[0] == "1"

    def test_counts_are_bounded(self, agent_client, structure, caisse, technicien, monkeypatch):
        monkeypatch.setattr(news, "COUNT_CAP", 2)
        for _ in range(4):
            RequestFactory(structure=structure, caisse=caisse, author=technicien)
        assert home_count(agent_client.get("/"), "Nouvelles")[0] == "2+"


def listed_in_queue(response):
    return re.findall(r'<tr[^>]*data-testid="queue-row">.*?font-monospace">(\d{10})<', response.content.decode(), re.S)


def visit_writes(client, number):
    with CaptureQueriesContext(connection) as queries:
        assert client.get(f"/demandes/{number}/").status_code == 200
    writes = ('INSERT INTO "requests_visit"', 'UPDATE "requests_visit"')
    return [query["sql"] for query in queries.captured_queries if query["sql"].startswith(writes)]


def test_a_visit_is_written_only_when_it_changes_what_is_new(technicien_client, technicien, taken, agent):
    """One row per user and request, written when the side's news is after it; the page read again writes nothing."""
    assert len(visit_writes(technicien_client, taken.number)) == 1  # the take-charge was news
    first = Visit.objects.get(user=technicien, request=taken).seen_at
    assert visit_writes(technicien_client, taken.number) == []
    assert Visit.objects.get(user=technicien, request=taken).seen_at == first
    with later():
        services.post_message(taken, author=agent, body="Une question.")
        assert len(visit_writes(technicien_client, taken.number)) == 1
    assert Visit.objects.filter(user=technicien, request=taken).count() == 1
    assert Visit.objects.get(user=technicien, request=taken).seen_at > first


@pytest.mark.parametrize("size", [5, 40])
def test_history_and_queue_with_badges_have_constant_queries(
    client, client_factory, technicien, agent, structure, caisse, django_assert_num_queries, size
):
    """Half the requests with news on each side, half of those seen: the badge is part of the list's query."""
    authors = [technicien] + [MembershipFactory(structure=structure).user for _ in range(2)]
    for index in range(size):
        demande = RequestFactory(structure=structure, caisse=caisse, author=authors[index % 3])
        services.take_charge(demande, agent=agent)
        if index % 2:
            services.post_message(demande, author=agent, body="Question ?", awaiting_answer=True)
            services.post_message(demande, author=authors[index % 3], body="Réponse.")
        if index % 4 == 1:
            Visit.objects.create(user=technicien, request=demande, seen_at=timezone.now())
            Visit.objects.create(user=agent, request=demande, seen_at=timezone.now())
    client.force_login(technicien)
    agent_client = client_factory()
    agent_client.force_login(agent)
    # Session, user, second-factor device, caisses (then remembered), the page's own two, the authors filter.
    with django_assert_num_queries(7):
        history = client.get(HISTORY + "?taille=50")
    assert len(history_badges(history)) == size - len(range(1, size, 4))
    with django_assert_num_queries(6):
        assert len(listed_numbers(client.get(HISTORY + "?taille=50&news=on"))) == size - len(range(1, size, 4))
    with django_assert_num_queries(5):
        queue = agent_client.get(QUEUE + "?taille=100")
    assert len(queue_badges(queue)) == len(range(1, size, 2)) - len(range(1, size, 4))
    with django_assert_num_queries(4):
        assert len(listed_in_queue(agent_client.get(QUEUE + "?taille=100&assignment=me&news=on"))) == len(
            range(1, size, 2)
        ) - len(range(1, size, 4))
    # The home pages: session, user, second-factor device, and each count one bounded query (the partner's: also
    # their latest requests and their drafts, which the nightly purge keeps to 30 days' worth).
    with django_assert_num_queries(7):
        agent_client.get("/")
    with django_assert_num_queries(7):
        client.get("/")


def test_the_migration_gives_open_requests_their_news(demande, agent, technicien, structure, caisse):
    """Shipped on a live service: open requests get the other side's last message and status change as news;
    resolved ones none."""
    import importlib

    from django.apps import apps

    from requests.models import Request

    backfill = importlib.import_module("requests.migrations.0013_news_and_visits").news_of_open_requests
    services.take_charge(demande, agent=agent)
    with later():
        services.post_message(demande, author=agent, body="Question.")
    with later(10):
        services.post_message(demande, author=technicien, body="Réponse.")
    with later(20):
        services.post_message(demande, author=agent, body="Note.", internal=True)
    untouched = RequestFactory(structure=structure, caisse=caisse, author=technicien)
    resolved = RequestFactory(structure=structure, caisse=caisse, author=technicien, resolved=True)
    sent = {message.body: message.created_at for message in demande.messages.all()}
    expected = {
        demande.pk: (sent["Question."], sent["Réponse."]),
        untouched.pk: (None, None),
        resolved.pk: (None, None),
    }
    Request.objects.update(partner_news_at=None, caisse_news_at=None)
    backfill(apps, None)
    assert {r.pk: (r.partner_news_at, r.caisse_news_at) for r in Request.objects.all()} == expected
