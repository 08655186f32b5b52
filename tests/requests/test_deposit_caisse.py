"""A deposit goes to the caisse its form showed, or to none (issue 22, §3).

Two application servers behind a load balancer: the form is shown by one, posted to the other, right after a convention
changed on a third. Each server remembers the structure's caisses in its own memory (structures/conventions.py); here
the servers are this process with its memory as one of them left it: `another_server()` empties it, as a process that
has not read them yet; `change_convention_status(..., in_another_process=True)` changes a convention as a third server
would (its memory only, and the shared cache's version).
"""

import threading
from datetime import date

import pytest
from django.db import connection, transaction

from requests import services as request_services
from requests.models import Request
from structures import conventions
from structures.models import Convention
from tests.factories import CaisseFactory, ConventionFactory, change_convention_status
from tests.helpers import api_client, text
from tests.requests.builders import MAS_REFERRAL_URL, api_body, create_url, form_data, referral_data, shown_caisse

pytestmark = pytest.mark.django_db


def another_server():
    conventions.forget_here()


@pytest.fixture
def two_caisses(structure, caisse, other_caisse):
    """Gironde (331) and Loire (421), both active; the header's default is the first by code, Gironde."""
    ConventionFactory(structure=structure, caisse=other_caisse)
    return caisse, other_caisse


def field_errors(response):
    return response.context["form"].errors.get("caisse")


@pytest.mark.parametrize(
    ("url", "data"), [(create_url("contacter"), form_data("contacter")), (MAS_REFERRAL_URL, None)]
)
def test_a_suspended_caisse_refuses_the_deposit_at_its_field_and_never_files_it_with_the_other(
    technicien_client, structure, two_caisses, url, data
):
    gironde, loire = two_caisses
    page = technicien_client.get(url)
    assert shown_caisse(page) == "331" and "adressée à la CPAM de la Gironde" in text(page)
    change_convention_status(
        structure.conventions.get(caisse=gironde), Convention.Status.SUSPENDED, in_another_process=True
    )
    another_server()
    response = technicien_client.post(url, (data or referral_data()) | {"caisse": shown_caisse(page)})
    assert response.status_code == 200
    assert field_errors(response) == [
        "Aucune convention active de votre structure avec la caisse CPAM de la Gironde (331) : la demande n'a pas été "
        "déposée."
    ]
    assert not Request.objects.exists()
    # The page now shows the caisse a new submission would go to, and sends that one.
    assert shown_caisse(response) == "421" and "adressée à la CPAM de la Loire" in text(response)
    again = technicien_client.post(url, (data or referral_data()) | {"caisse": shown_caisse(response)})
    assert again.status_code == 302 and Request.objects.get().caisse == loire


def test_a_caisse_still_active_is_the_one_filed_whatever_the_header_now_defaults_to(
    technicien_client, structure, two_caisses
):
    gironde, _ = two_caisses
    page = technicien_client.get(create_url("contacter"))
    assert shown_caisse(page) == "331"
    # Meanwhile a convention with a caisse of a smaller code starts: the other server's header now defaults to it.
    paris = CaisseFactory(code="751", name="CPAM de Paris")
    ain = CaisseFactory(code="011", name="CPAM de l'Ain")
    for newcomer in (paris, ain):
        ConventionFactory(structure=structure, caisse=newcomer, signed_on=date(2026, 1, 5))
    another_server()
    assert "CPAM DE L'AIN —" in text(technicien_client.get("/"))
    response = technicien_client.post(create_url("contacter"), form_data("contacter", caisse=shown_caisse(page)))
    assert response.status_code == 302
    assert Request.objects.get().caisse == gironde


def test_the_header_of_another_server_stops_showing_a_suspended_caisse_at_its_next_page(
    technicien_client, structure, two_caisses
):
    gironde, _ = two_caisses
    assert "CPAM DE LA GIRONDE —" in text(technicien_client.get("/"))  # this server remembers both caisses
    change_convention_status(
        structure.conventions.get(caisse=gironde), Convention.Status.SUSPENDED, in_another_process=True
    )
    page = technicien_client.get(create_url("contacter"))
    assert "CPAM DE LA LOIRE —" in text(page) and shown_caisse(page) == "421"


def test_a_page_post_without_the_caisse_files_nothing(technicien_client):
    response = technicien_client.post(create_url("contacter"), form_data("contacter", caisse=""))
    assert field_errors(response) == ["Ce champ est obligatoire."]
    assert not Request.objects.exists()


def test_the_caisse_refused_by_the_form_is_said_next_to_the_caisse_shown(technicien_client, structure, two_caisses):
    gironde, _ = two_caisses
    change_convention_status(
        structure.conventions.get(caisse=gironde), Convention.Status.ENDED, in_another_process=True
    )
    response = technicien_client.post(create_url("contacter"), form_data("contacter", caisse="331"))
    page = response.content.decode()
    assert page.index('id="id_caisse_group"') < page.index('id="id_caisse_error"') < page.index("Votre demande")
    assert '<a href="#id_caisse_group">Caisse destinataire</a>' in page


def test_the_api_files_with_the_caisse_named_checked_afresh(technicien, structure, two_caisses):
    gironde, loire = two_caisses
    client = api_client(technicien)
    assert [c["code"] for c in client.get("/api/v1/me/").json()["caisses"]] == ["331", "421"]
    change_convention_status(
        structure.conventions.get(caisse=gironde), Convention.Status.SUSPENDED, in_another_process=True
    )
    another_server()
    contact = api_body("contact", form_data("contacter", caisse="331"))
    refused = client.post("/api/v1/requests/", contact, format="json")
    message = (
        "Aucune convention active de votre structure avec la caisse CPAM de la Gironde (331) : la demande n'a pas été "
        "déposée."
    )
    assert refused.status_code == 400
    assert refused.json() == {"code": "no_active_convention", "message": message, "fields": {"caisse": [message]}}
    assert not Request.objects.exists()
    # Without a code, the structure's only active convention now.
    created = client.post("/api/v1/requests/", contact | {"caisse": ""}, format="json")
    assert created.status_code == 201 and Request.objects.get().caisse == loire


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_deposit_during_a_suspension_waits_for_it_then_files_nothing(technicien, structure, caisse, caisse_admin):
    """Between the form's check and the deposit's write, a suspension commits on another server: the deposit reads the
    convention under its row lock, so it waits for the suspension and refuses, at the caisse's field."""
    convention = structure.conventions.get()
    suspending, deposit_started, outcome = threading.Event(), threading.Event(), []

    def suspend():
        try:
            with transaction.atomic():
                change_convention_status(convention, "suspended", by=caisse_admin)
                suspending.set()
                deposit_started.wait(5)
                # The deposit waits on the lock (its own connection); a moment for it to reach the lock.
                threading.Event().wait(0.3)
        finally:
            connection.close()

    def deposit():
        try:
            suspending.wait(5)
            deposit_started.set()
            request_services.deposit_request(**contact(structure, caisse, technicien))
            outcome.append("filed")
        except request_services.DepositRefused as refusal:
            outcome.append(refusal.errors)
        finally:
            connection.close()

    threads = [threading.Thread(target=suspend), threading.Thread(target=deposit)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert outcome == [{"caisse": [request_services.NoActiveConvention.MESSAGE]}]
    assert not Request.objects.exists()


def contact(structure, caisse, author):
    return {
        "kind": "contact",
        "motif": "technical",
        "structure": structure,
        "caisse": caisse,
        "author": author,
        "details": {"channel": "phone", "availabilities": "Lundi", "message": "Question"},
        "person": {},
        "files": [],
    }


@pytest.mark.parametrize("code", ["999", "33", "3a1"])
def test_a_code_of_no_active_convention_is_refused_as_sent(technicien_client, code):
    response = technicien_client.post(create_url("contacter"), form_data("contacter", caisse=code))
    assert field_errors(response) == [
        f"Aucune convention active de votre structure avec la caisse {code} : la demande n'a pas été déposée."
    ]
    assert not Request.objects.exists()
