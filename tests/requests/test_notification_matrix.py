"""Who is emailed for each event (/work/shared/DESIGN.md §9, requests/notifications.py): the matrix of event ×
recipient role × preference × author active or gone. Each row lists every email the event queues — who, and which
email —, so a missing, an extra or a duplicate email fails it. Content and leaks: test_notifications.py and
test_leaks.py."""

import pytest
from django.db import transaction

from extranet.notifications.models import OutgoingEmail
from requests import services
from requests.models import Request
from tests.factories import CaisseMembershipFactory, MembershipFactory, RequestFactory

CAISSE_MESSAGE = "Merci de joindre l'avis d'imposition."
PARTNER_MESSAGE = "Voici l'avis d'imposition."
INTERNAL_NOTE = "Note interne : dossier déjà vu."
ANSWER = "Droits ouverts."

# The emails, by what they say (their subject without the number).
AUTHOR_TAKEN = "Demande {} prise en charge"
AUTHOR_MESSAGE = "Nouveau message de la caisse sur la demande {}"
AUTHOR_RESOLVED = "Demande {} résolue : la caisse vous a répondu"
IN_CHARGE = "La structure a répondu sur la demande {}"
NEW_REQUEST_MESSAGE = "Message d'une structure sur la demande nouvelle {}"
FOLLOWED_TAKEN = "Demande {} que vous suivez : pris en charge"
FOLLOWED_RESOLVED = "Demande {} que vous suivez : résolu"
FOLLOWED_MESSAGE = "Nouveau message sur la demande {} que vous suivez"


class Cast:
    """One request of a structure to a caisse, and everyone around it. Everyone but `outsider_agent` and
    `former_colleague` may see the request; the followers (the star) are the author, the gestionnaire, the
    colleague, the agent and the colleague agent, plus two who no longer see it."""

    def __init__(self, structure, caisse, other_caisse):
        self.author = MembershipFactory(structure=structure).user
        self.gestionnaire = MembershipFactory(structure=structure, gestionnaire=True).user
        self.former_gestionnaire = MembershipFactory(structure=structure, gestionnaire=True, is_active=False).user
        self.disabled_gestionnaire = MembershipFactory(
            structure=structure, gestionnaire=True, user__is_active=False
        ).user
        self.colleague = MembershipFactory(structure=structure).user
        self.former_colleague = MembershipFactory(structure=structure, is_active=False).user
        self.agent = CaisseMembershipFactory(caisse=caisse).user
        self.colleague_agent = CaisseMembershipFactory(caisse=caisse).user
        self.caisse_admin = CaisseMembershipFactory(caisse=caisse, admin=True).user
        self.outsider_agent = CaisseMembershipFactory(caisse=other_caisse).user
        self.demande = RequestFactory(structure=structure, caisse=caisse, author=self.author)
        self.number = self.demande.number
        for follower in (
            self.author,
            self.gestionnaire,
            self.colleague,
            self.agent,
            self.colleague_agent,
            self.former_colleague,
            self.outsider_agent,
        ):
            services.toggle_follow(self.demande, follower)

    def name_of(self, address):
        return next(name for name, user in vars(self).items() if getattr(user, "email", None) == address)

    def fresh(self):
        return Request.objects.get(pk=self.demande.pk)

    def set(self, who, **preferences):
        user = getattr(self, who)
        for name, value in preferences.items():
            setattr(user, name, value)
        user.save()

    def everyone_follows_with_emails(self, on=True):
        for name, user in vars(self).items():
            if hasattr(user, "notify_followed"):
                self.set(name, notify_followed=on)

    def take_charge(self):
        services.take_charge(self.fresh(), agent=self.agent)

    def emails(self, action):
        """The emails `action` queues once committed: {recipient's role in the cast: subject pattern}, and the
        list of recipients in order (to catch a duplicate)."""
        OutgoingEmail.objects.all().delete()
        action()
        queued = list(OutgoingEmail.objects.order_by("pk"))
        recipients = [self.name_of(email.recipient) for email in queued]
        assert len(recipients) == len(set(recipients)), f"someone is emailed twice: {recipients}"
        return {self.name_of(email.recipient): email.subject.replace(self.number, "{}") for email in queued}


@pytest.fixture
def cast(structure, caisse, other_caisse):
    return Cast(structure, caisse, other_caisse)


def deactivate_author(cast, how):
    if how == "account":
        cast.set("author", is_active=False)
    elif how == "membership":
        membership = cast.author.membership
        membership.is_active = False
        membership.save()


# The caisse's three events towards the structure, done by the agent (who follows the request: never told).
CAISSE_EVENTS = {
    "take_charge": (lambda cast: cast.take_charge(), AUTHOR_TAKEN, FOLLOWED_TAKEN, False),
    "caisse_message": (
        lambda cast: services.post_message(cast.fresh(), author=cast.agent, body=CAISSE_MESSAGE),
        AUTHOR_MESSAGE,
        FOLLOWED_MESSAGE,
        True,
    ),
    "resolve": (
        lambda cast: services.resolve(cast.fresh(), agent=cast.agent, answer=ANSWER),
        AUTHOR_RESOLVED,
        FOLLOWED_RESOLVED,
        True,
    ),
}


@pytest.mark.django_db
class TestCaisseEvents:
    @pytest.mark.parametrize("event", CAISSE_EVENTS)
    @pytest.mark.parametrize("followers_want_it", [False, True], ids=["followers-off", "followers-on"])
    def test_the_author_is_told_and_the_followers_who_asked(self, commit, cast, event, followers_want_it):
        action, to_author, to_followers, in_progress = CAISSE_EVENTS[event]
        if in_progress:
            cast.take_charge()
        cast.everyone_follows_with_emails(followers_want_it)
        with commit():
            emails = cast.emails(lambda: action(cast))
        expected = {"author": to_author}
        if followers_want_it:
            # The author and the agent follow too: the author gets one email, the agent (who acted) none; the
            # follower who left the structure and the other caisse's agent no longer see the request.
            expected |= {"gestionnaire": to_followers, "colleague": to_followers, "colleague_agent": to_followers}
        assert emails == expected

    @pytest.mark.parametrize("event", CAISSE_EVENTS)
    @pytest.mark.parametrize("how", ["account", "membership"])
    @pytest.mark.parametrize("followers_want_it", [False, True], ids=["followers-off", "followers-on"])
    def test_the_author_gone_the_active_gestionnaires_are_told_instead(
        self, commit, cast, event, how, followers_want_it
    ):
        action, to_author, to_followers, in_progress = CAISSE_EVENTS[event]
        if in_progress:
            cast.take_charge()
        deactivate_author(cast, how)
        cast.everyone_follows_with_emails(followers_want_it)
        with commit():
            emails = cast.emails(lambda: action(cast))
        # The gestionnaire follows too, and is told once, as the structure's; the former and the disabled
        # gestionnaires are not; the author is not, even following.
        expected = {"gestionnaire": to_author}
        if followers_want_it:
            expected |= {"colleague": to_followers, "colleague_agent": to_followers}
        assert emails == expected

    @pytest.mark.parametrize("how", ["account", "membership"])
    def test_the_gestionnaires_emails_say_why_they_receive_them(self, commit, cast, how):
        deactivate_author(cast, how)
        with commit():
            cast.take_charge()
        [email] = OutgoingEmail.objects.filter(recipient=cast.gestionnaire.email)
        kind = cast.demande.get_kind_display()
        assert f"La demande n° {cast.number} ({kind}) de votre structure est prise en charge" in email.body
        assert "en tant que gestionnaire de la structure" in email.body
        assert "Votre demande" not in email.body

    def test_the_author_s_emails_do_not_mention_the_gestionnaires(self, commit, cast):
        with commit():
            cast.take_charge()
        [email] = OutgoingEmail.objects.filter(recipient=cast.author.email)
        assert f"Votre demande n° {cast.number}" in email.body
        assert "gestionnaire" not in email.body

    def test_take_charge_emails_follow_each_one_s_preference(self, commit, cast):
        cast.set("author", notify_take_charge=False)
        with commit():
            assert cast.emails(cast.take_charge) == {}

    def test_a_star_with_its_emails_on_is_a_wish_for_this_request(self, commit, cast):
        """The author turned off take-charge emails in general, but follows this request and asked for its news."""
        cast.set("author", notify_take_charge=False, notify_followed=True)
        with commit():
            assert cast.emails(cast.take_charge) == {"author": FOLLOWED_TAKEN}

    def test_a_gestionnaire_standing_for_the_author_keeps_their_own_take_charge_preference(self, commit, cast):
        deactivate_author(cast, "account")
        cast.set("gestionnaire", notify_take_charge=False)
        with commit():
            assert cast.emails(cast.take_charge) == {}

    def test_an_administrateur_s_caisse_message_is_no_self_notification_for_a_following_admin(self, commit, cast):
        services.toggle_follow(cast.demande, cast.caisse_admin)
        cast.everyone_follows_with_emails()
        with commit():
            emails = cast.emails(
                lambda: services.post_message(cast.fresh(), author=cast.caisse_admin, body=CAISSE_MESSAGE)
            )
        assert emails == {
            "author": AUTHOR_MESSAGE,
            "gestionnaire": FOLLOWED_MESSAGE,
            "colleague": FOLLOWED_MESSAGE,
            "agent": FOLLOWED_MESSAGE,
            "colleague_agent": FOLLOWED_MESSAGE,
        }


@pytest.mark.django_db
class TestInternalNotes:
    @pytest.mark.parametrize("author_state", ["active", "account", "membership"])
    @pytest.mark.parametrize("in_progress", [False, True], ids=["new", "in-progress"])
    def test_an_internal_note_emails_nobody_whatever_the_preferences(self, commit, cast, author_state, in_progress):
        if in_progress:
            cast.take_charge()
        deactivate_author(cast, author_state)
        cast.everyone_follows_with_emails()
        for name in ("agent", "colleague_agent", "caisse_admin"):
            cast.set(name, notify_partner_reply=True, notify_new_request_messages=True)
        with commit():
            emails = cast.emails(
                lambda: services.post_message(cast.fresh(), author=cast.agent, body=INTERNAL_NOTE, internal=True)
            )
            emails |= cast.emails(
                lambda: services.post_message(
                    cast.fresh(), author=cast.caisse_admin, body=INTERNAL_NOTE, internal=True
                )
            )
        assert emails == {}


def partner_message(cast, by="colleague"):
    return lambda: services.post_message(cast.fresh(), author=getattr(cast, by), body=PARTNER_MESSAGE)


@pytest.mark.django_db
class TestPartnerMessages:
    @pytest.mark.parametrize("followers_want_it", [False, True], ids=["followers-off", "followers-on"])
    def test_the_agent_in_charge_is_told(self, commit, cast, followers_want_it):
        cast.take_charge()
        cast.everyone_follows_with_emails(followers_want_it)
        cast.set("colleague_agent", notify_new_request_messages=True)  # the request has someone in charge
        with commit():
            emails = cast.emails(partner_message(cast))
        expected = {"agent": IN_CHARGE}
        if followers_want_it:
            # The colleague wrote: not told; the author and the gestionnaire follow; the agent once.
            expected |= {"author": FOLLOWED_MESSAGE, "gestionnaire": FOLLOWED_MESSAGE}
            expected |= {"colleague_agent": FOLLOWED_MESSAGE}
        assert emails == expected

    def test_the_agent_in_charge_may_turn_it_off(self, commit, cast):
        cast.take_charge()
        cast.set("agent", notify_partner_reply=False)
        cast.set("colleague_agent", notify_new_request_messages=True)
        with commit():
            assert cast.emails(partner_message(cast)) == {}

    def test_the_agent_in_charge_turned_it_off_but_follows_with_emails(self, commit, cast):
        cast.take_charge()
        cast.set("agent", notify_partner_reply=False, notify_followed=True)
        with commit():
            assert cast.emails(partner_message(cast)) == {"agent": FOLLOWED_MESSAGE}

    def test_on_a_new_request_the_caisse_staff_who_asked_are_told(self, commit, cast):
        cast.set("colleague_agent", notify_new_request_messages=True)
        cast.set("caisse_admin", notify_new_request_messages=True)
        cast.set("outsider_agent", notify_new_request_messages=True)  # another caisse's
        # agent: default (off), and the author writes this time.
        with commit():
            emails = cast.emails(partner_message(cast, by="author"))
        assert emails == {"colleague_agent": NEW_REQUEST_MESSAGE, "caisse_admin": NEW_REQUEST_MESSAGE}

    def test_by_default_a_message_on_a_new_request_emails_no_agent(self, commit, cast):
        with commit():
            assert cast.emails(partner_message(cast)) == {}

    @pytest.mark.parametrize("how", ["account", "membership"])
    def test_the_agent_in_charge_gone_the_staff_who_asked_for_new_requests_are_told(self, commit, cast, how):
        cast.take_charge()
        if how == "account":
            cast.set("agent", is_active=False)
        else:
            membership = cast.agent.caissemembership
            membership.is_active = False
            membership.save()
        cast.set("caisse_admin", notify_new_request_messages=True)
        with commit():
            assert cast.emails(partner_message(cast)) == {"caisse_admin": NEW_REQUEST_MESSAGE}

    def test_a_gestionnaire_s_message_when_the_author_is_gone(self, commit, cast):
        cast.take_charge()
        deactivate_author(cast, "account")
        with commit():
            assert cast.emails(partner_message(cast, by="gestionnaire")) == {"agent": IN_CHARGE}

    def test_through_the_page(self, commit, client, cast):
        cast.take_charge()
        client.force_login(cast.author)
        with commit():
            emails = cast.emails(lambda: client.post(f"/demandes/{cast.number}/messages/", {"body": PARTNER_MESSAGE}))
        assert emails == {"agent": IN_CHARGE}
        [email] = OutgoingEmail.objects.all()
        assert f"/demandes/{cast.number}/" in email.body
        assert "dont vous avez la charge" in email.body
        assert email.state == OutgoingEmail.State.SENT


class Rollback(Exception):
    pass


@pytest.mark.django_db
class TestOnCommitOnly:
    @pytest.mark.parametrize("event", ["take_charge", "caisse_message", "resolve", "partner_message"])
    def test_a_rolled_back_event_emails_nobody(self, commit, mailoutbox, cast, event):
        cast.take_charge()
        cast.everyone_follows_with_emails()
        actions = {name: CAISSE_EVENTS[name][0] for name in CAISSE_EVENTS}
        actions["partner_message"] = lambda cast: partner_message(cast)()
        if event == "take_charge":
            cast.demande = RequestFactory(structure=cast.demande.structure, caisse=cast.demande.caisse)
            services.toggle_follow(cast.demande, cast.colleague)
        OutgoingEmail.objects.all().delete()
        with commit(), pytest.raises(Rollback), transaction.atomic():
            actions[event](cast)
            assert OutgoingEmail.objects.exists()  # the emails were queued, in the transaction
            raise Rollback
        assert OutgoingEmail.objects.count() == 0
        assert mailoutbox == []

    def test_nothing_leaves_before_the_commit(self, commit, mailoutbox, cast):
        cast.take_charge()
        cast.everyone_follows_with_emails()
        with commit():
            partner_message(cast)()
            assert mailoutbox == []
        assert sorted(to for sent in mailoutbox for to in sent.to) == sorted(
            [cast.agent.email, cast.author.email, cast.gestionnaire.email, cast.colleague_agent.email]
        )
