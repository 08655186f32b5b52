import threading

import pytest
from django.db import connection

from structures import policy, services
from structures.models import Membership, gestionnaire_seat_cap
from tests.factories import ConventionFactory, MembershipFactory
from tests.helpers import text


@pytest.mark.parametrize(("headcount", "cap"), [(1, 2), (10, 2), (11, 3), (25, 3), (26, 5), (500, 5)])
def test_seat_cap_by_headcount(headcount, cap):
    assert gestionnaire_seat_cap(headcount) == cap


def identity(n):
    return {
        "email": f"gestionnaire{n}@exemple.fr",
        "civility": "m",
        "last_name": "Martin",
        "first_name": "Paul",
        "phone": "",
    }


def create_gestionnaire(structure, n, by=None):
    return services.create_partner_account(structure, role=Membership.Role.GESTIONNAIRE, by=by, **identity(n))


@pytest.mark.django_db
@pytest.mark.parametrize(("headcount", "cap"), [(10, 2), (11, 3), (25, 3), (26, 5)])
def test_gestionnaires_up_to_the_cap_then_refused(headcount, cap, caisse):
    structure = ConventionFactory(caisse=caisse, structure__headcount=headcount).structure
    for n in range(cap):
        create_gestionnaire(structure, n)
    with pytest.raises(services.SeatLimitReached) as refusal:
        create_gestionnaire(structure, cap)
    assert f"{cap} gestionnaire(s) actif(s) pour {cap} place(s)" in str(refusal.value)
    assert structure.active_gestionnaires().count() == cap
    assert not Membership.objects.filter(user__email=identity(cap)["email"]).exists()


@pytest.mark.django_db
def test_deactivated_gestionnaires_free_their_seat(structure):
    first = create_gestionnaire(structure, 1)
    create_gestionnaire(structure, 2)
    services.deactivate_partner_account(first, by=None)
    create_gestionnaire(structure, 3)
    assert structure.active_gestionnaires().count() == 2
    with pytest.raises(services.SeatLimitReached):
        services.reactivate_partner_account(first, by=None)
    first.refresh_from_db()
    assert not first.is_active


@pytest.mark.django_db
def test_techniciens_are_unlimited(structure):
    for n in range(30):
        services.create_partner_account(
            structure, role=Membership.Role.TECHNICIEN, by=None, **identity(n) | {"email": f"tech{n}@exemple.fr"}
        )
    assert structure.memberships.filter(role=Membership.Role.TECHNICIEN, is_active=True).count() == 30


@pytest.mark.django_db
def test_lowering_headcount_blocks_new_seats_and_deactivates_nobody(client, caisse, caisse_admin):
    structure = ConventionFactory(caisse=caisse, structure__headcount=30).structure
    gestionnaires = [MembershipFactory(structure=structure, gestionnaire=True) for _ in range(4)]
    client.force_login(caisse_admin)
    response = client.post(
        f"/caisse/structures/{structure.pk}/modifier/",
        {"name": structure.name, "siret": structure.siret, "kind": structure.kind, "headcount": 8},
        follow=True,
    )
    page = text(response)
    assert "4 gestionnaire(s) actif(s) pour 2 place(s)" in page
    assert "Personne n'a été désactivé" in page
    assert all(Membership.objects.get(pk=m.pk).is_active for m in gestionnaires)
    assert "Créer un gestionnaire" not in page

    response = client.post(f"/caisse/structures/{structure.pk}/gestionnaires/nouveau/", identity(9))
    assert response.status_code == 200
    assert "Plafond atteint" in text(response)
    assert "4 gestionnaire(s) actif(s) pour 2 place(s) autorisée(s) avec un effectif de 8" in text(response)


@pytest.mark.django_db
def test_admin_form_creates_gestionnaire_and_sends_activation(client, structure, caisse_admin, commit):
    client.force_login(caisse_admin)
    with commit():
        response = client.post(f"/caisse/structures/{structure.pk}/gestionnaires/nouveau/", identity(1))
    assert response.status_code == 302
    membership = Membership.objects.get(user__email="gestionnaire1@exemple.fr")
    assert membership.is_gestionnaire and membership.created_by == caisse_admin
    assert policy.can_manage_technicians(membership.user, structure)
    from django.core import mail

    assert mail.outbox[-1].to == ["gestionnaire1@exemple.fr"]


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("headcount", [10, 11, 26])
def test_concurrent_creations_never_exceed_the_cap(caisse, headcount):
    structure = ConventionFactory(caisse=caisse, structure__headcount=headcount).structure
    attempts = 12
    barrier = threading.Barrier(attempts)
    outcomes = []

    def attempt(n):
        try:
            barrier.wait()
            create_gestionnaire(structure, n)
            outcomes.append("created")
        except services.SeatLimitReached:
            outcomes.append("refused")
        finally:
            connection.close()

    threads = [threading.Thread(target=attempt, args=(n,)) for n in range(attempts)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    cap = gestionnaire_seat_cap(headcount)
    assert outcomes.count("created") == cap
    assert outcomes.count("refused") == attempts - cap
    assert structure.active_gestionnaires().count() == cap
