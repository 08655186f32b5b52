"""Exchanges on a request: messages between the partner and the caisse, internal notes between agents."""

import re

import pytest
from django.conf import settings
from django.contrib.messages import SUCCESS, get_messages
from django.db import IntegrityError, transaction
from django.shortcuts import resolve_url

from extranet.notifications.models import OutgoingEmail
from requests import services
from requests.attachments import inspect_upload
from requests.models import Attachment, Message, Request
from tests.factories import CaisseMembershipFactory, ConventionFactory, MembershipFactory, RequestFactory
from tests.helpers import text
from tests.requests.builders import a_pdf, image_bytes, pdf_bytes, upload

RESOLVED_REFUSAL = "est résolue : déposez une nouvelle demande en citant ce numéro."


@pytest.fixture
def login(client_factory):
    def logged_in(user):
        browser = client_factory()
        browser.force_login(user)
        return browser

    return logged_in


def post(browser, demande, body, files=(), **extra):
    data = {"body": body, "action": "send", **extra}
    if files:
        data["attachments"] = list(files)
    return browser.post(f"/demandes/{demande.number}/messages/", data)


def download(browser, demande, attachment):
    return browser.get(f"/demandes/{demande.number}/pieces/{attachment.public_id}/")


def content(response):
    return b"".join(response.streaming_content)


def flash(response):
    return [(message.level, message.message) for message in get_messages(response.wsgi_request)]


def stored_state(demande):
    return {
        "messages": list(Message.objects.filter(request=demande).values_list("pk", flat=True)),
        "attachments": Attachment.objects.filter(request=demande).count(),
        "emails": OutgoingEmail.objects.count(),
    }


def files_on_disk(private_media):
    return sorted(path.name for path in private_media.rglob("*") if path.is_file())


def take_charge(demande, agent):
    services.take_charge(demande, agent=agent)
    return Request.objects.get(pk=demande.pk)


@pytest.mark.django_db
class TestPartnerAndCaisse:
    def test_the_partner_writes_to_the_caisse_with_attachments(self, login, demande, technicien, agent, gestionnaire):
        files = [a_pdf("avis-imposition.pdf", "Avis 2025"), upload("carte.png", image_bytes("PNG"), "image/png")]
        response = post(login(technicien), demande, "Voici l'avis d'imposition demandé.", files)
        assert response.status_code == 302
        assert response.url == f"/demandes/{demande.number}/"
        assert flash(response) == [(SUCCESS, "Votre message est envoyé.")]

        message = Message.objects.get(request=demande)
        assert (message.author, message.side, message.is_internal, message.is_answer, message.body) == (
            technicien,
            Message.Side.PARTNER,
            False,
            False,
            "Voici l'avis d'imposition demandé.",
        )
        attachments = list(message.attachments.order_by("original_name"))
        assert [(a.original_name, a.request_id, a.uploaded_by_id) for a in attachments] == [
            ("avis-imposition.pdf", demande.pk, technicien.pk),
            ("carte.png", demande.pk, technicien.pk),
        ]

        caisse_side = login(agent)
        page = text(caisse_side.get(f"/demandes/{demande.number}/"))
        assert "Voici l'avis d'imposition demandé." in page
        assert "avis-imposition.pdf" in page
        assert content(download(caisse_side, demande, attachments[0])) == pdf_bytes("Avis 2025")
        assert "Voici l'avis d'imposition demandé." in text(login(gestionnaire).get(f"/demandes/{demande.number}/"))

    def test_the_caisse_writes_to_the_partner_with_attachments(self, login, demande, technicien, agent):
        demande = take_charge(demande, agent)
        response = post(login(agent), demande, "Merci de nous transmettre le RIB.", [a_pdf("formulaire.pdf")])
        assert response.status_code == 302
        assert flash(response) == [(SUCCESS, "Votre message est envoyé.")]
        message = Message.objects.get(request=demande)
        assert (message.author, message.side, message.is_internal, message.is_answer) == (
            agent,
            Message.Side.CAISSE,
            False,
            False,
        )
        [attachment] = message.attachments.all()

        partner = login(technicien)
        page = text(partner.get(f"/demandes/{demande.number}/"))
        assert "Merci de nous transmettre le RIB." in page
        assert "formulaire.pdf" in page
        assert download(partner, demande, attachment).status_code == 200

    @pytest.mark.parametrize("who", ["technicien", "agent"])
    def test_messages_are_possible_while_the_request_is_new(self, login, demande, who, technicien, agent):
        author = {"technicien": technicien, "agent": agent}[who]
        assert post(login(author), demande, "Une précision.").status_code == 302
        assert Message.objects.filter(request=demande, author=author).count() == 1
        assert Request.objects.get(pk=demande.pk).status == "new"

    @pytest.mark.parametrize("body", ["", "   \n "])
    def test_an_empty_message_is_refused(self, login, demande, technicien, body, private_media):
        before = stored_state(demande)
        response = post(login(technicien), demande, body, [a_pdf()])
        assert response.status_code == 400
        assert response.context["message_form"].errors["body"]
        assert stored_state(demande) == before
        assert files_on_disk(private_media) == []

    def test_the_exchanges_are_shown_in_order_on_both_sides(self, login, demande, technicien, agent):
        services.post_message(demande, author=technicien, body="Premier message de la structure.")
        services.post_message(demande, author=agent, body="Réponse intermédiaire de la caisse.")
        services.post_message(demande, author=technicien, body="Second message de la structure.")
        for user in (technicien, agent):
            page = text(login(user).get(f"/demandes/{demande.number}/"))
            positions = [
                page.find(body)
                for body in (
                    "Premier message de la structure.",
                    "Réponse intermédiaire de la caisse.",
                    "Second message de la structure.",
                )
            ]
            assert -1 not in positions
            assert positions == sorted(positions)


@pytest.mark.django_db
class TestInternalNotes:
    def test_an_agent_writes_an_internal_note_with_a_file(self, login, demande, agent, caisse, private_media):
        response = post(login(agent), demande, "Dossier déjà vu en 2024.", [a_pdf("note.pdf")], action="note")
        assert response.status_code == 302
        assert flash(response) == [
            (SUCCESS, "Votre note interne est enregistrée : seuls les agents de la caisse la voient.")
        ]
        note = Message.objects.get(request=demande)
        assert (note.side, note.is_internal, note.is_answer, note.author) == (Message.Side.CAISSE, True, False, agent)
        [attachment] = note.attachments.all()
        assert attachment.request_id == demande.pk

        colleague = CaisseMembershipFactory(caisse=caisse).user
        admin = CaisseMembershipFactory(caisse=caisse, admin=True).user
        for user in (agent, colleague, admin):
            browser = login(user)
            page = text(browser.get(f"/demandes/{demande.number}/"))
            assert f"Note interne — {agent.get_full_name()}" in page
            assert "Dossier déjà vu en 2024." in page
            served = download(browser, demande, attachment)
            assert served.status_code == 200
            assert content(served) == pdf_bytes()

    def test_the_partner_cannot_write_an_internal_note_even_by_forging_the_field(
        self, login, demande, technicien, gestionnaire, agent
    ):
        """The partner's form has no `internal` field: a forged `internal=on` is ignored, the message is public."""
        for user in (technicien, gestionnaire):
            response = post(login(user), demande, f"Message de {user.pk}.", [a_pdf()], action="note")
            assert response.status_code == 302
            assert flash(response) == [(SUCCESS, "Votre message est envoyé.")]
        assert not Message.objects.filter(side=Message.Side.PARTNER, is_internal=True).exists()
        assert not Message.objects.filter(is_internal=True).exists()
        assert list(Message.objects.filter(request=demande).values_list("side", "is_internal")) == [
            (Message.Side.PARTNER, False),
            (Message.Side.PARTNER, False),
        ]
        # Public, then: the agent sees them as messages from the structure.
        page = text(login(agent).get(f"/demandes/{demande.number}/"))
        assert "Note interne —" not in page
        assert page.count("Structure partenaire —") == 2

    def test_the_service_refuses_an_internal_note_from_the_partner(self, demande, technicien, gestionnaire):
        for user in (technicien, gestionnaire):
            before = stored_state(demande)
            with pytest.raises(services.WorkflowRefused, match="Seuls les agents de la caisse écrivent des notes"):
                services.post_message(demande, author=user, body="Note ?", internal=True)
            assert stored_state(demande) == before

    def test_the_database_refuses_an_internal_note_from_the_partner(self, demande, technicien):
        with pytest.raises(IntegrityError), transaction.atomic():
            Message.objects.create(
                request=demande, author=technicien, side=Message.Side.PARTNER, is_internal=True, body="Interne ?"
            )

    def test_the_partner_never_sees_an_internal_note(self, login, demande, technicien, gestionnaire, agent):
        services.post_message(demande, author=agent, body="Avis du médecin-conseil attendu.", internal=True)
        for user in (technicien, gestionnaire):
            page = text(login(user).get(f"/demandes/{demande.number}/"))
            assert "Avis du médecin-conseil attendu." not in page
            assert "Note interne" not in page
            assert "Aucun échange pour l'instant." in page
        assert list(Message.objects.visible_to(technicien)) == []


@pytest.mark.django_db
class TestNoMessageAfterResolution:
    @pytest.fixture
    def resolved(self, demande, agent):
        demande = take_charge(demande, agent)
        services.resolve(demande, agent=agent, answer="Droits rétablis.")
        return Request.objects.get(pk=demande.pk)

    @pytest.mark.parametrize(
        ("who", "internal"),
        [("technicien", False), ("gestionnaire", False), ("agent", False), ("agent", True), ("admin", True)],
    )
    def test_no_message_of_any_kind_after_resolution(
        self, login, resolved, who, internal, technicien, gestionnaire, agent, caisse_admin, private_media
    ):
        user = {"technicien": technicien, "gestionnaire": gestionnaire, "agent": agent, "admin": caisse_admin}[who]
        before = stored_state(resolved)
        on_disk = files_on_disk(private_media)
        extra = {"action": "note"} if internal else {}
        browser = login(user)
        response = post(browser, resolved, "Encore une question.", [a_pdf("encore.pdf")], **extra)
        assert response.status_code == 302
        page = text(browser.get(response.url))
        assert "Cette demande est résolue : plus aucun message n'est possible." in page
        assert f"déposez une nouvelle demande en citant le numéro {resolved.number}" in page
        assert stored_state(resolved) == before
        assert files_on_disk(private_media) == on_disk

        with pytest.raises(services.WorkflowRefused) as refusal:
            services.post_message(resolved, author=user, body="Encore une question.", internal=internal)
        assert str(refusal.value) == f"La demande {resolved.number} {RESOLVED_REFUSAL}"
        assert stored_state(resolved) == before


@pytest.mark.django_db
class TestOutsiders:
    @pytest.mark.parametrize(
        "who",
        [
            "technicien of another structure of the caisse",
            "gestionnaire of a structure of another caisse",
            "agent of another caisse",
            "administrateur of another caisse",
        ],
    )
    def test_messages_on_a_request_out_of_reach_are_404(
        self, login, demande, caisse, other_structure, other_caisse, who, private_media
    ):
        user = {
            "technicien of another structure of the caisse": lambda: (
                MembershipFactory(structure=ConventionFactory(caisse=caisse).structure).user
            ),
            "gestionnaire of a structure of another caisse": lambda: (
                MembershipFactory(structure=other_structure, gestionnaire=True).user
            ),
            "agent of another caisse": lambda: CaisseMembershipFactory(caisse=other_caisse).user,
            "administrateur of another caisse": lambda: CaisseMembershipFactory(caisse=other_caisse, admin=True).user,
        }[who]()
        before = stored_state(demande)
        for extra in ({}, {"action": "note"}):
            response = post(login(user), demande, "Bonjour.", [a_pdf()], **extra)
            assert response.status_code == 404
        assert stored_state(demande) == before
        assert files_on_disk(private_media) == []
        with pytest.raises(services.WorkflowRefused):
            services.post_message(demande, author=user, body="Bonjour.")
        assert stored_state(demande) == before

    def test_anonymous_is_sent_to_the_login_page(self, client, demande):
        before = stored_state(demande)
        response = post(client, demande, "Bonjour.")
        assert response.status_code == 302
        assert response.url.startswith(resolve_url(settings.LOGIN_URL))
        assert stored_state(demande) == before


@pytest.mark.django_db
class TestMessageAttachmentDownloads:
    @pytest.fixture
    def files(self, demande, technicien, agent):
        """One file of each kind of message on the request."""
        demande = take_charge(demande, agent)

        def stored(author, internal=False, name="piece.pdf"):
            uploaded = a_pdf(name)
            file_type, digest = inspect_upload(uploaded)
            message = services.post_message(
                demande,
                author=author,
                body=f"Message {name}",
                internal=internal,
                files=[(uploaded, file_type, digest)],
            )
            return message.attachments.get()

        return {
            "partner message": stored(technicien, name="partenaire.pdf"),
            "caisse message": stored(agent, name="caisse.pdf"),
            "internal note": stored(agent, internal=True, name="interne.pdf"),
        }

    @pytest.mark.parametrize(
        ("who", "expected"),
        [
            ("technicien", {"partner message": 200, "caisse message": 200, "internal note": 404}),
            ("gestionnaire", {"partner message": 200, "caisse message": 200, "internal note": 404}),
            ("agent", {"partner message": 200, "caisse message": 200, "internal note": 200}),
            ("other agent of the caisse", {"partner message": 200, "caisse message": 200, "internal note": 200}),
            ("admin", {"partner message": 200, "caisse message": 200, "internal note": 200}),
            ("agent of another caisse", {"partner message": 404, "caisse message": 404, "internal note": 404}),
            ("technicien of another structure", {"partner message": 404, "caisse message": 404, "internal note": 404}),
        ],
    )
    def test_who_downloads_which_file(
        self, login, demande, files, who, expected, technicien, gestionnaire, agent, caisse_admin, caisse, other_caisse
    ):
        user = {
            "technicien": lambda: technicien,
            "gestionnaire": lambda: gestionnaire,
            "agent": lambda: agent,
            "other agent of the caisse": lambda: CaisseMembershipFactory(caisse=caisse).user,
            "admin": lambda: caisse_admin,
            "agent of another caisse": lambda: CaisseMembershipFactory(caisse=other_caisse).user,
            "technicien of another structure": lambda: (
                MembershipFactory(structure=ConventionFactory(caisse=caisse).structure).user
            ),
        }[who]()
        browser = login(user)
        served = {kind: download(browser, demande, attachment).status_code for kind, attachment in files.items()}
        assert served == expected

    def test_an_internal_file_is_not_reachable_under_another_request_number(self, login, demande, files, technicien):
        """The partner's own request number with the pk of an internal file of it, or of another of its requests."""
        partner = login(technicien)
        internal = files["internal note"]
        own = RequestFactory(structure=demande.structure, caisse=demande.caisse, author=technicien)
        assert download(partner, own, internal).status_code == 404
        assert download(partner, demande, internal).status_code == 404


@pytest.mark.django_db
class TestComposerActions:
    """One composer, two actions named by their buttons; the caisse's staff must say which, nothing is assumed."""

    @pytest.mark.parametrize("extra", [{}, {"action": ""}, {"action": "internal"}, {"internal": "on"}])
    def test_a_post_without_a_known_action_stores_and_sends_nothing(self, login, demande, agent, extra, commit):
        data = {"body": "Texte à ne pas perdre.", **extra}
        before = stored_state(demande)
        with commit():
            response = login(agent).post(f"/demandes/{demande.number}/messages/", data)
        assert response.status_code == 400
        form = response.context["message_form"]
        assert form.non_field_errors() == [form.ACTION_MISSING]
        assert "Texte à ne pas perdre." in response.content.decode()  # kept, to be sent as meant
        assert stored_state(demande) == before

    def test_the_two_buttons_say_where_the_text_goes(self, login, demande, agent, technicien):
        html = login(agent).get(f"/demandes/{demande.number}/").content.decode()
        assert 'name="action" value="send" class="btn btn-primary"' in html
        assert 'name="action" value="note" class="btn btn-outline-secondary"' in html
        assert html.index('value="send"') < html.index('value="note"')
        assert "Note interne : visible" not in html  # no checkbox any more
        assert "Échanges avec la structure : Association Alpha" in text(
            login(agent).get(f"/demandes/{demande.number}/")
        )
        partner = login(technicien).get(f"/demandes/{demande.number}/").content.decode()
        assert 'value="note"' not in partner and "Envoyer à la caisse" in partner
        assert "Échanges avec la caisse : CPAM de la Gironde" in text(
            login(technicien).get(f"/demandes/{demande.number}/")
        )

    def test_the_conversation_comes_before_the_composer_and_the_resolution(self, login, demande, agent):
        demande = take_charge(demande, agent)
        page = text(login(agent).get(f"/demandes/{demande.number}/"))
        assert page.index("Échanges avec") < page.index("Envoyer à la structure") < page.index("Résoudre…")
        assert "Répondre et résoudre" not in page and "Envoyer la réponse et résoudre" not in page
        html = login(agent).get(f"/demandes/{demande.number}/").content.decode()
        assert len(re.findall(r"<button[^>]*>\s*Envoyer", html)) == 1

    def test_send_reaches_the_structure_note_stays_in_the_caisse(self, login, demande, agent, technicien, commit):
        demande = take_charge(demande, agent)
        browser = login(agent)
        already = set(OutgoingEmail.objects.values_list("pk", flat=True))
        with commit():
            assert post(browser, demande, "Message public.", action="send").status_code == 302
            assert post(browser, demande, "Note privée.", action="note").status_code == 302
        assert list(Message.objects.filter(request=demande).values_list("body", "is_internal")) == [
            ("Message public.", False),
            ("Note privée.", True),
        ]
        emails = list(OutgoingEmail.objects.exclude(pk__in=already).values_list("recipient", flat=True))
        assert emails == [technicien.email]  # the message, not the note
        page = text(login(technicien).get(f"/demandes/{demande.number}/"))
        assert "Message public." in page and "Note privée." not in page
