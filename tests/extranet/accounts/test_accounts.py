import re
from datetime import timedelta

import pytest
import time_machine
from django.contrib.auth import get_user_model
from django.core import mail
from django.utils import timezone

from extranet.accounts.models import Session
from structures import services
from structures.models import Membership
from tests.factories import PASSWORD, MembershipFactory, UserFactory
from tests.helpers import last_link, path_of, sign_in, text, visible_text

NEW_PASSWORD = "Trois-chevaux-bleus-au-pre"


def login(client, email, password=PASSWORD):
    return sign_in(client, email, password)


@pytest.mark.django_db
class TestLogin:
    def test_login_by_email_is_case_insensitive(self, client, technicien):
        response = login(client, technicien.email.upper())
        assert response.status_code == 302
        assert client.get("/").status_code == 200

    def test_wrong_password_and_unknown_email_get_the_same_message(self, client, technicien):
        wrong = text(login(client, technicien.email, "pas-le-bon-mot-de-passe"))
        unknown = text(login(client, "personne@nulle-part.fr", "pas-le-bon-mot-de-passe"))
        assert "Adresse électronique ou mot de passe incorrect." in wrong
        assert wrong == unknown

    def test_deactivated_user_cannot_log_in(self, client, technicien):
        services.deactivate_partner_account(technicien.membership, by=None)
        response = login(client, technicien.email)
        assert response.status_code == 200
        assert "Adresse électronique ou mot de passe incorrect." in text(response)

    def test_logout_ends_the_session(self, client, technicien):
        login(client, technicien.email)
        client.post("/deconnexion/")
        assert client.get("/").status_code == 302
        assert not Session.objects.filter(user_id=technicien.pk).exists()

    def test_pages_require_login(self, client, db):
        response = client.get("/compte/")
        assert response.status_code == 302
        assert response["Location"].startswith("/connexion/")


ACCENTED = "inès.faure@exemple.fr"
EMAIL_REFUSED = (
    "Saisissez une adresse électronique de la forme nom@domaine.fr. Avant le « @ », sont acceptés les lettres sans "
    "accent, les chiffres et les signes . _ - + ; les lettres accentuées (é, è, ç…) et les espaces ne le sont pas."
)


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("path", "data", "field"),
    [
        ("/connexion/", {"username": ACCENTED, "password": PASSWORD}, "username"),
        ("/mot-de-passe-oublie/", {"email": ACCENTED}, "email"),
        ("/compte/adresse/", {"new_email": ACCENTED, "password": PASSWORD}, "new_email"),
    ],
)
def test_an_accented_address_is_refused_saying_what_is_accepted(client, technicien, path, data, field):
    if path == "/compte/adresse/":
        client.force_login(technicien)
    response = client.post(path, data)
    assert response.status_code == 200
    assert response.context["form"].errors[field] == [EMAIL_REFUSED]
    assert EMAIL_REFUSED in text(response)


def test_passwords_are_hashed_with_argon2(db, settings):
    from extranet import settings as project_settings

    settings.PASSWORD_HASHERS = project_settings.PASSWORD_HASHERS
    user = UserFactory()
    user.set_password(NEW_PASSWORD)
    assert user.password.startswith("argon2")


@pytest.mark.django_db
class TestActivation:
    @pytest.fixture(autouse=True)
    def _commit(self, commit):
        self.commit = commit

    def create_technicien(self, structure, by):
        mail.outbox.clear()
        with self.commit():
            membership = services.create_partner_account(
                structure,
                role=Membership.Role.TECHNICIEN,
                by=by,
                email="nouvelle@exemple.fr",
                civility="mme",
                last_name="Durand",
                first_name="Claire",
                phone="",
            )
        return membership.user, path_of(last_link("nouvelle@exemple.fr"))

    def test_new_account_gets_a_link_that_works_once(self, client, structure, gestionnaire):
        user, link = self.create_technicien(structure, gestionnaire)
        assert user.is_invited
        assert "Activez votre compte" in mail.outbox[-1].subject
        response = client.post(link, {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD})
        assert response.status_code == 302
        assert login(client, "nouvelle@exemple.fr", NEW_PASSWORD).status_code == 302
        client.post("/deconnexion/")
        again = client.post(
            link, {"new_password1": "Autre-phrase-secrete-99", "new_password2": "Autre-phrase-secrete-99"}
        )
        assert again.status_code == 410
        assert "Ce lien n'est plus valable" in text(again)

    @pytest.mark.parametrize(
        ("age", "usable"), [(timedelta(days=7) - timedelta(minutes=1), True), (timedelta(days=7, minutes=1), False)]
    )
    def test_activation_link_is_valid_seven_days(self, client, structure, gestionnaire, age, usable):
        _, link = self.create_technicien(structure, gestionnaire)
        with time_machine.travel(timezone.now() + age):
            assert client.get(link).status_code == (200 if usable else 410)

    def test_resending_replaces_the_previous_link(self, client, structure, gestionnaire):
        user, first_link = self.create_technicien(structure, gestionnaire)
        with self.commit():
            services.resend_activation(user, by=gestionnaire)
        assert client.get(first_link).status_code == 410
        assert client.get(path_of(last_link(user.email))).status_code == 200

    @pytest.mark.parametrize(
        ("password", "message"),
        [
            ("Court-1", "Ce mot de passe est trop court. Il doit contenir au minimum 12 caractères."),
            ("qwertyuiop123", "Ce mot de passe est trop courant."),
            ("nouvelle@exemple", "Le mot de passe est trop semblable au champ « adresse électronique »."),
        ],
    )
    def test_weak_passwords_are_refused_next_to_the_field(self, client, structure, gestionnaire, password, message):
        user, link = self.create_technicien(structure, gestionnaire)
        response = client.post(link, {"new_password1": password, "new_password2": password})
        assert response.status_code == 200
        assert message in text(response)
        user.refresh_from_db()
        assert user.is_invited

    def test_the_rules_are_said_once_and_a_short_password_is_refused_at_its_own_field(
        self, client, structure, gestionnaire
    ):
        _, link = self.create_technicien(structure, gestionnaire)
        page = client.get(link).content.decode()
        assert page.count("12 caractères") == 1
        assert 'id="id_new_password1_helptext"' in page

        response = client.post(link, {"new_password1": "Court-1", "new_password2": "Court-1"})
        body = response.content.decode()
        errors = dict(re.findall(r'id="id_(new_password[12])_error">(.*?)</div>', body, re.S))
        assert list(errors) == ["new_password1"]
        assert "trop court" in visible_text(errors["new_password1"])
        assert body.count("12 caractères") == 2  # the rule, and the refusal that names it

        mismatch = client.post(link, {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD + "x"})
        errors = dict(re.findall(r'id="id_(new_password[12])_error">(.*?)</div>', mismatch.content.decode(), re.S))
        assert list(errors) == ["new_password2"]

    def test_deactivated_account_cannot_activate(self, client, structure, gestionnaire):
        user, link = self.create_technicien(structure, gestionnaire)
        services.deactivate_partner_account(user.membership, by=gestionnaire)
        assert client.get(link).status_code == 410


# Transactional: emails leave on commit, as in production.
@pytest.mark.django_db(transaction=True)
class TestPasswordReset:
    def test_unknown_email_gets_the_same_answer_and_no_email(self, client, technicien):
        known = text(client.post("/mot-de-passe-oublie/", {"email": technicien.email}))
        unknown = text(client.post("/mot-de-passe-oublie/", {"email": "inconnu@exemple.fr"}))
        assert known.replace(technicien.email, "X") == unknown.replace("inconnu@exemple.fr", "X")
        assert [message.to for message in mail.outbox] == [[technicien.email]]

    @pytest.mark.parametrize(("minutes", "usable"), [(59, True), (61, False)])
    def test_reset_link_is_valid_60_minutes(self, client, technicien, minutes, usable):
        client.post("/mot-de-passe-oublie/", {"email": technicien.email})
        link = path_of(last_link(technicien.email))
        with time_machine.travel(timezone.now() + timedelta(minutes=minutes)):
            response = client.post(link, {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD})
        assert response.status_code == (302 if usable else 410)
        technicien.refresh_from_db()
        assert technicien.check_password(NEW_PASSWORD) is usable

    def test_reset_link_works_once_and_ends_open_sessions(self, client, technicien):
        other_device = type(client)()
        login(other_device, technicien.email)
        client.post("/mot-de-passe-oublie/", {"email": technicien.email})
        link = path_of(last_link(technicien.email))
        assert client.post(link, {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD}).status_code == 302
        assert client.post(link, {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD}).status_code == 410
        assert other_device.get("/").status_code == 302

    def test_deactivated_account_gets_no_reset_email(self, client, technicien):
        services.deactivate_partner_account(technicien.membership, by=None)
        client.post("/mot-de-passe-oublie/", {"email": technicien.email})
        assert mail.outbox == []


@pytest.mark.django_db
class TestPasswordChange:
    def test_change_keeps_this_session_and_ends_the_others(self, client, technicien):
        other_device = type(client)()
        login(other_device, technicien.email)
        login(client, technicien.email)
        response = client.post(
            "/compte/mot-de-passe/",
            {"old_password": PASSWORD, "new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD},
        )
        assert response.status_code == 302
        assert client.get("/compte/").status_code == 200
        assert other_device.get("/compte/").status_code == 302

    def test_wrong_current_password_is_refused(self, client, technicien):
        login(client, technicien.email)
        response = client.post(
            "/compte/mot-de-passe/",
            {"old_password": "faux", "new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD},
        )
        assert "Votre ancien mot de passe est incorrect" in text(response)


@pytest.mark.django_db(transaction=True)
class TestEmailChange:
    def test_change_is_confirmed_by_a_link_sent_to_the_new_address(self, client, technicien):
        old_email = technicien.email
        login(client, technicien.email)
        client.post("/compte/adresse/", {"new_email": "nouvelle.adresse@exemple.fr", "password": PASSWORD})
        technicien.refresh_from_db()
        assert technicien.email == old_email
        link = path_of(last_link("nouvelle.adresse@exemple.fr"))
        assert "nouvelle.adresse@exemple.fr" in text(client.get(link))
        assert client.post(link).status_code == 302
        technicien.refresh_from_db()
        assert technicien.email == "nouvelle.adresse@exemple.fr"
        assert any(old_email in message.to for message in mail.outbox if "a changé" in message.subject)
        assert client.post(link).status_code == 410

    def test_wrong_password_is_refused(self, client, technicien):
        login(client, technicien.email)
        response = client.post("/compte/adresse/", {"new_email": "x@exemple.fr", "password": "faux"})
        assert "Mot de passe incorrect." in text(response)
        assert mail.outbox == []

    def test_address_of_another_account_is_not_revealed_nor_taken(self, client, technicien):
        other = UserFactory(email="deja.pris@exemple.fr")
        login(client, technicien.email)
        response = client.post("/compte/adresse/", {"new_email": "DEJA.pris@exemple.fr", "password": PASSWORD})
        assert response.status_code == 302
        assert len(mail.outbox) == 1 and "impossible" in mail.outbox[0].subject
        assert "http" not in mail.outbox[0].body
        technicien.refresh_from_db()
        assert technicien.email != other.email


@pytest.mark.django_db
def test_deactivation_ends_every_session_and_keeps_the_account(client, structure, gestionnaire):
    technicien = MembershipFactory(structure=structure).user
    login(client, technicien.email)
    assert Session.objects.filter(user_id=technicien.pk).exists()
    services.deactivate_partner_account(technicien.membership, by=gestionnaire)
    assert not Session.objects.filter(user_id=technicien.pk).exists()
    assert client.get("/").status_code == 302
    assert get_user_model().objects.filter(pk=technicien.pk, is_active=False).exists()
    technicien.membership.refresh_from_db()
    assert technicien.membership.deactivated_by == gestionnaire
