"""Canned messages and answers: kept by the caisse's administrateurs, scoped to their caisse, offered to its agents
on a request's page and on its resolution step, their placeholders filled as plain text."""

import pytest
from django.utils.html import escape

from extranet.notifications.models import OutgoingEmail
from requests import canned, services
from requests.models import AnswerTemplate, Message, Request
from tests.factories import CaisseMembershipFactory, RequestFactory, advance
from tests.helpers import text

pytestmark = pytest.mark.django_db

LIST = "/caisse/modeles-de-reponse/"
CREATE = "/caisse/modeles-de-reponse/nouveau/"


def edit_url(template):
    return f"/caisse/modeles-de-reponse/{template.pk}/modifier/"


def deactivate_url(template):
    return f"/caisse/modeles-de-reponse/{template.pk}/desactiver/"


def reactivate_url(template):
    return f"/caisse/modeles-de-reponse/{template.pk}/reactiver/"


@pytest.fixture
def login(client_factory):
    def logged_in(user):
        browser = client_factory()
        browser.force_login(user)
        return browser

    return logged_in


@pytest.fixture
def make_template(caisse_admin):
    def made(*, admin=caisse_admin, caisse=None, purpose="message", kind="", title="Pièce manquante", body="Bonjour."):
        return services.create_answer_template(
            admin=admin,
            caisse=caisse or admin.caisse_membership.caisse,
            purpose=purpose,
            kind=kind,
            title=title,
            body=body,
        )

    return made


@pytest.fixture
def other_admin(other_caisse):
    return CaisseMembershipFactory(caisse=other_caisse, admin=True).user


class TestFill:
    @pytest.fixture
    def person(self, structure, caisse, technicien):
        return RequestFactory(
            structure=structure,
            caisse=caisse,
            author=technicien,
            person_civility="mme",
            person_last_name="Martin",
            person_first_name="Lucie",
        )

    def test_each_placeholder_is_replaced_by_the_request_s_value(self, person):
        body = "Demande {numero} : {civilite} {nom} {prenom}. Encore {numero}."
        assert canned.fill(body, person) == f"Demande {person.number} : Madame MARTIN Lucie. Encore {person.number}."

    def test_a_request_without_a_person_leaves_the_person_s_placeholders_empty(self, structure, caisse, technicien):
        contact = RequestFactory(structure=structure, caisse=caisse, author=technicien, contact=True)
        assert canned.fill("Demande {numero} pour {civilite} {nom}.", contact) == f"Demande {contact.number} pour  ."

    def test_anything_else_in_braces_stays_as_typed(self, person):
        body = (
            "{{ demande.person_nir }} {% debug %} {0.__class__} {numero.__class__} {nom!r} {NUMERO} { numero } "
            "{person_nir} %(numero)s $numero"
        )
        assert canned.fill(body, person) == body

    def test_values_are_inserted_once_never_read_as_placeholders(self, structure, caisse, technicien):
        """A value that looks like a placeholder (or a template tag) is plain text: filling is one pass."""
        demande = RequestFactory(
            structure=structure,
            caisse=caisse,
            author=technicien,
            person_last_name="{numero}",
            person_first_name="{{ demande.person_nir }}",
        )
        assert canned.fill("{nom} / {prenom} / {numero}", demande) == (
            f"{{NUMERO}} / {{{{ demande.person_nir }}}} / {demande.number}"
        )

    def test_unknown_placeholders_are_found(self):
        assert canned.unknown_placeholders("{numero} {nmo} {civilité} {nom} {nmo}") == ["{civilité}", "{nmo}"]
        assert canned.unknown_placeholders("Rien à signaler {} { espace }.") == []


class TestManagement:
    def test_the_administrateur_creates_a_template_for_their_caisse(self, login, caisse_admin, caisse):
        response = login(caisse_admin).post(
            CREATE,
            {"purpose": "answer", "kind": "document", "title": "Document joint", "body": "Ci-joint, {numero}."},
        )
        assert response.status_code == 302 and response.url == LIST
        template = AnswerTemplate.objects.get()
        assert (
            template.caisse,
            template.purpose,
            template.kind,
            template.title,
            template.body,
            template.is_active,
        ) == (
            caisse,
            "answer",
            "document",
            "Document joint",
            "Ci-joint, {numero}.",
            True,
        )

    def test_the_list_documents_the_placeholders_and_shows_the_caisse_s_templates_only(
        self, login, caisse_admin, other_admin, make_template
    ):
        make_template(title="Modèle de la Gironde")
        make_template(admin=other_admin, title="Modèle de la Loire")
        page = text(login(caisse_admin).get(LIST))
        assert "Modèle de la Gironde" in page and "Modèle de la Loire" not in page
        for placeholder in ("{numero}", "{civilite}", "{nom}", "{prenom}"):
            assert placeholder in page
        assert "Tous les types" in page

    def test_the_administrateur_edits_a_template(self, login, caisse_admin, make_template):
        template = make_template()
        browser = login(caisse_admin)
        assert "Pièce manquante" in text(browser.get(edit_url(template)))
        response = browser.post(
            edit_url(template), {"purpose": "message", "kind": "", "title": "Pièce", "body": "Merci, {nom}."}
        )
        assert response.status_code == 302
        template.refresh_from_db()
        assert (template.title, template.body) == ("Pièce", "Merci, {nom}.")

    def test_deactivated_is_kept_and_may_be_reactivated_never_deleted(self, login, caisse_admin, make_template):
        template = make_template()
        browser = login(caisse_admin)
        assert browser.post(deactivate_url(template)).status_code == 302
        assert AnswerTemplate.objects.get(pk=template.pk).is_active is False
        assert "Désactivé" in text(browser.get(LIST))
        assert browser.post(reactivate_url(template)).status_code == 302
        assert AnswerTemplate.objects.get(pk=template.pk).is_active is True
        assert not any("supprimer" in path for path in (LIST, edit_url(template)))
        assert AnswerTemplate.objects.count() == 1

    @pytest.mark.parametrize(
        ("body", "error"),
        [
            ("Bonjour {nmo},", "Espace réservé inconnu : {nmo}."),
            ("NIR 1 85 05 75 056 123 45", "numéro de sécurité sociale"),
            ("", "Ce champ est obligatoire."),
        ],
    )
    def test_a_wrong_text_is_refused_next_to_the_field(self, login, caisse_admin, body, error):
        response = login(caisse_admin).post(CREATE, {"purpose": "message", "kind": "", "title": "T", "body": body})
        assert response.status_code == 400
        assert any(error in message for message in response.context["form"].errors["body"])
        assert AnswerTemplate.objects.count() == 0

    def test_another_caisse_s_template_does_not_exist_for_the_administrateur(
        self, login, caisse_admin, other_admin, make_template
    ):
        foreign = make_template(admin=other_admin, title="Modèle de la Loire")
        browser = login(caisse_admin)
        assert browser.get(edit_url(foreign)).status_code == 404
        edited = browser.post(edit_url(foreign), {"purpose": "message", "kind": "", "title": "Pris", "body": "x"})
        assert edited.status_code == 404
        assert browser.post(deactivate_url(foreign)).status_code == 404
        foreign.refresh_from_db()
        assert (foreign.title, foreign.is_active) == ("Modèle de la Loire", True)

    @pytest.mark.parametrize("who", ["agent", "technicien", "gestionnaire"])
    def test_only_the_administrateur_manages_them(self, login, make_template, who, agent, technicien, gestionnaire):
        template = make_template()
        browser = login({"agent": agent, "technicien": technicien, "gestionnaire": gestionnaire}[who])
        for response in (
            browser.get(LIST),
            browser.get(CREATE),
            browser.post(CREATE, {"purpose": "message", "kind": "", "title": "T", "body": "x"}),
            browser.post(edit_url(template), {"purpose": "message", "kind": "", "title": "T", "body": "x"}),
            browser.post(deactivate_url(template)),
        ):
            assert response.status_code == 403
        assert list(AnswerTemplate.objects.values_list("title", "is_active")) == [("Pièce manquante", True)]

    def test_the_services_refuse_anyone_but_an_administrateur_of_the_caisse(
        self, make_template, agent, caisse, other_admin
    ):
        template = make_template()
        for user in (agent, other_admin):
            with pytest.raises(services.WorkflowRefused, match="Seuls les administrateurs de la caisse"):
                services.create_answer_template(
                    admin=user, caisse=caisse, purpose="message", kind="", title="T", body="x"
                )
            with pytest.raises(services.WorkflowRefused):
                services.update_answer_template(template, admin=user, title="Pris")
            with pytest.raises(services.WorkflowRefused):
                services.set_answer_template_active(template, admin=user, active=False)
        template.refresh_from_db()
        assert (template.title, template.is_active) == ("Pièce manquante", True)


class TestOnTheRequestPage:
    @pytest.fixture
    def templates(self, make_template, caisse_admin, other_admin):
        inactive = make_template(title="Ancien modèle")
        services.set_answer_template_active(inactive, admin=caisse_admin, active=False)
        return {
            "message, all kinds": make_template(title="Pour tous", body="Bonjour, demande {numero} de {nom}."),
            "message, this kind": make_template(title="Ce type", kind="access_difficulty"),
            "message, another kind": make_template(title="Autre type", kind="appointment"),
            "answer": make_template(title="Réponse type", purpose="answer", body="Droits ouverts pour {nom}."),
            "inactive": inactive,
            "another caisse": make_template(admin=other_admin, title="Modèle de la Loire"),
        }

    def offered(self, response):
        form = response.context.get("template_form")
        return sorted(template.title for template in form.templates.values()) if form else []

    def test_the_agent_is_offered_the_active_messages_of_the_caisse_for_this_kind(
        self, login, demande, agent, templates
    ):
        response = login(agent).get(f"/demandes/{demande.number}/")
        assert self.offered(response) == ["Ce type", "Pour tous"]
        assert "Modèle de message" in text(response)

    def test_using_a_template_fills_the_composer_and_sends_nothing(self, login, demande, agent, templates):
        template = templates["message, all kinds"]
        response = login(agent).get(f"/demandes/{demande.number}/", {"modele": template.pk})
        assert response.status_code == 200
        expected = f"Bonjour, demande {demande.number} de {demande.person_last_name.upper()}."
        assert response.context["message_form"].initial["body"] == expected
        assert f"{escape(expected)}</textarea>" in response.content.decode()
        assert not Message.objects.filter(request=demande).exists()
        assert OutgoingEmail.objects.count() == 0

    @pytest.mark.parametrize("which", ["another caisse", "inactive", "message, another kind", "answer", "bogus"])
    def test_a_template_not_offered_fills_nothing_and_says_so(self, login, demande, agent, templates, which):
        pk = templates[which].pk if which != "bogus" else "abc"
        response = login(agent).get(f"/demandes/{demande.number}/", {"modele": pk})
        assert response.status_code == 200
        assert "body" not in response.context["message_form"].initial
        assert response.context["template_form"].errors["modele"]
        assert "Modèle de la Loire" not in text(response)

    def test_the_partner_is_offered_nothing_and_cannot_use_a_template(self, login, demande, technicien, templates):
        response = login(technicien).get(
            f"/demandes/{demande.number}/", {"modele": templates["message, all kinds"].pk}
        )
        assert response.status_code == 200
        assert "template_form" not in response.context
        assert "body" not in response.context["message_form"].initial
        page = text(response)
        for template in templates.values():
            assert template.title not in page
        assert "Bonjour, demande" not in page

    def test_a_resolved_request_offers_no_template(self, login, demande, agent, templates):
        resolved = advance(demande, "resolved", agent=agent)
        assert "template_form" not in login(agent).get(f"/demandes/{resolved.number}/").context

    def test_the_resolution_step_offers_the_answers_and_fills_the_answer(self, login, demande, agent, templates):
        services.take_charge(demande, agent=agent)
        browser = login(agent)
        response = browser.get(f"/demandes/{demande.number}/resoudre/")
        assert self.offered(response) == ["Réponse type"]
        filled = browser.get(f"/demandes/{demande.number}/resoudre/", {"modele": templates["answer"].pk})
        assert filled.context["form"].initial["answer"] == f"Droits ouverts pour {demande.person_last_name.upper()}."
        assert Request.objects.get(pk=demande.pk).status == "in_progress"
        refused = browser.get(f"/demandes/{demande.number}/resoudre/", {"modele": templates["message, all kinds"].pk})
        assert "answer" not in refused.context["form"].initial
        assert refused.context["template_form"].errors["modele"]
