"""The API used as a partner's software and a caisse's tool would: tokens only, no page."""

import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from extranet.api.throttling import PerTokenThrottle
from extranet.audit.models import AccessLog
from requests.models import Request
from tests.factories import CaisseMembershipFactory, ConventionFactory, RequestFactory, UserFactory, make_nir
from tests.helpers import api_client, log_in_with_password_only
from tests.requests.builders import pdf_bytes
from tests.snapshots import snapshot_queries

pytestmark = pytest.mark.django_db

MAS_REFERRAL = {
    "kind": "access_difficulty",
    "motif": "mas_referral",
    "person": {
        "civility": "mme",
        "last_name": "Durand",
        "first_name": "Lucie",
        "birth_date": "1985-05-14",
        "nir": make_nir(sex="2", year="85", month="05"),
    },
    "mas_referral": {
        "referral_date": "2026-01-05",
        "contexts": ["care_renunciation"],
        "cares": ["gp_or_specialist_consultations"],
        "renunciation_duration": "over_1_year",
        "causes": ["out_of_pocket"],
        "detector_email": "detecteur@exemple.fr",
        "consent_mode": "remote",
        "notice_given": True,
    },
}


def referral(**changes):
    """MAS_REFERRAL with some of its referral's fields changed."""
    return {**MAS_REFERRAL, "mas_referral": {**MAS_REFERRAL["mas_referral"], **changes}}


@pytest.fixture(autouse=True)
def generous_rate(monkeypatch):
    monkeypatch.setattr(PerTokenThrottle, "THROTTLE_RATES", {"token": "10000/minute"})


def test_technicien_deposits_a_mas_referral_agent_takes_charge_and_resolves_technicien_reads_the_answer(
    technicien, agent, commit
):
    partner, caisse = api_client(technicien), api_client(agent)

    me = partner.get("/api/v1/me/").json()
    assert (me["role"], me["second_factor"], [c["code"] for c in me["caisses"]]) == ("technicien", True, ["331"])

    with commit():
        deposited = partner.post("/api/v1/requests/", MAS_REFERRAL, format="json")
    assert deposited.status_code == 201, deposited.json()
    number = deposited.json()["number"]
    assert deposited["Location"].endswith(f"/api/v1/requests/{number}/")
    assert deposited.json()["mas_referral"]["consent_mode"] == "remote"
    assert deposited.json()["status"] == "new"

    queue = caisse.get("/api/v1/requests/", {"status": "new"}).json()
    assert [row["number"] for row in queue["results"]] == [number]
    assert "person" not in queue["results"][0]

    taken = caisse.post(f"/api/v1/requests/{number}/take-charge/")
    assert taken.status_code == 200
    assert (taken.json()["status"], taken.json()["assigned_to"]) == (
        "in_progress",
        {"id": agent.pk, "name": agent.get_full_name()},
    )
    assert caisse.post(f"/api/v1/requests/{number}/take-charge/").status_code == 409

    question = caisse.post(f"/api/v1/requests/{number}/messages/", {"body": "Avis d'imposition ?"}, format="json")
    note = caisse.post(
        f"/api/v1/requests/{number}/messages/", {"body": "Déjà connue du service.", "internal": True}, format="json"
    )
    assert (question.status_code, note.status_code) == (201, 201)
    reply = partner.post(f"/api/v1/requests/{number}/messages/", {"body": "Ci-joint l'avis."}, format="json")
    assert reply.status_code == 201
    upload = partner.post(
        f"/api/v1/requests/{number}/attachments/",
        {"files": [SimpleUploadedFile("avis.pdf", pdf_bytes("Avis 2025"), content_type="application/pdf")]},
        format="multipart",
    )
    assert upload.status_code == 201, upload.json()

    resolved = caisse.post(
        f"/api/v1/requests/{number}/resolve/", {"answer": "Rendez-vous le 2 décembre."}, format="json"
    )
    assert resolved.status_code == 200
    assert resolved.json()["status"] == "resolved"

    detail = partner.get(f"/api/v1/requests/{number}/").json()
    assert detail["status"] == "resolved"
    assert [change["to_status"] for change in detail["status_history"]] == ["new", "in_progress", "resolved"]
    assert (detail["answer"]["text"], detail["answer"]["by"]["id"]) == ("Rendez-vous le 2 décembre.", agent.pk)
    exchanges = partner.get(f"/api/v1/requests/{number}/messages/").json()
    assert [message["body"] for message in exchanges] == [
        "Avis d'imposition ?",
        "Ci-joint l'avis.",
        "Rendez-vous le 2 décembre.",
    ]
    assert exchanges[-1]["answer"] is True
    assert all(not message["internal"] for message in exchanges)
    assert "Déjà connue du service." in [m["body"] for m in caisse.get(f"/api/v1/requests/{number}/messages/").json()]

    files = partner.get(f"/api/v1/requests/{number}/attachments/").json()
    download = partner.get(files[0]["url"])
    assert download.status_code == 200 and b"".join(download.streaming_content).startswith(b"%PDF")
    reads = AccessLog.objects.filter(user=technicien, request__number=number)
    assert set(reads.values_list("action", flat=True)) == {"api", "attachment"}


def test_deposit_errors_are_french_and_per_field(technicien):
    partner = api_client(technicien)
    wrong = {**referral(notice_given=False), "person": {**MAS_REFERRAL["person"], "nir": "285057505612300"}}
    refused = partner.post("/api/v1/requests/", wrong, format="json")
    assert (refused.status_code, refused.json()["code"]) == (400, "invalid")
    assert refused.json()["message"] == "Certaines valeurs sont invalides : voir « fields »."
    errors = refused.json()["fields"]
    assert "person.nir" in errors and "mas_referral.notice_given" in errors
    assert "notice d'information" in errors["mas_referral.notice_given"][0]
    assert not Request.objects.exists()

    assert partner.post("/api/v1/requests/", {"kind": "pizza"}, format="json").json()["fields"] == {
        "kind": [
            "Choisissez un type de demande parmi : contact, access_difficulty, appointment, case_review, document."
        ]
    }
    not_an_object = partner.post("/api/v1/requests/", ["not", "an", "object"], format="json")
    assert not_an_object.status_code == 400
    assert not_an_object.json()["fields"] == {"non_field_errors": ["Le corps de la requête doit être un objet JSON."]}
    nested = {**MAS_REFERRAL, "person": {**MAS_REFERRAL["person"], "last_name": {"nom": "Durand"}}}
    refused = partner.post("/api/v1/requests/", nested, format="json")
    assert (refused.status_code, refused.json()["code"]) == (400, "invalid")
    assert refused.json()["fields"] == {"person.last_name": ["Une chaîne de caractères est attendue."]}
    assert not Request.objects.exists()


def test_a_convention_ended_meanwhile_refuses_the_deposit(monkeypatch, technicien):
    # The caisse was checked when the request was read, and the convention ended before the deposit was written.
    monkeypatch.setattr("structures.conventions.is_active", lambda structure, caisse: False)
    refused = api_client(technicien).post("/api/v1/requests/", MAS_REFERRAL, format="json")
    assert refused.status_code == 400
    assert refused.json() == {
        "code": "no_active_convention",
        "message": "La convention de votre structure avec cette caisse n'est plus active : la demande n'a pas été "
        "déposée.",
    }
    assert not Request.objects.exists()


def test_signed_mas_referral_needs_the_signed_sheet_in_multipart(technicien):
    partner = api_client(technicien)
    signed = json.dumps(referral(consent_mode="signed", notice_given=False))
    without = partner.post("/api/v1/requests/", {"data": signed}, format="multipart")
    assert without.status_code == 400
    assert without.json()["fields"]["consent_document"] == ["Joignez la fiche de saisine signée par la personne."]
    sheet = SimpleUploadedFile("fiche.pdf", pdf_bytes("Signée"), content_type="application/pdf")
    created = partner.post("/api/v1/requests/", {"data": signed, "consent_document": sheet}, format="multipart")
    assert created.status_code == 201, created.json()
    assert created.json()["mas_referral"]["consent_mode"] == "signed"


def test_caisse_is_required_when_the_structure_has_several(technicien, structure, other_caisse):
    ConventionFactory(structure=structure, caisse=other_caisse)
    partner = api_client(technicien)
    details = {"channel": "phone", "availabilities": "Matin", "message": "?"}
    contact = {"kind": "contact", "motif": "technical", "details": details}
    refused = partner.post("/api/v1/requests/", contact, format="json")
    assert (refused.status_code, refused.json()["code"]) == (400, "caisse_required")
    assert refused.json()["message"] == "Votre structure a plusieurs conventions : précisez la caisse (331, 421)."
    assert refused.json()["fields"] == {"caisse": [refused.json()["message"]]}
    created = partner.post("/api/v1/requests/", {**contact, "caisse": "421"}, format="json")
    assert created.status_code == 201
    assert created.json()["caisse"]["code"] == "421"


def test_others_requests_do_not_exist(technicien, other_gestionnaire, agent, other_caisse_admin, structure, caisse):
    request = RequestFactory(structure=structure, caisse=caisse, author=technicien)
    for outsider in (other_gestionnaire, other_caisse_admin):
        client = api_client(outsider)
        for path in ("", "messages/", "attachments/"):
            assert client.get(f"/api/v1/requests/{request.number}/{path}").status_code == 404
        assert client.post(f"/api/v1/requests/{request.number}/take-charge/").status_code == 404
        assert request.number not in str(client.get("/api/v1/requests/").json())
    # Partners cannot take charge, even of their own structure's request: it does not exist for them.
    assert api_client(technicien).post(f"/api/v1/requests/{request.number}/take-charge/").status_code == 404


def test_an_account_without_a_role_finds_no_request_as_on_the_pages(client, technicien, structure, caisse):
    """A request one cannot see does not exist, whoever asks: 404 on the API as on the pages (it used to be 403 on
    the API for an account with no role in the service); the lists are refused (403) on both."""
    request = RequestFactory(structure=structure, caisse=caisse, author=technicien)
    nobody = UserFactory()
    api = api_client(nobody)
    client.force_login(nobody)
    for path in ("", "messages/", "attachments/"):
        assert api.get(f"/api/v1/requests/{request.number}/{path}").status_code == 404
    for path in ("take-charge/", "resolve/"):
        moved = api.post(f"/api/v1/requests/{request.number}/{path}", {"answer": "Ok"}, format="json")
        assert moved.status_code == 404
    assert client.get(f"/demandes/{request.number}/").status_code == 404
    assert client.post(f"/demandes/{request.number}/prendre-en-charge/").status_code == 404
    assert api.get("/api/v1/requests/").status_code == 403
    assert client.get("/demandes/").status_code == 403


def test_partners_never_receive_internal_notes(technicien, agent, structure, caisse):
    request = RequestFactory(structure=structure, caisse=caisse, author=technicien)
    caisse_client = api_client(agent)
    caisse_client.post(
        f"/api/v1/requests/{request.number}/messages/", {"body": "Note", "internal": True}, format="json"
    )
    assert api_client(technicien).get(f"/api/v1/requests/{request.number}/messages/").json() == []
    refused = api_client(technicien).post(
        f"/api/v1/requests/{request.number}/messages/", {"body": "Je tente", "internal": True}, format="json"
    )
    assert (refused.status_code, refused.json()["code"]) == (403, "internal_note_forbidden")
    assert refused.json()["message"] == "Seuls les agents de la caisse écrivent des notes internes."


def test_only_the_agent_in_charge_or_an_admin_resolves(technicien, agent, caisse_admin, structure, caisse):
    request = RequestFactory(structure=structure, caisse=caisse, author=technicien)
    colleague = CaisseMembershipFactory(caisse=caisse).user
    api_client(agent).post(f"/api/v1/requests/{request.number}/take-charge/")
    refused = api_client(colleague).post(
        f"/api/v1/requests/{request.number}/resolve/", {"answer": "Ok"}, format="json"
    )
    assert (refused.status_code, refused.json()["code"]) == (403, "not_allowed")
    assert (
        refused.json()["message"] == "Seul l'agent en charge, ou un administrateur de la caisse, résout cette demande."
    )
    empty = api_client(caisse_admin).post(f"/api/v1/requests/{request.number}/resolve/", {"answer": ""}, format="json")
    assert (empty.status_code, empty.json()["code"], list(empty.json()["fields"])) == (400, "invalid", ["answer"])
    done = api_client(caisse_admin).post(
        f"/api/v1/requests/{request.number}/resolve/", {"answer": "Ok"}, format="json"
    )
    assert done.status_code == 200
    again = api_client(agent).post(f"/api/v1/requests/{request.number}/resolve/", {"answer": "Ok"}, format="json")
    assert (again.status_code, again.json()["code"], again.json()["current_status"]) == (
        409,
        "wrong_status",
        "resolved",
    )


def test_personal_data_need_a_second_factor(technicien):
    client = api_client(technicien, second_factor=False)
    assert client.get("/api/v1/me/").status_code == 200
    refused = client.get("/api/v1/requests/")
    assert refused.status_code == 403
    assert refused.json()["code"] == "second_factor_required"
    assert "double authentification" in refused.json()["message"]


def test_browser_session_needs_its_second_factor(client, technicien):
    log_in_with_password_only(client, technicien)
    assert client.get("/api/v1/requests/").status_code == 403
    client.force_login(technicien)
    assert client.get("/api/v1/requests/").status_code == 200


def test_filters_and_cursor_pagination_newest_first(technicien, structure, caisse):
    import time_machine
    from django.utils import timezone

    made = []
    for day in range(1, 6):
        with time_machine.travel(timezone.make_aware(timezone.datetime(2026, 3, day, 10)), tick=False):
            made.append(RequestFactory(structure=structure, caisse=caisse, author=technicien, contact=day % 2 == 0))
    client = api_client(technicien)
    first = client.get("/api/v1/requests/", {"page_size": 2}).json()
    assert [row["number"] for row in first["results"]] == [made[4].number, made[3].number]
    second = client.get(first["next"]).json()
    assert [row["number"] for row in second["results"]] == [made[2].number, made[1].number]
    window = client.get("/api/v1/requests/", {"created_after": "2026-03-02", "created_before": "2026-03-04"}).json()
    assert [row["number"] for row in window["results"]] == [made[2].number, made[1].number]
    assert [r["number"] for r in client.get("/api/v1/requests/", {"kind": "contact"}).json()["results"]] == [
        made[3].number,
        made[1].number,
    ]
    assert client.get("/api/v1/requests/", {"status": "pizza"}).status_code == 400


@pytest.mark.parametrize("size", [5, 50])
def test_list_has_constant_queries(technicien, structure, caisse, django_assert_num_queries, size):
    for _ in range(size):
        RequestFactory(structure=structure, caisse=caisse, author=technicien)
    client = api_client(technicien)
    # Token with its user and memberships (the rights come from them), the token's first use, second factor, the
    # request's count (one upsert), the page.
    with django_assert_num_queries(5):
        response = client.get("/api/v1/requests/", {"page_size": 50})
    assert len(response.json()["results"]) == size


def test_list_sql(technicien, structure, caisse, snapshot):
    for _ in range(5):
        RequestFactory(structure=structure, caisse=caisse, author=technicien)
    client = api_client(technicien)
    client.get("/api/v1/requests/")  # the token's first use is recorded, and the process's caches filled
    with snapshot_queries(snapshot):
        response = client.get("/api/v1/requests/", {"page_size": 50, "status": "new"})
    assert len(response.json()["results"]) == 5


def test_gestionnaire_manages_techniciens(gestionnaire, technicien, other_gestionnaire, commit, mailoutbox):
    client = api_client(gestionnaire)
    technicien_client = api_client(technicien)
    assert technicien_client.get("/api/v1/structure/members/").status_code == 403
    listed = client.get("/api/v1/structure/members/").json()
    assert [member["email"] for member in listed] == [technicien.email]
    with commit():
        created = client.post(
            "/api/v1/structure/members/",
            {"civility": "m", "last_name": "Ferreira", "first_name": "Hugo", "email": "hugo@exemple.fr"},
            format="json",
        )
    assert created.status_code == 201 and created.json()["status"] == "invited"
    assert any("hugo@exemple.fr" in message.to for message in mailoutbox)
    duplicate = client.post(
        "/api/v1/structure/members/",
        {"civility": "m", "last_name": "Ferreira", "first_name": "Hugo", "email": "HUGO@exemple.fr"},
        format="json",
    )
    assert duplicate.status_code == 400
    assert duplicate.json() == {
        "code": "email_already_used",
        "message": "Cette adresse électronique est déjà associée à un compte.",
        "fields": {"email": ["Cette adresse électronique est déjà associée à un compte."]},
    }
    member_id = listed[0]["id"]
    assert api_client(other_gestionnaire).post(f"/api/v1/structure/members/{member_id}/deactivate/").status_code == 404
    deactivated = client.post(f"/api/v1/structure/members/{member_id}/deactivate/")
    assert deactivated.status_code == 200 and deactivated.json()["status"] == "disabled"
    # A deactivated account's tokens stop working at once.
    assert technicien_client.get("/api/v1/me/").status_code == 401


def test_throttling_per_token(monkeypatch, technicien):
    monkeypatch.setattr(PerTokenThrottle, "THROTTLE_RATES", {"token": "3/minute"})
    first, second = api_client(technicien), api_client(technicien)
    assert [first.get("/api/v1/me/").status_code for _ in range(4)] == [200, 200, 200, 429]
    assert second.get("/api/v1/me/").status_code == 200
    throttled = first.get("/api/v1/me/").json()
    assert throttled["code"] == "throttled" and "Requête ralentie" in throttled["message"]


def test_docs_and_schema_are_served_offline(client):
    schema = client.get("/api/schema/")
    assert schema.status_code == 200
    assert b"/api/v1/requests/{number}/take-charge/" in schema.content
    docs = client.get("/api/docs/")
    assert docs.status_code == 200
    page = docs.content.decode()
    assert "http://" not in page.replace("http://testserver", "") and "https://" not in page
    assert "<script>" not in page  # the CSP forbids inline scripts: the page loads its script from this site


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ({"page_size": "0"}, "page_size"),
        ({"page_size": "101"}, "page_size"),
        ({"page_size": "abc"}, "page_size"),
        ({"cursor": "pas-un-curseur"}, "cursor"),
        ({"kind": ""}, "kind"),
        ({"created_after": "hier"}, "created_after"),
    ],
)
def test_a_wrong_query_is_an_error_not_ignored(technicien, query, field):
    response = api_client(technicien).get("/api/v1/requests/", query)
    # A made-up cursor has its own code (it is no filter of the client's); every other wrong value is `invalid`.
    code = "invalid_cursor" if field == "cursor" else "invalid"
    assert (response.status_code, response.json()["code"]) == (400, code)
    assert field in response.json()["fields"]


def test_too_many_files_get_a_json_error(settings, technicien, structure, caisse):
    request = RequestFactory(structure=structure, caisse=caisse, author=technicien)
    files = [
        SimpleUploadedFile(f"piece-{index}.pdf", pdf_bytes(), content_type="application/pdf")
        for index in range(settings.DATA_UPLOAD_MAX_NUMBER_FILES + 1)
    ]
    response = api_client(technicien).post(
        f"/api/v1/requests/{request.number}/attachments/", {"files": files}, format="multipart"
    )
    assert response.status_code == 400
    assert response.json() == {"code": "parse_error", "message": "Trop de fichiers dans une seule requête."}


def test_unknown_api_addresses_answer_in_json(technicien, client):
    response = api_client(technicien).get("/api/v1/structure/members/-1/deactivate/")
    assert (response.status_code, response.json()) == (404, {"code": "not_found", "message": "Introuvable."})
    assert "text/html" in client.get("/page-inconnue/")["Content-Type"]
