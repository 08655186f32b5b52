"""The deposit service refuses what the domain forbids, whoever calls it (the seed, the benchmark, an import): the
same rules and the same French messages as the deposit pages, at the same fields, and nothing written."""

from datetime import date, datetime, timedelta

import pytest
from django.core.exceptions import NON_FIELD_ERRORS
from django.utils import timezone

from requests import mas, services
from requests.attachments import inspect_upload
from requests.models import MasReferral, NumberSequence, Request, StatusChange
from tests.factories import ConventionFactory, MembershipFactory, StructureFactory, make_nir
from tests.requests.builders import NIR, NIR_SPACED, a_pdf

REQUIRED = "Ce champ est obligatoire."
NOT_HABILITATED = (
    "Les documents concernant l'assuré (attestation de droits, CEAM, attestation d'indemnités journalières) sont "
    "réservés aux structures habilitées : tutelles, curatelles habilitées, services de l'aide sociale à "
    "l'enfance. Votre structure ne l'est pas ; les documents de prévention restent accessibles. Pour une "
    "habilitation, contactez le service partenariats de votre caisse."
)
PRECISION_MISSING = "Précisez le motif puisque vous avez choisi « Autre »."
NIR_IN_TEXT = (
    "Ce texte contient une longue suite de chiffres : n'y écrivez pas de numéro de sécurité sociale, il a son propre "
    "champ."
)
PERSON = {
    "person_civility": "m",
    "person_last_name": "Lefebvre",
    "person_first_name": "Armand",
    "person_birth_date": date(1985, 5, 12),
    "person_nir": NIR_SPACED,
    "person_phone": "",
    "person_email": "",
}
DETAILS = {
    "contact": {"channel": "phone", "availabilities": "Lundi matin", "message": "Une question."},
    "access_difficulty": {"description": "Rupture de droits depuis mars."},
    "appointment": {
        "motif_other": "",
        "channel": "in_person",
        "availabilities": "Mardi",
        "needs_accompaniment": "no",
        "message": "",
    },
    "case_review": {"motif_other": "", "description": "Dossier PUMa."},
    "document": {"comment": ""},
}
MOTIFS = {
    "contact": "technical",
    "access_difficulty": "rights",
    "appointment": "c2s",
    "case_review": "puma",
    "document": "vaccination",
}
REFERRAL = {
    "referral_date": date(2026, 3, 2),
    "contexts": ["care_renunciation"],
    "actions": ["c2s_application"],
    "action_other": "",
    "cares": ["pharmacy"],
    "care_other": "",
    "renunciation_duration": "over_1_year",
    "causes": ["transport"],
    "cause_other": "",
    "detector_name": "Martine Lapierre",
    "detector_structure": "UDAF",
    "detector_email": "referente@exemple.fr",
    "detector_phone": "",
    "consent_mode": "remote",
}
TODAY = timezone.make_aware(datetime(2026, 3, 10, 9, 30))


def files(count=1):
    """Files as the attachments field hands them to the services: each checked, with its type and digest."""
    uploads = [a_pdf(f"piece-{n}.pdf") for n in range(count)]
    return [(upload, *inspect_upload(upload)) for upload in uploads]


def deposit(structure, caisse, author, kind="access_difficulty", **overrides):
    """What a valid deposit of this kind gives the service; `overrides` replace or, for details, complete it."""
    details = DETAILS[kind] | overrides.pop("details", {})
    return {
        "kind": kind,
        "motif": MOTIFS[kind],
        "structure": structure,
        "caisse": caisse,
        "author": author,
        "details": details,
        "person": {} if kind == "contact" else dict(PERSON),
        # A file with every deposit, so that a refused one shows it left none behind.
        "files": files(),
    } | overrides


@pytest.fixture(autouse=True)
def frozen_time(time_machine):
    time_machine.move_to(TODAY, tick=False)


@pytest.fixture
def refused(stored_files, mailoutbox):
    """Call a deposit service, expect its refusal, and check that it wrote nothing: no request, no log row, no number
    consumed, no file, no email."""

    def refused(service=services.deposit_request, **deposit):
        before = (Request.objects.count(), list(NumberSequence.objects.values_list("caisse_id", "last_value")))
        files_before, mails_before = stored_files(), len(mailoutbox)
        with pytest.raises(services.DepositRefused) as refusal:
            service(**deposit)
        assert (Request.objects.count(), list(NumberSequence.objects.values_list("caisse_id", "last_value"))) == before
        assert StatusChange.objects.count() == before[0]
        assert stored_files() == files_before
        assert len(mailoutbox) == mails_before
        return refusal.value

    return refused


@pytest.mark.django_db
class TestWhatTheServiceAccepts:
    @pytest.mark.parametrize("kind", list(DETAILS))
    def test_a_valid_deposit_of_each_kind(self, structure, caisse, technicien, kind):
        deposited = services.deposit_request(**deposit(structure, caisse, technicien, kind))
        assert (deposited.kind, deposited.motif, deposited.status) == (kind, MOTIFS[kind], "new")
        assert deposited.details == DETAILS[kind]

    def test_the_nir_is_stored_in_its_canonical_form_and_unanswered_details_empty(self, structure, caisse, technicien):
        answered = {"channel": "phone", "availabilities": "Lundi", "needs_accompaniment": "yes"}
        deposited = services.deposit_request(
            **deposit(structure, caisse, technicien, "appointment") | {"details": answered}
        )
        deposited.refresh_from_db()
        assert deposited.person_nir == NIR
        assert deposited.details == answered | {"motif_other": "", "message": ""}


@pytest.mark.django_db
class TestWhatTheServiceRefuses:
    def test_an_insured_person_document_for_a_structure_without_the_habilitation(
        self, refused, structure, caisse, technicien
    ):
        assert not structure.insured_documents_habilitation
        for motif in ["rights_certificate", "ceam", "daily_allowance_certificate"]:
            refusal = refused(**deposit(structure, caisse, technicien, "document", motif=motif))
            assert refusal.errors == {"motif": [NOT_HABILITATED]}

    def test_the_same_documents_for_a_habilitated_structure(self, caisse):
        structure = StructureFactory(insured_documents_habilitation=True, kind="ase")
        ConventionFactory(structure=structure, caisse=caisse)
        author = MembershipFactory(structure=structure).user
        for n, motif in enumerate(["rights_certificate", "ceam", "daily_allowance_certificate"]):
            person = PERSON | {"person_nir": make_nir(order=f"{n + 1:03d}")}
            data = deposit(structure, caisse, author, "document", motif=motif, person=person)
            assert services.deposit_request(**data).motif == motif

    @pytest.mark.parametrize(
        ("birth_date", "message"),
        [
            (
                date(1986, 5, 12),
                "L'année de naissance ne correspond pas au numéro de sécurité sociale (2e et 3e chiffres).",
            ),
            (
                date(1985, 6, 12),
                "Le mois de naissance ne correspond pas au numéro de sécurité sociale (4e et 5e chiffres).",
            ),
        ],
    )
    def test_a_nir_that_contradicts_the_birth_date(self, refused, structure, caisse, technicien, birth_date, message):
        person = PERSON | {"person_birth_date": birth_date}
        refusal = refused(**deposit(structure, caisse, technicien, person=person))
        assert refusal.errors == {"person_birth_date": [message]}

    @pytest.mark.parametrize("kind", ["appointment", "case_review"])
    def test_autre_without_its_precision(self, refused, structure, caisse, technicien, kind):
        refusal = refused(**deposit(structure, caisse, technicien, kind, motif="other"))
        assert refusal.errors == {"motif_other": [PRECISION_MISSING]}

    def test_autre_with_its_precision_is_accepted(self, structure, caisse, technicien):
        data = deposit(
            structure, caisse, technicien, "appointment", motif="other", details={"motif_other": "Transport"}
        )
        assert services.deposit_request(**data).details["motif_other"] == "Transport"

    @pytest.mark.parametrize(
        ("kind", "motif"),
        [("access_difficulty", "ame"), ("document", "other"), ("contact", ""), ("appointment", None)],
    )
    def test_a_motif_that_is_not_the_kinds(self, refused, structure, caisse, technicien, kind, motif):
        refusal = refused(**deposit(structure, caisse, technicien, kind, motif=motif))
        expected = f"Sélectionnez un choix valide. {motif} n’en fait pas partie." if motif else REQUIRED
        assert refusal.errors == {"motif": [expected]}

    def test_an_unknown_kind(self, refused, structure, caisse, technicien):
        refusal = refused(**deposit(structure, caisse, technicien) | {"kind": "pizza"})
        assert refusal.errors == {
            "kind": [
                "Choisissez un type de demande parmi : contact, access_difficulty, appointment, case_review, document."
            ]
        }

    @pytest.mark.parametrize("kind", ["access_difficulty", "appointment", "case_review", "document"])
    def test_a_kind_that_needs_a_person_without_one(self, refused, structure, caisse, technicien, kind):
        refusal = refused(**deposit(structure, caisse, technicien, kind, person={}))
        assert refusal.errors == {
            name: [REQUIRED]
            for name in ["person_civility", "person_last_name", "person_first_name", "person_birth_date", "person_nir"]
        }

    def test_a_person_for_the_kind_without_one(self, refused, structure, caisse, technicien):
        refusal = refused(**deposit(structure, caisse, technicien, "contact", person=dict(PERSON)))
        assert list(refusal.errors) == [NON_FIELD_ERRORS]

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
        ],
    )
    def test_an_invalid_nir(self, refused, structure, caisse, technicien, nir, message):
        refusal = refused(**deposit(structure, caisse, technicien, person=PERSON | {"person_nir": nir}))
        assert list(refusal.errors) == ["person_nir"]
        assert refusal.errors["person_nir"][0].startswith(message)

    @pytest.mark.parametrize("birth_date", [TODAY.date(), TODAY.date() + timedelta(days=1), date(1899, 12, 31)])
    def test_a_birth_date_today_in_the_future_or_before_1900(self, refused, structure, caisse, technicien, birth_date):
        refusal = refused(**deposit(structure, caisse, technicien, person=PERSON | {"person_birth_date": birth_date}))
        expected = (
            "Vérifiez l'année de naissance."
            if birth_date.year < 1900
            else "La date de naissance doit être dans le passé."
        )
        assert refusal.errors == {"person_birth_date": [expected]}

    def test_a_missing_detail_an_unknown_one_and_a_choice_that_is_not_the_fields(
        self, refused, structure, caisse, technicien
    ):
        details = {"channel": "pigeon", "availabilities": "Lundi", "colour": "bleu"}
        refusal = refused(**deposit(structure, caisse, technicien, "contact") | {"details": details})
        assert refusal.errors == {
            "colour": ["Ce champ n'existe pas pour ce type de demande."],
            "channel": ["Sélectionnez un choix valide. pigeon n’en fait pas partie."],
            "message": [REQUIRED],
        }

    def test_a_nir_written_in_a_free_text(self, refused, structure, caisse, technicien):
        details = {"description": f"Son numéro est le {NIR_SPACED}."}
        refusal = refused(**deposit(structure, caisse, technicien, details=details))
        assert refusal.errors == {"description": [NIR_IN_TEXT]}

    def test_fewer_attachments_than_the_kind_asks(self, refused, structure, caisse, technicien):
        refusal = refused(**deposit(structure, caisse, technicien, "case_review", files=[]))
        assert refusal.errors == {"attachments": ["Joignez au moins un justificatif."]}

    def test_the_mas_referral_without_its_form(self, refused, structure, caisse, technicien):
        refusal = refused(**deposit(structure, caisse, technicien, motif="mas_referral", details={}))
        assert list(refusal.errors) == ["motif"]
        assert "fiche de saisine et l'accord de la personne" in refusal.errors["motif"][0]

    def test_every_refusal_at_once(self, refused, structure, caisse, technicien):
        person = PERSON | {"person_birth_date": date(1990, 5, 12)}
        refusal = refused(
            **deposit(structure, caisse, technicien, "case_review", motif="other", person=person, files=[])
        )
        assert set(refusal.errors) == {"person_birth_date", "motif_other", "attachments"}

    def test_a_second_open_request_for_the_same_person_kind_and_motif(
        self, refused, structure, caisse, technicien, stored_files
    ):
        first = services.deposit_request(**deposit(structure, caisse, technicien, "case_review"))
        again = deposit(structure, caisse, technicien, "case_review", person=PERSON | {"person_nir": NIR.lower()})
        refusal = refused(**again)
        assert isinstance(refusal, services.DuplicateOpenRequest) and refusal.existing == first
        assert refusal.errors == {
            NON_FIELD_ERRORS: [
                f"Une demande est déjà en cours pour cette personne avec le même motif : n° {first.number} (Nouveau, "
                "déposée le 10/03/2026). Complétez-la plutôt que d'en déposer une nouvelle."
            ]
        }
        assert len(stored_files()) == 1  # the first request's file only
        other_person = PERSON | {"person_nir": make_nir(order="777")}
        assert services.deposit_request(**again | {"person": other_person}).number == f"{first.number[:-1]}2"

    def test_no_active_convention(self, refused, structure, other_caisse, technicien):
        refusal = refused(**deposit(structure, other_caisse, technicien))
        assert isinstance(refusal, services.NoActiveConvention)
        assert refusal.errors == {
            "caisse": [
                "La convention de votre structure avec cette caisse n'est plus active : "
                "la demande n'a pas été déposée."
            ]
        }


def referral_deposit(structure, caisse, author, *, referral=None, consent_document=(), **overrides):
    return {
        "structure": structure,
        "caisse": caisse,
        "author": author,
        "person": dict(PERSON),
        "files": files(),
        "referral": REFERRAL | (referral or {}),
        "consent_document": list(consent_document),
        "notice_given": True,
    } | overrides


@pytest.mark.django_db
class TestTheMasReferral:
    def test_a_valid_referral_is_its_kinds_mas_motif(self, structure, caisse, technicien):
        deposited = services.deposit_mas_referral(**referral_deposit(structure, caisse, technicien))
        assert (deposited.kind, deposited.motif, deposited.details) == ("access_difficulty", "mas_referral", {})
        assert deposited.is_mas_referral
        assert MasReferral.objects.get().request == deposited

    @pytest.mark.parametrize(
        ("referral", "consent_document", "errors"),
        [
            (
                {"consent_mode": ""},
                0,
                {
                    "consent_mode": [
                        "Sans l'accord de la personne, la saisine ne peut pas être transmise : indiquez comment son "
                        "accord a été recueilli."
                    ]
                },
            ),
            (
                {"consent_mode": "signed"},
                0,
                {"consent_document": ["Joignez la fiche de saisine signée par la personne."]},
            ),
            ({"consent_mode": "signed"}, 2, {"consent_document": ["Joignez une seule fiche signée."]}),
            ({"contexts": []}, 0, {"contexts": [REQUIRED]}),
            ({"cares": ["pharmacy", "other"]}, 0, {"care_other": ["Précisez, puisque vous avez coché « Autre »."]}),
            (
                {"cares": [], "renunciation_duration": ""},
                0,
                {
                    "cares": [
                        "Cochez au moins un soin non réalisé. "
                        "Obligatoire quand le contexte comprend un renoncement aux soins."
                    ],
                    "renunciation_duration": [
                        "Indiquez depuis combien de temps. Obligatoire quand le contexte comprend un renoncement aux "
                        "soins."
                    ],
                },
            ),
            (
                {"referral_date": date(2026, 3, 11)},
                0,
                {"referral_date": ["La date de la saisine ne peut pas être dans le futur."]},
            ),
        ],
    )
    def test_what_the_referral_form_refuses(
        self, refused, structure, caisse, technicien, referral, consent_document, errors
    ):
        data = referral_deposit(
            structure, caisse, technicien, referral=referral, consent_document=files(consent_document)
        )
        assert refused(services.deposit_mas_referral, **data).errors == errors
        assert not MasReferral.objects.exists()

    def test_a_consent_at_a_distance_needs_the_notice_given(self, refused, structure, caisse, technicien):
        """Without the person's informed agreement, no referral (the service's rule, not only the form's)."""
        data = referral_deposit(structure, caisse, technicien, notice_given=False)
        assert refused(services.deposit_mas_referral, **data).errors == {"notice_given": [mas.NOTICE_NOT_GIVEN]}
        signed = referral_deposit(
            structure, caisse, technicien, referral={"consent_mode": "signed"}, consent_document=files(1)
        )
        assert services.deposit_mas_referral(**signed | {"notice_given": False}).motif == "mas_referral"

    @pytest.mark.parametrize(
        ("person", "errors"),
        [
            (
                {"person_last_name": "N" * 151},
                {
                    "person_last_name": [
                        "Assurez-vous que cette valeur comporte au plus 150 caractères (actuellement 151)."
                    ]
                },
            ),
            ({"person_email": "pas-une-adresse"}, {"person_email": ["Saisissez une adresse e-mail valide."]}),
            (
                {"person_phone": "12"},
                {
                    "person_phone": [
                        "Saisissez un numéro de téléphone français à 10 chiffres, par exemple 06 12 34 56 78 ou "
                        "+33 6 12 34 56 78."
                    ]
                },
            ),
        ],
    )
    def test_what_a_text_field_would_refuse(self, refused, structure, caisse, technicien, person, errors):
        """Lengths and forms, as the fields check them: on PostgreSQL a long name would otherwise be a 500."""
        data = deposit(structure, caisse, technicien, person=PERSON | person)
        assert refused(**data).errors == errors

    def test_a_free_text_longer_than_its_field(self, refused, structure, caisse, technicien):
        data = deposit(structure, caisse, technicien, details={"description": "x" * 3001})
        assert list(refused(**data).errors) == ["description"]

    def test_the_person_rules_hold_for_a_referral_too(self, refused, structure, caisse, technicien):
        person = PERSON | {"person_birth_date": date(1986, 5, 12)}
        refusal = refused(
            services.deposit_mas_referral, **referral_deposit(structure, caisse, technicien, person=person)
        )
        assert list(refusal.errors) == ["person_birth_date"]
