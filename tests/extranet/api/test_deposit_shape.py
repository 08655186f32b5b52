"""The deposit's body as the schema describes it: nested (`person`, `details`, `mas_referral`), one variant per kind,
read into the pages' forms, its errors all at once under the names the client sent."""

import json
from datetime import date

import jsonschema
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from drf_spectacular.generators import SchemaGenerator

from extranet.api.errors import INVALID
from extranet.management.commands.seed_demo import CAISSES as DEMO_CAISSES
from requests.attachments import TOO_FEW_ATTACHMENTS
from requests.catalog import KINDS, PERSON_FIELDS
from requests.deposit_rules import UNKNOWN_FIELD, UNKNOWN_KIND
from requests.forms import MasReferralForm, RequestForm
from requests.models import Request
from requests.nir import nir_birth_mismatch
from tests.factories import make_nir
from tests.helpers import api_client
from tests.requests.builders import pdf_bytes

pytestmark = pytest.mark.django_db

PERSON = {
    "civility": "mme",
    "last_name": "Durand",
    "first_name": "Lucie",
    "birth_date": "1985-05-14",
    "nir": make_nir(sex="2", year="85", month="05"),
}
APPOINTMENT = {
    "kind": "appointment",
    "motif": "ame",
    "person": PERSON,
    "details": {"channel": "phone", "availabilities": "Le matin.", "needs_accompaniment": "no"},
}


@pytest.fixture(scope="module")
def schema():
    return SchemaGenerator().get_schema(request=None, public=True)


def deposit_examples(schema):
    """(title, JSON object of the deposit, files needed) of every request example of the deposit, read from the
    schema: the multipart ones' object is their `data` part."""
    content = schema["paths"]["/api/v1/requests/"]["post"]["requestBody"]["content"]
    found = [(title, example["value"], False) for title, example in content["application/json"]["examples"].items()]
    multipart = content["multipart/form-data"].get("examples", {})
    found += [(title, example["value"]["data"], True) for title, example in multipart.items()]
    return found


def validator(schema, component):
    root = {"$ref": f"#/components/schemas/{component}", "components": schema["components"]}
    return jsonschema.Draft7Validator(root, format_checker=jsonschema.Draft7Validator.FORMAT_CHECKER)


def post(client, body, files=None):
    if files is None:
        return client.post("/api/v1/requests/", body, format="json")
    return client.post("/api/v1/requests/", {"data": json.dumps(body), **files}, format="multipart")


def a_pdf(name="piece.pdf"):
    return SimpleUploadedFile(name, pdf_bytes(name), content_type="application/pdf")


def test_there_is_an_example_of_each_kind_and_of_the_mas_referral(schema):
    bodies = [body for _, body, _ in deposit_examples(schema)]
    assert {body["kind"] for body in bodies} == set(KINDS)
    assert "mas_referral" in {body["motif"] for body in bodies}
    # A client trying them on the demo finds their caisse there.
    assert {body["caisse"] for body in bodies} <= {code for code, _ in DEMO_CAISSES}


def test_every_deposit_example_validates_against_the_schema_and_is_deposited(schema, technicien):
    deposit = validator(schema, "Deposit")
    partner = api_client(technicien)
    for title, body, needs_files in deposit_examples(schema):
        errors = [f"{'.'.join(map(str, error.absolute_path))}: {error.message}" for error in deposit.iter_errors(body)]
        assert errors == [], title
        # Caisse 331: the tests' CPAM de la Gironde, as in the demo (extranet/management/commands/seed_demo.py).
        assert body["caisse"] == technicien.membership.structure.conventions.get().caisse.code
        created = post(partner, body, {"attachments": [a_pdf()]} if needs_files else None)
        assert created.status_code == 201, (title, created.json())
        detail = created.json()
        assert (detail["kind"], detail["motif"]) == (body["kind"], body["motif"])
    assert Request.objects.count() == len(deposit_examples(schema))


def test_the_schema_refuses_what_the_server_refuses_for_its_shape(schema):
    deposit = validator(schema, "Deposit")
    assert deposit.is_valid(APPOINTMENT)
    assert not deposit.is_valid({**APPOINTMENT, "person_last_name": "Durand"})
    assert not deposit.is_valid({**APPOINTMENT, "person": {**PERSON, "nir": "2 85 05 75 056 123"}})
    assert not deposit.is_valid({**APPOINTMENT, "motif": "mas_referral"})
    assert not deposit.is_valid({**APPOINTMENT, "details": {**APPOINTMENT["details"], "channel": "pigeon"}})
    assert not deposit.is_valid({key: value for key, value in APPOINTMENT.items() if key != "person"})


def test_the_nested_body_is_deposited_as_the_page_would(technicien):
    created = post(api_client(technicien), APPOINTMENT)
    assert created.status_code == 201, created.json()
    request = Request.objects.get()
    assert (request.kind, request.motif, request.person_last_name, request.person_nir) == (
        "appointment",
        "ame",
        "Durand",
        PERSON["nir"],
    )
    assert request.details == {
        "motif_other": "",
        "channel": "phone",
        "availabilities": "Le matin.",
        "needs_accompaniment": "no",
        "message": "",
    }


def test_every_field_error_comes_at_once_under_the_clients_names(technicien):
    body = {
        "kind": "appointment",
        "motif": "other",
        "caisse": "999",
        "person": {**PERSON, "nir": make_nir(month="13"), "email": "pas-une-adresse"},
        "details": {"channel": "pigeon", "availabilities": "", "needs_accompaniment": "yes"},
    }
    refused = post(api_client(technicien), body)
    assert refused.status_code == 400
    answer = refused.json()
    # The caisse's refusal gives the answer its code (without a caisse the request goes nowhere); the other fields'
    # errors come with it.
    caisse = "Aucune convention active de votre structure avec la caisse 999 : la demande n'a pas été déposée."
    assert (answer["code"], answer["message"]) == ("unknown_caisse", caisse)
    assert set(answer["fields"]) == {
        "caisse",
        "person.nir",
        "person.email",
        "details.motif_other",
        "details.channel",
        "details.availabilities",
    }
    assert answer["fields"]["details.channel"] == ["Sélectionnez un choix valide. pigeon n’en fait pas partie."]
    assert answer["fields"]["caisse"] == [caisse]
    assert not Request.objects.exists()


def test_the_mas_referral_errors_are_under_mas_referral(technicien):
    body = {
        "kind": "access_difficulty",
        "motif": "mas_referral",
        "person": {**PERSON, "birth_date": "1990-05-14"},
        "mas_referral": {"referral_date": "2026-01-05", "contexts": [], "detector_email": "detecteur@exemple.fr"},
    }
    answer = post(api_client(technicien), body).json()
    assert answer["code"] == "invalid"
    assert answer["fields"]["mas_referral.consent_mode"]
    assert answer["fields"]["mas_referral.contexts"]
    # The domain's rule on the person, with the forms' message, under the person's name.
    assert answer["fields"]["person.birth_date"] == [nir_birth_mismatch(PERSON["nir"], date(1990, 5, 14))]


def test_values_of_the_wrong_json_type_are_refused_with_the_other_errors(technicien):
    body = {
        **APPOINTMENT,
        "caisse": 331,
        "person": {**PERSON, "last_name": {"nom": "Durand"}, "first_name": ""},
        "details": {**APPOINTMENT["details"], "channel": ["phone"]},
    }
    answer = post(api_client(technicien), body).json()
    assert answer["fields"] == {
        "caisse": ["Une chaîne de caractères est attendue."],
        "person.last_name": ["Une chaîne de caractères est attendue."],
        "person.first_name": ["Ce champ est obligatoire."],
        "details.channel": ["Une chaîne de caractères est attendue."],
    }
    mas = {"kind": "access_difficulty", "motif": "mas_referral", "person": PERSON}
    answer = post(api_client(technicien), {**mas, "mas_referral": {"contexts": "care_renunciation"}}).json()
    assert answer["fields"]["mas_referral.contexts"] == ["Une liste de chaînes de caractères est attendue."]
    answer = post(api_client(technicien), {**mas, "mas_referral": {"notice_given": "yes"}}).json()
    assert answer["fields"]["mas_referral.notice_given"] == ["true ou false est attendu."]
    answer = post(api_client(technicien), {**APPOINTMENT, "person": ["Durand"]}).json()
    assert answer["fields"]["person"] == ["Un objet JSON est attendu."]
    assert not Request.objects.exists()


@pytest.mark.parametrize(
    "body, unknown",
    [
        ({**APPOINTMENT, "person_last_name": "Durand", "priority": "high"}, ["person_last_name", "priority"]),
        ({**APPOINTMENT, "person": {**PERSON, "person_nir": "x"}}, ["person.person_nir"]),
        ({**APPOINTMENT, "details": {**APPOINTMENT["details"], "description": "?"}}, ["details.description"]),
        ({**APPOINTMENT, "mas_referral": {}}, ["mas_referral"]),
        (
            {"kind": "contact", "motif": "technical", "person": PERSON, "details": {"channel": "phone"}},
            ["person"],
        ),
        (
            {"kind": "access_difficulty", "motif": "mas_referral", "person": PERSON, "details": {"description": "?"}},
            ["details"],
        ),
    ],
)
def test_unknown_fields_are_refused_by_name(technicien, body, unknown):
    refused = post(api_client(technicien), body)
    assert refused.status_code == 400
    answer = refused.json()
    assert answer["code"] == "unknown_fields"
    assert answer["fields"] == {name: [UNKNOWN_FIELD] for name in unknown}
    assert all(name in answer["message"] for name in unknown)
    assert not Request.objects.exists()


def test_a_consent_document_is_no_file_of_another_motif(technicien):
    refused = post(api_client(technicien), APPOINTMENT, {"consent_document": a_pdf(), "attachments": [a_pdf()]})
    assert (refused.json()["code"], list(refused.json()["fields"])) == ("unknown_fields", ["consent_document"])
    other_part = post(api_client(technicien), APPOINTMENT, {"note": "x", "scan": a_pdf()})
    assert sorted(other_part.json()["fields"]) == ["note", "scan"]


@pytest.mark.parametrize("kind", [None, "pizza", ["contact"]])
def test_a_missing_or_unknown_kind_is_said_with_the_allowed_ones(technicien, kind):
    body = {"motif": "technical"} if kind is None else {"kind": kind, "motif": "technical"}
    answer = post(api_client(technicien), body).json()
    assert answer == {"code": "invalid", "message": INVALID, "fields": {"kind": [UNKNOWN_KIND]}}
    assert all(value in UNKNOWN_KIND for value in KINDS)


def test_multipart_takes_the_object_in_its_data_part(technicien):
    partner = api_client(technicien)
    case_review = {
        "kind": "case_review",
        "motif": "puma",
        "person": PERSON,
        "details": {"description": "Affiliation à vérifier."},
    }
    assert post(partner, case_review).json()["fields"] == {"attachments": [TOO_FEW_ATTACHMENTS]}
    created = post(partner, case_review, {"attachments": [a_pdf("avis.pdf"), a_pdf("bail.pdf")]})
    assert created.status_code == 201, created.json()
    assert Request.objects.get().attachments.count() == 2

    missing = partner.post("/api/v1/requests/", {"attachments": [a_pdf()]}, format="multipart")
    assert missing.json()["fields"] == {
        "data": ["La partie « data » (l'objet JSON du dépôt) est obligatoire, une seule fois."]
    }
    for unreadable in ("{pas du json", '["une", "liste"]'):
        refused = partner.post("/api/v1/requests/", {"data": unreadable}, format="multipart")
        assert refused.json()["fields"] == {"data": ["La partie « data » doit être un objet JSON."]}
    not_an_object = partner.post("/api/v1/requests/", ["pas", "un", "objet"], format="json")
    assert not_an_object.json()["fields"] == {"non_field_errors": ["Le corps de la requête doit être un objet JSON."]}


def test_the_schema_has_one_variant_per_kind_discriminated_by_kind(schema):
    schemas = schema["components"]["schemas"]
    deposit = schemas["Deposit"]
    variants = [item["$ref"].rpartition("/")[2] for item in deposit["oneOf"]]
    assert deposit["discriminator"]["propertyName"] == "kind"
    assert set(deposit["discriminator"]["mapping"]) == set(KINDS)
    for kind, target in deposit["discriminator"]["mapping"].items():
        variant = schemas[target.rpartition("/")[2]]
        assert variant["properties"]["kind"]["enum"] == [kind]
        assert variant["additionalProperties"] is False
        assert ("person" in variant["required"]) is KINDS[kind].has_person
    assert len(variants) == len(KINDS)
    body = schema["paths"]["/api/v1/requests/"]["post"]["requestBody"]
    assert body["required"] is True
    assert body["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/Deposit"}
    assert body["content"]["multipart/form-data"]["encoding"] == {"data": {"contentType": "application/json"}}


def test_the_schema_gives_the_constraints_the_forms_apply(schema):
    schemas = schema["components"]["schemas"]
    person = schemas["DepositPerson"]
    assert person["additionalProperties"] is False
    assert person["required"] == [spec.name.removeprefix("person_") for spec in PERSON_FIELDS if spec.required]
    properties = person["properties"]
    assert properties["birth_date"]["format"] == "date"
    assert (properties["email"]["format"], properties["email"]["maxLength"]) == ("email", 254)
    assert properties["last_name"]["maxLength"] == RequestForm.base_fields["person_last_name"].max_length
    assert properties["civility"]["enum"] == ["mme", "m"]
    nir = jsonschema.Draft7Validator(properties["nir"])
    assert nir.is_valid(make_nir()) and nir.is_valid("285052A01234567") and nir.is_valid("285052B01234567")
    assert not any(nir.is_valid(value) for value in ("28505750561233", "2850575056123381", "2 85 05 75 056 123 38"))

    mas = schemas["DepositMasReferral"]
    fields = {name for name, field in MasReferralForm.base_fields.items() if name not in RequestForm.base_fields}
    assert set(mas["properties"]) == fields - {"detector_name", "detector_structure"}
    assert mas["properties"]["contexts"]["minItems"] == 1
    assert mas["properties"]["notice_given"] == {
        "type": "boolean",
        "description": mas["properties"]["notice_given"]["description"],
    }
    appointment = schemas["DepositAppointmentDetails"]
    assert "Obligatoire avec le motif other." in appointment["properties"]["motif_other"]["description"]
    access = schemas["DepositAccessDifficulty"]
    assert "details" not in access["required"] and "mas_referral" in access["properties"]
    assert "mas_referral" in schemas["DepositAccessDifficultyDetails"]["description"]


def test_a_data_part_typed_as_json_is_read_as_clients_send_it(technicien):
    """curl's `-F 'data=…;type=application/json'` and generated clients give the part its content type."""
    boundary = "frontiere"
    body = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="data"\r\nContent-Type: application/json\r\n\r\n'
        f"{json.dumps(APPOINTMENT)}\r\n--{boundary}--\r\n"
    )
    created = api_client(technicien).generic(
        "POST", "/api/v1/requests/", body.encode(), content_type=f"multipart/form-data; boundary={boundary}"
    )
    assert created.status_code == 201, created.json()
    assert Request.objects.get().person_last_name == "Durand"
