"""GET /api/v1/kinds/: the catalogue of requests as data, the same as the code's (requests/catalog.py) and as the
deposit's schema."""

import pytest
from drf_spectacular.generators import SchemaGenerator

from requests.catalog import KINDS, MAS_REFERRAL, PERSON_FIELDS, PRECISION
from requests.forms import MasReferralForm
from tests.factories import UserFactory
from tests.helpers import api_client

pytestmark = pytest.mark.django_db


@pytest.fixture(scope="module")
def schema():
    return SchemaGenerator().get_schema(request=None, public=True)


def field_summary(field):
    return (field["name"], field["label"], field["required"], [(c["value"], c["label"]) for c in field["choices"]])


def test_the_catalogue_is_the_codes(technicien):
    answer = api_client(technicien).get("/api/v1/kinds/")
    assert answer.status_code == 200
    kinds = answer.json()
    assert [kind["slug"] for kind in kinds] == list(KINDS)
    for kind in kinds:
        spec = KINDS[kind["slug"]]
        assert (kind["label"], kind["help_text"], kind["motif_label"], kind["has_person"]) == (
            spec.title,
            spec.description,
            spec.motif_label,
            spec.has_person,
        )
        assert [
            (m["slug"], m["label"], m["group"], m["needs_precision"], m["insured_document"], m["mas_referral"])
            for m in kind["motifs"]
        ] == [(m.value, m.label, m.group, m.needs_precision, m.insured_document, m.mas_referral) for m in spec.motifs]
        assert [field_summary(field) for field in kind["details"]] == [
            (d.name, d.label, d.required, list(d.choices)) for d in spec.details
        ]
        assert [field_summary(field) for field in kind["person"]] == [
            (p.name.removeprefix("person_"), p.label, p.required, list(p.choices))
            for p in (PERSON_FIELDS if spec.has_person else ())
        ]
        attachments = kind["files"]
        assert [(f["name"], f["required"]) for f in attachments] == [("attachments", spec.min_attachments > 0)]
        if spec.mas_referral_motif is None:
            assert kind["mas_referral"] is None
    (with_mas,) = [kind for kind in kinds if kind["mas_referral"]]
    assert (with_mas["slug"], with_mas["mas_referral"]["motif"]) == (MAS_REFERRAL.kind, MAS_REFERRAL.motif)
    # The referral's own fields, beyond the person; the detector's name and structure are the account's, not sent.
    sent = ["referral_date", "contexts", "actions", "action_other", "cares", "care_other", "renunciation_duration"]
    sent += ["causes", "cause_other", "detector_email", "detector_phone", "consent_mode", "notice_given"]
    referral_fields = [
        (name, str(MasReferralForm.base_fields[name].label), MasReferralForm.base_fields[name].required)
        for name in sent
    ]
    assert [(f["name"], f["label"], f["required"]) for f in with_mas["mas_referral"]["fields"]] == referral_fields
    assert [f["name"] for f in with_mas["mas_referral"]["files"]] == ["consent_document"]


def test_types_lengths_and_help_say_what_the_forms_check(technicien):
    kinds = {kind["slug"]: kind for kind in api_client(technicien).get("/api/v1/kinds/").json()}
    person = {field["name"]: field for field in kinds["appointment"]["person"]}
    assert [person[name]["type"] for name in ("civility", "birth_date", "nir", "phone", "email")] == [
        "choice",
        "date",
        "nir",
        "phone",
        "email",
    ]
    assert (person["last_name"]["max_length"], person["nir"]["max_length"]) == (150, None)
    assert "sans espace" in person["nir"]["help_text"]
    details = {field["name"]: field for field in kinds["appointment"]["details"]}
    assert (details["message"]["type"], details["message"]["max_length"]) == ("free_text", 3000)
    assert details["availabilities"]["help_text"] == "Jours et créneaux possibles pour le rendez-vous."
    assert "other" in details[PRECISION]["help_text"]
    referral = {field["name"]: field for field in kinds["access_difficulty"]["mas_referral"]["fields"]}
    assert [referral[name]["type"] for name in ("referral_date", "contexts", "consent_mode", "notice_given")] == [
        "date",
        "multiple_choice",
        "choice",
        "boolean",
    ]
    assert [c["value"] for c in referral["consent_mode"]["choices"]] == ["signed", "remote"]


def test_any_signed_in_account_reads_it_and_nobody_else(agent, client):
    assert api_client(agent).get("/api/v1/kinds/").status_code == 200
    # No personal data: neither a role nor the second factor is needed.
    assert api_client(UserFactory(), second_factor=False).get("/api/v1/kinds/").status_code == 200
    assert client.get("/api/v1/kinds/").status_code == 401


def test_the_schemas_enums_are_the_catalogues(schema):
    schemas = schema["components"]["schemas"]
    mapping = schemas["Deposit"]["discriminator"]["mapping"]
    for kind, spec in KINDS.items():
        variant = schemas[mapping[kind].rpartition("/")[2]]
        assert variant["properties"]["motif"]["enum"] == [motif.value for motif in spec.motifs]
        details = variant["properties"].get("details")
        if details is None:
            assert spec.details == ()
            continue
        properties = schemas[details["$ref"].rpartition("/")[2]]["properties"]
        assert list(properties) == [detail.name for detail in spec.details]
        for detail in spec.details:
            assert properties[detail.name].get("enum") == ([value for value, _ in detail.choices] or None)
    mas = schemas["DepositMasReferral"]["properties"]
    for name in ("contexts", "actions", "cares", "causes"):
        assert mas[name]["items"]["enum"] == [value for value, _ in MasReferralForm.base_fields[name].choices]
    assert mas["consent_mode"]["enum"] == [value for value, _ in MasReferralForm.base_fields["consent_mode"].choices]
