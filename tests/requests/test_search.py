"""Find a person (requests/search.py): by name (prefix, without accents or case), birth date or exact NIR, within the
user's reach only; the NIR by POST only; each request listed journaled; a request's other requests for its person."""

from datetime import date, timedelta

import pytest
from django.utils import timezone

from extranet.audit.models import AccessLog
from extranet.core.names import name_key, prefix_range
from requests.search import OTHER_REQUESTS_LIMIT, RESULT_LIMIT
from tests.factories import CaisseMembershipFactory, ConventionFactory, MembershipFactory, RequestFactory, make_nir
from tests.helpers import text

pytestmark = pytest.mark.django_db

NIR = make_nir(sex="2", year="61", month="03", department="33", commune="063", order="421")
NIR_SPACED = " ".join((NIR[0], NIR[1:3], NIR[3:5], NIR[5:7], NIR[7:10], NIR[10:13], NIR[13:]))
BORN = date(1961, 3, 14)


def person(**overrides):
    return {
        "person_civility": "mme",
        "person_last_name": "Lefèvre",
        "person_first_name": "Élodie",
        "person_birth_date": BORN,
        "person_nir": NIR,
    } | overrides


def a_request(structure, caisse, **overrides):
    return RequestFactory(structure=structure, caisse=caisse, **person(**overrides))


def numbers(response):
    assert response.status_code == 200, response.content.decode()[:2000]
    return [row.number for row in response.context["results"]]


@pytest.mark.parametrize(
    ("typed", "key"),
    [
        ("Lefèvre", "lefevre"),
        ("LE GALL", "legall"),
        ("N'Diaye-Sarr", "ndiayesarr"),
        ("Œuvray", "oeuvray"),
        ("Strauß", "strauss"),
        ("Øster", "oster"),
        ("  ", ""),
    ],
)
def test_name_key(typed, key):
    assert name_key(typed) == key


@pytest.mark.parametrize(("key", "bounds"), [("dup", ("dup", "duq")), ("dz", ("dz", "e")), ("zz", ("zz", None))])
def test_prefix_range(key, bounds):
    assert prefix_range(key) == bounds


class TestByName:
    @pytest.mark.parametrize("typed", ["Lefèvre", "lefevre", "LEFEV", "le fèv", "Le-Fevre", "lé"])
    def test_a_prefix_without_accents_case_or_separators(self, agent_client, structure, caisse, typed):
        demande = a_request(structure, caisse)
        a_request(structure, caisse, person_last_name="Martin", person_nir=make_nir())
        assert numbers(agent_client.post("/recherche/", {"last_name": typed})) == [demande.number]

    def test_not_the_middle_of_a_name(self, agent_client, structure, caisse):
        a_request(structure, caisse)
        assert numbers(agent_client.post("/recherche/", {"last_name": "fèvre"})) == []

    def test_first_name_narrows(self, agent_client, structure, caisse):
        elodie = a_request(structure, caisse)
        a_request(structure, caisse, person_first_name="Marc", person_nir=make_nir())
        response = agent_client.post("/recherche/", {"last_name": "lefevre", "first_name": "elo"})
        assert numbers(response) == [elodie.number]

    def test_by_name_then_newest_first(self, agent_client, structure, caisse):
        now = timezone.now()
        older = a_request(structure, caisse, created_at=now - timedelta(days=9))
        newer = a_request(structure, caisse, created_at=now - timedelta(days=1), kind="case_review", motif="puma")
        first = a_request(structure, caisse, person_last_name="Lefebvre", person_nir=make_nir())
        assert numbers(agent_client.post("/recherche/", {"last_name": "lef"})) == [
            first.number,
            newer.number,
            older.number,
        ]

    def test_first_name_alone_is_refused_next_to_the_field(self, agent_client, structure, caisse):
        a_request(structure, caisse)
        response = agent_client.post("/recherche/", {"first_name": "Élodie"})
        assert response.status_code == 400
        assert "Le prénom seul ne suffit pas" in text(response)
        html = response.content.decode()
        assert 'id="id_first_name_error"' in html and 'aria-invalid="true"' in html

    def test_one_letter_is_too_short(self, agent_client):
        response = agent_client.post("/recherche/", {"last_name": "L"})
        assert response.status_code == 400
        assert response.context["form"].errors["last_name"] == ["Saisissez au moins 2 lettres."]

    def test_contact_requests_name_nobody(self, agent_client, structure, caisse):
        RequestFactory(structure=structure, caisse=caisse, contact=True)
        response = agent_client.post("/recherche/", {"birth_date": "1985-05-12"})
        assert numbers(response) == []


class TestByBirthDateAndNir:
    def test_birth_date(self, agent_client, structure, caisse):
        demande = a_request(structure, caisse)
        a_request(structure, caisse, person_birth_date=date(1961, 3, 15), person_nir=make_nir(year="61", month="03"))
        assert numbers(agent_client.post("/recherche/", {"birth_date": "1961-03-14"})) == [demande.number]

    def test_invalid_birth_date(self, agent_client):
        response = agent_client.post("/recherche/", {"birth_date": "31/02/1961"})
        assert response.status_code == 400 and "date de naissance valide" in text(response)

    @pytest.mark.parametrize("typed", [NIR, NIR_SPACED, f" {NIR[:5]}.{NIR[5:]} "])
    def test_exact_nir_through_its_digest(self, agent_client, structure, caisse, typed):
        demande = a_request(structure, caisse)
        a_request(structure, caisse, person_nir=make_nir(sex="2", year="61", month="03"))
        assert numbers(agent_client.post("/recherche/", {"nir": typed})) == [demande.number]

    def test_an_invalid_nir_is_refused_and_never_written_back(self, agent_client):
        wrong_key = NIR[:13] + ("00" if NIR[13:] != "00" else "01")
        response = agent_client.post("/recherche/", {"nir": wrong_key})
        assert response.status_code == 400
        assert "La clé du numéro de sécurité sociale ne correspond pas" in text(response)
        assert wrong_key[:13] not in response.content.decode()

    def test_the_nir_is_not_written_back_after_a_search(self, agent_client, structure, caisse):
        a_request(structure, caisse)
        html = agent_client.post("/recherche/", {"nir": NIR_SPACED}).content.decode()
        assert NIR not in html and NIR_SPACED not in html and NIR[:13] not in html

    def test_criteria_add_up(self, agent_client, structure, caisse):
        a_request(structure, caisse)
        assert numbers(agent_client.post("/recherche/", {"nir": NIR, "last_name": "Martin"})) == []

    def test_no_criterion(self, agent_client):
        response = agent_client.post("/recherche/", {})
        assert response.status_code == 400
        assert "Saisissez au moins un critère" in text(response)


class TestNirByPostOnly:
    def test_a_get_ignores_its_query_string(self, agent_client, structure, caisse):
        a_request(structure, caisse)
        response = agent_client.get("/recherche/", {"nir": NIR, "last_name": "Lefèvre"})
        assert response.status_code == 200
        assert not response.context["searched"] and not response.context["form"].is_bound
        html = response.content.decode()
        assert NIR not in html and "Lefèvre" not in html and "LEFÈVRE" not in html

    def test_the_form_posts(self, agent_client):
        html = agent_client.get("/recherche/").content.decode()
        assert '<form method="post" action="/recherche/"' in html
        assert 'name="nir"' in html and 'method="get"' not in html.split('id="contenu"')[1]


class TestScope:
    def test_another_caisse_s_persons_are_never_found(self, client, structure, caisse, other_caisse):
        a_request(structure, caisse)
        client.force_login(CaisseMembershipFactory(caisse=other_caisse).user)
        for criteria in ({"last_name": "Lefèvre"}, {"birth_date": "1961-03-14"}, {"nir": NIR}):
            assert numbers(client.post("/recherche/", criteria)) == [], criteria

    def test_another_structure_s_persons_are_never_found(self, client, structure, caisse):
        a_request(structure, caisse)
        neighbour = ConventionFactory(caisse=caisse).structure
        client.force_login(MembershipFactory(structure=neighbour).user)
        for criteria in ({"last_name": "Lefèvre"}, {"birth_date": "1961-03-14"}, {"nir": NIR}):
            assert numbers(client.post("/recherche/", criteria)) == [], criteria

    def test_a_partner_finds_the_structure_s_requests_to_all_its_caisses(
        self, technicien_client, structure, caisse, other_caisse
    ):
        ConventionFactory(structure=structure, caisse=other_caisse)
        here = a_request(structure, caisse)
        there = a_request(structure, other_caisse, kind="case_review", motif="puma")
        response = technicien_client.post("/recherche/", {"nir": NIR})
        assert sorted(numbers(response)) == sorted([here.number, there.number])
        assert "CPAM de la Loire" in text(response)

    def test_the_caisse_s_agents_find_every_structure_s_requests(self, agent_client, structure, caisse):
        here = a_request(structure, caisse)
        elsewhere = a_request(ConventionFactory(caisse=caisse).structure, caisse)
        assert sorted(numbers(agent_client.post("/recherche/", {"nir": NIR}))) == sorted(
            [here.number, elsewhere.number]
        )

    def test_who_has_no_role_is_refused(self, client, django_user_model):
        from tests.factories import UserFactory

        client.force_login(UserFactory())
        assert client.get("/recherche/").status_code == 403
        assert client.post("/recherche/", {"nir": NIR}).status_code == 403

    def test_reached_from_the_navigation_of_both_sides(self, technicien_client, agent, client_factory):
        for browser in (technicien_client, client_factory()):
            if browser is not technicien_client:
                browser.force_login(agent)
            assert 'href="/recherche/"' in browser.get("/").content.decode()


class TestResults:
    def test_the_table(self, agent_client, structure, caisse):
        demande = a_request(structure, caisse)
        response = agent_client.post("/recherche/", {"last_name": "lefevre"})
        html = response.content.decode()
        assert "<caption" in html and "Demandes trouvées par nom" in html
        row = text(response).split("Déposée le", 1)[1]
        assert demande.number in row and "Madame LEFÈVRE Élodie" in row and "14/03/1961" in row
        assert demande.get_kind_display()[:30] in row and "Nouveau" in row
        assert f'href="/demandes/{demande.number}/"' in html
        assert "1 demande trouvée." in text(response)

    def test_bounded_with_a_request_to_narrow_it(self, agent_client, structure, caisse):
        for index in range(RESULT_LIMIT + 1):
            a_request(structure, caisse, person_nir=make_nir(order=f"{index:03d}"), kind="case_review", motif="puma")
        response = agent_client.post("/recherche/", {"last_name": "lefevre"})
        assert len(numbers(response)) == RESULT_LIMIT
        assert "précisez votre recherche" in text(response)

    @pytest.mark.parametrize("side", ["agent", "technicien"])
    def test_query_count_constant(self, client, request, side, structure, caisse, django_assert_num_queries):
        """Session, user, membership, the results (with their caisse), the journal's one insert: at 2 and 20."""
        client.force_login(request.getfixturevalue(side))
        for size, name in ((2, "Durand"), (20, "Lefèvre")):
            for index in range(size):
                nir = make_nir(order=f"{index:03d}")
                a_request(structure, caisse, person_last_name=name, person_nir=nir, kind="case_review", motif="puma")
        client.post("/recherche/", {"last_name": "durand"})  # warm the process's caches
        for size, name in ((2, "durand"), (20, "lefevre")):
            with django_assert_num_queries(QUERIES[side]):
                assert len(numbers(client.post("/recherche/", {"last_name": name}))) == size


QUERIES = {"agent": 5, "technicien": 5}


@pytest.mark.django_db
@pytest.mark.parametrize("side", ["agent", "technicien"])
def test_only_a_partners_results_join_their_caisse(client, request, side, structure, caisse):
    """The caisse's name is a column of the partner's results only: an agent's page of a common name reads no join
    (bench: person_search), and still journals each request in its caisse."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    user = request.getfixturevalue(side)
    client.force_login(user)
    a_request(structure, caisse, person_last_name="Durand")
    with CaptureQueriesContext(connection) as queries:
        response = client.post("/recherche/", {"last_name": "durand"})
    assert len(numbers(response)) == 1
    found = [q["sql"] for q in queries.captured_queries if q["sql"].startswith('SELECT "requests_request"')]
    assert len(found) == 1
    assert ('"structures_caisse"' in found[0]) is (side == "technicien")
    assert AccessLog.objects.get(user=user, action=AccessLog.Action.SEARCH).caisse_id == caisse.pk


class TestJournal:
    def test_each_request_listed_is_journaled_without_the_nir(self, agent, agent_client, structure, caisse):
        demande = a_request(structure, caisse)
        other = a_request(structure, caisse, kind="case_review", motif="puma")
        agent_client.post("/recherche/", {"nir": NIR_SPACED, "birth_date": "1961-03-14"})
        rows = AccessLog.objects.filter(user=agent, action=AccessLog.Action.SEARCH)
        assert sorted(row.request_id for row in rows) == sorted([demande.pk, other.pk])
        assert {row.caisse_id for row in rows} == {caisse.pk}
        for row in rows:
            assert row.target == f"{row.request.number} — recherche par date de naissance, NIR"
            assert NIR[:13] not in str(row)

    def test_a_search_without_result_is_journaled_once(self, agent, agent_client, caisse):
        agent_client.post("/recherche/", {"nir": NIR})
        row = AccessLog.objects.get(user=agent)
        assert (row.action, row.caisse_id, row.request_id) == ("search", caisse.pk, None)
        assert row.target == "recherche par NIR, aucun résultat"

    def test_an_invalid_search_journals_nothing(self, agent_client):
        agent_client.post("/recherche/", {"first_name": "Élodie"})
        assert not AccessLog.objects.exists()

    def test_the_journal_page_shows_it(self, caisse_admin, agent_client, client_factory, structure, caisse):
        a_request(structure, caisse)
        agent_client.post("/recherche/", {"last_name": "Lefèvre"})
        admin = client_factory()
        admin.force_login(caisse_admin)
        assert "Recherche d'une personne" in text(admin.get(JOURNAL_URL))


JOURNAL_URL = "/caisse/journal-des-acces/"


def _others(response):
    assert response.status_code == 200
    return [row.number for row in response.context.get("same_person") or []]


class TestSamePerson:
    def test_on_both_sides_newest_first_without_itself(
        self, technicien_client, agent, client_factory, structure, caisse
    ):
        now = timezone.now()
        older = a_request(structure, caisse, created_at=now - timedelta(days=30))
        newer = a_request(structure, caisse, created_at=now - timedelta(days=2), kind="case_review", motif="puma")
        current = a_request(structure, caisse, kind="document", motif="vaccination")
        a_request(structure, caisse, person_nir=make_nir())  # somebody else
        agent_client = client_factory()
        agent_client.force_login(agent)
        for browser in (technicien_client, agent_client):
            response = browser.get(f"/demandes/{current.number}/")
            assert _others(response) == [newer.number, older.number]
            section = response.content.decode().split('data-testid="same-person"')[1].split("</section>")[0]
            assert "<caption" in section and f'href="/demandes/{newer.number}/"' in section

    def test_none_yet(self, technicien_client, structure, caisse):
        demande = a_request(structure, caisse)
        response = technicien_client.get(f"/demandes/{demande.number}/")
        assert _others(response) == [] and "Aucune autre demande de votre structure pour cette personne." in text(
            response
        )

    def test_a_contact_request_has_no_such_block(self, technicien_client, structure, caisse):
        demande = RequestFactory(structure=structure, caisse=caisse, contact=True)
        response = technicien_client.get(f"/demandes/{demande.number}/")
        assert "same_person" not in response.context and "Autres demandes pour cette personne" not in text(response)

    def test_scoped_to_the_partner_s_structure(self, technicien_client, structure, caisse, other_caisse):
        ConventionFactory(structure=structure, caisse=other_caisse)
        current = a_request(structure, caisse)
        to_other_caisse = a_request(structure, other_caisse, kind="case_review", motif="puma")
        a_request(ConventionFactory(caisse=caisse).structure, caisse)  # same person, another structure
        assert _others(technicien_client.get(f"/demandes/{current.number}/")) == [to_other_caisse.number]

    def test_scoped_to_the_agent_s_caisse(self, agent_client, structure, caisse, other_caisse):
        ConventionFactory(structure=structure, caisse=other_caisse)
        current = a_request(structure, caisse)
        a_request(structure, other_caisse, kind="case_review", motif="puma")  # same person, another caisse
        from_neighbour = a_request(ConventionFactory(caisse=caisse).structure, caisse)
        assert _others(agent_client.get(f"/demandes/{current.number}/")) == [from_neighbour.number]

    def test_bounded(self, agent_client, structure, caisse):
        now = timezone.now()
        for index in range(OTHER_REQUESTS_LIMIT + 1):
            a_request(ConventionFactory(caisse=caisse).structure, caisse, created_at=now - timedelta(days=index + 1))
        current = a_request(structure, caisse)
        response = agent_client.get(f"/demandes/{current.number}/")
        assert len(_others(response)) == OTHER_REQUESTS_LIMIT
        assert "D'autres demandes, plus anciennes, concernent cette personne" in text(response)
