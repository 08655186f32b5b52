import threading
from datetime import UTC, datetime

import pytest
import time_machine
from django.db import connection
from django.utils import timezone

from requests import services
from requests.models import NumberSequence, Request, StatusChange
from tests.factories import ConventionFactory, MembershipFactory, make_nir
from tests.requests.builders import a_pdf, create_url, form_data, shown_caisse


def at(*args):
    return time_machine.travel(datetime(*args, tzinfo=UTC), tick=False)


def deposit(client, n=1, slug="signaler", **overrides):
    shown = shown_caisse(client.get(create_url(slug)))
    data = form_data(slug, person_nir=make_nir(order=f"{n:03d}"), caisse=shown, **overrides)
    response = client.post(create_url(slug), data)
    assert response.status_code == 302, response.context["form"].errors if response.context else response
    return response["Location"].split("/")[2]


@pytest.mark.django_db
class TestNumbers:
    def test_year_caisse_code_and_sequence(self, technicien_client):
        with at(2026, 3, 10, 9, 30):
            numbers = [deposit(technicien_client, n) for n in range(1, 4)]
        assert numbers == ["2633100001", "2633100002", "2633100003"]
        assert list(Request.objects.order_by("pk").values_list("number", flat=True)) == numbers

    def test_every_kind_shares_the_caisse_sequence(self, technicien_client):
        with at(2026, 3, 10, 9, 30):
            numbers = [
                deposit(technicien_client, n, slug=slug)
                for n, slug in enumerate(["contacter", "signaler", "rendez-vous", "etude-de-dossier", "document"], 1)
            ]
        assert numbers == [f"26331{n:05d}" for n in range(1, 6)]

    def test_sequence_is_per_caisse_not_per_structure(self, technicien_client, caisse, client_factory):
        neighbour = ConventionFactory(caisse=caisse).structure
        neighbour_client = client_factory()
        neighbour_client.force_login(MembershipFactory(structure=neighbour).user)
        with at(2026, 3, 10, 9, 30):
            assert deposit(technicien_client, 1) == "2633100001"
            assert deposit(neighbour_client, 2) == "2633100002"
            assert deposit(technicien_client, 3) == "2633100003"

    def test_caisses_have_independent_sequences(self, technicien_client, structure, other_caisse, other_structure):
        ConventionFactory(structure=structure, caisse=other_caisse)
        with at(2026, 3, 10, 9, 30):
            assert deposit(technicien_client, 1) == "2633100001"
            assert deposit(technicien_client, 2) == "2633100002"
            technicien_client.post("/caisse/choisir/", {"caisse": other_caisse.pk})
            assert deposit(technicien_client, 3) == "2642100001"
            technicien_client.post(
                "/caisse/choisir/", {"caisse": structure.conventions.get(caisse__code="331").caisse_id}
            )
            assert deposit(technicien_client, 4) == "2633100003"

    def test_sequence_restarts_with_the_new_year_in_french_time(self, client, technicien, caisse):
        moments = [
            ((2026, 6, 1, 8, 0), "2633100001"),
            ((2026, 6, 1, 8, 5), "2633100002"),
            ((2026, 12, 31, 22, 59, 59), "2633100003"),  # 23:59:59 in Paris
            ((2026, 12, 31, 23, 0, 0), "2733100001"),  # midnight in Paris: already 2027 there
            ((2027, 2, 1, 8, 0), "2733100002"),
        ]
        for n, (moment, number) in enumerate(moments, 1):
            with at(*moment):
                client.force_login(technicien)  # months apart: a new session each time
                assert deposit(client, n) == number
        assert dict(NumberSequence.objects.filter(caisse=caisse).values_list("year", "last_value")) == {
            2026: 3,
            2027: 2,
        }

    @pytest.mark.parametrize("earlier_deposits", [0, 1])
    def test_a_deposit_failing_after_numbering_gives_its_number_back(
        self, technicien_client, monkeypatch, stored_files, mailoutbox, commit, earlier_deposits
    ):
        with at(2026, 3, 10, 9, 30):
            for n in range(earlier_deposits):
                deposit(technicien_client, 10 + n)

            def broken_mail(*args, **kwargs):
                raise RuntimeError("serveur de courriel injoignable")

            # The acknowledgement is written last, after the number, the log row and the stored file.
            with monkeypatch.context() as patch, pytest.raises(RuntimeError), commit():
                patch.setattr(services.notifications, "deposited", broken_mail)
                technicien_client.post(create_url("etude-de-dossier"), form_data("etude-de-dossier", files=[a_pdf()]))
            assert Request.objects.count() == earlier_deposits
            assert StatusChange.objects.count() == earlier_deposits
            assert stored_files() == []
            assert mailoutbox == []

            number = deposit(technicien_client, 1, slug="etude-de-dossier", files=[a_pdf()])
        assert number == f"26331{earlier_deposits + 1:05d}"
        assert len(stored_files()) == 1

    def test_a_duplicate_refused_by_the_deposit_gives_its_number_back(self, technicien_client):
        with at(2026, 3, 10, 9, 30):
            assert deposit(technicien_client, 1) == "2633100001"
            refused = technicien_client.post(
                create_url("signaler"), form_data("signaler", person_nir=make_nir(order="001"))
            )
            assert refused.status_code == 200
            assert deposit(technicien_client, 2) == "2633100002"

    def test_numbering_stops_at_99999_in_a_year(self, structure, caisse, technicien):
        with at(2026, 3, 10, 9, 30):
            NumberSequence.objects.create(caisse=caisse, year=2026, last_value=99_998)
            kwargs = {
                "kind": "contact",
                "motif": "technical",
                "structure": structure,
                "caisse": caisse,
                "author": technicien,
                "details": {"channel": "phone", "availabilities": "Lundi", "message": "Question"},
                "person": {},
                "files": [],
            }
            assert services.deposit_request(**kwargs).number == "2633199999"
            with pytest.raises(services.YearlyNumberingExhausted):
                services.deposit_request(**kwargs)
        assert Request.objects.count() == 1
        assert NumberSequence.objects.get(caisse=caisse, year=2026).last_value == 99_999


def concurrent_deposits(structure, caisse, authors, person_for):
    """Each author deposits at the same moment from their own thread and database connection."""
    barrier = threading.Barrier(len(authors))
    outcomes = []

    def attempt(n, author):
        try:
            barrier.wait()
            person = person_for(n)
            deposited = services.deposit_request(
                kind="access_difficulty" if person else "contact",
                motif="rights" if person else "technical",
                structure=structure,
                caisse=caisse,
                author=author,
                details={"description": f"Demande {n}"} if person else {"message": f"Question {n}"},
                person=person,
                files=[],
            )
            outcomes.append(deposited.number)
        except services.DuplicateOpenRequest as refusal:
            outcomes.append(("duplicate", refusal.existing.number))
        except Exception as error:  # reported in the assertion, not swallowed
            outcomes.append(("error", repr(error)))
        finally:
            connection.close()

    threads = [threading.Thread(target=attempt, args=(n, author)) for n, author in enumerate(authors)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return outcomes


def person(n, nir=None):
    return {
        "person_civility": "mme",
        "person_last_name": f"Personne{n}",
        "person_first_name": "Anne",
        "person_birth_date": datetime(1985, 5, 12).date(),
        "person_nir": nir or make_nir(order=f"{n + 1:03d}"),
        "person_phone": "",
        "person_email": "",
    }


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
class TestConcurrentNumbering:
    ATTEMPTS = 16

    def authors(self, structure):
        return [MembershipFactory(structure=structure).user for _ in range(self.ATTEMPTS)]

    def expected(self, caisse, count):
        year = timezone.localdate().year % 100
        return [f"{year:02d}{caisse.code}{n:05d}" for n in range(1, count + 1)]

    @pytest.mark.parametrize("sequence_exists", [False, True])
    def test_16_simultaneous_deposits_get_numbers_1_to_16(self, structure, caisse, sequence_exists):
        if sequence_exists:
            NumberSequence.objects.create(caisse=caisse, year=timezone.localdate().year)
        outcomes = concurrent_deposits(structure, caisse, self.authors(structure), lambda n: person(n))
        assert sorted(outcomes, key=str) == self.expected(caisse, self.ATTEMPTS)
        assert sorted(Request.objects.values_list("number", flat=True)) == self.expected(caisse, self.ATTEMPTS)
        assert NumberSequence.objects.get(caisse=caisse).last_value == self.ATTEMPTS
        assert StatusChange.objects.count() == self.ATTEMPTS

    @pytest.mark.parametrize("sequence_exists", [False, True])
    def test_16_simultaneous_deposits_for_the_same_person_make_one_request(self, structure, caisse, sequence_exists):
        if sequence_exists:
            NumberSequence.objects.create(caisse=caisse, year=timezone.localdate().year)
        nir = make_nir(order="042")
        outcomes = concurrent_deposits(structure, caisse, self.authors(structure), lambda n: person(n, nir))
        created = [outcome for outcome in outcomes if isinstance(outcome, str)]
        assert created == self.expected(caisse, 1)
        assert sorted(outcomes, key=str)[:-1] == [("duplicate", created[0])] * (self.ATTEMPTS - 1)
        assert Request.objects.count() == 1
        # The refused deposits gave their numbers back.
        assert NumberSequence.objects.get(caisse=caisse).last_value == 1
