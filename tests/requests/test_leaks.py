"""Internal notes never leave the caisse: a canary note, and a canary file on it, looked for everywhere."""

import io
from datetime import timedelta

import pypdf
import pytest
from django.core import mail
from django.utils import timezone

from extranet.notifications.models import OutgoingEmail
from requests import services
from requests.models import Attachment, Message, Request
from tests.factories import CaisseMembershipFactory, MembershipFactory, RequestFactory
from tests.helpers import text
from tests.requests.builders import a_pdf

CANARY = "CANARI-NOTE-7f3a"
CANARY_FILE = "canari-interne.pdf"
CANARY_FILE_CONTENT = "CANARI-FICHIER-19be"
INTERNAL_NOTE = f"{CANARY} : le médecin-conseil a déjà refusé ce dossier en 2024."
PUBLIC_MESSAGE = "Merci de joindre le dernier avis d'imposition."
PARTNER_MESSAGE = "Voici l'avis d'imposition."
ANSWER = "Les droits à la C2S sont ouverts jusqu'au 31 décembre."
CANARIES = [CANARY, CANARY_FILE, "canari-interne", CANARY_FILE_CONTENT, "médecin-conseil"]


def squeeze(value):
    """PDF text extraction wraps long lines: compare without any whitespace."""
    return "".join(value.split())


def pdf_text(response):
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    reader = pypdf.PdfReader(io.BytesIO(response.content))
    return "\n".join(page.extract_text() for page in reader.pages)


def assert_no_canary(where, content):
    for canary in CANARIES:
        assert canary.lower() not in content.lower(), f"{canary!r} leaks into {where}"
        assert squeeze(canary).lower() not in squeeze(content).lower(), f"{canary!r} leaks into {where}"


class Scene:
    """A request with a public exchange and an internal note carrying a file, seen from both sides."""

    def __init__(self, client_factory, commit, structure, caisse, technicien, gestionnaire, agent):
        self.technicien, self.gestionnaire, self.agent = technicien, gestionnaire, agent
        self.request = RequestFactory(structure=structure, caisse=caisse, author=technicien)
        self.number = self.request.number
        self.client_factory = client_factory
        self.partner = self.browser_for(technicien)
        self.caisse_side = self.browser_for(agent)
        self.commit = commit
        with commit():
            assert self.caisse_side.post(f"/demandes/{self.number}/prendre-en-charge/").status_code == 302
            posted = self.caisse_side.post(
                f"/demandes/{self.number}/messages/",
                {"body": INTERNAL_NOTE, "action": "note", "attachments": [a_pdf(CANARY_FILE, CANARY_FILE_CONTENT)]},
            )
            assert posted.status_code == 302
            assert (
                self.caisse_side.post(
                    f"/demandes/{self.number}/messages/",
                    {"body": PUBLIC_MESSAGE, "action": "send", "attachments": [a_pdf("liste.pdf")]},
                ).status_code
                == 302
            )
            assert (
                self.partner.post(
                    f"/demandes/{self.number}/messages/", {"body": PARTNER_MESSAGE, "attachments": [a_pdf("avis.pdf")]}
                ).status_code
                == 302
            )
        self.note = Message.objects.get(request=self.request, is_internal=True)
        self.note_file = Attachment.objects.get(message=self.note)
        assert self.note.body == INTERNAL_NOTE and self.note_file.original_name == CANARY_FILE

    def browser_for(self, user):
        browser = self.client_factory()
        browser.force_login(user)
        return browser

    def resolve(self):
        with self.commit():
            response = self.caisse_side.post(
                f"/demandes/{self.number}/resoudre/",
                {"answer": ANSWER, "confirm": "1", "attachments": [a_pdf("attestation.pdf")]},
            )
        assert response.status_code == 302
        assert Request.objects.get(pk=self.request.pk).status == "resolved"

    def detail(self, browser):
        response = browser.get(f"/demandes/{self.number}/")
        assert response.status_code == 200
        return response

    def pdf(self, browser):
        return pdf_text(browser.get(f"/demandes/{self.number}/recapitulatif.pdf"))


@pytest.fixture
def scene(client_factory, commit, structure, caisse, technicien, gestionnaire, agent):
    return Scene(client_factory, commit, structure, caisse, technicien, gestionnaire, agent)


@pytest.fixture(params=["open", "resolved"])
def any_scene(request, scene):
    if request.param == "resolved":
        scene.resolve()
    return scene


def attachments_section(html):
    """The "Pièces jointes" section of the detail page (the request's file listing)."""
    start = html.index('id="pieces-titre"')
    return html[start : html.index("</section>", start)]


@pytest.mark.django_db
class TestPartnerPages:
    def test_the_detail_page_html_has_no_trace_of_the_note(self, any_scene):
        for user in (any_scene.technicien, any_scene.gestionnaire):
            response = any_scene.detail(any_scene.browser_for(user))
            html = response.content.decode()
            assert PUBLIC_MESSAGE in text(response)  # the page does show the exchanges
            assert_no_canary(f"the detail page of {user}", html)

    def test_the_attachment_listing_has_no_trace_of_the_note_file(self, any_scene):
        html = any_scene.detail(any_scene.partner).content.decode()
        listing = attachments_section(html)
        assert "avis.pdf" in listing and "liste.pdf" in listing
        assert_no_canary("the partner's attachment listing", listing)
        visible = Attachment.objects.visible_to(any_scene.technicien).filter(request=any_scene.request)
        assert CANARY_FILE not in [attachment.original_name for attachment in visible]

    def test_the_note_file_cannot_be_downloaded_by_the_partner(self, any_scene):
        response = any_scene.partner.get(f"/demandes/{any_scene.number}/pieces/{any_scene.note_file.public_id}/")
        assert response.status_code == 404
        assert_no_canary("the 404 page", response.content.decode())

    def test_the_history_page_has_no_trace_of_the_note(self, any_scene):
        response = any_scene.partner.get("/demandes/")
        assert response.status_code == 200
        html = response.content.decode()
        assert any_scene.number in html
        assert_no_canary("the history page", html)
        for params in ({"status": "in_progress"}, {"status": "resolved"}, {"tri": "status", "taille": "50"}):
            listed = any_scene.partner.get("/demandes/", params)
            assert listed.status_code == 200
            assert_no_canary(f"the history page {params}", listed.content.decode())

    def test_the_technicien_departure_page_and_the_handover_carry_no_note(self, scene, structure, commit):
        """The gestionnaire's page listing the leaving technicien's open requests, and the emails the colleague
        receives once they were handed the request."""
        gestionnaire = scene.browser_for(scene.gestionnaire)
        membership = scene.technicien.membership
        response = gestionnaire.get(f"/structure/techniciens/{membership.pk}/depart/")
        assert response.status_code == 200
        html = response.content.decode()
        assert scene.number in html
        assert_no_canary("the technicien's departure page", html)
        colleague = MembershipFactory(structure=structure).user
        with commit():
            assert (
                gestionnaire.post(f"/structure/techniciens/{membership.pk}/depart/", {"colleague": colleague.pk})
            ).status_code == 302
        assert_no_canary("the handed-over request's page", scene.detail(scene.browser_for(colleague)).content.decode())
        OutgoingEmail.objects.all().delete()
        scene.resolve()
        [email] = OutgoingEmail.objects.filter(recipient=colleague.email)
        assert_no_canary("the colleague's email", f"{email.subject}\n{email.body}")

    def test_the_person_search_has_no_trace_of_the_note(self, any_scene):
        demande = any_scene.request
        for criteria in ({"last_name": demande.person_last_name}, {"nir": demande.person_nir}):
            response = any_scene.partner.post("/recherche/", criteria)
            assert response.status_code == 200
            html = response.content.decode()
            assert any_scene.number in html
            assert_no_canary(f"the person search by {sorted(criteria)}", html)

    def test_the_partner_api_of_models_hides_the_note(self, any_scene):
        assert not Message.objects.visible_to(any_scene.technicien).filter(is_internal=True).exists()
        assert not Message.objects.visible_to(any_scene.gestionnaire).filter(body__contains=CANARY).exists()


@pytest.mark.django_db
class TestSummaryPdf:
    def test_the_partner_pdf_has_no_trace_of_the_note(self, any_scene):
        extracted = any_scene.pdf(any_scene.partner)
        assert squeeze(f"Récapitulatif de la demande n° {any_scene.number}") in squeeze(extracted)
        assert_no_canary("the partner's PDF", extracted)

    def test_the_agent_pdf_has_no_trace_of_the_note_either(self, any_scene, caisse):
        """The PDF is printed and handed over: it never carries internal notes, whoever downloads it."""
        for browser in (any_scene.caisse_side, any_scene.browser_for(CaisseMembershipFactory(caisse=caisse).user)):
            extracted = any_scene.pdf(browser)
            assert squeeze(f"Récapitulatif de la demande n° {any_scene.number}") in squeeze(extracted)
            assert_no_canary("the agent's PDF", extracted)

    def test_the_pdf_shows_the_public_exchanges(self, scene):
        """Control for the two tests above: the PDF's "Échanges avec la caisse" section is not always empty."""
        scene.resolve()
        for browser in (scene.partner, scene.caisse_side):
            extracted = squeeze(scene.pdf(browser))
            for body in (PUBLIC_MESSAGE, PARTNER_MESSAGE, ANSWER):
                assert squeeze(body) in extracted, body
            assert squeeze("Aucun échange.") not in extracted


@pytest.mark.django_db
class TestEmails:
    def test_no_email_carries_the_note_after_the_whole_workflow(self, scene):
        scene.resolve()
        queued = list(OutgoingEmail.objects.all())
        # Take charge, the public message, the partner's message (to the agent in charge), the resolution.
        assert len(queued) == 4
        assert len(mail.outbox) == 4
        for email in queued:
            assert_no_canary(f"the email {email.subject!r}", email.subject + "\n" + email.body)
        for sent in mail.outbox:
            assert_no_canary(f"the sent email {sent.subject!r}", sent.subject + "\n" + sent.body)
            for _, content, _ in sent.attachments:
                assert_no_canary("an email attachment", str(content))

    def test_followers_emails_carry_no_note_and_a_note_emails_no_one(self, scene, caisse, structure):
        """Everyone who could be told follows the request and asked for its emails, on both sides, and every caisse
        preference is on: the note still produces no email (its existence would leak), and no email carries it."""
        colleague = MembershipFactory(structure=structure).user
        colleague_agent = CaisseMembershipFactory(caisse=caisse).user
        followers = [scene.technicien, scene.gestionnaire, colleague, scene.agent, colleague_agent]
        for follower in followers:
            follower.notify_followed = True
            follower.notify_partner_reply = follower.notify_new_request_messages = True
            follower.save()
            services.toggle_follow(scene.request, follower)
        OutgoingEmail.objects.all().delete()
        mail.outbox.clear()
        with scene.commit():
            assert (
                scene.caisse_side.post(
                    f"/demandes/{scene.number}/messages/", {"body": INTERNAL_NOTE + " (2)", "action": "note"}
                ).status_code
                == 302
            )
        assert OutgoingEmail.objects.count() == 0
        with scene.commit():
            scene.partner.post(f"/demandes/{scene.number}/messages/", {"body": PARTNER_MESSAGE})
            scene.caisse_side.post(f"/demandes/{scene.number}/messages/", {"body": PUBLIC_MESSAGE, "action": "send"})
        scene.resolve()
        queued = list(OutgoingEmail.objects.all())
        partners = {scene.technicien.email, scene.gestionnaire.email, colleague.email}
        assert partners <= {email.recipient for email in queued}  # the partners are told of the public exchanges
        for email in queued:
            assert_no_canary(f"the email {email.subject!r} to {email.recipient}", email.subject + "\n" + email.body)
        for sent in mail.outbox:
            assert_no_canary(f"the sent email {sent.subject!r}", sent.subject + "\n" + sent.body)

    def test_a_wait_and_its_reminder_carry_no_note(self, scene, time_machine):
        """A note with the waiting box ticked waits for nothing (the structure would learn of it); the question sent
        waits, and its reminder names the request only; the partner's pages show the wait, not the note."""
        with scene.commit():
            scene.caisse_side.post(
                f"/demandes/{scene.number}/messages/",
                {"body": INTERNAL_NOTE + " (3)", "action": "note", "awaiting_answer": "on"},
            )
        assert Request.objects.get(pk=scene.request.pk).awaiting_partner_since is None
        with scene.commit():
            scene.caisse_side.post(
                f"/demandes/{scene.number}/messages/",
                {"body": PUBLIC_MESSAGE + " (2)", "action": "send", "awaiting_answer": "on"},
            )
        OutgoingEmail.objects.all().delete()
        mail.outbox.clear()
        time_machine.move_to(timezone.now() + timedelta(days=14), tick=False)
        with scene.commit():
            assert services.remind_awaiting_partners() == 1
        (reminder,) = OutgoingEmail.objects.all()
        assert reminder.recipient == scene.technicien.email
        assert_no_canary("the reminder", reminder.subject + "\n" + reminder.body)
        assert PUBLIC_MESSAGE not in reminder.body
        partner = scene.browser_for(scene.technicien)
        page = text(partner.get(f"/demandes/{scene.number}/"))
        assert "en attente de votre réponse" in page
        assert_no_canary("the partner's page of a waiting request", page)
        assert_no_canary("the partner's history of a waiting request", text(partner.get("/demandes/")))


@pytest.mark.django_db
class TestCaisseSide:
    def test_the_agent_detail_page_shows_the_note_and_its_file(self, any_scene, caisse):
        for browser in (any_scene.caisse_side, any_scene.browser_for(CaisseMembershipFactory(caisse=caisse).user)):
            page = text(any_scene.detail(browser))
            assert CANARY in page
            assert CANARY_FILE in page
            served = browser.get(f"/demandes/{any_scene.number}/pieces/{any_scene.note_file.public_id}/")
            assert served.status_code == 200
            assert CANARY_FILE_CONTENT.encode() in b"".join(served.streaming_content)


@pytest.mark.django_db
class TestComposer:
    """The composer's two actions: a note is only ever the "Ajouter une note interne" button's; a post that does not
    say which action (the old checkbox, a forged or truncated form) is refused, so nothing meant as a note goes out."""

    SECOND_CANARY = "CANARI-NOTE-SANS-BOUTON-51c2"

    def test_a_note_without_its_button_goes_nowhere(self, scene):
        before = (Message.objects.count(), OutgoingEmail.objects.count(), len(mail.outbox))
        with scene.commit():
            for data in ({"internal": "on"}, {"internal": "on", "action": ""}, {}):
                response = scene.caisse_side.post(
                    f"/demandes/{scene.number}/messages/", {"body": self.SECOND_CANARY, **data}
                )
                assert response.status_code == 400
        assert (Message.objects.count(), OutgoingEmail.objects.count(), len(mail.outbox)) == before
        for user in (scene.technicien, scene.gestionnaire):
            assert self.SECOND_CANARY not in scene.detail(scene.browser_for(user)).content.decode()

    def test_the_note_button_sends_no_email_and_shows_nothing_to_the_partner(self, scene):
        emails = OutgoingEmail.objects.count()
        with scene.commit():
            posted = scene.caisse_side.post(
                f"/demandes/{scene.number}/messages/", {"body": f"{CANARY} bis", "action": "note"}
            )
        assert posted.status_code == 302
        assert OutgoingEmail.objects.count() == emails
        assert Message.objects.filter(request=scene.request, is_internal=True).count() == 2
        assert_no_canary("the partner's detail page", scene.detail(scene.partner).content.decode())

    def test_canned_texts_and_the_resolution_step_stay_in_the_caisse(self, scene, caisse):
        admin = CaisseMembershipFactory(caisse=caisse, admin=True).user
        template = services.create_answer_template(
            admin=admin, caisse=caisse, purpose="message", kind="", title=f"{CANARY} titre", body=f"{CANARY} texte"
        )
        agent_page = scene.caisse_side.get(f"/demandes/{scene.number}/", {"modele": template.pk}).content.decode()
        assert f"{CANARY} texte" in agent_page  # the control: the agent's composer is filled
        for user in (scene.technicien, scene.gestionnaire):
            browser = scene.browser_for(user)
            page = browser.get(f"/demandes/{scene.number}/", {"modele": template.pk})
            assert page.status_code == 200
            assert_no_canary("the partner's detail page with ?modele", page.content.decode())
            assert browser.get(f"/demandes/{scene.number}/resoudre/").status_code == 404
            assert browser.get("/caisse/modeles-de-reponse/").status_code == 403
            assert browser.get(f"/caisse/modeles-de-reponse/{template.pk}/modifier/").status_code == 403
