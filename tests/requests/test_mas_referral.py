import io
from datetime import timedelta

import pytest
import time_machine
from django.core.management import call_command
from django.utils import timezone
from pypdf import PdfReader

from extranet.core.dates import months_before
from requests.models import Attachment, MasReferral, Request, Status
from requests.nir import format_nir
from requests.retention import purge_expired_requests
from tests.factories import CaisseMembershipFactory, MasReferralFactory, advance
from tests.helpers import api_client, text
from tests.requests.builders import MAS_REFERRAL_URL, a_pdf, api_deposit, referral_data
from tests.requests.pdfs import accessibility, font_families, page_of, page_texts, squeeze, structure_tags

URL = MAS_REFERRAL_URL
NOTICE_EXTRACT = "conservées au plus 18 mois après la fin de l'accompagnement"


@pytest.fixture
def partner(client, technicien):
    client.force_login(technicien)
    return client


def errors(response):
    return response.context["form"].errors


TOO_OLD = ["La date de la saisine ne peut pas être antérieure au 01/01/2000 : vérifiez l'année."]


def pdf_text(content):
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(content)).pages)


@pytest.mark.django_db
class TestForm:
    def test_signaler_form_routes_the_mas_motif_to_the_referral_form(self, partner):
        response = partner.post("/demandes/nouvelle/signaler/", {"motif": "mas_referral"})
        assert response.status_code == 200 and f'action="{URL}"' in response.content.decode()
        page = text(response)
        assert "Saisine de la Mission accompagnement santé" in page
        assert NOTICE_EXTRACT in page

    @pytest.mark.parametrize(("slug", "shown"), [("signaler", True), ("document", False)])
    def test_the_kind_with_the_mas_motif_tells_where_the_referral_goes(self, partner, slug, shown):
        page = text(partner.get(f"/demandes/nouvelle/{slug}/"))
        assert ("Pour une saisine de la Mission accompagnement santé" in page) is shown

    def test_detector_is_prefilled_from_the_account_and_structure(self, partner, technicien, structure):
        form = partner.get(URL).context["form"]
        assert form["detector_name"].value() == technicien.get_full_name()
        assert form["detector_structure"].value() == structure.name
        assert form["detector_email"].value() == technicien.email
        assert form.fields["detector_name"].disabled and not form.fields["detector_email"].disabled

    def test_at_least_one_context(self, partner):
        response = partner.post(URL, referral_data(contexts=[]))
        assert "contexts" in errors(response)
        assert not Request.objects.exists()

    @pytest.mark.parametrize("context", ["care_renunciation", "disability_care_renunciation"])
    def test_renunciation_block_is_required_with_a_renunciation_context(self, partner, context):
        data = referral_data(contexts=[context], cares=[], renunciation_duration="", causes=[], care_other="")
        found = errors(partner.post(URL, data))
        assert {"cares", "renunciation_duration", "causes"} <= set(found)
        assert "Obligatoire quand le contexte comprend un renoncement aux soins." in found["cares"][0]
        assert not Request.objects.exists()

    def test_renunciation_block_is_optional_and_dropped_otherwise(self, partner, commit):
        with commit():
            response = partner.post(URL, referral_data(contexts=["digital_fragility"]))
        assert response.status_code == 302
        referral = MasReferral.objects.get()
        assert (referral.cares, referral.renunciation_duration, referral.causes, referral.care_other) == (
            [],
            "",
            [],
            "",
        )

    @pytest.mark.parametrize(
        ("choices", "text_field"),
        [("actions", "action_other"), ("cares", "care_other"), ("causes", "cause_other")],
    )
    def test_each_autre_requires_its_text(self, partner, choices, text_field):
        response = partner.post(URL, referral_data(**{choices: ["other"], text_field: ""}))
        assert errors(response)[text_field] == ["Précisez, puisque vous avez coché « Autre »."]

    def test_referral_date_cannot_be_in_the_future(self, partner):
        tomorrow = (timezone.localdate() + timedelta(days=1)).isoformat()
        assert "referral_date" in errors(partner.post(URL, referral_data(referral_date=tomorrow)))

    @pytest.mark.parametrize("day", ["0001-01-01", "1999-12-31"])
    def test_referral_date_before_2000_is_a_typing_error(self, partner, technicien, day):
        """0001-01-01 used to be accepted, on the page and through the API."""
        response = partner.post(URL, referral_data(referral_date=day))
        assert errors(response)["referral_date"] == TOO_OLD
        data = referral_data(referral_date=day, motif="mas_referral", consent_mode="remote")
        response = api_deposit(api_client(technicien), "access_difficulty", data)
        assert (response.status_code, response.json()["code"]) == (400, "invalid")
        assert response.json()["fields"]["mas_referral.referral_date"] == TOO_OLD
        assert not Request.objects.exists()


@pytest.mark.django_db
class TestConsent:
    def test_without_consent_no_referral(self, partner, mailoutbox):
        response = partner.post(URL, referral_data(consent_mode="", notice_given=""))
        assert errors(response)["consent_mode"] == [
            "Sans l'accord de la personne, la saisine ne peut pas être transmise : indiquez comment son accord a été "
            "recueilli."
        ]
        assert not Request.objects.exists() and mailoutbox == []

    def test_remote_detection_requires_the_notice_to_have_been_given(self, partner):
        response = partner.post(URL, referral_data(notice_given=""))
        assert "notice_given" in errors(response)
        assert not Request.objects.exists()

    def test_signed_consent_requires_the_signed_form(self, partner):
        response = partner.post(URL, referral_data(consent_mode="signed", notice_given=""))
        assert errors(response)["consent_document"] == ["Joignez la fiche de saisine signée par la personne."]

    def test_signed_consent_keeps_the_evidence(self, partner, technicien, commit):
        data = referral_data(consent_mode="signed", notice_given="", consent_document=a_pdf("fiche signée.pdf"))
        with commit():
            response = partner.post(URL, data)
        assert response.status_code == 302
        referral = MasReferral.objects.select_related("request").get()
        assert referral.consent_mode == "signed" and not referral.needs_confirmation_letter
        assert referral.consent_document.original_name == "fiche signée.pdf"
        assert referral.consent_document.request == referral.request
        assert (referral.consent_collected_by, referral.notice_version) == (technicien, "2026-01")
        assert referral.consent_collected_at == referral.request.created_at
        assert referral.request.motif == "mas_referral" and referral.request.kind == "access_difficulty"

    def test_remote_consent_gives_the_agent_a_letter_task(self, partner, client_factory, caisse, commit):
        with commit():
            partner.post(URL, referral_data())
        request = Request.objects.get()
        assert text(partner.get(f"/demandes/{request.number}/")).count("Courrier de confirmation envoyé") == 0
        assert partner.post(f"/demandes/{request.number}/courrier-confirmation/").status_code == 404

        agent = CaisseMembershipFactory(caisse=caisse).user
        agent_browser = client_factory()
        agent_browser.force_login(agent)
        page = text(agent_browser.get(f"/demandes/{request.number}/"))
        assert "Détection à distance" in page
        assert "À envoyer par la caisse pour confirmer l'accord" in page
        agent_browser.post(f"/demandes/{request.number}/courrier-confirmation/")
        referral = MasReferral.objects.get()
        assert referral.confirmation_letter_sent_by == agent and referral.confirmation_letter_sent_at
        assert f"par {agent.get_full_name()}" in text(agent_browser.get(f"/demandes/{request.number}/"))

    def test_a_signed_consent_has_no_letter_to_record(self, client, structure, caisse, agent):
        signed = MasReferralFactory(request__structure=structure, request__caisse=caisse, signed=True)
        client.force_login(agent)
        response = client.post(f"/demandes/{signed.request.number}/courrier-confirmation/", follow=True)
        assert "il n'y a pas de courrier de confirmation à envoyer" in text(response)
        signed.refresh_from_db()
        assert signed.confirmation_letter_sent_at is None

    def test_a_second_open_referral_for_the_same_person_is_refused(self, partner, commit):
        with commit():
            partner.post(URL, referral_data())
        response = partner.post(URL, referral_data())
        assert "Une demande est déjà en cours pour cette personne" in text(response)
        assert Request.objects.count() == 1


@pytest.mark.django_db
class TestSheet:
    def test_sheet_before_deposit_holds_what_was_typed_and_the_notice(self, partner):
        response = partner.post(URL, referral_data(action="fiche", consent_mode=""))
        assert response["Content-Type"] == "application/pdf"
        assert "attachment" in response["Content-Disposition"]
        content = pdf_text(response.content)
        assert "Madame DURAND" in content and "Léa" in content
        # ☒ a box ticked, ☐ one left blank: text, read as such.
        assert "☒ Renoncement ou difficultés d'accès à des soins" in content
        assert "☒ Fragilité face au numérique" in content
        assert "☐ Situation sociale complexe" in content
        assert "☒ Pharmacie" in content and "Kinésithérapie" in content
        assert "SIGNATURE DE L'ASSURÉ(E)" in content
        assert "accepte que mes coordonnées soient transmises" in " ".join(content.split())
        assert NOTICE_EXTRACT in " ".join(content.split())
        assert not Request.objects.exists()

    def test_sheet_of_a_deposited_referral(self, partner, commit):
        with commit():
            partner.post(URL, referral_data())
        number = Request.objects.get().number
        content = pdf_text(partner.get(f"/demandes/{number}/fiche-saisine.pdf").content)
        assert "DURAND" in content and "☒ Fragilité face au numérique" in content

    # The official « MISSION ACCOMPAGNEMENT SANTÉ — FORMULAIRE PARTENAIRES », its blocks in its order.
    OFFICIAL_ORDER = [
        "Mission accompagnement santé",
        "Formulaire partenaires",
        "DATE DE LA SAISINE",
        "ACCOMPAGNEMENT SANTÉ SOLLICITÉ DANS LE CADRE",
        "COORDONNÉES DE L'ASSURÉ(E)",
        "COORDONNÉES DU DÉTECTEUR",
        "QUELLES ACTIONS LE DÉTECTEUR A-T-IL DÉJÀ ENGAGÉES ?",
        "PARTIE À COMPLÉTER EN CAS DE RENONCEMENT OU DE DIFFICULTÉS D'ACCÈS À DES SOINS",
        "QUELS SOINS NE SONT PAS RÉALISÉS ?",
        "DEPUIS QUAND DURE LE RENONCEMENT ?",
        "QUELLES EN SONT LES CAUSES ?",
        "Accord de l'assuré(e)",
        "J'accepte",
        "FAIT À",
        "SIGNATURE DE L'ASSURÉ(E)",
        "Mention d'information pour l'assuré(e)",
    ]

    @pytest.fixture
    def deposited_sheet(self, partner, commit):
        with commit():
            partner.post(URL, referral_data())
        demande = Request.objects.get()
        response = partner.get(f"/demandes/{demande.number}/fiche-saisine.pdf")
        assert response.status_code == 200
        return demande, response.content

    def test_the_sheet_follows_the_official_form(self, deposited_sheet, caisse):
        demande, content = deposited_sheet
        texts = page_texts(content)
        whole = squeeze("".join(texts))
        # Addressed to the caisse's Mission accompagnement santé, its name and address in the identity block.
        for expected in ["Espace Partenaires", "Destinataire : Mission accompagnement santé", caisse.name]:
            assert squeeze(expected) in squeeze(texts[0]), expected
        assert all(squeeze(line) in squeeze(texts[0]) for line in caisse.address_lines)
        positions = [
            whole.find(squeeze(label.replace("J'accepte", "accepte que mes coordonnées")))
            for label in self.OFFICIAL_ORDER
        ]
        assert -1 not in positions, dict(zip(self.OFFICIAL_ORDER, positions, strict=True))
        assert positions == sorted(positions), dict(zip(self.OFFICIAL_ORDER, positions, strict=True))
        # The NIR spaced as on a carte Vitale.
        assert f"NIR (N° DE SÉCURITÉ SOCIALE)\n{format_nir(demande.person_nir)}" in texts[0]

    def test_the_place_date_and_signature_stay_together_on_one_page(self, deposited_sheet):
        """The person signs what they read: the consent, "Fait à", "Le" and the signature box on the same page."""
        _, content = deposited_sheet
        texts = page_texts(content)
        together = page_of(texts, "SIGNATURE DE L'ASSURÉ(E)")
        assert together is not None
        assert (
            page_of(texts, "FAIT À LE") == page_of(texts, "accepte que mes coordonnées soient transmises") == together
        )

    def test_every_page_has_the_running_header_and_the_marking(self, deposited_sheet):
        demande, content = deposited_sheet
        texts = page_texts(content)
        for number, page in enumerate(texts, 1):
            assert squeeze(f"fiche de saisine MAS, demande n° {demande.number}") in squeeze(page)
            assert squeeze(f"page {number} / {len(texts)}") in squeeze(page)
            assert squeeze("Confidentiel — données personnelles de santé") in squeeze(page)

    def test_the_sheet_is_tagged_in_one_font_family(self, deposited_sheet, partner):
        demande, content = deposited_sheet
        title = f"Mission accompagnement santé — formulaire partenaires (demande n° {demande.number})"
        facts = accessibility(content)
        assert (facts["structure"], facts["marked"], facts["lang"], facts["pdf_ua"]) == ("/Document", True, "fr", "1")
        assert facts["title"] == facts["xmp_title"] == title
        assert {"/H1", "/H2", "/L", "/LI", "/Table", "/TD"} <= structure_tags(content)
        assert font_families(content) == {"DejaVu-Sans"}
        # The sheet printed before the deposit too, addressed to the caisse the user works with.
        blank = partner.post(URL, referral_data(action="fiche", consent_mode="")).content
        assert font_families(blank) == {"DejaVu-Sans"}
        assert accessibility(blank)["title"] == "Mission accompagnement santé — formulaire partenaires"
        assert squeeze("Destinataire : Mission accompagnement santé CPAM de la Gironde") in squeeze(
            page_texts(blank)[0]
        )

    def test_typed_markup_is_printed_as_text(self, partner):
        response = partner.post(URL, referral_data(action="fiche", person_last_name='<img src="file:///etc/passwd">'))
        assert '<IMG SRC="FILE:///ETC/PASSWD">' in pdf_text(response.content)


def resolve(request, at):
    with time_machine.travel(at, tick=False):
        advance(request, Status.RESOLVED)


@pytest.mark.django_db
class TestRetention:
    @pytest.fixture
    def resolved_referral(self, partner, commit):
        data = referral_data(consent_mode="signed", notice_given="", consent_document=a_pdf("fiche.pdf"))
        data["attachments"] = a_pdf("ordonnance.pdf")
        with commit():
            partner.post(URL, data)
        request = Request.objects.get()
        resolved_at = timezone.make_aware(timezone.datetime(2025, 1, 15, 10, 0))
        resolve(request, resolved_at)
        return request, resolved_at

    def test_months_before_clamps_to_the_end_of_month(self):
        moment = timezone.make_aware(timezone.datetime(2026, 8, 31, 12, 0))
        assert months_before(moment, 18).date().isoformat() == "2025-02-28"

    def test_kept_the_day_before_purged_the_day_after(self, resolved_referral, stored_files):
        request, resolved_at = resolved_referral
        assert len(stored_files()) == 2
        with time_machine.travel(resolved_at + timedelta(days=365 + 181 - 1)):  # 14/07/2026: 18 months minus a day
            assert purge_expired_requests().requests == 0
        request.refresh_from_db()
        assert request.person_nir and not request.purged_at

        day_after = timezone.make_aware(timezone.datetime(2026, 7, 16, 10, 0))
        with time_machine.travel(day_after), self.commit_files():
            report = purge_expired_requests()
        assert (report.requests, report.attachments) == (1, 2)
        self.assert_purged(request, stored_files)

    def test_twice_gives_the_same_result(self, resolved_referral, stored_files):
        request, _ = resolved_referral
        later = timezone.make_aware(timezone.datetime(2026, 8, 1))
        with time_machine.travel(later), self.commit_files():
            assert purge_expired_requests().requests == 1
        with time_machine.travel(later), self.commit_files():
            assert purge_expired_requests().requests == 0
        self.assert_purged(request, stored_files)

    def test_dry_run_counts_and_changes_nothing(self, resolved_referral, stored_files):
        request, _ = resolved_referral
        with time_machine.travel(timezone.make_aware(timezone.datetime(2026, 8, 1))):
            out = io.StringIO()
            call_command("purge_personal_data", "--dry-run", stdout=out)
        assert "Données personnelles seraient effacées : 1 demande(s) (saisine MAS : 1)," in out.getvalue()
        assert "2 pièce(s) jointe(s)." in out.getvalue()
        request.refresh_from_db()
        assert request.person_nir and len(stored_files()) == 2

    def test_open_or_recent_referrals_are_kept(self, partner, commit):
        with commit():
            partner.post(URL, referral_data())
        with time_machine.travel(timezone.now() + timedelta(days=800)):
            assert purge_expired_requests().requests == 0

    @pytest.fixture(autouse=True)
    def _capture(self, django_capture_on_commit_callbacks):
        self.commit_files = lambda: django_capture_on_commit_callbacks(execute=True)

    def assert_purged(self, request, stored_files):
        request.refresh_from_db()
        referral = MasReferral.objects.get(request=request)
        assert request.purged_at
        assert (request.person_last_name, request.person_nir, request.person_nir_digest, request.person_phone) == (
            "",
            "",
            "",
            "",
        )
        assert request.person_birth_date is None
        assert (referral.detector_email, referral.care_other, referral.consent_document) == ("", "", None)
        # What is not personal stays for statistics.
        assert referral.contexts == ["care_renunciation", "digital_fragility"]
        assert (referral.cares, referral.renunciation_duration, referral.causes) == (
            ["pharmacy", "other"],
            "over_1_year",
            ["transport"],
        )
        assert request.status == Status.RESOLVED and request.number and request.structure.name
        assert not Attachment.objects.filter(request=request).exists()
        assert stored_files() == []


@pytest.mark.django_db
def test_daily_job_is_queued_once_for_3am(settings):
    from django_tasks_db.models import DBTaskResult

    from extranet.scheduler import schedule_daily_jobs

    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
    with time_machine.travel(timezone.make_aware(timezone.datetime(2026, 3, 10, 14, 0))):
        first = schedule_daily_jobs()
        assert schedule_daily_jobs() is None
    queued = DBTaskResult.objects.get()
    assert str(queued.id) == str(first.id)
    assert timezone.localtime(queued.run_after).isoformat().startswith("2026-03-11T03:00")
