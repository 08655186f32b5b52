import re
from datetime import timedelta

import pytest
from django.utils import timezone

from requests.models import Request, StatusChange
from requests.nir import nir_digest
from structures.models import Convention
from tests.factories import (
    ConventionFactory,
    MembershipFactory,
    RequestFactory,
    StructureFactory,
    advance,
    change_convention_status,
    make_nir,
)
from tests.helpers import text
from tests.requests.builders import (
    KIND_FIELDS,
    KIND_OF_SLUG,
    NIR,
    NIR_SPACED,
    PERSON,
    REQUIRED_PERSON_FIELDS,
    SLUGS,
    create_url,
    empty_submission,
    form_data,
    shown_caisse,
)

REQUIRED_KIND_FIELDS = {
    "contacter": {"motif", "channel", "availabilities", "message"},
    "signaler": {"motif", "description"},
    "rendez-vous": {"motif", "channel", "availabilities", "needs_accompaniment"},
    "etude-de-dossier": {"motif", "description", "attachments"},
    "document": {"motif"},
}
EXPECTED_DETAILS = {
    "contacter": {
        "channel": "phone",
        "availabilities": "Lundi et jeudi matin",
        "message": "Comment déclarer un changement d'adresse pour nos usagers ?",
    },
    "signaler": {"description": "Rupture de droits depuis le mois de mars."},
    "rendez-vous": {
        "motif_other": "",
        "channel": "in_person",
        "availabilities": "Mardi après-midi",
        "needs_accompaniment": "yes",
        "message": "Personne malentendante.",
    },
    "etude-de-dossier": {"motif_other": "", "description": "Dossier PUMa déposé en janvier."},
    "document": {"comment": "Calendrier vaccinal à jour."},
}
WITH_PERSON = [slug for slug in SLUGS if slug != "contacter"]
NIR_IN_TEXT = "Ce texte contient une longue suite de chiffres : n'y écrivez pas de numéro de sécurité sociale"


def errors(response):
    return response.context["form"].errors


@pytest.mark.django_db
class TestValidDeposit:
    @pytest.mark.parametrize("slug", SLUGS)
    def test_each_kind_is_deposited_numbered_logged_and_acknowledged(
        self, technicien_client, technicien, structure, caisse, commit, mailoutbox, slug
    ):
        with commit():
            response = technicien_client.post(create_url(slug), form_data(slug))
        deposited = Request.objects.get()
        assert response.status_code == 302
        assert response["Location"] == f"/demandes/{deposited.number}/confirmation/"
        assert re.fullmatch(rf"\d\d{caisse.code}\d{{5}}", deposited.number)

        page = text(technicien_client.get(response["Location"]))
        assert f"Numéro de la demande : {deposited.number}" in page
        assert "Votre demande est déposée" in page
        assert f"adressée à la CPAM de la Gironde le {timezone.localtime(deposited.created_at):%d/%m/%Y}" in page

        assert (deposited.kind, deposited.motif, deposited.status) == (
            KIND_OF_SLUG[slug],
            KIND_FIELDS[slug]["motif"],
            "new",
        )
        assert (deposited.structure, deposited.caisse, deposited.author) == (structure, caisse, technicien)
        assert deposited.details == EXPECTED_DETAILS[slug]
        if slug == "contacter":
            assert (deposited.person_last_name, deposited.person_nir, deposited.person_birth_date) == ("", "", None)
        else:
            assert (
                deposited.person_civility,
                deposited.person_last_name,
                deposited.person_first_name,
                deposited.person_birth_date.isoformat(),
                deposited.person_nir,
                deposited.person_nir_digest,
                deposited.person_phone,
                deposited.person_email,
            ) == (
                "m",
                "Lefebvre-Kermadec",
                "Armandine",
                "1985-05-12",
                NIR,
                nir_digest(NIR),
                "06 12 34 56 78",
                PERSON["person_email"],
            )

        change = StatusChange.objects.get()
        assert (change.request, change.from_status, change.to_status, change.by) == (deposited, "", "new", technicien)

        assert len(mailoutbox) == 1
        email = mailoutbox[0]
        assert email.to == [technicien.email]
        assert email.subject == f"Demande {deposited.number} déposée"
        assert f"Votre demande n° {deposited.number}" in email.body
        assert f"/demandes/{deposited.number}/" in email.body
        for secret in [NIR, NIR_SPACED, NIR[:13], "Lefebvre-Kermadec", "LEFEBVRE-KERMADEC", "Armandine"]:
            assert secret not in email.body and secret not in email.subject

    def test_detail_page_shows_what_was_typed(self, technicien_client):
        technicien_client.post(create_url("rendez-vous"), form_data("rendez-vous"))
        number = Request.objects.get().number
        page = text(technicien_client.get(f"/demandes/{number}/"))
        for shown in [
            f"Demande {number}",
            "Demander un rendez-vous pour un assuré Nouveau",
            "Rendez-vous souhaité Sur place, à l'accueil de la caisse",
            "Disponibilités de la personne Mardi après-midi",
            "La personne a-t-elle besoin d'être accompagnée ? Oui",
            "Informations utiles Personne malentendante.",
            "Nom Monsieur LEFEBVRE-KERMADEC Armandine",
            "Date de naissance 12/05/1985",
            f"Numéro de sécurité sociale {NIR_SPACED}",
            "Téléphone 06 12 34 56 78",
            "Adresse électronique armandine.lk@exemple.fr",
            "Dépôt → Nouveau",
        ]:
            assert shown in page

    @pytest.mark.parametrize(
        ("slug", "row"),
        [
            ("contacter", "Objet de votre demande Technique"),
            ("signaler", "Motif du signalement Droits"),
            ("rendez-vous", "Motif du rendez-vous Complémentaire santé solidaire (C2S)"),
            ("etude-de-dossier", "Objet de la demande Protection universelle maladie (PUMa)"),
            ("document", "Document demandé Vaccination"),
        ],
    )
    def test_detail_page_names_the_motif_with_its_label(self, technicien_client, slug, row):
        technicien_client.post(create_url(slug), form_data(slug))
        response = technicien_client.get(f"/demandes/{Request.objects.get().number}/")
        assert response.status_code == 200
        assert row in text(response)


@pytest.mark.django_db
class TestValidation:
    @pytest.mark.parametrize("slug", SLUGS)
    def test_empty_submission_marks_the_required_fields(self, technicien_client, slug, mailoutbox, stored_files):
        response = technicien_client.post(create_url(slug), empty_submission(slug))
        assert response.status_code == 200
        expected = REQUIRED_KIND_FIELDS[slug] | (set() if slug == "contacter" else REQUIRED_PERSON_FIELDS)
        assert set(errors(response)) == expected
        assert "Le formulaire contient" in text(response)
        assert "corrigez les champs signalés" in text(response)
        assert not Request.objects.exists() and mailoutbox == [] and stored_files() == []

    def test_case_review_requires_a_supporting_document(self, technicien_client):
        data = form_data("etude-de-dossier")
        del data["attachments"]
        response = technicien_client.post(create_url("etude-de-dossier"), data)
        assert errors(response) == {"attachments": ["Joignez au moins un justificatif."]}
        assert "Joignez au moins un justificatif." in text(response)
        assert not Request.objects.exists()

    @pytest.mark.parametrize(
        ("nir", "message"),
        [
            (
                "1 85 05 75 056",
                "Le numéro de sécurité sociale comporte 15 caractères (13 chiffres et la clé de 2 chiffres).",
            ),
            (
                NIR[:13] + ("01" if NIR[13:] != "01" else "02"),
                "La clé du numéro de sécurité sociale ne correspond pas",
            ),
            ("1 85 05 2C 056 123 45", "Ce numéro de sécurité sociale n'a pas la bonne forme"),
        ],
    )
    @pytest.mark.parametrize("slug", WITH_PERSON)
    def test_bad_nir_is_explained_next_to_the_field(self, technicien_client, slug, nir, message):
        response = technicien_client.post(create_url(slug), form_data(slug, person_nir=nir))
        assert set(errors(response)) == {"person_nir"}
        assert errors(response)["person_nir"][0].startswith(message)
        assert message in text(response)
        assert 'aria-invalid="true"' in response.content.decode()
        assert not Request.objects.exists()

    @pytest.mark.parametrize("slug", WITH_PERSON)
    def test_birth_date_in_the_future_or_today(self, technicien_client, slug):
        today = timezone.localdate()
        for day in [today, today + timedelta(days=1), today + timedelta(days=400)]:
            response = technicien_client.post(create_url(slug), form_data(slug, person_birth_date=day.isoformat()))
            assert errors(response)["person_birth_date"] == ["La date de naissance doit être dans le passé."]
        assert not Request.objects.exists()

    @pytest.mark.parametrize("slug", ["rendez-vous", "etude-de-dossier"])
    def test_other_motif_requires_its_precision(self, technicien_client, slug):
        response = technicien_client.post(create_url(slug), form_data(slug, motif="other", motif_other=""))
        assert errors(response) == {"motif_other": ["Précisez le motif puisque vous avez choisi « Autre »."]}
        assert not Request.objects.exists()

        response = technicien_client.post(
            create_url(slug), form_data(slug, motif="other", motif_other="Transport sanitaire")
        )
        assert response.status_code == 302
        deposited = Request.objects.get()
        assert (deposited.motif, deposited.details["motif_other"]) == ("other", "Transport sanitaire")

    @pytest.mark.parametrize(
        ("slug", "field"),
        [
            ("contacter", "message"),
            ("contacter", "availabilities"),
            ("signaler", "description"),
            ("rendez-vous", "availabilities"),
            ("rendez-vous", "message"),
            ("etude-de-dossier", "description"),
            ("document", "comment"),
        ],
    )
    @pytest.mark.parametrize(
        "written", [NIR, NIR_SPACED, f"{NIR[0]}.{NIR[1:3]}.{NIR[3:5]}.{NIR[5:7]}.{NIR[7:10]}.{NIR[10:]}", NIR[:13]]
    )
    def test_free_text_carrying_a_nir_is_refused(self, technicien_client, slug, field, written):
        response = technicien_client.post(
            create_url(slug), form_data(slug, **{field: f"Son numéro est le {written}, merci."})
        )
        assert list(errors(response)) == [field]
        assert errors(response)[field][0].startswith(NIR_IN_TEXT)
        assert not Request.objects.exists()

    def test_free_text_carrying_a_corsican_nir_is_refused(self, technicien_client):
        corsican = make_nir(department="2A", commune="004", order="081")
        written = " ".join((corsican[0], corsican[1:3], corsican[3:5], corsican[5:7], corsican[7:10], corsican[10:13]))
        response = technicien_client.post(
            create_url("signaler"),
            form_data("signaler", description=f"Né à Ajaccio, NIR {written} {corsican[13:]}, en rupture de droits."),
        )
        assert response.status_code == 200, "the Corsican NIR was accepted in the free text"
        assert list(errors(response)) == ["description"]
        assert not Request.objects.exists()

    def test_free_text_with_a_phone_number_or_a_date_is_fine(self, technicien_client):
        response = technicien_client.post(
            create_url("signaler"),
            form_data("signaler", description="Joignable au 06 12 34 56 78 depuis le 12/03/2026, dossier 2024-118."),
        )
        assert response.status_code == 302

    @pytest.mark.parametrize(
        ("typed", "stored"),
        [
            ("06 12 34 56 78", "06 12 34 56 78"),
            ("0612345678", "06 12 34 56 78"),
            ("06.12.34.56.78", "06 12 34 56 78"),
            ("06-12-34-56-78", "06 12 34 56 78"),
            ("+33 6 12 34 56 78", "06 12 34 56 78"),
            ("+33 06 12 34 56 78", "06 12 34 56 78"),
            ("0033 1 45 67 89 10", "01 45 67 89 10"),
            ("", ""),
        ],
    )
    def test_french_phone_formats_for_the_person(self, technicien_client, typed, stored):
        response = technicien_client.post(create_url("signaler"), form_data("signaler", person_phone=typed))
        assert response.status_code == 302
        assert Request.objects.get().person_phone == stored

    @pytest.mark.parametrize("typed", ["12345", "06 12 34 56", "00 12 34 56 78", "+44 20 7946 0958", "06 12 34 56 7a"])
    def test_bad_phone_is_refused(self, technicien_client, typed):
        response = technicien_client.post(create_url("signaler"), form_data("signaler", person_phone=typed))
        assert errors(response)["person_phone"][0].startswith(
            "Saisissez un numéro de téléphone français à 10 chiffres"
        )
        assert not Request.objects.exists()

    def test_bad_email_for_the_person(self, technicien_client):
        response = technicien_client.post(
            create_url("document"), form_data("document", person_email="pas-une-adresse")
        )
        assert list(errors(response)) == ["person_email"]
        assert not Request.objects.exists()

    def test_unknown_motif_is_refused(self, technicien_client):
        response = technicien_client.post(create_url("signaler"), form_data("signaler", motif="whatever"))
        assert list(errors(response)) == ["motif"]
        assert not Request.objects.exists()

    def test_unknown_kind_is_404(self, technicien_client):
        assert technicien_client.get(create_url("inconnu")).status_code == 404


def motif_options(response):
    html = response.content.decode()
    select = re.search(r'<select name="motif".*?</select>', html, re.S).group(0)
    return [value for value in re.findall(r'<option value="([^"]*)"', select) if value]


INSURED = ["rights_certificate", "ceam", "daily_allowance_certificate"]
PREVENTION = ["vaccination", "mt_dents", "screening", "prevention_exam"]


@pytest.mark.django_db
class TestDocumentHabilitation:
    @pytest.fixture
    def habilitated_client(self, client, caisse):
        structure = StructureFactory(insured_documents_habilitation=True, kind="ase")
        ConventionFactory(structure=structure, caisse=caisse)
        client.force_login(MembershipFactory(structure=structure).user)
        return client

    def test_non_habilitated_structure_sees_only_prevention_documents(self, technicien_client):
        response = technicien_client.get(create_url("document"))
        assert motif_options(response) == PREVENTION
        assert "réservés aux structures habilitées" in text(response)

    @pytest.mark.parametrize("motif", INSURED)
    def test_non_habilitated_structure_cannot_forge_an_insured_document(self, technicien_client, motif, mailoutbox):
        response = technicien_client.post(create_url("document"), form_data("document", motif=motif))
        assert response.status_code == 200
        assert list(errors(response)) == ["motif"]
        assert errors(response)["motif"][0].startswith(
            "Les documents concernant l'assuré (attestation de droits, CEAM, attestation d'indemnités journalières) "
            "sont réservés aux structures habilitées"
        )
        assert 'id="id_motif_error"' in response.content.decode()
        assert not Request.objects.exists() and mailoutbox == []

    @pytest.mark.parametrize("motif", PREVENTION)
    def test_prevention_documents_are_open_to_every_structure(self, technicien_client, motif):
        assert technicien_client.post(create_url("document"), form_data("document", motif=motif)).status_code == 302
        assert Request.objects.get().motif == motif

    def test_habilitated_structure_sees_and_gets_every_document(self, habilitated_client):
        assert motif_options(habilitated_client.get(create_url("document"))) == INSURED + PREVENTION
        for n, motif in enumerate(INSURED + PREVENTION):
            # One person per document kind would be the duplicate guard's business: vary the person.
            data = form_data("document", motif=motif, person_nir=make_nir(order=f"{n + 1:03d}"))
            assert habilitated_client.post(create_url("document"), data).status_code == 302
        assert sorted(Request.objects.values_list("motif", flat=True)) == sorted(INSURED + PREVENTION)


@pytest.mark.django_db
class TestDuplicateGuard:
    @pytest.fixture
    def existing(self, structure, caisse, technicien):
        return RequestFactory(
            structure=structure,
            caisse=caisse,
            author=technicien,
            kind="access_difficulty",
            motif="rights",
            person_nir=NIR,
        )

    @pytest.mark.parametrize(("status", "label"), [("new", "Nouveau"), ("in_progress", "Pris en charge")])
    def test_second_open_request_for_the_same_person_kind_and_motif_is_refused(
        self, technicien_client, existing, status, label, mailoutbox
    ):
        advance(existing, status)
        response = technicien_client.post(create_url("signaler"), form_data("signaler", person_nir=NIR))
        assert response.status_code == 200
        page = text(response)
        deposited_on = timezone.localtime(existing.created_at).strftime("%d/%m/%Y")
        assert (
            f"Une demande est déjà en cours pour cette personne avec le même motif : n° {existing.number} "
            f"({label}, déposée le {deposited_on}). Complétez-la plutôt que d'en déposer une nouvelle."
        ) in page
        assert f'<a href="/demandes/{existing.number}/">n° {existing.number}</a>' in response.content.decode()
        assert Request.objects.count() == 1 and mailoutbox == []

    def test_the_nir_typed_differently_is_the_same_person(self, technicien_client, existing):
        compact_lowercase = NIR.lower()
        dotted = ".".join((NIR[:1], NIR[1:3], NIR[3:5], NIR[5:7], NIR[7:10], NIR[10:13], NIR[13:]))
        for typed in [compact_lowercase, dotted]:
            response = technicien_client.post(create_url("signaler"), form_data("signaler", person_nir=typed))
            assert "Une demande est déjà en cours pour cette personne" in text(response)
        assert Request.objects.count() == 1

    def test_resolved_request_does_not_block(self, technicien_client, existing):
        advance(existing, "resolved")
        assert technicien_client.post(create_url("signaler"), form_data("signaler")).status_code == 302
        assert Request.objects.count() == 2

    def test_another_motif_does_not_block(self, technicien_client, existing):
        assert (
            technicien_client.post(create_url("signaler"), form_data("signaler", motif="emergency")).status_code == 302
        )
        assert Request.objects.count() == 2

    def test_another_kind_with_the_same_motif_does_not_block(self, technicien_client, structure, caisse):
        RequestFactory(structure=structure, caisse=caisse, appointment=True, motif="c2s", person_nir=NIR)
        data = form_data("etude-de-dossier", motif="c2s")
        assert technicien_client.post(create_url("etude-de-dossier"), data).status_code == 302

    def test_another_person_does_not_block(self, technicien_client, existing):
        data = form_data("signaler", person_nir=make_nir(order="777"))
        assert technicien_client.post(create_url("signaler"), data).status_code == 302

    def test_another_structures_request_does_not_block(self, technicien_client, caisse):
        elsewhere = ConventionFactory(caisse=caisse).structure
        RequestFactory(structure=elsewhere, caisse=caisse, motif="rights", person_nir=NIR)
        assert technicien_client.post(create_url("signaler"), form_data("signaler")).status_code == 302

    def test_the_deposit_itself_checks(self, technicien_client, existing, mailoutbox, commit):
        """The duplicate is the deposit's to refuse, under the structure's lock (two users submitting at once cannot
        both pass): the page shows its refusal, and nothing leaves."""
        with commit():
            response = technicien_client.post(create_url("signaler"), form_data("signaler"))
        assert response.status_code == 200
        assert f"Une demande est déjà en cours pour cette personne avec le même motif : n° {existing.number}" in text(
            response
        )
        assert Request.objects.count() == 1 and mailoutbox == []


@pytest.mark.django_db
class TestWhoMayDeposit:
    @pytest.mark.parametrize("status", [Convention.Status.SUSPENDED, Convention.Status.ENDED])
    def test_partner_without_active_convention_cannot_deposit(self, client, caisse, status):
        structure = ConventionFactory(caisse=caisse, status=status).structure
        client.force_login(MembershipFactory(structure=structure).user)
        for slug in SLUGS:
            response = client.get(create_url(slug))
            assert response.status_code == 200
            assert "Aucune convention active" in text(response)
            assert "Déposer la demande" not in text(response)
            response = client.post(create_url(slug), form_data(slug))
            assert "Aucune convention active" in text(response)
        assert not Request.objects.exists()

    @pytest.mark.parametrize("role", ["agent", "caisse_admin"])
    @pytest.mark.parametrize("slug", SLUGS)
    def test_caisse_staff_cannot_reach_the_create_page(self, client, request, role, slug):
        client.force_login(request.getfixturevalue(role))
        assert client.get(create_url(slug)).status_code == 403
        assert client.post(create_url(slug), form_data(slug)).status_code == 403
        assert not Request.objects.exists()

    def test_anonymous_is_sent_to_the_login_page(self, client, db):
        response = client.get(create_url("signaler"))
        assert response.status_code == 302
        assert response["Location"].startswith("/connexion/?next=/demandes/nouvelle/signaler/")

    def test_gestionnaire_deposits_too(self, client, gestionnaire):
        client.force_login(gestionnaire)
        assert client.post(create_url("signaler"), form_data("signaler")).status_code == 302
        assert Request.objects.get().author == gestionnaire

    def test_deposit_goes_to_the_caisse_chosen_in_the_header(self, technicien_client, structure, other_caisse):
        ConventionFactory(structure=structure, caisse=other_caisse)
        technicien_client.post("/caisse/choisir/", {"caisse": other_caisse.pk})
        page = technicien_client.get(create_url("signaler"))
        assert "CPAM de la Loire" in text(page)
        technicien_client.post(create_url("signaler"), form_data("signaler", caisse=shown_caisse(page)))
        deposited = Request.objects.get()
        assert deposited.caisse == other_caisse
        assert deposited.number[2:5] == "421"

    def test_deposit_uses_no_convention_that_is_not_active(self, technicien_client, structure, other_caisse):
        ConventionFactory(structure=structure, caisse=other_caisse, status=Convention.Status.SUSPENDED)
        assert technicien_client.post("/caisse/choisir/", {"caisse": other_caisse.pk}).status_code == 404
        technicien_client.post(create_url("signaler"), form_data("signaler"))
        assert Request.objects.get().caisse.code == "331"


@pytest.mark.django_db
class TestLinkedRequest:
    """« Nouvelle demande liée »: from a resolved request's page, the deposit form with the same person, kind and the
    reference; the address names the request by its number only."""

    @pytest.fixture
    def resolved(self, structure, caisse, technicien):
        return RequestFactory(
            structure=structure,
            caisse=caisse,
            author=technicien,
            resolved=True,
            person_civility="mme",
            person_last_name="Lefebvre-Kermadec",
            person_first_name="Armandine",
            person_nir=NIR,
        )

    def linked_url(self, client, demande):
        page = client.get(f"/demandes/{demande.number}/").content.decode()
        found = re.search(r'<a class="btn btn-primary" href="([^"]+)" data-testid="linked-request">', page)
        return found and found.group(1).replace("&amp;", "&")

    def test_the_resolved_page_offers_it_with_the_number_only(self, technicien_client, resolved):
        url = self.linked_url(technicien_client, resolved)
        assert url == f"/demandes/nouvelle/signaler/?suite={resolved.number}"
        for value in ["Lefebvre", "Armandine", "1985", NIR, NIR[:13]]:
            assert value not in url

    def test_the_form_starts_with_the_person_the_motif_and_the_reference(self, technicien_client, resolved):
        from extranet.audit.models import AccessLog

        response = technicien_client.get(f"/demandes/nouvelle/signaler/?suite={resolved.number}")
        page = response.content.decode()
        assert 'value="Lefebvre-Kermadec"' in page and 'value="Armandine"' in page
        assert 'value="1985-05-12"' in page and f'value="{NIR_SPACED}"' in page
        assert re.search(r'value="mme"[^>]*checked', page) and re.search(r'value="rights"[^>]*checked', page)
        assert f"Suite de la demande n° {resolved.number} : </textarea>" in page
        assert AccessLog.objects.filter(request=resolved, action=AccessLog.Action.DETAIL).count() == 1

        form = response.context["form"]
        data = {name: form[name].value() for name in [*PERSON, "motif", "description", "deposit_token"]}
        data["description"] += "la carte n'est toujours pas arrivée."
        response = technicien_client.post(
            f"/demandes/nouvelle/signaler/?suite={resolved.number}", data | {"caisse": shown_caisse(response)}
        )
        follow_up = Request.objects.exclude(pk=resolved.pk).get()
        assert response.status_code == 302 and response.url == f"/demandes/{follow_up.number}/confirmation/"
        assert (follow_up.person_nir, follow_up.person_last_name, follow_up.motif) == (
            NIR,
            "Lefebvre-Kermadec",
            "rights",
        )
        assert follow_up.details["description"].startswith(f"Suite de la demande n° {resolved.number} : ")

    def test_not_for_another_structure_nor_an_open_request_nor_another_kind(
        self, client, technicien_client, resolved, structure, caisse, technicien
    ):
        still_open = RequestFactory(structure=structure, caisse=caisse, author=technicien)
        assert self.linked_url(technicien_client, still_open) is None
        assert technicien_client.get(f"/demandes/nouvelle/signaler/?suite={still_open.number}").status_code == 404
        assert technicien_client.get(f"/demandes/nouvelle/document/?suite={resolved.number}").status_code == 404
        stranger = MembershipFactory(structure=ConventionFactory(caisse=caisse).structure).user
        client.force_login(stranger)
        assert client.get(f"/demandes/nouvelle/signaler/?suite={resolved.number}").status_code == 404

    def test_not_once_the_convention_is_suspended_nor_for_the_caisse(
        self, client, technicien_client, resolved, structure, agent
    ):
        change_convention_status(structure.conventions.get(), Convention.Status.SUSPENDED)
        assert self.linked_url(technicien_client, resolved) is None
        client.force_login(agent)
        assert self.linked_url(client, resolved) is None
