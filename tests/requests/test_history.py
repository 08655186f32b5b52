import re
from datetime import UTC, datetime, timedelta
from unittest import mock

import pytest
from django.urls import URLResolver

from requests.models import Follow, Request
from tests.factories import (
    ConventionFactory,
    MembershipFactory,
    RequestFactory,
    advance,
    change_convention_status,
    make_nir,
)
from tests.helpers import text
from tests.requests.builders import listed_numbers
from tests.snapshots import snapshot_queries

START = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)


def count_line(response):
    return re.search(r'data-testid="result-count">([^<]*)<', response.content.decode()).group(1)


@pytest.fixture
def make(structure, caisse, technicien):
    """A request of the structure to the caisse, deposited `hour` hours after START; numbers follow the hour."""

    def make_request(hour, **kwargs):
        kwargs.setdefault("number", f"26331{hour:05d}")
        kwargs.setdefault("person_nir", make_nir(order=f"{hour % 1000:03d}"))
        return RequestFactory(
            structure=kwargs.pop("structure", structure),
            caisse=kwargs.pop("caisse", caisse),
            author=kwargs.pop("author", technicien),
            created_at=START + timedelta(hours=hour),
            **kwargs,
        )

    return make_request


@pytest.mark.django_db
class TestListing:
    def test_newest_first_with_the_count(self, technicien_client, make):
        made = [make(hour) for hour in [5, 1, 8, 3, 2, 7, 4, 6]]
        response = technicien_client.get("/demandes/")
        assert response.status_code == 200
        assert count_line(response) == "1-8 sur 8 résultats"
        assert listed_numbers(response) == [r.number for r in sorted(made, key=lambda r: r.created_at, reverse=True)]

    def test_a_row_shows_kind_status_number_date_author_and_person(self, technicien_client, technicien, make):
        deposited = make(
            0,
            number="2233100012",
            person_civility="mme",
            person_last_name="Durand",
            person_first_name="Léa",
            person_nir=make_nir(sex="2", year="91"),
        )
        Request.objects.filter(pk=deposited.pk).update(created_at=datetime(2022, 2, 16, 15, 30, tzinfo=UTC))
        page = text(technicien_client.get("/demandes/"))
        author = f"{technicien.last_name.upper()} {technicien.first_name}"
        assert (
            "Signaler une situation de difficulté d'accès aux droits et aux soins Nouveau "
            f"☆ Suivre la demande n° 2233100012 2233100012 — déposée le 16/02/2022 16h30 "
            f"Demandeur {author} — Personne concernée Madame DURAND Léa (NIR 2 91 •• •• ••• ••• ••) "
            "Consulter le détail de la demande 2233100012"
        ) in page
        html = technicien_client.get("/demandes/").content.decode()
        assert 'href="/demandes/2233100012/"' in html

    def test_contact_request_has_no_person(self, technicien_client, make):
        make(1, contact=True)
        page = text(technicien_client.get("/demandes/"))
        assert "Contacter votre organisme d'assurance maladie Nouveau" in page
        assert "— Personne concernée" not in page

    def test_single_and_empty_results(self, technicien_client, make):
        assert "Aucune demande ne correspond." in text(technicien_client.get("/demandes/"))
        make(1)
        assert count_line(technicien_client.get("/demandes/")) == "1-1 sur 1 résultat"

    @pytest.mark.parametrize(
        ("query", "line", "hours"),
        [
            ("", "1-10 sur 25 résultats", range(25, 15, -1)),
            ("?page=2", "11-20 sur 25 résultats", range(15, 5, -1)),
            ("?page=3", "21-25 sur 25 résultats", range(5, 0, -1)),
            ("?taille=20", "1-20 sur 25 résultats", range(25, 5, -1)),
            ("?taille=20&page=2", "21-25 sur 25 résultats", range(5, 0, -1)),
            ("?taille=50", "1-25 sur 25 résultats", range(25, 0, -1)),
            ("?taille=7", "1-10 sur 25 résultats", range(25, 15, -1)),
            ("?taille=100000", "1-10 sur 25 résultats", range(25, 15, -1)),
            ("?page=99", "21-25 sur 25 résultats", range(5, 0, -1)),
            ("?page=abc", "1-10 sur 25 résultats", range(25, 15, -1)),
        ],
    )
    def test_page_sizes_and_pages(self, technicien_client, make, query, line, hours):
        for hour in range(1, 26):
            make(hour)
        response = technicien_client.get(f"/demandes/{query}")
        assert count_line(response) == line
        assert listed_numbers(response) == [f"26331{hour:05d}" for hour in hours]

    @pytest.mark.parametrize(
        ("query", "line", "page_line", "hours"),
        [
            ("", "1-10 sur plus de 20 résultats", "Page 1", range(25, 15, -1)),
            ("?page=2", "11-20 sur plus de 20 résultats", "Page 2", range(15, 5, -1)),
            # The page asked for is past the limit: the count goes as far as it, still short of the end.
            ("?page=2&taille=20", "21-25 sur 25 résultats", "Page 2 sur 2", range(5, 0, -1)),
            ("?page=3", "21-25 sur 25 résultats", "Page 3 sur 3", range(5, 0, -1)),
            ("?page=9", "21-25 sur 25 résultats", "Page 3 sur 3", range(5, 0, -1)),
        ],
    )
    def test_the_total_is_counted_up_to_a_limit(
        self, monkeypatch, technicien_client, make, query, line, page_line, hours
    ):
        monkeypatch.setattr("extranet.core.pagination.COUNT_LIMIT", 20)
        for hour in range(1, 26):
            make(hour)
        response = technicien_client.get(f"/demandes/{query}")
        assert count_line(response) == line
        current = re.search(r'aria-current="page"><span class="page-link">([^<]*)<', response.content.decode())
        assert current.group(1) == page_line
        assert listed_numbers(response) == [f"26331{hour:05d}" for hour in hours]

    def test_no_unbounded_count_of_the_requests(self, technicien_client, make):
        from django.db import connection
        from django.test.utils import CaptureQueriesContext

        for hour in range(1, 26):
            make(hour)
        for query in ("", "?page=2", "?page=99", "?status=new"):
            with CaptureQueriesContext(connection) as captured:
                technicien_client.get(f"/demandes/{query}")
            counts = [q["sql"] for q in captured.captured_queries if "COUNT(" in q["sql"].upper()]
            assert all("LIMIT" in sql.upper() for sql in counts), counts

    def test_pagination_links_keep_filters_sort_and_size(self, technicien_client, make):
        for hour in range(1, 46):
            make(hour)
        response = technicien_client.get("/demandes/?status=new&tri=date&ordre=asc&taille=20&page=2")
        page = text(response)
        assert "Page 2 sur 3" in page
        links = {
            label: href.replace("&amp;", "&")
            for href, label in re.findall(
                r'<a class="page-link" href="([^"]+)">([^<]+)</a>', response.content.decode()
            )
        }
        for label, target in [("Précédente", "page=1"), ("Suivante", "page=3")]:
            href = links[label]
            for kept in ["status=new", "tri=date", "ordre=asc", "taille=20", target]:
                assert kept in href, (label, href)
            assert href.count("page=") == 1
        following = technicien_client.get("/demandes/" + links["Suivante"])
        assert count_line(following) == "41-45 sur 45 résultats"
        assert listed_numbers(following) == [f"26331{hour:05d}" for hour in range(41, 46)]


@pytest.mark.django_db
class TestSorting:
    @pytest.fixture
    def made(self, make):
        rows = {
            "a": make(1, kind="document", motif="vaccination", details={"comment": ""}),
            "b": make(2, contact=True),
            "c": make(3),
            "d": make(4, appointment=True),
            "e": make(5, case_review=True),
            "f": make(6, contact=True),
        }
        advance(rows["a"], "resolved")
        advance(rows["c"], "in_progress")
        advance(rows["d"], "resolved")
        advance(rows["f"], "in_progress")
        return rows

    @pytest.mark.parametrize(
        ("query", "order"),
        [
            ("?tri=date", "fedcba"),
            ("?tri=date&ordre=desc", "fedcba"),
            ("?tri=date&ordre=asc", "abcdef"),
            # Nouveau, Pris en charge, Résolu; ties: oldest first when ascending, newest first when descending.
            ("?tri=status&ordre=asc", "becfad"),
            ("?tri=status&ordre=desc", "dafceb"),
            # The order of the five offers: contacter, signaler, rendez-vous, étude de dossier, document.
            ("?tri=kind&ordre=asc", "bfcdea"),
            ("?tri=kind&ordre=desc", "aedcfb"),
            ("?tri=inconnu&ordre=asc", "abcdef"),
            ("?tri=kind&ordre=nimportequoi", "aedcfb"),
        ],
    )
    def test_sort_field_and_order(self, technicien_client, made, query, order):
        response = technicien_client.get(f"/demandes/{query}")
        assert listed_numbers(response) == [made[key].number for key in order]

    def test_sort_choice_is_kept_in_the_form(self, technicien_client, made):
        html = technicien_client.get("/demandes/?tri=kind&ordre=asc&taille=20").content.decode()
        assert '<option value="kind" selected>Type de demande</option>' in html
        assert '<option value="asc" selected>Croissant</option>' in html
        assert '<option value="20" selected>20 par page</option>' in html


@pytest.mark.django_db
class TestFilters:
    def test_status(self, technicien_client, make):
        new, taken, done = make(1), make(2), make(3)
        advance(taken, "in_progress")
        advance(done, "resolved")
        assert listed_numbers(technicien_client.get("/demandes/?status=resolved")) == [done.number]
        assert listed_numbers(technicien_client.get("/demandes/?status=in_progress")) == [taken.number]
        assert listed_numbers(technicien_client.get("/demandes/?status=new")) == [new.number]
        assert len(listed_numbers(technicien_client.get("/demandes/?status="))) == 3

    def test_kind(self, technicien_client, make):
        make(1)
        document = make(2, document=True)
        contact = make(3, contact=True)
        assert listed_numbers(technicien_client.get("/demandes/?kind=document")) == [document.number]
        assert listed_numbers(technicien_client.get("/demandes/?kind=contact")) == [contact.number]
        assert listed_numbers(technicien_client.get("/demandes/?kind=appointment")) == []

    def test_period_uses_french_dates(self, technicien_client, make):
        # START is 02/03/2026 09h00 in Paris; hour 14 is 22h00 UTC = 23h00 in Paris, still 02/03 there.
        morning, late_evening, next_day, later = make(0), make(14), make(16), make(72)
        assert listed_numbers(
            technicien_client.get("/demandes/?deposited_from=2026-03-02&deposited_to=2026-03-02")
        ) == [
            late_evening.number,
            morning.number,
        ]
        assert listed_numbers(technicien_client.get("/demandes/?deposited_from=2026-03-03")) == [
            later.number,
            next_day.number,
        ]
        assert listed_numbers(technicien_client.get("/demandes/?deposited_to=2026-03-03")) == [
            next_day.number,
            late_evening.number,
            morning.number,
        ]
        assert (
            listed_numbers(technicien_client.get("/demandes/?deposited_from=2026-03-04&deposited_to=2026-03-04")) == []
        )

    def test_demandeur(self, technicien_client, structure, other_structure, make):
        colleague = MembershipFactory(structure=structure, user__last_name="Zeller", user__first_name="Paul").user
        outsider = MembershipFactory(structure=other_structure, user__last_name="Ailleurs").user
        mine = make(1)
        theirs = make(2, author=colleague)
        response = technicien_client.get(f"/demandes/?author={colleague.pk}")
        assert listed_numbers(response) == [theirs.number]
        assert listed_numbers(technicien_client.get(f"/demandes/?author={mine.author.pk}")) == [mine.number]
        select = re.search(r'<select name="author".*?</select>', response.content.decode(), re.S).group(0)
        assert "Paul ZELLER" in select and mine.author.last_name.upper() in select
        assert "Ailleurs" not in select
        # Another structure's user is not a choice: their requests stay out of reach, and the filter says so.
        foreign = RequestFactory(structure=other_structure, caisse=structure.conventions.get().caisse, author=outsider)
        response = technicien_client.get(f"/demandes/?author={outsider.pk}")
        assert foreign.number not in listed_numbers(response)
        assert "Sélectionnez un choix valide." in text(response)

    def test_number_prefix(self, technicien_client, make):
        first, second, third = make(11), make(12), make(21)
        assert listed_numbers(technicien_client.get("/demandes/?number=263310001")) == [second.number, first.number]
        assert listed_numbers(technicien_client.get(f"/demandes/?number={third.number}")) == [third.number]
        assert listed_numbers(technicien_client.get("/demandes/?number=2742")) == []
        # A prefix, not a fragment: the end of a number finds nothing.
        assert listed_numbers(technicien_client.get("/demandes/?number=00021")) == []

    def test_filters_combine(self, technicien_client, make):
        target = make(1, document=True, person_last_name="Lefebvre")
        resolved = make(3, document=True, person_last_name="Lefebvre", person_nir=make_nir(order="901"))
        advance(resolved, "resolved")
        make(4, person_last_name="Lefebvre", person_nir=make_nir(order="902"))
        response = technicien_client.get("/demandes/?kind=document&status=new")
        assert listed_numbers(response) == [target.number]
        assert count_line(response) == "1-1 sur 1 résultat"

    def test_clear_filters_link(self, technicien_client, make):
        make(1)
        html = technicien_client.get("/demandes/?status=resolved").content.decode()
        assert '<a class="btn btn-link" href="/demandes/">Effacer les filtres</a>' in html


def filter_summary(response):
    return re.search(r"<summary[^>]*>([^<]*)</summary>", response.content.decode()).group(1)


@pytest.mark.django_db
class TestFilterPanel:
    def test_the_summary_counts_the_filters_in_force(self, technicien_client, make):
        make(1)
        assert filter_summary(technicien_client.get("/demandes/")) == "Filtres"
        assert filter_summary(technicien_client.get("/demandes/?tri=status&ordre=asc&taille=20")) == "Filtres"
        assert filter_summary(technicien_client.get("/demandes/?status=new")) == "Filtres (1 actif)"
        assert filter_summary(technicien_client.get("/demandes/?status=new&followed=on&kind=")) == "Filtres (2 actifs)"
        html = technicien_client.get("/demandes/?followed=on").content.decode()
        assert '<details class="filter-panel border rounded mb-3" data-collapse-on-small open' in html


@pytest.mark.django_db
class TestAuthorChoices:
    def test_namesakes_are_told_apart_by_their_address(self, technicien_client, structure, make):
        first = MembershipFactory(structure=structure, user__first_name="Lina", user__last_name="Nguyen").user
        second = MembershipFactory(
            structure=structure, user__first_name="Lina", user__last_name="Nguyen", user__is_active=False
        ).user
        other = MembershipFactory(structure=structure, user__first_name="Paul", user__last_name="Martin").user
        make(1, author=second)
        html = technicien_client.get("/demandes/").content.decode()
        select = re.search(r'<select name="author".*?</select>', html, re.S).group(0)
        options = dict(re.findall(r'<option value="(\d*)"[^>]*>([^<]*)</option>', select))
        assert options[str(first.pk)] == f"Lina NGUYEN ({first.email})"
        assert options[str(second.pk)] == f"Lina NGUYEN ({second.email}), compte désactivé"
        assert options[str(other.pk)] == "Paul MARTIN"
        response = technicien_client.get(f"/demandes/?author={second.pk}")
        assert len(listed_numbers(response)) == 1
        assert f'<option value="{second.pk}" selected>' in response.content.decode()


@pytest.mark.django_db
class TestFollowing:
    def test_star_toggles_following_and_the_followed_filter_lists_it(self, technicien_client, technicien, make):
        followed, other = make(1), make(2)
        html = technicien_client.get("/demandes/").content.decode()
        assert html.count('aria-pressed="false"') == 2 and 'aria-pressed="true"' not in html

        response = technicien_client.post(f"/demandes/{followed.number}/suivre/", {"next": "/demandes/?tri=date"})
        # Back to the list at the star's row, not at the top of the page.
        assert response.status_code == 302
        assert response["Location"] == f"/demandes/?tri=date#demande-{followed.number}"
        page = technicien_client.get(response["Location"])
        assert f"Vous suivez la demande {followed.number}." in text(page)
        assert Follow.objects.filter(user=technicien, request=followed).exists()
        star = re.search(
            rf'<button[^>]*aria-pressed="(true|false)"[^>]*>\s*<span aria-hidden="true" data-star>(.)</span>\s*'
            rf'<span class="visually-hidden">Suivre la demande n° {followed.number}</span>',
            page.content.decode(),
        )
        assert star.groups() == ("true", "★")

        response = technicien_client.get("/demandes/?followed=on")
        assert listed_numbers(response) == [followed.number]
        assert count_line(response) == "1-1 sur 1 résultat"
        assert len(listed_numbers(technicien_client.get("/demandes/"))) == 2
        assert other.number not in listed_numbers(response)

        technicien_client.post(f"/demandes/{followed.number}/suivre/", {"next": "/demandes/"})
        assert f"Vous ne suivez plus la demande {followed.number}." in text(technicien_client.get("/demandes/"))
        assert listed_numbers(technicien_client.get("/demandes/?followed=on")) == []
        assert not Follow.objects.exists()

    def test_following_is_personal(self, technicien_client, structure, make, client_factory):
        deposited = make(1)
        technicien_client.post(f"/demandes/{deposited.number}/suivre/")
        colleague = client_factory()
        colleague.force_login(MembershipFactory(structure=structure).user)
        assert listed_numbers(colleague.get("/demandes/?followed=on")) == []
        assert 'aria-pressed="true"' not in colleague.get("/demandes/").content.decode()

    def test_detail_page_star(self, technicien_client, make):
        deposited = make(1)
        assert "☆ Suivre cette demande" in text(technicien_client.get(f"/demandes/{deposited.number}/"))
        response = technicien_client.post(f"/demandes/{deposited.number}/suivre/")
        assert response["Location"] == f"/demandes/{deposited.number}/"
        assert "★ Ne plus suivre" in text(technicien_client.get(response["Location"]))

    def test_the_row_is_the_anchor_the_star_comes_back_to(self, technicien_client, make):
        deposited = make(1)
        html = technicien_client.get("/demandes/?status=new&page=1").content.decode()
        assert f'id="demande-{deposited.number}"' in html
        # The star sits before the number, in the same line.
        assert re.search(
            rf'data-follow[^>]*>.*?</form>\s*<p class="mb-0"><span class="font-monospace">{deposited.number}<',
            html,
            re.S,
        )
        response = technicien_client.post(
            f"/demandes/{deposited.number}/suivre/", {"next": "/demandes/?status=new&page=1#ailleurs"}
        )
        assert response["Location"] == f"/demandes/?status=new&page=1#demande-{deposited.number}"

    def test_the_script_toggles_in_place(self, technicien_client, technicien, make):
        """The star's script asks for JSON: the answer says the new state, with no redirect and no message left for
        the next page."""
        deposited = make(1)
        url = f"/demandes/{deposited.number}/suivre/"
        response = technicien_client.post(url, {"next": "/demandes/"}, headers={"accept": "application/json"})
        assert response.status_code == 200
        assert response.json() == {"following": True, "message": f"Vous suivez la demande {deposited.number}."}
        assert Follow.objects.filter(user=technicien, request=deposited).exists()
        assert "Vous suivez la demande" not in text(technicien_client.get("/demandes/"))
        response = technicien_client.post(url, headers={"accept": "application/json"})
        assert response.json() == {
            "following": False,
            "message": f"Vous ne suivez plus la demande {deposited.number}.",
        }
        assert not Follow.objects.exists()

    def test_the_script_is_held_to_the_csrf_check(self, make, technicien, client_factory):
        deposited = make(1)
        strict = client_factory(enforce_csrf_checks=True)
        strict.force_login(technicien)
        response = strict.post(f"/demandes/{deposited.number}/suivre/", headers={"accept": "application/json"})
        assert response.status_code == 403
        assert not Follow.objects.exists()

    def test_another_structures_request_cannot_be_followed(self, technicien_client, caisse, make):
        other = make(1, structure=ConventionFactory(caisse=caisse).structure)
        response = technicien_client.post(f"/demandes/{other.number}/suivre/", headers={"accept": "application/json"})
        assert response.status_code == 404
        assert not Follow.objects.exists()

    @pytest.mark.parametrize(
        "next_url",
        [
            "https://pirate.example/",
            "//pirate.example/demandes/",
            "/\\pirate.example/demandes/",
            "javascript:alert(1)",
            "http://testserver/demandes/",
            "demandes/",
        ],
    )
    def test_follow_never_redirects_elsewhere(self, technicien_client, make, next_url):
        deposited = make(1)
        response = technicien_client.post(f"/demandes/{deposited.number}/suivre/", {"next": next_url})
        assert response["Location"] == f"/demandes/{deposited.number}/"

    def test_follow_is_a_post(self, technicien_client, make):
        deposited = make(1)
        assert technicien_client.get(f"/demandes/{deposited.number}/suivre/").status_code == 405
        assert not Follow.objects.exists()


@pytest.mark.django_db
class TestScope:
    def test_only_the_structures_requests_to_the_current_caisse(
        self, technicien_client, structure, caisse, other_caisse, make
    ):
        ConventionFactory(structure=structure, caisse=other_caisse)
        neighbour = ConventionFactory(caisse=caisse).structure
        to_gironde = make(1)
        to_loire = make(2, caisse=other_caisse, number="2642100001")
        neighbours = make(3, structure=neighbour, author=MembershipFactory(structure=neighbour).user)

        response = technicien_client.get("/demandes/")
        assert "Toutes les demandes de votre structure auprès de la CPAM de la Gironde" in text(response)
        assert listed_numbers(response) == [to_gironde.number]
        assert [to_gironde.number] == listed_numbers(technicien_client.get("/"))

        technicien_client.post("/caisse/choisir/", {"caisse": other_caisse.pk})
        response = technicien_client.get("/demandes/")
        assert "Toutes les demandes de votre structure auprès de la CPAM de la Loire" in text(response)
        assert listed_numbers(response) == [to_loire.number]
        assert [to_loire.number] == listed_numbers(technicien_client.get("/"))
        for query in ["?number=26", f"?number={neighbours.number}", "?status=new", f"?author={neighbours.author.pk}"]:
            assert neighbours.number not in listed_numbers(technicien_client.get(f"/demandes/{query}"))

    def test_caisse_staff_have_no_partner_history(self, client, agent, caisse_admin):
        for user in [agent, caisse_admin]:
            client.force_login(user)
            assert client.get("/demandes/").status_code == 403

    def test_no_convention_at_all_no_history(self, client):
        client.force_login(MembershipFactory().user)
        page = text(client.get("/demandes/"))
        assert "Aucune convention active" in page and "Consulter l'historique" not in page


@pytest.mark.django_db
class TestConventionNotActive:
    """A suspended or ended convention stops the deposits, not the reading of the structure's requests."""

    @pytest.mark.parametrize(("status", "state"), [("suspended", "suspendue"), ("ended", "terminée")])
    def test_the_history_stays_readable_with_the_reason(
        self, technicien_client, structure, caisse, make, status, state
    ):
        resolved, still_open = make(1, resolved=True), make(2)
        elsewhere = make(3, structure=ConventionFactory(caisse=caisse).structure)
        change_convention_status(structure.conventions.get(), status)
        response = technicien_client.get("/demandes/")
        page = text(response)
        assert f"la convention de Association Alpha avec la CPAM de la Gironde est {state}" in page
        assert "Aucune demande ne peut être déposée" in page
        assert listed_numbers(response) == [still_open.number, resolved.number]
        assert elsewhere.number not in page
        assert listed_numbers(technicien_client.get("/demandes/?status=resolved")) == [resolved.number]
        assert technicien_client.get(f"/demandes/{still_open.number}/").status_code == 200
        assert "/nouvelle/" not in response.content.decode()

    def test_home_and_deposit_pages_say_why_and_lead_to_the_history(self, technicien_client, structure):
        change_convention_status(structure.conventions.get(), "suspended")
        for url in ["/", "/demandes/nouvelle/signaler/"]:
            response = technicien_client.get(url)
            page = text(response)
            assert "la convention de Association Alpha avec la CPAM de la Gironde est suspendue" in page
            assert "Consulter l'historique des demandes" in page
            assert "Déposer la demande" not in page and "Nouvelle demande" not in page

    def test_the_structure_dashboard_says_why_too(self, gestionnaire_client, structure):
        change_convention_status(structure.conventions.get(), "ended")
        page = text(gestionnaire_client.get("/structure/tableau-de-bord/"))
        assert "la convention de Association Alpha avec la CPAM de la Gironde est terminée" in page
        assert "Consulter l'historique des demandes" in page

    def test_a_structure_with_an_active_convention_lists_that_caisse_only(
        self, technicien_client, structure, caisse, other_caisse, make
    ):
        ConventionFactory(structure=structure, caisse=other_caisse, status="suspended")
        to_gironde, to_loire = make(1), make(2, caisse=other_caisse)
        response = technicien_client.get("/demandes/")
        assert listed_numbers(response) == [to_gironde.number]
        assert to_loire.number not in response.content.decode()


@pytest.mark.django_db
@pytest.mark.parametrize("size", [5, 50])
def test_history_has_constant_queries(technicien_client, technicien, structure, make, django_assert_num_queries, size):
    colleagues = [MembershipFactory(structure=structure).user for _ in range(3)]
    for hour in range(size):
        deposited = make(hour, author=colleagues[hour % 3], **({"contact": True} if hour % 4 == 0 else {}))
        if hour % 2:
            Follow.objects.create(user=technicien, request=deposited)
    # Session, user, second-factor device, caisses, the page's own.
    with django_assert_num_queries(7):
        response = technicien_client.get("/demandes/?taille=50&status=new")
    assert len(listed_numbers(response)) == size


@pytest.mark.django_db
def test_history_rows_reverse_no_url(technicien_client, structure, make):
    """The rows' links are built from one reversed pattern (extranet/core/links.py), not by `reverse` on each row: the
    page reverses as many URLs for 2 rows as for 12."""
    reversed_urls = []
    real = URLResolver._reverse_with_prefix

    def counting(resolver, *args, **kwargs):
        reversed_urls.append(args[0])
        return real(resolver, *args, **kwargs)

    counts = []
    for size in (2, 12):
        for hour in range(len(counts) * 2, size):
            make(hour)
        technicien_client.get("/demandes/")
        reversed_urls.clear()
        with mock.patch.object(URLResolver, "_reverse_with_prefix", counting):
            response = technicien_client.get("/demandes/?taille=50")
        assert len(listed_numbers(response)) == size
        counts.append(len(reversed_urls))
    assert counts[0] == counts[1], reversed_urls


@pytest.mark.django_db
def test_history_sql(technicien_client, technicien, structure, make, snapshot):
    """The history's queries, filtered as a partner reads it, the second time (the process's caches filled)."""
    colleagues = [MembershipFactory(structure=structure).user for _ in range(3)]
    for hour in range(6):
        deposited = make(hour, author=colleagues[hour % 3], **({"contact": True} if hour % 4 == 0 else {}))
        if hour % 2:
            Follow.objects.create(user=technicien, request=deposited)
    technicien_client.get("/demandes/")
    with snapshot_queries(snapshot):
        response = technicien_client.get("/demandes/?taille=50&status=new&followed=on")
    assert len(listed_numbers(response)) == 3
