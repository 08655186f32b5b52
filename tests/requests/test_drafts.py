"""Drafts of the deposit forms (requests/drafts.py): saved as typed, resumed prefilled, the author's only, the NIR
encrypted, gone with the deposit, purged after 30 days; and the keep-alive of the idle warning."""

import time
from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
import time_machine
from django.db import connection
from django.urls import reverse
from django.utils import timezone

from extranet.accounts.session_store import LAST_SEEN_AT
from extranet.scheduler import NIGHTLY_JOBS, run_job
from requests.drafts import purge_expired_drafts
from requests.models import Draft, MasReferral, Request
from tests.factories import MembershipFactory
from tests.helpers import text
from tests.requests.builders import (
    MAS_REFERRAL_URL,
    NIR,
    NIR_SPACED,
    create_url,
    form_data,
    referral_data,
)

SAVE = {"action": "brouillon"}


def save(client, url, data):
    return client.post(url, data | SAVE)


def the_draft():
    [draft] = Draft.objects.all()
    return draft


def stored_nir(draft):
    with connection.cursor() as cursor:
        cursor.execute('SELECT person_nir, "values" FROM requests_draft WHERE id = %s', [draft.pk])
        return cursor.fetchone()


class TestSave:
    def test_half_a_form_is_saved_as_typed_and_the_page_resumes_it(self, technicien_client, technicien):
        response = save(
            technicien_client,
            create_url("signaler"),
            {"caisse": "331", "motif": "rights", "person_last_name": "Durand", "person_nir": NIR_SPACED},
        )
        draft = the_draft()
        assert response.status_code == 302 and response["Location"] == f"{create_url('signaler')}?brouillon={draft.pk}"
        assert (draft.author, draft.kind, draft.motif) == (technicien, "access_difficulty", "rights")
        assert draft.values == {"motif": "rights", "person_last_name": "Durand"}
        assert draft.person_nir == NIR_SPACED
        page = technicien_client.get(response["Location"])
        assert "Brouillon enregistré." in text(page)
        assert 'value="Durand"' in page.content.decode() and f'value="{NIR_SPACED}"' in page.content.decode()
        assert f'name="brouillon" value="{draft.pk}"' in page.content.decode()
        assert Request.objects.count() == 0

    def test_saving_again_updates_the_same_draft(self, technicien_client):
        save(technicien_client, create_url("signaler"), {"person_last_name": "Durand"})
        draft = the_draft()
        save(technicien_client, create_url("signaler"), {"person_last_name": "Dupont", "brouillon": str(draft.pk)})
        assert the_draft().pk == draft.pk and the_draft().values == {"person_last_name": "Dupont"}
        assert the_draft().updated_at > draft.updated_at

    def test_files_are_not_kept_and_the_page_says_so(self, technicien_client):
        page = technicien_client.get(create_url("etude-de-dossier"))
        assert "Les pièces jointes ne sont pas conservées dans le brouillon" in text(page)
        response = save(technicien_client, create_url("etude-de-dossier"), form_data("etude-de-dossier"))
        assert response.status_code == 302
        assert "attachments" not in the_draft().values and "deposit_token" not in the_draft().values

    def test_the_mas_referral_is_saved_and_resumed_in_its_form(self, technicien_client):
        data = referral_data(detector_phone="05 56 11 22 33")
        response = save(technicien_client, MAS_REFERRAL_URL, data)
        draft = the_draft()
        assert response["Location"] == f"{MAS_REFERRAL_URL}?brouillon={draft.pk}"
        assert draft.is_mas_referral and draft.values["contexts"] == data["contexts"]
        assert draft.values["notice_given"] is True
        page = technicien_client.get(response["Location"]).content.decode()
        assert 'value="05 56 11 22 33"' in page and 'value="care_renunciation"' in page

    def test_a_draft_of_the_signaler_form_with_the_mas_motif_resumes_in_the_mas_form(self, technicien_client):
        response = save(
            technicien_client, create_url("signaler"), {"motif": "mas_referral", "person_last_name": "Roy"}
        )
        assert response["Location"] == f"{MAS_REFERRAL_URL}?brouillon={the_draft().pk}"
        assert 'value="Roy"' in technicien_client.get(response["Location"]).content.decode()

    def test_the_nir_is_encrypted_at_rest_and_never_in_the_values(self, technicien_client):
        save(technicien_client, create_url("signaler"), {"person_nir": NIR})
        raw_nir, raw_values = stored_nir(the_draft())
        assert raw_nir.startswith("v1:") and NIR not in raw_nir and NIR[:13] not in raw_nir
        assert NIR not in raw_values and NIR[:13] not in raw_values
        assert the_draft().person_nir == NIR

    @pytest.mark.parametrize(
        ("field", "value", "message"),
        [
            ("person_last_name", "x" * 151, "Ce champ comporte au plus 150 caractères (il en compte 151)"),
            ("description", "y" * 5000, "Ce champ comporte au plus"),
            ("person_birth_date", "1" * 500, "Ce champ comporte au plus 100 caractères"),
            ("person_nir", "1" * 22, "Ce champ comporte au plus 21 caractères"),
            ("person_first_name", "Lé\x00a", "Ce champ contient un caractère invalide"),
        ],
    )
    def test_bad_input_is_refused_in_french_and_nothing_else_is_checked(
        self, technicien_client, field, value, message
    ):
        response = save(technicien_client, create_url("signaler"), {field: value, "person_last_name_x": "ignoré"})
        assert response.status_code == 200
        assert message in text(response) and "le brouillon n'a pas été enregistré" in text(response)
        # The deposit's own checks (required fields…) are not the draft's.
        assert "Ce champ est obligatoire" not in text(response)
        assert Draft.objects.count() == 0

    def test_forged_values_are_bounded_and_unknown_fields_ignored(self, technicien_client):
        response = save(
            technicien_client,
            MAS_REFERRAL_URL,
            {"contexts": [f"c{number}" for number in range(500)], "detector_name": "Usurpateur", "intrus": "x"},
        )
        assert response.status_code == 302
        assert len(the_draft().values["contexts"]) <= 10
        assert set(the_draft().values) == {"contexts"}

    def test_a_staff_member_has_no_deposit_form_hence_no_draft(self, agent_client):
        assert save(agent_client, create_url("signaler"), {"person_last_name": "Durand"}).status_code == 403
        assert Draft.objects.count() == 0


class TestScope:
    @pytest.fixture
    def draft(self, technicien_client):
        save(technicien_client, create_url("signaler"), {"person_last_name": "Durand"})
        return the_draft()

    @pytest.mark.parametrize("who", ["colleague", "gestionnaire"])
    def test_another_user_of_the_structure_does_not_see_it(self, client, draft, structure, who):
        client.force_login(MembershipFactory(structure=structure, gestionnaire=who == "gestionnaire").user)
        assert client.get(f"{create_url('signaler')}?brouillon={draft.pk}").status_code == 404
        assert client.get(reverse("requests:draft_delete", args=[draft.pk])).status_code == 404
        assert client.post(reverse("requests:draft_delete", args=[draft.pk])).status_code == 404
        assert "Durand" not in text(client.get("/"))
        # Posted with the form, another's draft is neither updated nor deleted.
        save(client, create_url("signaler"), {"person_last_name": "Autre", "brouillon": str(draft.pk)})
        assert Draft.objects.get(pk=draft.pk).values == {"person_last_name": "Durand"}

    @pytest.mark.parametrize("parameter", ["999999", "abc", "9" * 40, "١٢"])
    def test_a_draft_that_is_not_there_is_a_404(self, technicien_client, draft, parameter):
        assert technicien_client.get(f"{create_url('signaler')}?brouillon={parameter}").status_code == 404

    def test_a_draft_of_another_form_is_a_404_there(self, technicien_client, draft):
        assert technicien_client.get(f"{create_url('contacter')}?brouillon={draft.pk}").status_code == 404
        assert technicien_client.get(f"{MAS_REFERRAL_URL}?brouillon={draft.pk}").status_code == 404

    def test_after_leaving_the_structure_the_author_sees_it_no_more(self, technicien_client, technicien, draft):
        technicien.structure_membership.is_active = False
        technicien.structure_membership.save()
        assert Draft.objects.visible_to(technicien).count() == 0


class TestHomeAndDelete:
    def test_the_home_page_lists_the_drafts_with_resume_and_delete(self, technicien_client):
        save(technicien_client, create_url("signaler"), {"person_last_name": "Durand", "person_first_name": "Léa"})
        draft = the_draft()
        home = technicien_client.get("/")
        assert "Brouillons" in text(home) and "DURAND Léa" in text(home)
        assert draft.get_absolute_url() in home.content.decode()
        confirm = technicien_client.get(reverse("requests:draft_delete", args=[draft.pk]))
        assert "Supprimer le brouillon ?" in text(confirm) and Draft.objects.count() == 1
        response = technicien_client.post(reverse("requests:draft_delete", args=[draft.pk]))
        assert response["Location"] == "/" and Draft.objects.count() == 0
        assert "Brouillon supprimé." in text(technicien_client.get("/"))

    def test_no_draft_no_section(self, technicien_client):
        assert "Brouillons" not in text(technicien_client.get("/"))


class TestDeposit:
    def test_the_deposit_deletes_its_draft(self, technicien_client):
        save(technicien_client, create_url("signaler"), {"person_last_name": "Durand"})
        draft = the_draft()
        response = technicien_client.post(create_url("signaler"), form_data("signaler", brouillon=str(draft.pk)))
        assert response.status_code == 302 and Request.objects.count() == 1
        assert Draft.objects.count() == 0

    def test_the_mas_referral_deletes_its_draft(self, technicien_client):
        save(technicien_client, MAS_REFERRAL_URL, {"person_last_name": "Durand"})
        draft = the_draft()
        response = technicien_client.post(MAS_REFERRAL_URL, referral_data(brouillon=str(draft.pk)))
        assert response.status_code == 302 and MasReferral.objects.count() == 1
        assert Draft.objects.count() == 0

    def test_a_refused_deposit_keeps_its_draft(self, technicien_client):
        save(technicien_client, create_url("signaler"), {"person_last_name": "Durand"})
        draft = the_draft()
        response = technicien_client.post(create_url("signaler"), {"brouillon": str(draft.pk), "caisse": "331"})
        assert response.status_code == 200 and Draft.objects.count() == 1

    def test_posted_again_after_its_deposit_the_form_gives_back_the_request(self, technicien_client):
        save(technicien_client, create_url("signaler"), {"person_last_name": "Durand"})
        data = form_data("signaler", brouillon=str(the_draft().pk), deposit_token="jeton-unique-du-formulaire")
        first = technicien_client.post(create_url("signaler"), data)
        again = technicien_client.post(create_url("signaler"), data)
        assert first.status_code == again.status_code == 302 and first["Location"] == again["Location"]
        assert Request.objects.count() == 1


class TestPurge:
    def test_drafts_go_30_days_after_they_were_last_saved(self, technicien_client):
        with time_machine.travel(timezone.now() - timedelta(days=40)):
            save(technicien_client, create_url("signaler"), {"person_last_name": "Ancien"})
        with time_machine.travel(timezone.now() - timedelta(days=29)):
            save(technicien_client, create_url("contacter"), {"message": "Récent"})
        old = Draft.objects.get(kind="access_difficulty")
        with time_machine.travel(timezone.now() - timedelta(days=5)):
            # Saved again: its 30 days start again.
            save(technicien_client, create_url("signaler"), {"person_last_name": "Repris", "brouillon": str(old.pk)})
        assert purge_expired_drafts() == 0
        with time_machine.travel(timezone.now() + timedelta(days=2)):
            assert purge_expired_drafts() == 1
        assert list(Draft.objects.values_list("kind", flat=True)) == ["access_difficulty"]

    def test_it_is_a_nightly_job(self, technicien_client):
        with time_machine.travel(timezone.now() - timedelta(days=31)):
            save(technicien_client, create_url("signaler"), {"person_last_name": "Ancien"})
        assert "drafts" in NIGHTLY_JOBS
        assert run_job("drafts") == "1 brouillon(s) effacé(s)"
        assert Draft.objects.count() == 0


class TestSessionEnd:
    def test_saved_at_the_session_end_then_signed_out_and_brought_back_after_sign_in(self, technicien_client):
        response = save(technicien_client, MAS_REFERRAL_URL, {"person_last_name": "Durand", "fin_de_session": "1"})
        draft = the_draft()
        location = urlsplit(response["Location"])
        assert location.path == reverse("accounts:login")
        assert parse_qs(location.query)["next"] == [f"{MAS_REFERRAL_URL}?brouillon={draft.pk}"]
        assert "_auth_user_id" not in technicien_client.session
        assert "Votre saisie est enregistrée dans un brouillon" in text(technicien_client.get(response["Location"]))

    def test_the_keep_alive_restarts_the_idle_clock(self, technicien_client):
        session = technicien_client.session
        session[LAST_SEEN_AT] = int(time.time()) - 25 * 60
        session.save()
        response = technicien_client.post(reverse("accounts:session_keepalive"))
        assert response.status_code == 204
        assert technicien_client.session[LAST_SEEN_AT] >= int(time.time()) - 1
        assert technicien_client.get(reverse("accounts:session_keepalive")).status_code == 405

    def test_the_page_counts_from_the_session_s_clock(self, technicien_client, settings):
        settings.SESSION_IDLE_WARNING, settings.SESSION_IDLE_DRAFT_SAVE = 90, 30
        session = technicien_client.session
        session[LAST_SEEN_AT] = int(time.time()) - 50
        session.save()
        page = technicien_client.get(create_url("signaler")).content.decode()
        expires_in = int(page.split('data-session-expires-in="')[1].split('"')[0])
        assert 30 * 60 - 52 <= expires_in <= 30 * 60 - 50
        assert 'data-session-warning="90"' in page and 'data-session-draft-save="30"' in page
        assert 'role="alertdialog"' in page and "Rester connecté" in page

    def test_signed_out_pages_have_no_timer(self, client):
        page = client.get(reverse("accounts:login")).content.decode()
        assert "data-session-expires-in" not in page and "session.js" not in page
