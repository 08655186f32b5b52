import html as html_module
import re
from datetime import timedelta

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from extranet.core.dates import start_of_day
from requests import stats
from requests.models import MasReferral, Request, Status
from tests.factories import (
    CaisseMembershipFactory,
    ConventionFactory,
    MembershipFactory,
    RequestFactory,
    StructureFactory,
    advance,
    change_convention_status,
)
from tests.helpers import text
from tests.requests.builders import listed_numbers

CAISSE_URL = "/caisse/tableau-de-bord/"
STRUCTURE_URL = "/structure/tableau-de-bord/"
HOUR = 3600
DAY = 24 * HOUR


@pytest.fixture
def make(structure, caisse, technicien):
    """A request deposited `days` days ago, taken in charge and resolved `taken`/`resolved` seconds after (by an
    agent of its caisse, through the workflow at those moments)."""
    agents = {}

    def make_request(days=1, *, taken=None, resolved=None, **kwargs):
        kwargs.setdefault("structure", structure)
        kwargs.setdefault("caisse", caisse)
        if kwargs["structure"] == structure:
            kwargs.setdefault("author", technicien)
        created_at = timezone.now() - timedelta(days=days)
        made = RequestFactory(created_at=created_at, **kwargs)
        if taken is not None:
            if made.caisse_id not in agents:
                agents[made.caisse_id] = CaisseMembershipFactory(caisse=made.caisse).user
            with time_machine.travel(created_at + timedelta(seconds=taken), tick=False):
                advance(made, Status.IN_PROGRESS, agent=agents[made.caisse_id])
        if resolved is not None:
            with time_machine.travel(created_at + timedelta(seconds=resolved), tick=False):
                advance(made, Status.RESOLVED)
        return made

    return make_request


@pytest.fixture
def make_mas(make, technicien):
    """A MAS referral (saisine) deposited `days` days ago with these lists."""

    def make_referral(days=1, *, contexts, cares=(), duration="", causes=(), **kwargs):
        made = make(days, motif="mas_referral", **kwargs)
        MasReferral.objects.create(
            request=made,
            referral_date=made.created_at.date(),
            contexts=list(contexts),
            cares=list(cares),
            renunciation_duration=duration,
            causes=list(causes),
            detector_name="Référente",
            detector_email="referente@exemple.fr",
            detector_structure="Association Alpha",
            consent_mode=MasReferral.ConsentMode.REMOTE,
            consent_collected_by=technicien,
            consent_collected_at=made.created_at,
            notice_version="2026-01",
        )
        return made

    return make_referral


def chart(response, chart_id):
    """(label, value) pairs of a chart as drawn in its SVG and as written in the table beside it."""
    section = chart_section(response, chart_id)
    svg = re.search(r"<svg.*?</svg>", section, re.S).group(0)
    drawn = list(
        zip(
            re.findall(r"<text[^>]*data-label>([^<]*)</text>", svg),
            re.findall(r"<text[^>]*data-value>([^<]*)</text>", svg),
            strict=True,
        )
    )
    written = re.findall(
        r'<th scope="row"[^>]*>([^<]*)</th>\s*<td[^>]*data-value>(?:<a href="[^"]*">)?([^<]*)<', section
    )
    drawn = [(html_module.unescape(label), html_module.unescape(value)) for label, value in drawn]
    written = [(html_module.unescape(label), html_module.unescape(value)) for label, value in written]
    assert drawn == written, "the table must show the numbers the chart draws"
    return dict(written)


def chart_section(response, chart_id):
    match = re.search(rf'<section[^>]*data-testid="chart-{chart_id}".*?</section>', response.content.decode(), re.S)
    assert match, f"no chart {chart_id}"
    return match.group(0)


def table_rows(response, testid):
    section = re.search(rf'<table[^>]*data-testid="{testid}".*?</table>', response.content.decode(), re.S).group(0)
    return [text_of(row) for row in re.findall(r"<tr>(.*?)</tr>", section, re.S)]


def text_of(fragment):
    return " ".join(html_module.unescape(re.sub(r"<[^>]+>", " ", fragment)).split())


CONTACT = "Contacter votre organisme d'assurance maladie"
DIFFICULTY = "Signaler une situation de difficulté d'accès aux droits et aux soins"
APPOINTMENT = "Demander un rendez-vous pour un assuré"
CASE_REVIEW = "Soumettre une demande d'étude de dossier"
DOCUMENT = "Demander un document"


@pytest.mark.django_db
class TestAccess:
    def test_anonymous_users_are_sent_to_login(self, client):
        for url in (CAISSE_URL, STRUCTURE_URL):
            response = client.get(url)
            assert response.status_code == 302
            assert response["Location"].startswith("/connexion/") or "next=" in response["Location"]

    @pytest.mark.parametrize(
        ("role", "caisse_page", "structure_page"),
        [
            ("agent", 200, 403),
            ("caisse_admin", 200, 403),
            ("technicien", 403, 403),
            ("gestionnaire", 403, 200),
        ],
    )
    def test_who_sees_which_dashboard(self, client, request, role, caisse_page, structure_page):
        client.force_login(request.getfixturevalue(role))
        assert client.get(CAISSE_URL).status_code == caisse_page
        assert client.get(STRUCTURE_URL).status_code == structure_page

    def test_a_deactivated_agent_is_refused(self, client, agent):
        agent.caisse_membership.is_active = False
        agent.caisse_membership.save()
        client.force_login(agent)
        assert client.get(CAISSE_URL).status_code == 403

    def test_gestionnaire_without_active_convention_is_told(self, client, structure, gestionnaire):
        for convention in structure.conventions.all():
            change_convention_status(convention, "ended")
        client.force_login(gestionnaire)
        assert "Aucune convention active" in text(client.get(STRUCTURE_URL))


@pytest.mark.django_db
class TestCounts:
    def test_counts_per_status_and_kind_of_the_caisse_only(
        self, agent_client, make, other_structure, other_caisse, caisse
    ):
        make(2)
        make(3, taken=HOUR)
        make(4, taken=HOUR, resolved=DAY)
        make(5, contact=True)
        make(6, document=True, taken=HOUR, resolved=2 * DAY)
        make(7, appointment=True)
        # Another caisse's requests, and another structure's to the other caisse: not counted.
        make(2, structure=other_structure, caisse=other_caisse)
        make(3, caisse=other_caisse, taken=HOUR, resolved=HOUR)
        # Another structure to the same caisse: counted.
        make(8, structure=StructureFactory(), case_review=True)

        response = agent_client.get(CAISSE_URL)
        assert chart(response, "caisse-statuts") == {"Nouveau": "4", "Pris en charge": "1", "Résolu": "2"}
        assert chart(response, "caisse-types") == {
            CONTACT: "1",
            DIFFICULTY: "3",
            APPOINTMENT: "1",
            CASE_REVIEW: "1",
            DOCUMENT: "1",
        }
        assert table_rows(response, "status-kind-table") == [
            "Type de demande Nouveau Pris en charge Résolu Total",
            f"{CONTACT} 1 0 0 1",
            f"{DIFFICULTY} 1 1 1 3",
            f"{APPOINTMENT} 1 0 0 1",
            f"{CASE_REVIEW} 1 0 0 1",
            f"{DOCUMENT} 0 0 1 1",
            "Total 4 1 2 7",
        ]
        figures = text_of(re.search(r'data-testid="key-figures">(.*?)</dl>', response.content.decode(), re.S)[1])
        assert "Demandes déposées 7 Dont non résolues 5" in figures

    def test_shares_are_written_beside_the_counts(self, agent_client, make):
        make(1)
        make(2)
        make(3, taken=HOUR)
        make(4, taken=HOUR, resolved=HOUR)
        page = text(agent_client.get(CAISSE_URL))
        assert "Nouveau 2 50 % Pris en charge 1 25 % Résolu 1 25 %" in page

    def test_most_active_structures_top_ten(self, agent_client, make, caisse, other_caisse):
        structures = [StructureFactory(name=f"Structure {letter}") for letter in "ABCDEFGHIJKL"]
        for rank, structure in enumerate(structures):
            for _ in range(12 - rank):  # A: 12 requests … L: 1
                make(3, structure=structure)
        for _ in range(20):
            make(3, structure=structures[-1], caisse=other_caisse)  # another caisse: not counted
        shown = chart(agent_client.get(CAISSE_URL), "structures")
        assert list(shown.items()) == [
            (f"Structure {letter}", str(12 - rank)) for rank, letter in enumerate("ABCDEFGHIJ")
        ]

    def test_no_personal_data_on_the_caisse_dashboard(self, agent_client, make, make_mas, technicien):
        technicien.last_name = "Auteurissime"
        technicien.save()
        made = make(1, person_last_name="Zébulon-Personne", person_first_name="Octavie")
        referral = make_mas(2, contexts=["digital_fragility"])
        page = agent_client.get(CAISSE_URL).content.decode()
        for secret in (made.person_last_name, made.person_first_name, made.person_nir, referral.person_nir):
            assert secret not in page
        assert "Auteurissime" not in page
        assert made.number not in page


@pytest.mark.django_db
class TestMedians:
    @pytest.fixture
    def timed(self, make):
        # Signaler: taken after 30 min, 1 h, 5 h 30 → median 1 h; resolved after 1 d, 2 d 4 h, 3 d → 2 d 4 h.
        make(10, taken=30 * 60, resolved=DAY)
        make(11, taken=HOUR, resolved=2 * DAY + 4 * HOUR)
        make(12, taken=5 * HOUR + 30 * 60, resolved=3 * DAY)
        # Rendez-vous: taken after 2 h and 4 h → median 3 h (midway between the two middle values); none resolved.
        make(13, appointment=True, taken=2 * HOUR)
        make(14, appointment=True, taken=4 * HOUR)
        # Document: never taken in charge.
        make(15, document=True)

    def test_medians_per_kind_and_overall(self, timed, agent):
        report = stats.median_delays(Request.objects.visible_to(agent))
        assert report.by_kind["access_difficulty"] == stats.Delays(
            take_charge=HOUR, resolution=2 * DAY + 4 * HOUR, taken=3, resolved=3
        )
        assert report.by_kind["appointment"] == stats.Delays(
            take_charge=3 * HOUR, resolution=None, taken=2, resolved=0
        )
        assert report.by_kind["document"] == stats.Delays()
        assert report.by_kind["contact"] == stats.Delays()
        # All kinds: 30 min, 1 h, 2 h, 4 h, 5 h 30 → 2 h; resolutions as Signaler.
        assert report.overall == stats.Delays(take_charge=2 * HOUR, resolution=2 * DAY + 4 * HOUR, taken=5, resolved=3)

    @pytest.mark.postgres
    def test_postgresql_and_python_computations_agree(self, timed, make, agent):
        make(16, taken=1234.5, resolved=98765.25)
        requests = Request.objects.visible_to(agent)
        in_database = stats.median_delays(requests, vendor="postgresql")
        in_python = stats.median_delays(requests, vendor="sqlite")
        assert in_database == in_python
        assert in_database.by_kind["access_difficulty"].take_charge == pytest.approx(
            (30 * 60 + HOUR) / 2
        )  # of 20 min 34.5 s, 30 min, 1 h, 5 h 30

    def test_page_shows_medians_in_french(self, timed, agent_client):
        response = agent_client.get(CAISSE_URL)
        assert chart(response, "delai-prise-en-charge") == {
            CONTACT: "aucune donnée",
            DIFFICULTY: "1 h",
            APPOINTMENT: "3 h",
            CASE_REVIEW: "aucune donnée",
            DOCUMENT: "aucune donnée",
        }
        assert chart(response, "delai-resolution")[DIFFICULTY] == "2 j 4 h"
        page = text(response)
        assert "Délai médian de prise en charge 2 h Délai médian de résolution 2 j 4 h" in page
        assert f"{DIFFICULTY} 2 j 4 h 3" in page  # with the number of requests measured

    @pytest.mark.parametrize(
        ("seconds", "shown"),
        [
            (None, "aucune donnée"),
            (0, "0 min"),
            (29, "0 min"),
            (45 * 60, "45 min"),
            (59 * 60 + 40, "1 h"),
            (5 * HOUR + 30 * 60, "5 h 30 min"),
            (23 * HOUR + 59 * 60 + 50, "1 j"),
            (DAY, "1 j"),
            (2 * DAY + 4 * HOUR, "2 j 4 h"),
            (2 * DAY + 4 * HOUR + 29 * 60, "2 j 4 h"),
            (2 * DAY + 23 * HOUR + 45 * 60, "3 j"),
            (40 * DAY, "40 j"),
        ],
    )
    def test_format_delay(self, seconds, shown):
        assert stats.format_delay(seconds) == shown


@pytest.mark.django_db
class TestMas:
    def test_distributions_with_labels(self, agent_client, make_mas, make, other_caisse, other_structure):
        make_mas(
            5,
            contexts=["care_renunciation", "digital_fragility"],
            cares=["pharmacy", "surgery"],
            duration="over_1_year",
            causes=["transport", "out_of_pocket"],
        )
        make_mas(
            6,
            contexts=["disability_care_renunciation"],
            cares=["pharmacy"],
            duration="under_3_months",
            causes=["transport"],
        )
        purged = make_mas(
            7,
            contexts=["care_renunciation"],
            cares=["medical_devices"],
            duration="over_1_year",
            causes=["appointment_delays"],
        )
        Request.objects.filter(pk=purged.pk).update(purged_at=timezone.now(), person_last_name="", person_nir="")
        make_mas(8, contexts=["rights_access", "digital_fragility"])
        # Not counted: another caisse, outside the period (default 12 months), and a plain request.
        make_mas(5, contexts=["rights_access"], structure=other_structure, caisse=other_caisse)
        make_mas(500, contexts=["rights_access"], cares=["pharmacy"], duration="over_2_years", causes=["transport"])
        make(3)

        response = agent_client.get(CAISSE_URL)
        assert "4 saisines MAS sur la période, dont 3 avec un renoncement aux soins" in text(response)
        assert chart(response, "mas-contextes") == {
            "Difficultés d'accès aux droits": "1",
            "Renoncement ou difficultés d'accès à des soins": "2",
            "Renoncement ou difficultés d'accès à des soins liés à un handicap": "1",
            "Fragilité face au numérique": "2",
            "Situation sociale complexe": "0",
        }
        assert chart(response, "mas-soins") == {
            "Consultations de médecine générale ou spécialisée": "0",
            "Acte chez un spécialiste, analyses ou examens": "0",
            "Dispositifs médicaux (optique, auditif, appareillage)": "1",
            "Chirurgie": "1",
            "Pharmacie": "2",
            "Autre": "0",
        }
        assert chart(response, "mas-durees") == {
            "Moins de 3 mois": "1",
            "De 3 mois à 1 an": "0",
            "Plus d'1 an": "2",
            "Plus de 2 ans": "0",
        }
        causes = chart(response, "mas-causes")
        assert causes["Transport"] == "2"
        assert causes["Reste à charge"] == "1"
        assert causes["Délais de rendez-vous"] == "1"
        assert causes["Accès aux droits"] == "0"
        page = text(response)
        assert "Sur 4 saisines de la période ; plusieurs réponses possibles." in page
        assert "Fragilité face au numérique 2 50 %" in page
        assert "Pharmacie 2 67 %" in page  # among the 3 referrals with a renunciation of care

    def test_no_referral_no_chart(self, agent_client, make):
        make(1)
        response = agent_client.get(CAISSE_URL)
        assert "0 saisine MAS sur la période" in text(response)
        assert 'data-testid="chart-mas-contextes"' not in response.content.decode()


@pytest.mark.django_db
class TestPeriod:
    @pytest.fixture
    def spread(self, make, make_mas):
        make(10)
        make(60, contact=True)
        make(200, document=True)
        make(500, appointment=True, taken=HOUR, resolved=DAY)
        make_mas(20, contexts=["digital_fragility"])
        make_mas(400, contexts=["digital_fragility"])

    @pytest.mark.parametrize(
        ("query", "total", "mas_total"),
        [
            ("", 4, 1),
            ("?periode=30j", 2, 1),
            ("?periode=90j", 3, 1),
            ("?periode=12m", 4, 1),
            ("?periode=tout", 6, 2),
            ("?periode=n-importe", 4, 1),
        ],
    )
    def test_period_filter_on_the_deposit_date(self, agent_client, spread, query, total, mas_total):
        response = agent_client.get(CAISSE_URL + query)
        assert sum(int(n) for n in chart(response, "caisse-statuts").values()) == total
        assert f"{mas_total} saisine{'s' if mas_total > 1 else ''} MAS sur la période" in text(response)

    def test_only_the_all_time_period_includes_old_delays(self, agent_client, spread):
        section = chart_section(agent_client.get(CAISSE_URL), "delai-resolution")
        assert "Aucune donnée sur la période." in section
        assert "<svg" not in section
        assert chart(agent_client.get(CAISSE_URL + "?periode=tout"), "delai-resolution")[APPOINTMENT] == "1 j"

    def test_selected_period_is_marked(self, agent_client):
        page = agent_client.get(CAISSE_URL + "?periode=90j").content.decode()
        assert re.search(r'href="\?periode=90j" aria-current="true">90 derniers jours</a>', page)
        assert page.count('aria-current="true"') == 1
        assert "Demandes déposées du " in text(agent_client.get(CAISSE_URL))
        assert "Toutes les demandes déposées jusqu'au " in text(agent_client.get(CAISSE_URL + "?periode=tout"))

    def test_periods(self):
        now = timezone.now()
        assert stats.period(None, now).key == "12m"
        # From midnight (Paris) of the first day, as the page writes it and as the lists filter it.
        assert stats.period("30j", now).start == start_of_day(timezone.localdate(now - timedelta(days=30)))
        assert stats.period("tout", now).start is None
        twelve_months = stats.period("12m", now).start
        assert (twelve_months.year, twelve_months.month) == (now.year - 1, now.month)


@pytest.mark.django_db
class TestCharts:
    def test_svg_charts_are_accessible_images_with_a_table(self, agent_client, make, make_mas):
        make(1, taken=HOUR, resolved=DAY)
        make_mas(2, contexts=["care_renunciation"], cares=["pharmacy"], duration="over_1_year", causes=["transport"])
        page = agent_client.get(CAISSE_URL).content.decode()
        charts = re.findall(r"<svg.*?</svg>", page, re.S)
        ids = re.findall(r'data-testid="chart-([^"]+)"', page)
        assert len(charts) == len(ids) == 9
        for svg in charts:
            assert 'role="img"' in svg
            title_id = re.search(r'<title id="([^"]+)">[^<]+</title>', svg)[1]
            assert re.search(rf'aria-labelledby="{title_id} [^"]+-desc"', svg)
        assert page.count("<table") == len(ids) + 1  # and the kind × status table
        # Each chart's table is behind it, to unfold, not beside it.
        for chart_id in ids:
            section = re.search(rf'data-testid="chart-{chart_id}".*?</section>', page, re.S)[0]
            assert re.search(
                r"</svg>\s*<details[^>]*>\s*<summary[^>]*>Voir le tableau des chiffres.*<table", section, re.S
            )
        assert page.count("<caption") == page.count("<table")
        assert 'scope="col"' in page and 'scope="row"' in page

    def test_no_inline_script_or_style(self, agent_client, gestionnaire_client, make):
        make(1)
        for response in (agent_client.get(CAISSE_URL),):
            page = response.content.decode()
            assert "style=" not in page
            assert "<style" not in page
            assert all('src="' in tag for tag in re.findall(r"<script[^>]*>", page))

    def test_bars_are_proportional(self, agent_client, make):
        make(1)
        make(2)
        make(3, taken=HOUR)
        page = agent_client.get(CAISSE_URL).content.decode()
        section = re.search(r'data-testid="chart-caisse-statuts".*?</svg>', page, re.S)[0]
        assert re.findall(r'<rect [^>]*width="([\d.]+)"', section) == ["500.0", "250.0"]


@pytest.mark.django_db
class TestStructureDashboard:
    def test_counts_open_requests_and_median_of_the_structure_for_the_current_caisse(
        self, gestionnaire_client, make, structure, caisse, other_caisse
    ):
        ConventionFactory(structure=structure, caisse=other_caisse)
        oldest = [make(days) for days in (90, 80, 70, 60)]
        oldest.append(make(50, taken=HOUR))
        make(40)  # sixth oldest open: not listed
        make(30, taken=HOUR, resolved=2 * DAY)
        make(20, contact=True, taken=HOUR, resolved=4 * DAY)
        make(10, structure=StructureFactory())  # another structure
        make(5, caisse=other_caisse)  # another caisse

        response = gestionnaire_client.get(STRUCTURE_URL)
        assert response.status_code == 200
        assert "6 demandes en cours" in text(response)
        rows = table_rows(response, "oldest-open")[1:]
        assert [row.split()[0] for row in rows] == [r.number for r in oldest]
        assert rows[0].endswith("90 jours")
        assert "Pris en charge" in rows[4]
        page = response.content.decode()
        for made in oldest:
            assert f'href="/demandes/{made.number}/"' in page
        assert chart(response, "structure-statuts") == {"Nouveau": "5", "Pris en charge": "1", "Résolu": "2"}
        assert chart(response, "structure-types")[CONTACT] == "1"
        assert "Délai médian de résolution 3 j" in text(response)
        assert chart(response, "delai-resolution")[CONTACT] == "4 j"

    def test_shows_no_person(self, gestionnaire_client, make):
        made = make(3, person_last_name="Zébulon-Personne")
        page = gestionnaire_client.get(STRUCTURE_URL).content.decode()
        assert made.person_last_name not in page
        assert made.person_nir not in page

    def test_other_caisse_selected(self, client, structure, other_caisse, make):
        ConventionFactory(structure=structure, caisse=other_caisse)
        manager = MembershipFactory(structure=structure, gestionnaire=True).user
        make(3)
        make(4, caisse=other_caisse)
        make(5, caisse=other_caisse)
        client.force_login(manager)
        client.post("/caisse/choisir/", {"caisse": other_caisse.pk})
        response = client.get(STRUCTURE_URL)
        assert "2 demandes en cours" in text(response)
        assert other_caisse.name in text(response)


@pytest.mark.django_db
class TestNavigation:
    def test_staff_and_gestionnaires_find_their_dashboard(self, client, agent, caisse_admin, gestionnaire, technicien):
        for user, url in ((agent, CAISSE_URL), (caisse_admin, CAISSE_URL), (gestionnaire, STRUCTURE_URL)):
            client.force_login(user)
            home = client.get("/").content.decode()
            assert f'href="{url}">Tableau de bord</a>' in home  # in the menu
            assert home.count(f'href="{url}"') >= 2  # and on the home page
        client.force_login(technicien)
        home = client.get("/").content.decode()
        assert "Tableau de bord" not in home


@pytest.mark.django_db
class TestQueryCount:
    def populate(self, make, make_mas, size):
        structures = [StructureFactory() for _ in range(size)]
        for index in range(size * 4):
            structure = structures[index % size]
            kind = {0: {}, 1: {"contact": True}, 2: {"document": True}, 3: {"appointment": True}}[index % 4]
            make(
                index % 300 + 1, structure=structure, taken=HOUR * (index + 1), resolved=DAY * (index % 3 + 1), **kind
            )
        for index in range(size):
            make_mas(
                index + 1,
                structure=structures[index],
                contexts=["care_renunciation", "digital_fragility"],
                cares=["pharmacy"],
                duration="over_1_year",
                causes=["transport"],
            )

    def queries(self, client, url):
        with CaptureQueriesContext(connection) as captured:
            assert client.get(url).status_code == 200
        return len(captured)

    def test_caisse_dashboard_constant_number_of_queries(
        self, agent_client, make, make_mas, django_assert_num_queries
    ):
        self.populate(make, make_mas, 2)
        small = self.queries(agent_client, CAISSE_URL)
        with django_assert_num_queries(small):
            agent_client.get(CAISSE_URL + "?periode=tout")
        self.populate(make, make_mas, 15)
        with django_assert_num_queries(small):
            response = agent_client.get(CAISSE_URL + "?periode=tout")
        assert sum(int(n) for n in chart(response, "caisse-statuts").values()) == 4 * 17 + 17
        # Session and user, second-factor device; counts, medians (two on PostgreSQL), MAS lists, structures.
        assert small == {"sqlite": 7, "postgresql": 8}[connection.vendor]

    def test_structure_dashboard_constant_number_of_queries(
        self, gestionnaire_client, make, make_mas, structure, django_assert_num_queries
    ):
        for days in range(1, 4):
            make(days, taken=HOUR)
        small = self.queries(gestionnaire_client, STRUCTURE_URL)
        for days in range(1, 60):
            make(days, taken=HOUR * days, resolved=DAY * days if days % 2 else None, contact=days % 3 == 0)
        # The structure's caisses are remembered from the first visit on (structures/conventions.py).
        with django_assert_num_queries(small - 1):
            gestionnaire_client.get(STRUCTURE_URL)
        # Session and user, second-factor device, caisses of the structure; counts, medians (two on PostgreSQL), open
        # count, oldest open.
        assert small == {"sqlite": 8, "postgresql": 9}[connection.vendor]


def links(response, chart_id):
    """(label, figure, link) of a chart's table."""
    section = chart_section(response, chart_id)
    found = re.findall(r'<th scope="row"[^>]*>([^<]*)</th>\s*<td[^>]*data-value><a href="([^"]*)">([^<]*)<', section)
    return [(html_module.unescape(label), int(n), html_module.unescape(url)) for label, url, n in found]


def listed_count(response):
    return len(listed_numbers(response))  # one page holds them all here


@pytest.mark.django_db
class TestFiguresLinkToTheirList:
    """Each figure opens the list of the requests it counts: the same period (from its first day), the same filter."""

    @pytest.fixture
    def spread(self, make, caisse):
        other = ConventionFactory(caisse=caisse).structure
        make(2)
        make(3, taken=HOUR)
        make(5, document=True, taken=HOUR, resolved=DAY)
        make(6, structure=other, author=MembershipFactory(structure=other).user)
        make(45)  # outside the 30 days: counted by no figure of that period

    def test_the_caisse_figures(self, agent_client, spread):
        response = agent_client.get(CAISSE_URL + "?periode=30j")
        figures = links(response, "caisse-statuts") + links(response, "caisse-types") + links(response, "structures")
        assert len(figures) == 3 + 5 + 2
        assert all(url.startswith("/caisse/demandes/?") and "deposited_from=" in url for _, _, url in figures)
        for label, n, url in figures:
            assert listed_count(agent_client.get(url)) == n, label
        page = response.content.decode()
        for name, n in [("Demandes déposées", 4), ("Dont non résolues", 3)]:
            url = re.search(rf'<dt>{name}</dt><dd class="fs-4"><a href="([^"]*)">{n}</a>', page).group(1)
            assert listed_count(agent_client.get(html_module.unescape(url))) == n, name

    def test_the_structure_figures(self, gestionnaire_client, spread):
        response = gestionnaire_client.get(STRUCTURE_URL + "?periode=30j")
        figures = links(response, "structure-statuts") + links(response, "structure-types")
        assert len(figures) == 3 + 5
        for label, n, url in figures:
            assert url.startswith("/demandes/?")
            assert listed_count(gestionnaire_client.get(url)) == n, label
        url = re.search(
            r'<dt>Demandes déposées</dt><dd class="fs-4"><a href="([^"]*)">3</a>', response.content.decode()
        )
        assert listed_count(gestionnaire_client.get(html_module.unescape(url.group(1)))) == 3
