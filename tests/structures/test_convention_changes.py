"""A convention's status changes after a confirmation that says what it means; each change is logged (who, when, from,
to, why), shown on the structure's page, and told by email to the structure's active gestionnaires."""

from datetime import date

import pytest

from extranet.notifications.models import OutgoingEmail
from structures import conventions, services
from structures.models import Convention, ConventionChange
from tests.factories import CaisseMembershipFactory, MembershipFactory, UserFactory
from tests.helpers import as_loaded, text

pytestmark = pytest.mark.django_db

SUSPENSION = {"signed_on": "2024-01-15", "status": "suspended", "reason": "Convention en cours de renégociation."}


@pytest.fixture
def url(structure):
    return f"/caisse/structures/{structure.pk}/convention/"


@pytest.fixture
def gestionnaires(structure):
    """Two active gestionnaires (one invited, not yet activated), one deactivated, and a technicien."""
    return [
        MembershipFactory(structure=structure, gestionnaire=True, user__first_name="Karim", user__last_name="Benali"),
        MembershipFactory(structure=structure, gestionnaire=True, user=UserFactory(invited=True, last_name="Invité")),
        MembershipFactory(structure=structure, gestionnaire=True, is_active=False, user__is_active=False),
        MembershipFactory(structure=structure),
    ]


def test_the_form_says_the_current_status_and_that_a_change_is_confirmed(admin_client, url):
    page = text(admin_client.get(url))
    assert "Statut actuel : Active" in page
    assert "présenté pour confirmation" in page


def test_a_change_of_status_asks_for_confirmation_first(
    admin_client, url, structure, caisse, gestionnaires, mailoutbox
):
    response = admin_client.post(url, SUSPENSION)
    assert response.status_code == 200
    assert response.templates[0].name == "structures/convention_confirm.html"
    page = text(response)
    assert "Active → Suspendue" in page
    assert "ne pourront plus déposer de demande à la caisse tant que la convention est suspendue" in page
    assert "Convention en cours de renégociation." in page
    active = gestionnaires[:2]
    assert (
        f"Les 2 gestionnaires de la structure en seront prévenus par courriel : {active[0].user.get_full_name()}"
        in (page)
    )
    assert gestionnaires[2].user.get_full_name() not in page
    # Nothing is changed, logged or sent before the confirmation.
    assert structure.conventions.get(caisse=caisse).status == "active"
    assert not ConventionChange.objects.exists() and not OutgoingEmail.objects.exists()


def test_edit_goes_back_to_the_form_with_what_was_typed(admin_client, url, structure, caisse):
    response = admin_client.post(url, SUSPENSION | {"edit": "1"})
    assert response.templates[0].name == "structures/convention_form.html"
    assert response.context["form"]["status"].value() == "suspended"
    assert response.context["form"]["reason"].value() == SUSPENSION["reason"]
    assert structure.conventions.get(caisse=caisse).status == "active"


def test_the_confirmed_change_is_logged_shown_and_told_to_the_active_gestionnaires(
    admin_client, url, structure, caisse, caisse_admin, gestionnaires, commit, mailoutbox, settings
):
    with commit():
        response = admin_client.post(url, SUSPENSION | {"confirm": "1"}, follow=True)
    convention = structure.conventions.get(caisse=caisse)
    assert convention.status == "suspended"
    change = ConventionChange.objects.get()
    assert (change.convention, change.by, change.from_status, change.to_status, change.reason) == (
        convention,
        caisse_admin,
        "active",
        "suspended",
        "Convention en cours de renégociation.",
    )
    page = text(response)
    assert "La convention est désormais « Suspendue » ; les gestionnaires de la structure en sont prévenus" in page
    assert "Historique de la convention" in page
    assert f"{caisse_admin.get_full_name()} Active → Suspendue Convention en cours de renégociation." in page

    assert sorted(message.to[0] for message in mailoutbox) == sorted(m.user.email for m in gestionnaires[:2])
    email = next(message for message in mailoutbox if message.to == [gestionnaires[0].user.email])
    assert email.subject == "Convention avec la CPAM de la Gironde : suspendue"
    assert email.body.startswith("Bonjour Karim BENALI,\n\n")
    assert (
        "La convention entre Association Alpha et la CPAM de la Gironde est désormais « Suspendue » (elle était "
        "« Active »)"
    ) in email.body
    assert "Motif indiqué par la caisse : Convention en cours de renégociation." in email.body
    assert "ne pourront plus déposer de demande à la caisse tant que la convention est suspendue" in email.body
    assert f"{settings.SITE_URL}/\n" in email.body


def test_reactivation_and_end_are_logged_in_turn_newest_first(admin_client, url, structure, caisse, commit):
    for status in ("suspended", "active", "ended"):
        admin_client.post(url, {"signed_on": "2024-01-15", "status": status, "confirm": "1"})
    assert [(c.from_status, c.to_status) for c in ConventionChange.objects.all()] == [
        ("active", "ended"),
        ("suspended", "active"),
        ("active", "suspended"),
    ]
    page = text(admin_client.get(f"/caisse/structures/{structure.pk}/"))
    assert page.index("Active → Terminée") < page.index("Suspendue → Active") < page.index("Active → Suspendue")
    assert conventions.active_caisses(structure.pk) == []


def test_a_new_signature_date_alone_is_saved_at_once_without_log_nor_email(
    admin_client, url, structure, caisse, gestionnaires, commit, mailoutbox
):
    with commit():
        response = admin_client.post(url, {"signed_on": "2024-02-01", "status": "active"}, follow=True)
    assert "La convention est mise à jour." in text(response)
    assert structure.conventions.get(caisse=caisse).signed_on == date(2024, 2, 1)
    assert not ConventionChange.objects.exists() and not mailoutbox
    assert "Aucun changement de statut enregistré." in text(response)


def test_without_gestionnaire_nobody_is_told_and_the_page_says_so(admin_client, url):
    assert "La structure n'a aucun gestionnaire actif : personne n'en sera prévenu par courriel." in text(
        admin_client.post(url, SUSPENSION)
    )


def test_the_service_refuses_anyone_but_the_caisses_administrateurs(
    structure, caisse, agent, gestionnaire, other_caisse_admin
):
    convention = structure.conventions.get(caisse=caisse)
    for by in (
        agent,
        gestionnaire,
        other_caisse_admin,
        CaisseMembershipFactory(caisse=caisse, admin=True, is_active=False).user,
    ):
        with pytest.raises(services.NotAllowed):
            services.update_convention(convention, signed_on=convention.signed_on, status="ended", by=as_loaded(by))
    assert Convention.objects.get(pk=convention.pk).status == "active"
    assert not ConventionChange.objects.exists()


def test_a_rolled_back_change_logs_and_sends_nothing(
    structure, caisse, caisse_admin, gestionnaires, commit, mailoutbox
):
    from django.db import transaction

    convention = structure.conventions.get(caisse=caisse)
    with commit(), pytest.raises(RuntimeError), transaction.atomic():
        services.update_convention(convention, signed_on=convention.signed_on, status="ended", by=caisse_admin)
        raise RuntimeError
    assert not ConventionChange.objects.exists() and not OutgoingEmail.objects.exists() and not mailoutbox
