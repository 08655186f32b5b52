"""Emails about requests: through the OutgoingEmail outbox, only what the partner must know, none when the action is
rolled back. Their delivery and its retries: tests/extranet/notifications/test_delivery.py."""

from datetime import timedelta

import pytest
import time_machine
from django.db import transaction
from django.utils import timezone

from extranet.notifications.models import OutgoingEmail
from requests import services
from requests.models import Request
from requests.notifications import send_daily_digests
from tests.factories import CaisseFactory, CaisseMembershipFactory, ConventionFactory, RequestFactory, make_nir

FAILING_BACKEND = "tests.helpers.FailingBackend"
LOCMEM_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
NIR = make_nir(sex="2", year="91", month="11", department="33", commune="063", order="457")
PERSON = {"person_last_name": "Quintavalle-Oyarzun", "person_first_name": "Zéphirine", "person_nir": NIR}

PARTNER_MESSAGE = "MESSAGE-PARTENAIRE-91c2 : la personne est hébergée chez sa sœur."
CAISSE_MESSAGE = "MESSAGE-CAISSE-4d7e : merci de joindre l'avis d'imposition."
INTERNAL_NOTE = "NOTE-INTERNE-b3a9 : dossier signalé au contrôle."
ANSWER = "REPONSE-CAISSE-e5f0 : droits C2S ouverts jusqu'au 31/12."


def at(moment):
    return time_machine.travel(moment, tick=False)


@pytest.fixture
def demande(structure, caisse, technicien):
    return RequestFactory(structure=structure, caisse=caisse, author=technicien, **PERSON)


def fresh(demande):
    return Request.objects.get(pk=demande.pk)


def emails_to(address):
    return list(OutgoingEmail.objects.filter(recipient=address).order_by("pk"))


def subjects(address):
    return [email.subject for email in emails_to(address)]


@pytest.mark.django_db
class TestWhoIsEmailedWhen:
    def test_take_charge_emails_the_author_once_committed(self, commit, mailoutbox, demande, technicien, agent):
        with commit():
            services.take_charge(demande, agent=agent)
            [email] = OutgoingEmail.objects.all()
            assert (email.state, email.attempts) == (OutgoingEmail.State.PENDING, 0)
            assert mailoutbox == []  # nothing leaves before the action commits
        email.refresh_from_db()
        assert email.recipient == technicien.email
        assert email.subject == f"Demande {demande.number} prise en charge"
        assert (email.state, email.attempts) == (OutgoingEmail.State.SENT, 1)
        assert [(sent.to, sent.subject) for sent in mailoutbox] == [([technicien.email], email.subject)]
        assert f"/demandes/{demande.number}/" in mailoutbox[0].body

    def test_take_charge_through_the_page_emails_the_author(self, commit, client, mailoutbox, demande, agent):
        client.force_login(agent)
        with commit():
            response = client.post(f"/demandes/{demande.number}/prendre-en-charge/")
        assert response.status_code == 302
        assert [sent.subject for sent in mailoutbox] == [f"Demande {demande.number} prise en charge"]

    def test_no_take_charge_email_for_an_author_who_turned_it_off(
        self, commit, mailoutbox, demande, technicien, agent
    ):
        technicien.notify_take_charge = False
        technicien.save()
        with commit():
            services.take_charge(fresh(demande), agent=agent)
        assert OutgoingEmail.objects.count() == 0
        # Messages and the answer still reach them: they carry the caisse's reply.
        with commit():
            services.post_message(fresh(demande), author=agent, body=CAISSE_MESSAGE)
            services.resolve(fresh(demande), agent=agent, answer=ANSWER)
        assert subjects(technicien.email) == [
            f"Nouveau message de la caisse sur la demande {demande.number}",
            f"Demande {demande.number} résolue : la caisse vous a répondu",
        ]
        assert len(mailoutbox) == 2

    def test_resolution_emails_the_author(self, commit, mailoutbox, demande, technicien, agent):
        services.take_charge(demande, agent=agent)
        OutgoingEmail.objects.all().delete()
        with commit():
            services.resolve(fresh(demande), agent=agent, answer=ANSWER)
        assert subjects(technicien.email) == [f"Demande {demande.number} résolue : la caisse vous a répondu"]
        assert [sent.to for sent in mailoutbox] == [[technicien.email]]

    def test_each_caisse_message_emails_the_author_internal_notes_and_partner_messages_do_not(
        self, commit, mailoutbox, demande, technicien, gestionnaire, agent, caisse_admin
    ):
        with commit():
            services.post_message(demande, author=technicien, body=PARTNER_MESSAGE)
            services.post_message(demande, author=gestionnaire, body=PARTNER_MESSAGE)
            services.post_message(demande, author=agent, body=INTERNAL_NOTE, internal=True)
            services.post_message(demande, author=caisse_admin, body=INTERNAL_NOTE, internal=True)
        assert OutgoingEmail.objects.count() == 0
        with commit():
            services.post_message(demande, author=agent, body=CAISSE_MESSAGE)
            services.post_message(demande, author=caisse_admin, body=CAISSE_MESSAGE + " (2)")
        assert subjects(technicien.email) == [f"Nouveau message de la caisse sur la demande {demande.number}"] * 2
        assert OutgoingEmail.objects.count() == 2
        assert len(mailoutbox) == 2

    def test_internal_note_through_the_page_sends_nothing(self, commit, client, mailoutbox, demande, agent):
        client.force_login(agent)
        with commit():
            response = client.post(f"/demandes/{demande.number}/messages/", {"body": INTERNAL_NOTE, "action": "note"})
        assert response.status_code == 302
        assert OutgoingEmail.objects.count() == 0
        assert mailoutbox == []

    def test_refused_moves_send_nothing(self, commit, mailoutbox, demande, technicien, agent):
        with commit():
            for refused in (
                lambda: services.take_charge(demande, agent=technicien),
                lambda: services.resolve(demande, agent=agent, answer=ANSWER),
                lambda: services.post_message(demande, author=technicien, body="Note", internal=True),
            ):
                with pytest.raises(services.WorkflowRefused):
                    refused()
        assert OutgoingEmail.objects.count() == 0
        assert mailoutbox == []


@pytest.mark.django_db
class TestWhatEmailsSay:
    def test_emails_name_the_request_and_carry_no_content(
        self, commit, client, mailoutbox, demande, technicien, agent
    ):
        client.force_login(technicien)
        with commit():
            client.post(f"/demandes/{demande.number}/messages/", {"body": PARTNER_MESSAGE})
            services.take_charge(fresh(demande), agent=agent)
            services.post_message(fresh(demande), author=agent, body=INTERNAL_NOTE, internal=True)
            services.post_message(fresh(demande), author=agent, body=CAISSE_MESSAGE)
            services.resolve(fresh(demande), agent=agent, answer=ANSWER)
        emails = list(OutgoingEmail.objects.order_by("pk"))
        assert [email.subject for email in emails] == [
            f"Demande {demande.number} prise en charge",
            f"Nouveau message de la caisse sur la demande {demande.number}",
            f"Demande {demande.number} résolue : la caisse vous a répondu",
        ]
        assert len(mailoutbox) == 3
        assert_number_and_link_only(demande, emails, mailoutbox)

    def test_the_emails_to_agents_followers_and_gestionnaires_carry_no_content_either(
        self, commit, client, mailoutbox, demande, technicien, gestionnaire, agent, caisse
    ):
        """Every other email of a request: to the caisse's staff when a structure writes (the agent in charge, or
        those who asked for new requests' messages), to followers, to a gestionnaire standing for a gone author."""
        # Names no other account shares: the factories' random names could be a recipient's own, greeted in its email.
        for actor, first_name, last_name in ((technicien, "Eudoxie", "Vauquelin"), (agent, "Théodebert", "Ravoisier")):
            actor.first_name, actor.last_name = first_name, last_name
            actor.save(update_fields=["first_name", "last_name"])
        watcher = CaisseMembershipFactory(caisse=caisse, user__notify_new_request_messages=True).user
        for follower in (gestionnaire, watcher):
            follower.notify_followed = True
            follower.save()
            services.toggle_follow(demande, follower)
        with commit():
            services.post_message(fresh(demande), author=technicien, body=PARTNER_MESSAGE)  # new: the watcher
            services.take_charge(fresh(demande), agent=agent)  # the gestionnaire follows
            services.post_message(fresh(demande), author=technicien, body=PARTNER_MESSAGE)  # the agent in charge
        technicien.is_active = False
        technicien.save()
        with commit():
            services.post_message(fresh(demande), author=agent, body=CAISSE_MESSAGE)  # the gestionnaire
            services.resolve(fresh(demande), agent=agent, answer=ANSWER)
        emails = list(OutgoingEmail.objects.order_by("pk"))
        number = demande.number
        assert [(email.recipient, email.subject) for email in emails] == [
            (gestionnaire.email, f"Nouveau message sur la demande {number} que vous suivez"),
            (watcher.email, f"Message d'une structure sur la demande nouvelle {number}"),
            (technicien.email, f"Demande {number} prise en charge"),
            (gestionnaire.email, f"Demande {number} que vous suivez : pris en charge"),
            (watcher.email, f"Demande {number} que vous suivez : pris en charge"),
            (gestionnaire.email, f"Nouveau message sur la demande {number} que vous suivez"),
            (agent.email, f"La structure a répondu sur la demande {number}"),
            (watcher.email, f"Nouveau message sur la demande {number} que vous suivez"),
            (gestionnaire.email, f"Nouveau message de la caisse sur la demande {number}"),
            (watcher.email, f"Nouveau message sur la demande {number} que vous suivez"),
            (gestionnaire.email, f"Demande {number} résolue : la caisse vous a répondu"),
            (watcher.email, f"Demande {number} que vous suivez : résolu"),
        ]
        assert len(mailoutbox) == len(emails)
        assert_number_and_link_only(demande, emails, mailoutbox)
        for email in emails:  # nor the name of whoever wrote or acted (each is greeted by name in their own)
            for actor in (technicien, agent):
                if email.recipient == actor.email:
                    continue
                for name in (actor.first_name, actor.last_name):
                    assert name.lower() not in email.body.lower(), (name, email.body)


def assert_number_and_link_only(demande, emails, mailoutbox):
    reread = fresh(demande)
    secrets = [
        PARTNER_MESSAGE,
        CAISSE_MESSAGE,
        INTERNAL_NOTE,
        ANSWER,
        "91c2",
        "4d7e",
        "b3a9",
        "e5f0",
        NIR,
        NIR[:13],
        reread.formatted_nir,
        reread.formatted_nir.replace(" ", ""),
        "Quintavalle",
        "QUINTAVALLE",
        "Oyarzun",
        "Zéphirine",
    ]
    for text_ in [email.subject + "\n" + email.body for email in emails] + [
        sent.subject + "\n" + sent.body for sent in mailoutbox
    ]:
        assert demande.number in text_
        assert f"/demandes/{demande.number}/" in text_
        for secret in secrets:
            assert secret.lower() not in text_.lower(), (secret, text_)


@pytest.mark.django_db
class TestDailyDigest:
    def test_each_agent_who_wants_it_gets_the_count_of_new_requests_of_their_caisse_only(
        self, caisse, other_caisse, structure, other_structure
    ):
        now = timezone.now().replace(microsecond=0)
        wants = CaisseMembershipFactory(caisse=caisse).user
        also_wants = CaisseMembershipFactory(caisse=caisse).user
        does_not_want = CaisseMembershipFactory(caisse=caisse, user__notify_daily_digest=False).user
        deactivated = CaisseMembershipFactory(caisse=caisse, is_active=False).user
        disabled_user = CaisseMembershipFactory(caisse=caisse, user__is_active=False).user
        other = CaisseMembershipFactory(caisse=other_caisse).user
        idle_caisse = CaisseFactory(code="133", name="CPAM des Bouches-du-Rhône")
        idle = CaisseMembershipFactory(caisse=idle_caisse).user
        ConventionFactory(structure=structure, caisse=idle_caisse)

        def deposit(caisse_, structure_, hours_ago, **extra):
            return RequestFactory(
                caisse=caisse_, structure=structure_, created_at=now - timedelta(hours=hours_ago), **PERSON, **extra
            )

        fresh_1 = deposit(caisse, structure, 2)
        fresh_2 = deposit(caisse, structure, 23)
        old = deposit(caisse, structure, 25)
        taken = deposit(caisse, structure, 3)
        services.take_charge(taken, agent=wants)
        elsewhere = deposit(other_caisse, other_structure, 1)
        deposit(idle_caisse, structure, 30)  # too old for the idle caisse's digest
        OutgoingEmail.objects.all().delete()

        with at(now):
            assert send_daily_digests() == 3

        by_recipient = {email.recipient: email for email in OutgoingEmail.objects.all()}
        assert set(by_recipient) == {wants.email, also_wants.email, other.email}
        for recipient in (does_not_want, deactivated, disabled_user, idle):
            assert recipient.email not in by_recipient
        for user in (wants, also_wants):
            email = by_recipient[user.email]
            assert email.subject == "2 nouvelles demandes pour la CPAM de la Gironde"
            assert "2 demandes déposées depuis 24 heures attendent une prise en charge" in email.body
            assert fresh_1.number in email.body and fresh_2.number in email.body
            for number in (old.number, taken.number, elsewhere.number):
                assert number not in email.body
        email = by_recipient[other.email]
        assert email.subject == "1 nouvelle demande pour la CPAM de la Loire"
        assert elsewhere.number in email.body
        assert fresh_1.number not in email.body and fresh_2.number not in email.body
        for email in by_recipient.values():
            for secret in ("Quintavalle", "Zéphirine", NIR):
                assert secret.lower() not in (email.subject + email.body).lower()

    def test_no_digest_without_new_requests(self, caisse):
        CaisseMembershipFactory(caisse=caisse)
        assert send_daily_digests() == 0
        assert OutgoingEmail.objects.count() == 0


class Rollback(Exception):
    pass


@pytest.mark.django_db
class TestRolledBackActions:
    def test_a_rolled_back_take_charge_leaves_no_email(self, commit, mailoutbox, demande, agent):
        with commit(), pytest.raises(Rollback), transaction.atomic():
            services.take_charge(demande, agent=agent)
            assert OutgoingEmail.objects.count() == 1
            raise Rollback
        assert OutgoingEmail.objects.count() == 0
        assert mailoutbox == []
        assert fresh(demande).status == "new"

    def test_a_rolled_back_resolution_leaves_no_email(self, commit, mailoutbox, demande, agent):
        services.take_charge(demande, agent=agent)
        OutgoingEmail.objects.all().delete()
        with commit(), pytest.raises(Rollback), transaction.atomic():
            services.post_message(fresh(demande), author=agent, body=CAISSE_MESSAGE)
            services.resolve(fresh(demande), agent=agent, answer=ANSWER)
            raise Rollback
        assert OutgoingEmail.objects.count() == 0
        assert mailoutbox == []
        assert fresh(demande).status == "in_progress"

    def test_an_email_failing_to_render_rolls_the_action_back(self, commit, mailoutbox, demande, agent, monkeypatch):
        """The email is part of the action: if it cannot be written, the move does not happen either."""
        from requests import notifications

        def broken(demande, *, by):
            raise RuntimeError("template missing")

        monkeypatch.setattr(notifications, "taken_in_charge", broken)
        with commit(), pytest.raises(RuntimeError):
            services.take_charge(demande, agent=agent)
        assert fresh(demande).status == "new"
        assert OutgoingEmail.objects.count() == 0
        assert mailoutbox == []
