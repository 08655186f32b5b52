import threading

import pytest
from django.db import connection

from structures import policy, services
from structures.models import Membership, gestionnaire_seat_cap
from tests.factories import ConventionFactory, MembershipFactory, UserFactory
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
    expected = f"{cap} gestionnaires actifs pour {cap} places autorisées avec un effectif de {headcount} personnes."
    assert expected in str(refusal.value)
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
    assert "4 gestionnaires actifs pour 2 places avec un effectif de 8" in page
    assert "Personne n'a été désactivé" in page
    assert all(Membership.objects.get(pk=m.pk).is_active for m in gestionnaires)
    assert "Créer un gestionnaire" not in page

    response = client.post(f"/caisse/structures/{structure.pk}/gestionnaires/nouveau/", identity(9))
    assert response.status_code == 200
    page = text(response)
    assert "Le compte n'a pas été créé" in page
    assert "4 gestionnaires actifs sur 2 places (effectif de 8 personnes)" in page
    assert "il faut en libérer 3 pour créer un gestionnaire" in page
    assert not Membership.objects.filter(user__email=identity(9)["email"]).exists()


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


def seat_page(client, structure):
    return client.get(f"/caisse/structures/{structure.pk}/gestionnaires/nouveau/")


@pytest.mark.django_db
class TestTheFullSeatPage:
    @pytest.fixture
    def full(self, structure):
        """Two seats (an effectif of 5), both held: by an active gestionnaire and by one invited, never activated."""
        active = MembershipFactory(structure=structure, gestionnaire=True, user__last_name="Arnaud")
        invited = MembershipFactory(
            structure=structure, gestionnaire=True, user=UserFactory(invited=True, last_name="Bernard")
        )
        return active, invited

    def test_says_so_instead_of_the_form_with_what_frees_a_seat(self, admin_client, structure, full):
        active, invited = full
        response = seat_page(admin_client, structure)
        html, page = response.content.decode(), text(response)
        assert "Toutes les places de gestionnaire sont occupées" in page
        assert "2 gestionnaires actifs sur 2 places (effectif de 5 personnes), dont 1 invité qui n'a pas" in page
        assert 'name="email"' not in html and "Enregistrer" not in page
        assert f'href="/caisse/structures/{structure.pk}/modifier/">Mettre à jour l\'effectif</a>' in html
        assert f'action="/caisse/gestionnaires/{active.pk}/desactiver/"' in html
        assert f'action="/caisse/gestionnaires/{invited.pk}/desactiver/"' in html
        assert f"Désactiver {active.user.get_full_name()}" in page
        assert f"Retirer l'invitation de {invited.user.get_full_name()}" in page
        assert "Invité le" in page and "n'a pas encore activé son compte" in page

    def test_withdrawing_the_invitation_frees_the_seat_and_the_link(self, admin_client, structure, full):
        _, invited = full
        response = admin_client.post(f"/caisse/gestionnaires/{invited.pk}/desactiver/", follow=True)
        assert f"L'invitation de {invited.user} est retirée" in text(response)
        invited.refresh_from_db()
        assert not invited.is_active and not invited.user.is_active
        form = seat_page(admin_client, structure)
        assert 'name="email"' in form.content.decode()
        assert "1 gestionnaire actif sur 2 places : 1 place libre." in text(form)

    def test_a_form_sent_once_the_seats_are_full_is_refused_on_the_same_page(self, admin_client, structure, full):
        response = admin_client.post(f"/caisse/structures/{structure.pk}/gestionnaires/nouveau/", identity(7))
        page = text(response)
        assert "Le compte n'a pas été créé" in page and "Toutes les places de gestionnaire sont occupées" in page
        assert 'name="email"' not in response.content.decode()
        assert not Membership.objects.filter(user__email=identity(7)["email"]).exists()

    def test_the_structure_page_links_to_the_headcount(self, admin_client, structure, full):
        response = admin_client.get(f"/caisse/structures/{structure.pk}/")
        assert "Créer un gestionnaire" not in text(response)
        assert f'<a href="/caisse/structures/{structure.pk}/modifier/">mettez à jour l\'effectif</a>' in (
            response.content.decode()
        )
        assert "2 gestionnaires actifs sur 2 places (effectif de 5)." in text(response)


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("holders", "expected"),
    [
        (0, "0 gestionnaire actif sur 2 places : 2 places libres."),
        (1, "1 gestionnaire actif sur 2 places : 1 place libre."),
    ],
)
def test_the_seat_page_with_a_free_seat_offers_the_form(admin_client, structure, holders, expected):
    for _ in range(holders):
        MembershipFactory(structure=structure, gestionnaire=True)
    response = seat_page(admin_client, structure)
    assert expected in text(response)
    assert 'name="email"' in response.content.decode()


@pytest.mark.django_db
def test_the_refusal_speaks_of_one_person_in_the_singular(caisse):
    structure = ConventionFactory(caisse=caisse, structure__headcount=1).structure
    for n in range(2):
        create_gestionnaire(structure, n)
    with pytest.raises(services.SeatLimitReached) as refusal:
        create_gestionnaire(structure, 2)
    assert "2 gestionnaires actifs pour 2 places autorisées avec un effectif de 1 personne." in str(refusal.value)
