"""Each caisse's own calendar: the same request's age in the queue, its export and the API, and the deadlines and
reminders counted in the working days of its caisse (extranet/core/workdays.py)."""

import csv
import io
import re
from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest

from extranet.core.workdays import Calendar
from requests import deadlines, services
from requests.models import Request
from structures import services as structure_services
from tests.factories import (
    CaisseFactory,
    CaisseMembershipFactory,
    ConventionFactory,
    MembershipFactory,
    RequestFactory,
)
from tests.helpers import api_client, text, visible_text

pytestmark = pytest.mark.django_db

PARIS = ZoneInfo("Europe/Paris")
# Wednesday 16 April 2025; Good Friday is the 18th, Easter Monday the 21st. Seen on Wednesday 23 April 2025.
DEPOSITED = datetime(2025, 4, 16, 9, 0, tzinfo=PARIS)
SEEN = datetime(2025, 4, 23, 10, 0, tzinfo=PARIS)


@pytest.fixture
def bas_rhin(db):
    return CaisseFactory(code="671", name="CPAM du Bas-Rhin")


@pytest.fixture
def gironde(db):
    return CaisseFactory(code="331", name="CPAM de la Gironde")


def a_request(caisse, time_machine):
    structure = ConventionFactory(caisse=caisse).structure
    time_machine.move_to(DEPOSITED, tick=False)
    demande = RequestFactory(caisse=caisse, structure=structure, author=MembershipFactory(structure=structure).user)
    time_machine.move_to(SEEN, tick=False)
    return Request.objects.select_related("caisse").get(pk=demande.pk)


def test_a_caisse_is_created_with_the_calendar_of_its_code(bas_rhin, gironde):
    assert (bas_rhin.calendar, gironde.calendar) == (Calendar.ALSACE_MOSELLE, Calendar.METROPOLE)
    assert CaisseFactory(code="972").calendar == Calendar.MARTINIQUE
    assert CaisseFactory(code="681", calendar=Calendar.METROPOLE).calendar == Calendar.METROPOLE  # as chosen


@pytest.mark.parametrize(("code", "age"), [("671", 3), ("331", 4)])
def test_queue_export_and_api_give_the_same_age(client, time_machine, code, age):
    """Thursday 17, (Friday 18: Good Friday in Bas-Rhin), Tuesday 22, Wednesday 23: 4 working days in Gironde, 3
    in Bas-Rhin."""
    caisse = CaisseFactory(code=code)
    demande = a_request(caisse, time_machine)
    assert deadlines.age(demande) == age
    agent = CaisseMembershipFactory(caisse=caisse).user
    client.force_login(agent)

    queue = client.get("/caisse/demandes/").content.decode()
    row = next(row for row in re.findall(r"<tr\b.*?</tr>", queue, re.S) if demande.number in row)
    # The age cell: the number, then « En retard » when late.
    cells = [visible_text(cell) for cell in re.findall(r"<td\b[^>]*>(.*?)</td>", row, re.S)]
    assert any(re.fullmatch(rf"{age}( En retard)?", cell) for cell in cells), cells

    response = client.get("/caisse/demandes/export.csv")
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode("utf-8-sig")), delimiter=";"))
    exported = dict(zip(rows[0], next(line for line in rows if line[0] == demande.number), strict=True))
    assert exported["Âge (jours ouvrés)"] == str(age)

    listed = api_client(agent).get("/api/v1/requests/").json()["results"]
    assert [item["age_working_days"] for item in listed if item["number"] == demande.number] == [age]
    detail = api_client(agent).get(f"/api/v1/requests/{demande.number}/").json()
    assert detail["age_working_days"] == age


def test_the_overdue_filter_counts_the_caisse_s_holidays(client, time_machine, settings):
    """A limit of 3 working days to take charge: late on the 23rd in Gironde (4 days), not in Bas-Rhin (3)."""
    settings.TAKE_CHARGE_WITHIN_WORKING_DAYS = {"default": 3}
    for code, late in (("671", False), ("331", True)):
        caisse = CaisseFactory(code=code)
        demande = a_request(caisse, time_machine)
        assert deadlines.is_overdue(demande) is late
        in_the_queue = Request.objects.filter(deadlines.overdue_q(calendar=caisse.calendar), pk=demande.pk).exists()
        assert in_the_queue is late
        everywhere = deadlines.per_calendar(lambda calendar: deadlines.overdue_q(calendar=calendar))
        assert Request.objects.filter(everywhere, pk=demande.pk).exists() is late
        client.force_login(CaisseMembershipFactory(caisse=caisse).user)
        assert (demande.number in text(client.get("/caisse/demandes/?overdue=on"))) is late


def test_reminders_wait_the_caisse_s_working_days(time_machine, settings, mailoutbox, commit):
    """Asked on Thursday 17 April 2025, reminded after 3 working days: on Wednesday 23 in Gironde (18, 22, 23),
    on Thursday 24 in Bas-Rhin (Good Friday does not count)."""
    settings.AWAITING_PARTNER_REMINDER_WORKING_DAYS = 3
    asked = {}
    for code in ("671", "331"):
        caisse = CaisseFactory(code=code)
        agent = CaisseMembershipFactory(caisse=caisse).user
        time_machine.move_to(datetime(2025, 4, 17, 9, 0, tzinfo=PARIS), tick=False)
        demande = RequestFactory(caisse=caisse, in_progress=agent)
        with commit():
            services.post_message(demande, author=agent, body="Pouvez-vous préciser ?", awaiting_answer=True)
        asked[code] = demande
    time_machine.move_to(datetime(2025, 4, 23, 3, 0, tzinfo=PARIS), tick=False)
    with commit():
        assert services.remind_awaiting_partners(date(2025, 4, 23)) == 1
    assert Request.objects.get(pk=asked["331"].pk).reminded_at is not None
    assert Request.objects.get(pk=asked["671"].pk).reminded_at is None
    time_machine.move_to(datetime(2025, 4, 24, 3, 0, tzinfo=PARIS), tick=False)
    with commit():
        assert services.remind_awaiting_partners(date(2025, 4, 24)) == 1
    assert Request.objects.get(pk=asked["671"].pk).reminded_at is not None


def test_the_administrateur_changes_the_caisse_s_calendar(client, time_machine):
    caisse = CaisseFactory(code="681")
    admin = CaisseMembershipFactory(caisse=caisse, admin=True).user
    demande = a_request(caisse, time_machine)
    client.force_login(admin)
    page = text(client.get("/caisse/calendrier/"))
    assert "Calendrier actuel : Alsace-Moselle (Vendredi saint, 26 décembre)" in page
    assert "vendredi 18 avril 2025 Vendredi saint" in page
    response = client.post("/caisse/calendrier/", {"calendar": "metropole"}, follow=True)
    assert "Le calendrier de la caisse est désormais « Métropole (fêtes nationales) »." in text(response)
    caisse.refresh_from_db()
    assert caisse.calendar == Calendar.METROPOLE
    assert deadlines.age(Request.objects.select_related("caisse").get(pk=demande.pk)) == 4

    response = client.post("/caisse/calendrier/", {"calendar": "atlantide"})
    assert response.status_code == 200
    assert "Choisissez un des calendriers proposés." in text(response)
    caisse.refresh_from_db()
    assert caisse.calendar == Calendar.METROPOLE


def test_only_the_caisse_s_administrateur_sees_its_calendar(client, bas_rhin):
    client.force_login(CaisseMembershipFactory(caisse=bas_rhin).user)  # an agent
    assert client.get("/caisse/calendrier/").status_code == 403
    assert client.post("/caisse/calendrier/", {"calendar": "metropole"}).status_code == 403
    bas_rhin.refresh_from_db()
    assert bas_rhin.calendar == Calendar.ALSACE_MOSELLE


def test_the_partners_cached_caisses_carry_the_calendar(bas_rhin):
    from structures import conventions

    structure = ConventionFactory(caisse=bas_rhin).structure
    assert [c.calendar for c in conventions.active_caisses(structure.pk)] == [Calendar.ALSACE_MOSELLE]
    admin = CaisseMembershipFactory(caisse=bas_rhin, admin=True).user
    structure_services.set_caisse_calendar(bas_rhin, calendar=Calendar.METROPOLE, by=admin)
    assert [c.calendar for c in conventions.active_caisses(structure.pk)] == [Calendar.METROPOLE]
