import csv
import html as html_module
import io
import re
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.db import connection
from django.db.models import Func
from django.test.utils import CaptureQueriesContext

from requests.models import ExportLog, Message, Request
from requests.queue import EXPORT_FIELDS
from tests.factories import (
    CaisseMembershipFactory,
    ConventionFactory,
    MembershipFactory,
    RequestFactory,
    advance,
    make_nir,
)
from tests.helpers import text, visible_text
from tests.requests.builders import listed_numbers
from tests.snapshots import snapshot_queries

PARIS = ZoneInfo("Europe/Paris")
# Thursday 12 March 2026, 10h in Paris: "today" in most tests.
NOW = datetime(2026, 3, 12, 10, 0, tzinfo=PARIS)
QUEUE = "/caisse/demandes/"
EXPORT = "/caisse/demandes/export.csv"
HEADER = [
    "Numéro",
    "Type de demande",
    "Motif",
    "Structure",
    "Caisse",
    "Statut",
    "Déposée le",
    "Prise en charge le",
    "Résolue le",
    "Agent en charge",
    "Âge (jours ouvrés)",
    "En retard",
]
PERSONAL_HEADER = ["Nom", "Prénom", "Date de naissance", "NIR"]


@pytest.fixture(autouse=True)
def today(time_machine):
    time_machine.move_to(NOW, tick=False)
    return NOW.date()


@pytest.fixture
def make(structure, caisse, technicien):
    """A request of the structure to the caisse, deposited at `when` (Paris time; a date means 9h that day)."""
    counter = iter(range(1, 100_000))

    def make_request(when, **kwargs):
        serial = next(counter)
        if not isinstance(when, datetime):
            when = datetime(when.year, when.month, when.day, 9, 0, tzinfo=PARIS)
        kwargs.setdefault("number", f"26331{serial:05d}")
        if not kwargs.get("contact"):
            kwargs.setdefault("person_nir", make_nir(order=f"{serial % 1000:03d}"))
        return RequestFactory(
            structure=kwargs.pop("structure", structure),
            caisse=kwargs.pop("caisse", caisse),
            author=kwargs.pop("author", technicien),
            created_at=when,
            **kwargs,
        )

    return make_request


def take(demande, agent, at=None):
    """Taken in charge by `agent` at `at` (an hour after the deposit by default), through the workflow."""
    with time_machine.travel(at or demande.created_at + timedelta(hours=1), tick=False):
        advance(demande, "in_progress", agent=agent)


def resolve(demande, agent, at=None):
    """Taken in charge by `agent` an hour after the deposit, resolved by them at `at` (an hour later by default)."""
    take(demande, agent)
    with time_machine.travel(at or demande.created_at + timedelta(hours=2), tick=False):
        advance(demande, "resolved")


def queue_rows(response):
    """{number: visible text of its row}, in the order shown."""
    html = response.content.decode()
    rows = re.findall(r'<tr[^>]*data-testid="queue-row">(.*?)</tr>', html, re.S)
    return {re.search(r'font-monospace">(\d{10})<', row).group(1): visible_text(row) for row in rows}


def overdue_numbers(response):
    return [number for number, row in queue_rows(response).items() if "En retard" in row]


def count_line(response):
    return re.search(r'data-testid="result-count">([^<]*)<', response.content.decode()).group(1)


def read_csv(response):
    assert response.streaming
    body = b"".join(response.streaming_content).decode("utf-8")
    assert body.startswith("\ufeff")
    return list(csv.reader(io.StringIO(body[1:]), delimiter=";"))


@pytest.mark.django_db
class TestAccess:
    def test_partners_are_refused(self, client, technicien, gestionnaire):
        for user in [technicien, gestionnaire]:
            client.force_login(user)
            assert client.get(QUEUE).status_code == 403
            assert client.get(EXPORT).status_code == 403
        assert not ExportLog.objects.exists()

    def test_anonymous_goes_to_login(self, client):
        for url in [QUEUE, EXPORT]:
            response = client.get(url)
            assert response.status_code == 302 and response["Location"].startswith("/connexion/")

    def test_deactivated_agent_is_refused(self, client, caisse):
        membership = CaisseMembershipFactory(caisse=caisse, is_active=False)
        client.force_login(membership.user)
        assert client.get(QUEUE).status_code == 403

    def test_only_the_caisse_requests(self, agent_client, make, other_structure, other_caisse, other_caisse_admin):
        mine = make(date(2026, 3, 10))
        theirs = make(
            date(2026, 3, 2),
            structure=other_structure,
            caisse=other_caisse,
            author=MembershipFactory(structure=other_structure).user,
            number="2642100001",
        )
        for query in ["", "?status=all", "?status=new", "?number=2642", "?overdue=on", "?ordre=recentes"]:
            numbers = listed_numbers(agent_client.get(QUEUE + query))
            assert theirs.number not in numbers, query
        assert listed_numbers(agent_client.get(QUEUE)) == [mine.number]
        rows = read_csv(agent_client.get(EXPORT + "?status=all"))
        assert [row[0] for row in rows[1:]] == [mine.number]
        agent_client.force_login(other_caisse_admin)
        assert listed_numbers(agent_client.get(QUEUE)) == [theirs.number]

    def test_caisse_staff_reach_it_from_navigation_and_home(self, client, agent, caisse_admin, technicien):
        for user in [agent, caisse_admin]:
            client.force_login(user)
            html = client.get("/").content.decode()
            assert '<a class="nav-link" href="/caisse/demandes/">File des demandes</a>' in html
            assert '<a class="btn btn-primary" href="/caisse/demandes/">File des demandes</a>' in html
            nav = re.findall(r'class="nav-link[^"]*" href="[^"]*"[^>]*>([^<]+)<', html)
            assert nav[:2] == ["Accueil", "File des demandes"]
            page = client.get(QUEUE).content.decode()
            assert 'aria-current="page">File des demandes</a>' in page
        client.force_login(technicien)
        assert "File des demandes" not in text(client.get("/"))

    def test_detail_back_link_goes_to_the_queue_for_staff(self, client, agent, technicien, make):
        deposited = make(date(2026, 3, 10))
        client.force_login(agent)
        html = client.get(f"/demandes/{deposited.number}/").content.decode()
        assert '<a href="/caisse/demandes/">← File des demandes</a>' in html
        assert "← Historique des demandes" not in html
        client.force_login(technicien)
        html = client.get(f"/demandes/{deposited.number}/").content.decode()
        assert '<a href="/demandes/">← Historique des demandes</a>' in html


@pytest.mark.django_db
class TestRows:
    def test_a_row_shows_what_an_agent_needs(self, agent_client, agent, make):
        deposited = make(
            datetime(2026, 3, 5, 16, 30, tzinfo=PARIS),
            kind="appointment",
            motif="c2s",
            appointment=True,
            person_civility="mme",
            person_last_name="Durand",
            person_first_name="Léa",
            person_nir=make_nir(sex="2", year="91"),
        )
        take(deposited, agent)
        response = agent_client.get(QUEUE)
        assert response.status_code == 200
        row = queue_rows(response)[deposited.number]
        author = deposited.author.get_full_name()
        assert row == (
            f"{deposited.number} : consulter la demande "
            "Rendez-vous Demander un rendez-vous pour un assuré · C2S Complémentaire santé solidaire (C2S) "
            f"Association Alpha par {author} "
            "Madame DURAND Léa NIR 2 91 •• •• ••• ••• •• "
            "05/03/2026 16h30 Pris en charge "
            f"{agent.get_full_name()} 5"
        )
        html = response.content.decode()
        # Short labels on the line, the full ones for assistive technologies and as the cell's tooltip.
        assert (
            '<span title="Demander un rendez-vous pour un assuré"><span aria-hidden="true">Rendez-vous</span>'
            '<span class="visually-hidden">Demander un rendez-vous pour un assuré</span></span>'
        ) in html
        assert 'title="Demander un rendez-vous pour un assuré — Complémentaire santé solidaire (C2S)"' in html
        assert f'<a href="/demandes/{deposited.number}/">' in html
        assert deposited.person_nir not in html

    def test_contact_has_no_person_and_unassigned_is_said(self, agent_client, make):
        contact = make(date(2026, 3, 11), contact=True)
        row = queue_rows(agent_client.get(QUEUE))[contact.number]
        assert "— sans personne concernée" in row
        assert "Non attribuée" in row
        assert "Objet" not in row and "Technique" in row

    def test_table_is_accessible(self, agent_client, make):
        make(date(2026, 3, 2))
        html = agent_client.get(QUEUE).content.decode()
        assert "<caption" in html and "des plus anciennes aux plus récentes</caption>" in html
        assert html.count('<th scope="col">') == 8
        assert '<th scope="row">' in html
        # The overdue state is written, not only coloured.
        assert '<tr class="table-danger" data-testid="queue-row">' in html
        assert '<span class="badge text-bg-danger">En retard</span>' in html
        for label in ["Statut", "Type de demande", "Motif", "Structure", "Attribution", "Numéro"]:
            assert re.search(rf'<label class="form-label" for="id_\w+">{label}</label>', html), label
        assert '<label class="form-check-label" for="id_overdue">Seulement les demandes en retard</label>' in html


@pytest.mark.django_db
class TestDefaultAndSort:
    @pytest.fixture
    def made(self, make, agent):
        rows = {
            "a": make(datetime(2026, 3, 2, 9, 0, tzinfo=PARIS)),
            "b": make(datetime(2026, 3, 3, 9, 0, tzinfo=PARIS)),
            "c": make(datetime(2026, 3, 4, 9, 0, tzinfo=PARIS)),
            "d": make(datetime(2026, 3, 5, 9, 0, tzinfo=PARIS)),
            "e": make(datetime(2026, 3, 6, 9, 0, tzinfo=PARIS)),
        }
        take(rows["b"], agent)
        resolve(rows["c"], agent)
        return rows

    def numbers(self, made, keys):
        return [made[key].number for key in keys]

    def test_open_requests_oldest_first_by_default(self, agent_client, made):
        response = agent_client.get(QUEUE)
        assert listed_numbers(response) == self.numbers(made, "abde")
        assert '<option value="open" selected>' in response.content.decode()

    @pytest.mark.parametrize(
        ("query", "order"),
        [
            ("?ordre=anciennes", "abde"),
            ("?ordre=recentes", "edba"),
            ("?ordre=nimportequoi", "abde"),
            ("?status=", "abde"),
            ("?status=all", "abcde"),
            ("?status=all&ordre=recentes", "edcba"),
        ],
    )
    def test_order_and_all_statuses(self, agent_client, made, query, order):
        assert listed_numbers(agent_client.get(QUEUE + query)) == self.numbers(made, order)

    def test_same_deposit_time_is_stable(self, agent_client, make):
        moment = datetime(2026, 3, 4, 9, 0, tzinfo=PARIS)
        first, second = make(moment), make(moment)
        assert listed_numbers(agent_client.get(QUEUE)) == [first.number, second.number]
        assert listed_numbers(agent_client.get(QUEUE + "?ordre=recentes")) == [second.number, first.number]


@pytest.mark.django_db
class TestFilters:
    def test_status(self, agent_client, make, agent):
        new, taken, done = make(date(2026, 3, 2)), make(date(2026, 3, 3)), make(date(2026, 3, 4))
        take(taken, agent)
        resolve(done, agent)
        assert listed_numbers(agent_client.get(QUEUE + "?status=new")) == [new.number]
        assert listed_numbers(agent_client.get(QUEUE + "?status=in_progress")) == [taken.number]
        assert listed_numbers(agent_client.get(QUEUE + "?status=resolved")) == [done.number]
        assert listed_numbers(agent_client.get(QUEUE + "?status=open")) == [new.number, taken.number]
        response = agent_client.get(QUEUE + "?status=perdu")
        assert "Sélectionnez un choix valide." in text(response)
        assert listed_numbers(response) == [new.number, taken.number]

    def test_kind(self, agent_client, make):
        make(date(2026, 3, 2))
        document = make(date(2026, 3, 3), document=True)
        contact = make(date(2026, 3, 4), contact=True)
        assert listed_numbers(agent_client.get(QUEUE + "?kind=document")) == [document.number]
        assert listed_numbers(agent_client.get(QUEUE + "?kind=contact")) == [contact.number]
        assert listed_numbers(agent_client.get(QUEUE + "?kind=appointment")) == []

    def test_motif_is_per_kind(self, agent_client, make):
        appointment_other = make(date(2026, 3, 2), appointment=True, motif="other")
        contact_other = make(date(2026, 3, 3), contact=True, motif="other")
        appointment_c2s = make(date(2026, 3, 4), appointment=True)
        mas = make(date(2026, 3, 5), motif="mas_referral")
        assert listed_numbers(agent_client.get(QUEUE + "?motif=appointment:other")) == [appointment_other.number]
        assert listed_numbers(agent_client.get(QUEUE + "?motif=contact:other")) == [contact_other.number]
        assert listed_numbers(agent_client.get(QUEUE + "?motif=appointment:c2s")) == [appointment_c2s.number]
        assert listed_numbers(agent_client.get(QUEUE + "?motif=access_difficulty:mas_referral")) == [mas.number]
        response = agent_client.get(QUEUE + "?motif=appointment:inconnu")
        assert "Sélectionnez un choix valide." in text(response)
        html = response.content.decode()
        assert '<optgroup label="Demander un rendez-vous pour un assuré">' in html
        assert '<option value="access_difficulty:mas_referral">' in html

    def test_structure(self, agent_client, make, caisse, other_structure):
        neighbour = ConventionFactory(caisse=caisse, structure__name="CCAS de Bègles").structure
        mine = make(date(2026, 3, 2))
        theirs = make(date(2026, 3, 3), structure=neighbour, author=MembershipFactory(structure=neighbour).user)
        assert listed_numbers(agent_client.get(QUEUE + f"?structure={neighbour.pk}")) == [theirs.number]
        response = agent_client.get(QUEUE + f"?structure={mine.structure_id}")
        assert listed_numbers(response) == [mine.number]
        select = re.search(r'<select name="structure".*?</select>', response.content.decode(), re.S).group(0)
        assert "CCAS de Bègles" in select and "Association Alpha" in select
        # A structure of another caisse only is no choice.
        assert "Association Beta" not in select
        response = agent_client.get(QUEUE + f"?structure={other_structure.pk}")
        assert "Sélectionnez un choix valide." in text(response)

    def test_assignment(self, agent_client, agent, caisse, make):
        colleague = CaisseMembershipFactory(caisse=caisse).user
        unassigned = make(date(2026, 3, 2))
        to_me = make(date(2026, 3, 3))
        to_colleague = make(date(2026, 3, 4))
        resolved_by_me = make(date(2026, 3, 5))
        take(to_me, agent)
        take(to_colleague, colleague)
        resolve(resolved_by_me, agent)
        assert listed_numbers(agent_client.get(QUEUE + "?assignment=me")) == [to_me.number]
        assert listed_numbers(agent_client.get(QUEUE + "?assignment=me&status=all")) == [
            to_me.number,
            resolved_by_me.number,
        ]
        assert listed_numbers(agent_client.get(QUEUE + "?assignment=none")) == [unassigned.number]
        assert len(listed_numbers(agent_client.get(QUEUE + "?assignment="))) == 3

    def test_period_uses_french_dates(self, agent_client, make):
        # 23h30 in Paris on 3 March is still 3 March, though it is 22h30 UTC; 00h10 on 4 March is 4 March.
        late_evening = make(datetime(2026, 3, 3, 23, 30, tzinfo=PARIS))
        just_after_midnight = make(datetime(2026, 3, 4, 0, 10, tzinfo=PARIS))
        before = make(datetime(2026, 3, 2, 12, 0, tzinfo=PARIS))
        assert listed_numbers(agent_client.get(QUEUE + "?deposited_from=2026-03-03&deposited_to=2026-03-03")) == [
            late_evening.number
        ]
        assert listed_numbers(agent_client.get(QUEUE + "?deposited_from=2026-03-04")) == [just_after_midnight.number]
        assert listed_numbers(agent_client.get(QUEUE + "?deposited_to=2026-03-03")) == [
            before.number,
            late_evening.number,
        ]
        assert "Saisissez une date valide." in text(agent_client.get(QUEUE + "?deposited_from=hier"))

    def test_number_prefix(self, agent_client, make):
        first, second = make(date(2026, 3, 2), number="2633100011"), make(date(2026, 3, 3), number="2633100021")
        assert listed_numbers(agent_client.get(QUEUE + "?number=263310001")) == [first.number]
        assert listed_numbers(agent_client.get(QUEUE + "?number=26331")) == [first.number, second.number]

    def test_overdue(self, agent_client, agent, make):
        late_new = make(date(2026, 3, 9))  # Monday: 3 working days on Thursday 12 (take charge within 2)
        on_time_new = make(date(2026, 3, 10))  # Tuesday: 2 working days
        late_taken = make(date(2026, 2, 25))  # 11 working days (resolve within 10)
        on_time_taken = make(date(2026, 2, 26))  # 10 working days
        old_resolved = make(date(2026, 1, 5))
        take(late_taken, agent)
        take(on_time_taken, agent)
        resolve(old_resolved, agent, at=datetime(2026, 3, 11, 9, 0, tzinfo=PARIS))
        response = agent_client.get(QUEUE + "?overdue=on")
        assert listed_numbers(response) == [late_taken.number, late_new.number]
        assert listed_numbers(agent_client.get(QUEUE + "?overdue=on&status=all")) == [
            late_taken.number,
            late_new.number,
        ]
        everything = agent_client.get(QUEUE + "?status=all")
        assert overdue_numbers(everything) == [late_taken.number, late_new.number]
        rows = queue_rows(everything)
        assert rows[on_time_new.number].endswith(" 2")
        assert rows[on_time_taken.number].endswith(" 10")
        assert rows[late_taken.number].endswith("11 En retard")
        # A resolved request's age stopped at its resolution.
        assert rows[old_resolved.number].endswith(" 47")
        assert listed_numbers(agent_client.get(QUEUE + "?overdue=")) == [
            late_taken.number,
            on_time_taken.number,
            late_new.number,
            on_time_new.number,
        ]

    def test_filters_combine(self, agent_client, agent, make):
        target = make(date(2026, 3, 2), document=True)
        make(date(2026, 3, 3), document=True)
        make(date(2026, 3, 2))
        taken = make(date(2026, 3, 2), document=True)
        take(taken, agent)
        response = agent_client.get(QUEUE + "?kind=document&status=new&overdue=on&deposited_to=2026-03-02")
        assert listed_numbers(response) == [target.number]

    def test_clear_filters_link(self, agent_client):
        html = agent_client.get(QUEUE + "?status=resolved").content.decode()
        assert '<a class="btn btn-link" href="/caisse/demandes/">Effacer les filtres</a>' in html


def quick_filters(response):
    """{label: (href, active)} of the quick filters above the queue."""
    nav = re.search(r'<ul[^>]*data-testid="quick-filters">(.*?)</ul>', response.content.decode(), re.S).group(1)
    return {
        visible_text(label).removeprefix("✓ "): (html_module.unescape(href), bool(current))
        for href, current, label in re.findall(r'<a[^>]*href="([^"]*)"( aria-current="true")?>(.*?)</a>', nav, re.S)
    }


def filter_summary(response):
    return re.search(r"<summary[^>]*>([^<]*)</summary>", response.content.decode()).group(1)


@pytest.mark.django_db
class TestQuickFilters:
    def test_each_sets_its_filter_and_keeps_the_others(self, agent_client, agent, make):
        mine, theirs, new = make(date(2026, 2, 2)), make(date(2026, 3, 3)), make(date(2026, 3, 10))
        take(mine, agent)
        take(theirs, CaisseMembershipFactory(caisse=mine.caisse).user)
        links = quick_filters(agent_client.get(QUEUE + "?ordre=recentes&page=2"))
        assert links == {
            "À moi": ("?ordre=recentes&assignment=me", False),
            "Nouvelles": ("?ordre=recentes&status=new", False),
            "En retard": ("?ordre=recentes&overdue=on", False),
        }
        assert listed_numbers(agent_client.get(QUEUE + links["À moi"][0])) == [mine.number]
        assert listed_numbers(agent_client.get(QUEUE + links["Nouvelles"][0])) == [new.number]
        # Mine and overdue: both quick filters on, each link turning its own off.
        response = agent_client.get(QUEUE + "?assignment=me&overdue=on")
        assert listed_numbers(response) == [mine.number]
        links = quick_filters(response)
        assert links["À moi"] == ("?overdue=on", True)
        assert links["En retard"] == ("?assignment=me", True)
        assert links["Nouvelles"] == ("?assignment=me&overdue=on&status=new", False)

    def test_the_panel_shows_the_same_choice(self, agent_client, make):
        make(date(2026, 3, 2))
        response = agent_client.get(QUEUE + "?status=new")
        assert quick_filters(response)["Nouvelles"][1]
        assert '<option value="new" selected>' in response.content.decode()
        # Another status chosen in the panel: "Nouvelles" is off, and replaces it when clicked.
        links = quick_filters(agent_client.get(QUEUE + "?status=resolved"))
        assert links["Nouvelles"] == ("?status=new", False)
        # overdue=1 is the same filter as overdue=on.
        assert quick_filters(agent_client.get(QUEUE + "?overdue=1"))["En retard"][1]

    def test_a_refused_value_leaves_its_quick_filter_off(self, agent_client, make):
        make(date(2026, 3, 2))
        response = agent_client.get(QUEUE + "?assignment=tous")
        assert response.status_code == 200
        assert quick_filters(response)["À moi"] == ("?assignment=me", False)


@pytest.mark.django_db
class TestFilterPanel:
    @pytest.mark.parametrize(
        ("query", "summary"),
        [
            ("", "Filtres"),
            ("?status=open&ordre=recentes&taille=50", "Filtres"),  # the default status, a sort and a size: no filter
            ("?status=all", "Filtres (1 actif)"),
            ("?assignment=me&overdue=on", "Filtres (2 actifs)"),
            ("?kind=contact&number=26&deposited_from=2026-03-01&unanswered=on", "Filtres (4 actifs)"),
            ("?deposited_from=2026-13-45", "Filtres (1 actif)"),  # refused, shown with its error
        ],
    )
    def test_the_summary_counts_the_filters_in_force(self, agent_client, make, query, summary):
        make(date(2026, 3, 2))
        response = agent_client.get(QUEUE + query)
        assert filter_summary(response) == summary
        details = re.search(r"<details[^>]*>", response.content.decode()).group(0)
        # Open when filters are in force (the script closes it on small screens), closed otherwise.
        assert (" open" in details) == (summary != "Filtres")


@pytest.mark.django_db
class TestOverdueThresholds:
    """The same rule in the page (Python) and in the "en retard" filter (SQL), a day before and a day after."""

    @pytest.fixture
    def agent_client(self, client, agent):
        """Logged in again at each moment: sessions expire over the weeks these tests travel."""
        client.login_again = lambda: client.force_login(agent)
        client.login_again()
        return client

    def check(self, client, time_machine, moment, deposited, *, late):
        time_machine.move_to(moment, tick=False)
        client.login_again()
        response = client.get(QUEUE + "?status=all")
        assert (deposited.number in overdue_numbers(response)) is late, moment
        assert (deposited.number in listed_numbers(client.get(QUEUE + "?overdue=on&status=all"))) is late, moment

    @pytest.mark.parametrize(
        ("deposit", "last_on_time", "first_late"),
        [
            # Tuesday 16h: Wednesday, Thursday; late on Friday.
            (datetime(2026, 3, 3, 16, 0), datetime(2026, 3, 5, 18, 0), datetime(2026, 3, 6, 8, 0)),
            # Thursday: Friday, (weekend), Monday; late on Tuesday.
            (datetime(2026, 3, 5, 16, 0), datetime(2026, 3, 9, 23, 59), datetime(2026, 3, 10, 0, 1)),
            # Saturday: Monday, Tuesday; late on Wednesday.
            (datetime(2026, 3, 7, 11, 0), datetime(2026, 3, 10, 12, 0), datetime(2026, 3, 11, 12, 0)),
            # Thursday before Easter: Friday, (weekend, Easter Monday), Tuesday; late on Wednesday.
            (datetime(2026, 4, 2, 10, 0), datetime(2026, 4, 7, 17, 0), datetime(2026, 4, 8, 9, 0)),
            # Wednesday before Ascension: (Thursday), Friday, Monday; late on Tuesday.
            (datetime(2026, 5, 13, 10, 0), datetime(2026, 5, 18, 17, 0), datetime(2026, 5, 19, 9, 0)),
            # 23h30 in Paris is still that day (22h30 UTC): Wednesday 4 counts as its deposit day.
            (datetime(2026, 3, 3, 23, 30), datetime(2026, 3, 5, 18, 0), datetime(2026, 3, 6, 8, 0)),
        ],
    )
    def test_take_charge_within_two_working_days(
        self, agent_client, make, time_machine, deposit, last_on_time, first_late
    ):
        deposited = make(deposit.replace(tzinfo=PARIS))
        self.check(agent_client, time_machine, deposit.replace(tzinfo=PARIS), deposited, late=False)
        self.check(agent_client, time_machine, last_on_time.replace(tzinfo=PARIS), deposited, late=False)
        self.check(agent_client, time_machine, first_late.replace(tzinfo=PARIS), deposited, late=True)

    def test_resolve_within_ten_working_days_from_the_deposit(self, agent_client, agent, make, time_machine):
        # Monday 2 March; taken the same week. Ten working days later is Monday 16 March.
        deposited = make(datetime(2026, 3, 2, 9, 0, tzinfo=PARIS))
        take(deposited, agent, at=datetime(2026, 3, 4, 9, 0, tzinfo=PARIS))
        self.check(agent_client, time_machine, datetime(2026, 3, 16, 18, 0, tzinfo=PARIS), deposited, late=False)
        self.check(agent_client, time_machine, datetime(2026, 3, 17, 8, 0, tzinfo=PARIS), deposited, late=True)

    def test_resolve_deadline_over_may_holidays(self, agent_client, agent, make, time_machine):
        # Thursday 30 April; 1 May, 8 May (Fridays) and 14 May (Ascension) are off: 4 days the week of 4 May,
        # 3 the week of 11 May, then Friday 15 (8), Monday 18 (9), Tuesday 19 (10), Wednesday 20 (11: late).
        deposited = make(datetime(2026, 4, 30, 9, 0, tzinfo=PARIS))
        take(deposited, agent)
        self.check(agent_client, time_machine, datetime(2026, 5, 19, 18, 0, tzinfo=PARIS), deposited, late=False)
        self.check(agent_client, time_machine, datetime(2026, 5, 20, 8, 0, tzinfo=PARIS), deposited, late=True)

    def test_thresholds_per_kind_from_settings(self, agent_client, make, settings):
        settings.TAKE_CHARGE_WITHIN_WORKING_DAYS = {"default": 5, "document": 0}
        settings.RESOLVE_WITHIN_WORKING_DAYS = {"default": 10}
        document = make(date(2026, 3, 11), document=True)  # yesterday: 1 day > 0
        rights = make(date(2026, 3, 6))  # 4 days <= 5
        old_rights = make(date(2026, 3, 4))  # 6 days > 5
        today_document = make(datetime(2026, 3, 12, 8, 0, tzinfo=PARIS), document=True)  # 0 days
        response = agent_client.get(QUEUE)
        assert overdue_numbers(response) == [old_rights.number, document.number]
        assert listed_numbers(agent_client.get(QUEUE + "?overdue=on")) == [old_rights.number, document.number]
        assert {rights.number, today_document.number}.isdisjoint(overdue_numbers(response))

    def test_resolved_is_never_late(self, agent_client, agent, make):
        done = make(date(2025, 6, 2))
        resolve(done, agent, at=datetime(2026, 1, 5, 9, 0, tzinfo=PARIS))
        assert overdue_numbers(agent_client.get(QUEUE + "?status=all")) == []
        assert listed_numbers(agent_client.get(QUEUE + "?status=resolved&overdue=on")) == []


@pytest.mark.django_db
class TestPagination:
    @pytest.fixture
    def many(self, make):
        start = datetime(2026, 1, 5, 9, 0, tzinfo=PARIS)
        return [make(start + timedelta(hours=hour)).number for hour in range(45)]

    def links(self, response):
        return {
            label: href.replace("&amp;", "&")
            for href, label in re.findall(
                r'<a class="page-link" href="([^"]+)">([^<]+)</a>', response.content.decode()
            )
        }

    @pytest.mark.parametrize(
        ("query", "first", "last", "line"),
        [
            ("", 0, 20, "Demandes 1 à 20 (d'autres suivent)"),
            ("?page=2", 20, 40, "Demandes 21 à 40 (d'autres suivent)"),
            ("?page=3", 40, 45, "Demandes 41 à 45"),
            ("?taille=50", 0, 45, "Demandes 1 à 45"),
            ("?taille=100", 0, 45, "Demandes 1 à 45"),
            ("?taille=7", 0, 20, "Demandes 1 à 20 (d'autres suivent)"),
            ("?page=abc", 0, 20, "Demandes 1 à 20 (d'autres suivent)"),
            ("?page=-3", 0, 20, "Demandes 1 à 20 (d'autres suivent)"),
        ],
    )
    def test_pages_and_sizes(self, agent_client, many, query, first, last, line):
        response = agent_client.get(QUEUE + query)
        assert listed_numbers(response) == many[first:last]
        assert count_line(response) == line

    def test_previous_and_next_links_keep_filters(self, agent_client, many):
        response = agent_client.get(QUEUE + "?status=new&ordre=recentes&taille=20&page=2")
        links = self.links(response)
        assert set(links) == {"Précédente", "Suivante"}
        for label, target in [("Précédente", "page=1"), ("Suivante", "page=3")]:
            for kept in ["status=new", "ordre=recentes", "taille=20", target]:
                assert kept in links[label], (label, links[label])
            assert links[label].count("page=") == 1
        assert "Page 2" in text(response)
        last = agent_client.get(QUEUE + links["Suivante"])
        assert listed_numbers(last) == list(reversed(many))[40:]
        assert set(self.links(last)) == {"Précédente"}
        assert set(self.links(agent_client.get(QUEUE))) == {"Suivante"}

    def test_beyond_the_last_page(self, agent_client, many):
        response = agent_client.get(QUEUE + "?page=9")
        assert listed_numbers(response) == []
        assert count_line(response) == "Plus aucune demande sur cette page."
        assert set(self.links(response)) == {"Précédente"}

    def test_no_count_of_the_whole_queue(self, agent_client, many):
        with CaptureQueriesContext(connection) as queries:
            agent_client.get(QUEUE + "?page=2")
        requests_queries = [q["sql"] for q in queries.captured_queries if '"requests_request"' in q["sql"]]
        assert len(requests_queries) == 1
        assert "COUNT(" not in requests_queries[0].upper()
        assert "LIMIT 21" in requests_queries[0] and "OFFSET 20" in requests_queries[0]


@pytest.mark.django_db
@pytest.mark.parametrize("size", [5, 60])
def test_queue_has_constant_queries(agent_client, agent, caisse, structure, make, django_assert_num_queries, size):
    colleagues = [CaisseMembershipFactory(caisse=caisse).user for _ in range(3)]
    structures = [structure] + [ConventionFactory(caisse=caisse).structure for _ in range(2)]
    authors = [MembershipFactory(structure=s).user for s in structures]
    start = datetime(2026, 2, 2, 9, 0, tzinfo=PARIS)
    for index in range(size):
        kwargs = {"contact": True} if index % 4 == 0 else {}
        deposited = make(
            start + timedelta(hours=7 * index), structure=structures[index % 3], author=authors[index % 3], **kwargs
        )
        if index % 3 == 1:
            take(deposited, colleagues[index % 3])
    with django_assert_num_queries(5):
        response = agent_client.get(QUEUE + "?taille=100")
    assert len(listed_numbers(response)) == size
    # The caisse's structures are remembered from the first page on (structures/conventions.py).
    with django_assert_num_queries(4):
        response = agent_client.get(QUEUE + "?taille=100&overdue=on&assignment=none&motif=contact:technical")
    assert response.status_code == 200
    # The caisse's structures are read once, for the check of the one chosen and for the list.
    with django_assert_num_queries(4):
        response = agent_client.get(QUEUE + f"?taille=100&structure={structures[1].pk}")
    assert len(listed_numbers(response)) == len(range(1, size, 3))
    assert f'<option value="{structures[1].pk}" selected>' in response.content.decode()


@pytest.mark.django_db
def test_queue_filtered_sql(agent_client, agent, caisse, structure, make, snapshot):
    """The queue's queries, filtered as an agent looks for work, the second time (the process's caches filled)."""
    colleagues = [CaisseMembershipFactory(caisse=caisse).user for _ in range(2)]
    for index in range(6):
        deposited = make(date(2026, 3, 2) + timedelta(days=index), **({"contact": True} if index % 2 else {}))
        if index % 3 == 1:
            take(deposited, colleagues[index % 2])
    agent_client.get(QUEUE)
    with snapshot_queries(snapshot):
        response = agent_client.get(
            QUEUE + f"?taille=50&overdue=on&assignment=none&motif=contact:technical&structure={structure.pk}"
        )
    assert len(listed_numbers(response)) == 2


@pytest.mark.django_db
class TestExport:
    @pytest.fixture
    def made(self, make, agent):
        rows = {
            "late": make(
                datetime(2026, 3, 2, 9, 15, tzinfo=PARIS),
                person_last_name="Durand",
                person_first_name="Léa",
                person_birth_date=date(1985, 5, 12),
            ),
            "taken": make(datetime(2026, 3, 10, 14, 0, tzinfo=PARIS), document=True),
            "contact": make(datetime(2026, 3, 11, 8, 0, tzinfo=PARIS), contact=True),
            "done": make(datetime(2026, 2, 2, 9, 0, tzinfo=PARIS)),
        }
        take(rows["taken"], agent, at=datetime(2026, 3, 11, 10, 30, tzinfo=PARIS))
        resolve(rows["done"], agent, at=datetime(2026, 2, 4, 16, 0, tzinfo=PARIS))
        Message.objects.create(
            request=rows["late"], author=agent, side="caisse", is_internal=True, body="Note interne confidentielle"
        )
        Message.objects.create(
            request=rows["late"], author=rows["late"].author, side="partner", body="Message de la structure"
        )
        return rows

    def test_streamed_csv_for_excel_without_personal_data(self, agent_client, agent, made):
        response = agent_client.get(EXPORT)
        assert response.status_code == 200
        assert response.streaming
        assert response["Content-Type"] == "text/csv; charset=utf-8"
        assert re.fullmatch(
            r'attachment; filename="file-des-demandes-331-20260312-1000\.csv"', response["Content-Disposition"]
        )
        rows = read_csv(response)
        assert rows[0] == HEADER
        late, taken, contact = (made[key] for key in ["late", "taken", "contact"])
        assert rows[1:] == [
            [
                late.number,
                "Signaler une situation de difficulté d'accès aux droits et aux soins",
                "Droits",
                "Association Alpha",
                "CPAM de la Gironde",
                "Nouveau",
                "02/03/2026 09:15",
                "",
                "",
                "",
                "8",
                "Oui",
            ],
            [
                taken.number,
                "Demander un document",
                "Vaccination",
                "Association Alpha",
                "CPAM de la Gironde",
                "Pris en charge",
                "10/03/2026 14:00",
                "11/03/2026 10:30",
                "",
                agent.get_full_name(),
                "2",
                "Non",
            ],
            [
                contact.number,
                "Contacter votre organisme d'assurance maladie",
                "Technique",
                "Association Alpha",
                "CPAM de la Gironde",
                "Nouveau",
                "11/03/2026 08:00",
                "",
                "",
                "",
                "1",
                "Non",
            ],
        ]
        body = "\n".join(";".join(row) for row in rows)
        for secret in ["Durand", "Léa", "12/05/1985", late.person_nir, late.masked_nir[:4] + "••"]:
            assert secret not in body
        for never in ["Note interne confidentielle", "Message de la structure", "Rupture de droits"]:
            assert never not in body

    def test_the_moments_are_read_without_a_conversion_per_value_by_django_or_the_driver(self, made):
        """Pins the export's speed (bench/inprocess.py): on SQLite, the driver's parser and Django's converter of
        each date and time were half of the time of 100,000 rows; the wall-clock time is made in one pass instead."""
        query = Request.objects.values_list(*EXPORT_FIELDS).query
        compiler = query.get_compiler(connection=connection)
        compiler.setup_query()
        moments = [index for index, (expression, _, _) in enumerate(compiler.select) if isinstance(expression, Func)]
        assert len(moments) == 3
        assert not set(moments) & set(compiler.get_converters([column for column, _, _ in compiler.select]))
        read = Request.objects.values_list(EXPORT_FIELDS[moments[0]], flat=True).first()
        assert isinstance(read, str) if connection.vendor == "sqlite" else read.tzinfo is None

    def test_same_filters_and_order_as_the_queue(self, agent_client, made):
        rows = read_csv(agent_client.get(EXPORT + "?status=all&ordre=recentes"))
        assert [row[0] for row in rows[1:]] == [made[k].number for k in ["contact", "taken", "late", "done"]]
        done = rows[-1]
        assert done[5:12] == [
            "Résolu",
            "02/02/2026 09:00",
            "02/02/2026 10:00",
            "04/02/2026 16:00",
            done[9],
            "2",
            "Non",
        ]
        assert [row[0] for row in read_csv(agent_client.get(EXPORT + "?kind=document"))[1:]] == [made["taken"].number]
        assert [row[0] for row in read_csv(agent_client.get(EXPORT + "?overdue=on"))[1:]] == [made["late"].number]
        # The page size and page do not limit the export.
        assert len(read_csv(agent_client.get(EXPORT + "?taille=20&page=3"))) == 4

    def test_personal_data_for_administrateurs(self, admin_client, caisse_admin, made):
        response = admin_client.get(EXPORT + "?donnees_personnelles=1")
        rows = read_csv(response)
        assert rows[0] == HEADER + PERSONAL_HEADER
        late = made["late"]
        assert rows[1][0] == late.number and rows[1][-4:] == ["Durand", "Léa", "12/05/1985", late.formatted_nir]
        assert rows[3][0] == made["contact"].number and rows[3][-4:] == ["", "", "", ""]
        body = "\n".join(";".join(row) for row in rows)
        assert "Note interne confidentielle" not in body and "Message de la structure" not in body
        log = ExportLog.objects.get()
        assert (log.user, log.with_personal_data, log.row_count) == (caisse_admin, True, 3)

    def test_agents_cannot_have_personal_data(self, agent_client, made):
        response = agent_client.get(EXPORT + "?donnees_personnelles=1&kind=document")
        assert response.status_code == 403
        assert not response.streaming
        assert response["Content-Type"].startswith("text/html")
        page = text(response)
        assert (
            "L'export avec les données personnelles (nom, prénom, date de naissance, NIR) est réservé aux "
            "administrateurs de la caisse. Aucun fichier n'a été produit" in page
        )
        assert made["late"].person_nir not in response.content.decode()
        assert not ExportLog.objects.exists()

    def test_the_personal_data_checkbox_is_for_administrateurs(self, client, agent, caisse_admin):
        client.force_login(caisse_admin)
        html = client.get(QUEUE + "?kind=document&page=2").content.decode()
        assert 'name="donnees_personnelles"' in html and "Inclure les données personnelles" in html
        form = re.search(r'<form method="get" action="/caisse/demandes/export.csv"[^>]*>.*?</form>', html, re.S).group(
            0
        )
        assert '<input type="hidden" name="kind" value="document">' in form
        assert 'name="page"' not in form
        client.force_login(agent)
        html = client.get(QUEUE).content.decode()
        assert 'name="donnees_personnelles"' not in html
        assert "L'export avec les données personnelles est réservé aux administrateurs de la caisse." in text(
            client.get(QUEUE)
        )

    def test_every_export_is_logged_before_streaming(self, agent_client, agent, caisse, made):
        response = agent_client.get(EXPORT + "?kind=document&status=all&overdue=&deposited_from=2026-03-01")
        log = ExportLog.objects.get()
        assert (log.user, log.caisse, log.with_personal_data) == (agent, caisse, False)
        assert log.at == NOW
        assert log.filters == {
            "status": "all",
            "kind": "document",
            "deposited_from": "2026-03-01",
            "ordre": "anciennes",
        }
        assert log.row_count is None and log.finished_at is None
        rows = read_csv(response)
        log.refresh_from_db()
        assert log.row_count == len(rows) - 1 == 1
        assert log.finished_at == NOW
        agent_client.get(EXPORT)
        assert ExportLog.objects.count() == 2

    def test_invalid_filters_export_nothing(self, agent_client, made):
        response = agent_client.get(EXPORT + "?structure=999999")
        assert response.status_code == 400
        assert "Corrigez les filtres signalés ci-dessous : aucun fichier n'a été produit." in text(response)
        assert not ExportLog.objects.exists()

    def test_empty_export_has_the_header(self, agent_client):
        rows = read_csv(agent_client.get(EXPORT))
        assert rows == [HEADER]
        assert ExportLog.objects.get().row_count == 0

    def test_cells_never_become_formulas(self, admin_client, caisse, make):
        hostile = ConventionFactory(caisse=caisse, structure__name='=HYPERLINK("http://x")').structure
        make(
            date(2026, 3, 11),
            structure=hostile,
            author=MembershipFactory(structure=hostile).user,
            person_last_name="+Martin",
            person_first_name="@Léa",
        )
        row = read_csv(admin_client.get(EXPORT + "?donnees_personnelles=1"))[1]
        assert row[3] == '\'=HYPERLINK("http://x")'
        assert row[-4:-2] == ["'+Martin", "'@Léa"]

    def test_the_nir_stays_text_in_spreadsheets(self, admin_client, make):
        """Spaced as shown: no spreadsheet reads it as a number (1,61E+14), and it starts as no formula does."""
        make(date(2026, 3, 11), person_nir=make_nir(sex="1", year="61", month="03", department="75", commune="612"))
        make(date(2026, 3, 12), person_nir=make_nir(department="2A"))
        cells = [row[-1] for row in read_csv(admin_client.get(EXPORT + "?donnees_personnelles=1"))[1:]]
        assert len(cells) == 2
        for cell in cells:
            assert re.fullmatch(r"[12] \d\d \d\d (\d\d|2A|2B) \d{3} \d{3} \d\d", cell), cell
        assert cells[0].startswith("1 61 03 75 612 ")

    def test_large_export_is_complete_and_chunked(self, agent_client, make):
        start = datetime(2026, 1, 5, 9, 0, tzinfo=PARIS)
        numbers = [make(start + timedelta(minutes=minute)).number for minute in range(450)]
        response = agent_client.get(EXPORT)
        chunks = list(response.streaming_content)
        assert len(chunks) > 2
        rows = list(csv.reader(io.StringIO(b"".join(chunks).decode()[1:]), delimiter=";"))
        assert [row[0] for row in rows[1:]] == numbers
        assert ExportLog.objects.get().row_count == 450
