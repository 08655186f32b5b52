"""What the API returns: what was deposited comes back under the deposit's names and with its raw values, the French
labels beside them; a structure, a caisse and an account are the same objects everywhere; a resolved request carries
its answer."""

from datetime import date

import pytest

from extranet.api.throttling import PerTokenThrottle
from requests import services
from requests.attachments import inspect_upload
from requests.catalog import PERSON_FIELD_NAMES
from requests.forms import MasReferralForm, RequestForm
from requests.models import Message
from requests.nir import format_nir
from tests.factories import CaisseMembershipFactory, RequestFactory, make_nir
from tests.helpers import api_client
from tests.requests.builders import a_pdf

pytestmark = pytest.mark.django_db

# The deposit's person, under its names in the API's `person` object (the catalogue's, without the prefix).
PERSON_KEYS = {name.removeprefix("person_") for name in PERSON_FIELD_NAMES}
NIR = make_nir(sex="2", year="85", month="05")
PERSON = {
    "person_civility": "mme",
    "person_last_name": "Durand",
    "person_first_name": "Léa",
    "person_birth_date": date(1985, 5, 12),
    "person_nir": NIR,
    "person_phone": "0612345678",
    "person_email": "lea.durand@exemple.fr",
}
REFERRAL = {
    "referral_date": date(2026, 3, 2),
    "contexts": ["care_renunciation", "digital_fragility"],
    "actions": ["c2s_application", "other"],
    "action_other": "Dossier d'aide au transport",
    "cares": ["pharmacy"],
    "care_other": "",
    "renunciation_duration": "over_1_year",
    "causes": ["transport"],
    "cause_other": "",
    "detector_name": "Martine LAPIERRE",
    "detector_structure": "Association Alpha",
    "detector_email": "referente@exemple.fr",
    "detector_phone": "0556000000",
    "consent_mode": "remote",
}


@pytest.fixture(autouse=True)
def generous_rate(monkeypatch):
    monkeypatch.setattr(PerTokenThrottle, "THROTTLE_RATES", {"token": "10000/minute"})


def read(client, path):
    response = client.get(f"/api/v1/{path}")
    assert response.status_code == 200, response.json()
    return response.json()


def account(user):
    return {"id": user.pk, "name": user.get_full_name()}


def files(*names):
    uploads = [a_pdf(name) for name in names]
    return [(upload, *inspect_upload(upload)) for upload in uploads]


def test_the_person_comes_back_under_the_deposits_names_with_its_raw_values(technicien, structure, caisse):
    deposited = services.deposit_request(
        kind="access_difficulty",
        motif="rights",
        structure=structure,
        caisse=caisse,
        author=technicien,
        details={"description": "Rupture de droits depuis mars."},
        person=PERSON | {"person_nir": format_nir(NIR)},  # typed with spaces: stored, and returned, without
        files=[],
    )
    person = read(api_client(technicien), f"requests/{deposited.number}/")["person"]
    assert set(person) == PERSON_KEYS | {"nir_display"}
    assert person == {
        "civility": "mme",
        "last_name": "Durand",
        "first_name": "Léa",
        "birth_date": "1985-05-12",
        "nir": NIR,
        "nir_display": format_nir(NIR),
        "phone": "0612345678",
        "email": "lea.durand@exemple.fr",
    }
    assert (len(person["nir"]), " " in person["nir"], person["nir_display"].count(" ")) == (15, False, 6)


def test_the_details_come_back_as_sent_with_their_french_display_beside(technicien, structure, caisse):
    sent = {
        "motif_other": "",
        "channel": "in_person",
        "availabilities": "Mardi matin",
        "needs_accompaniment": "no",
        "message": "",
    }
    deposited = services.deposit_request(
        kind="appointment",
        motif="c2s",
        structure=structure,
        caisse=caisse,
        author=technicien,
        details=sent,
        person=PERSON,
        files=[],
    )
    detail = read(api_client(technicien), f"requests/{deposited.number}/")
    assert detail["details"] == sent
    assert detail["details_display"] == [
        {"name": "channel", "label": "Rendez-vous souhaité", "value": "Sur place, à l'accueil de la caisse"},
        {"name": "availabilities", "label": "Disponibilités de la personne", "value": "Mardi matin"},
        {"name": "needs_accompaniment", "label": "La personne a-t-elle besoin d'être accompagnée ?", "value": "Non"},
    ]
    assert (detail["kind"], detail["motif"], detail["motif_label"]) == (
        "appointment",
        "c2s",
        "Complémentaire santé solidaire (C2S)",
    )


def test_a_contact_has_no_person_and_its_details(technicien, structure, caisse):
    sent = {"channel": "video", "availabilities": "Le jeudi", "message": "Une question sur la convention."}
    deposited = services.deposit_request(
        kind="contact",
        motif="technical",
        structure=structure,
        caisse=caisse,
        author=technicien,
        details=sent,
        person={},
        files=[],
    )
    detail = read(api_client(technicien), f"requests/{deposited.number}/")
    assert (detail["person"], detail["details"], detail["mas_referral"]) == (None, sent, None)
    assert [shown["value"] for shown in detail["details_display"]] == [
        "Visioconférence",
        "Le jeudi",
        "Une question sur la convention.",
    ]


def test_the_mas_referral_comes_back_under_its_forms_names(technicien, agent, structure, caisse):
    deposited = services.deposit_mas_referral(
        referral=REFERRAL,
        consent_document=[],
        notice_given=True,
        structure=structure,
        caisse=caisse,
        author=technicien,
        person=PERSON,
        files=[],
    )
    services.mark_confirmation_letter_sent(deposited, agent=agent)
    referral = read(api_client(technicien), f"requests/{deposited.number}/")["mas_referral"]
    # Every field of the referral's form but the notice's tick box (the notice's version is kept instead) and its
    # files (the signed sheet is `consent_document`, an attachment's id).
    form_names = set(MasReferralForm.base_fields) - set(RequestForm.base_fields) - {"notice_given"}
    assert form_names <= set(referral)
    assert {name: referral[name] for name in REFERRAL} == REFERRAL | {"referral_date": "2026-03-02"}
    assert (referral["consent_document"], referral["notice_version"]) == (None, "2026-01")
    assert referral["confirmation_letter_sent_at"] is not None


def test_structure_caisse_and_accounts_are_the_same_objects_everywhere(technicien, agent, structure, caisse):
    demande = RequestFactory(structure=structure, caisse=caisse, author=technicien)
    partner = api_client(technicien)
    the_structure, the_caisse = {"id": structure.pk, "name": structure.name}, {"code": "331", "name": caisse.name}

    me = read(partner, "me/")
    assert (me["structure"], me["caisses"]) == (the_structure | {"siret": structure.siret}, [the_caisse])
    assert read(api_client(agent), "me/")["caisse"] == the_caisse
    row = read(partner, "requests/")["results"][0]
    assert (row["structure"], row["caisse"], row["author"], row["assigned_to"]) == (
        the_structure,
        the_caisse,
        account(technicien),
        None,
    )

    services.take_charge(demande, agent=agent)
    services.post_message(demande, author=agent, body="Pouvez-vous préciser ?")
    detail = read(partner, f"requests/{demande.number}/")
    assert (detail["structure"], detail["caisse"], detail["author"], detail["assigned_to"]) == (
        the_structure,
        the_caisse,
        account(technicien),
        account(agent),
    )
    assert [(change["by"], change["assigned_to"]) for change in detail["status_history"]] == [
        (account(technicien), None),
        (account(agent), account(agent)),
    ]
    assert [message["author"] for message in read(partner, f"requests/{demande.number}/messages/")] == [account(agent)]


def test_the_answer_is_on_the_detail_once_resolved_with_its_files(technicien, agent, structure, caisse):
    demande = RequestFactory(structure=structure, caisse=caisse, author=technicien, in_progress=agent)
    partner = api_client(technicien)
    assert read(partner, f"requests/{demande.number}/")["answer"] is None

    services.resolve(demande, agent=agent, answer="Voici l'attestation demandée.", files=files("attestation.pdf"))
    detail = read(partner, f"requests/{demande.number}/")
    answer = Message.objects.get(is_answer=True)
    attachments = read(partner, f"requests/{demande.number}/attachments/")
    assert detail["answer"] == {
        "text": "Voici l'attestation demandée.",
        "at": detail["resolved_at"],
        "by": account(agent),
        "files": [attachment for attachment in attachments if attachment["message"] == str(answer.public_id)],
    }
    assert [file["name"] for file in detail["answer"]["files"]] == ["attestation.pdf"]
    assert "answer" not in read(partner, "requests/")["results"][0]


def test_an_answer_without_files_has_an_empty_list(technicien, structure, caisse):
    demande = RequestFactory(structure=structure, caisse=caisse, author=technicien, resolved="C'est fait.")
    answer = read(api_client(technicien), f"requests/{demande.number}/")["answer"]
    assert (answer["text"], answer["files"]) == ("C'est fait.", [])


@pytest.mark.parametrize(("resolved", "queries"), [(False, 6), (True, 8)])
def test_the_detail_reads_a_constant_number_of_queries(
    technicien, structure, caisse, django_assert_num_queries, resolved, queries
):
    """Token with its user and memberships, second factor, the request's count (one upsert), the request with its
    caisse, structure, accounts and MAS referral, its status log, the journal's row; resolved, the answer and its
    files too. As many whatever the log's length and the answer's files."""
    for changes, answer_files in ((1, 1), (4, 3)):
        demande = RequestFactory(structure=structure, caisse=caisse, author=technicien)
        agents = [CaisseMembershipFactory(caisse=caisse).user for _ in range(changes)]
        services.take_charge(demande, agent=agents[0])
        for holder in agents[1:]:
            services.reassign(demande, admin=CaisseMembershipFactory(caisse=caisse, admin=True).user, agent=holder)
        if resolved:
            names = [f"piece-{n}.pdf" for n in range(answer_files)]
            services.resolve(demande, agent=agents[-1], answer="Fait.", files=files(*names))
        client = api_client(technicien)
        client.get("/api/v1/me/")  # the token's first use is recorded, and the process's caches filled
        with django_assert_num_queries(queries):
            response = client.get(f"/api/v1/requests/{demande.number}/")
        assert response.status_code == 200
        assert len(response.json()["status_history"]) == 1 + changes + resolved
