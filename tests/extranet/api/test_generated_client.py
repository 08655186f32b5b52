"""The API through a Python client generated from its schema alone, as a partner's developer would write theirs: a
fresh `openapi-python-client` generation at each run (never committed), imported, and driven against a real HTTP
server (pytest-django's `live_server`) with personal tokens.

Each response is parsed by the generated models: a documented status that never comes, a field the schema requires
but the server leaves out, a value outside the schema's enum, or a field the server sends and the schema does not
name, fails the journey. If a step cannot go through the generated client, the schema is what to fix.

The journey is issue 18's proof: each kind deposited from what GET /api/v1/kinds/ says (its first motif, its
fields filled by type) and a MAS referral, each read back as sent; refusals parsed by the `Error` model (duplicate,
invalid fields, wrong status); a sync by `ordering=updated_at` and `updated_after`, and the detail's `ETag` (304);
messages both ways, with a file; take charge; resolve with a file, then the detail's `answer` and its file
downloaded; a webhook registered through the API, sent by the worker (`db_worker --batch`) to a real receiver on
127.0.0.1, its signature checked by the function docs/webhooks.md gives.

It is one small function per step, each on the `Journey` that carries the identities and what the
previous steps learned: a step is added (or adapted to a new shape) without touching the others."""

import importlib
import json
import pkgutil
import re
import subprocess
import sys
from dataclasses import dataclass, field
from io import BytesIO
from pathlib import Path

import pytest
from django.core.management import call_command
from django_otp.plugins.otp_totp.models import TOTPDevice
from drf_spectacular.generators import SchemaGenerator
from drf_spectacular.renderers import OpenApiJsonRenderer

from extranet.accounts.models import ApiToken
from extranet.api.throttling import PerTokenThrottle
from tests.extranet.notifications.receiver import Receiver
from tests.extranet.notifications.test_webhooks import documented_check
from tests.factories import make_nir
from tests.requests.builders import pdf_bytes

PACKAGE = "espace_partenaires_client"
GENERATOR = Path(sys.executable).with_name("openapi-python-client")
CONFIG = {
    "project_name_override": "espace-partenaires-client",
    "package_name_override": PACKAGE,
    # The generator's default hooks call `ruff` from the PATH; the project's own, by its path (no download, no PATH
    # to set up), formats the code only so that a failure's traceback reads well.
    "post_hooks": [f"{Path(sys.executable).with_name('ruff')} format ."],
    # The generator reads no binary media type but application/octet-stream: a download is a `File` all the same.
    "content_type_overrides": dict.fromkeys(
        ("application/pdf", "image/jpeg", "image/png"), "application/octet-stream"
    ),
}

pytestmark = pytest.mark.django_db(transaction=True)  # the live server answers from its own thread


@pytest.fixture(scope="module")
def generated(tmp_path_factory):
    """The client package, generated from what /api/schema/ serves, imported from a temporary folder."""
    folder = tmp_path_factory.mktemp("generated_client")
    schema = folder / "schema.json"
    schema.write_bytes(OpenApiJsonRenderer().render(SchemaGenerator().get_schema(request=None, public=True)))
    config = folder / "config.json"
    config.write_text(json.dumps(CONFIG))
    output = folder / "client"
    command = [GENERATOR, "generate", "--path", schema, "--output-path", output, "--config", config]
    run = subprocess.run(command, capture_output=True, text=True, timeout=120, check=False)  # noqa: S603 (our own files)
    report = f"{run.stdout}\n{run.stderr}"
    assert run.returncode == 0, report
    # A piece the generator cannot read is left out of the client with a warning: a client developer would miss it.
    assert "Warning" not in report, report
    import_unset_where_used(output / PACKAGE / "api")
    sys.path.insert(0, str(output))
    try:
        package = importlib.import_module(PACKAGE)
        yield Generated(package)
    finally:
        sys.path.remove(str(output))
        for name in [name for name in sys.modules if name.partition(".")[0] == PACKAGE]:
            del sys.modules[name]


def import_unset_where_used(api):
    """The generator's known bug (openapi-python-client issue 1451): an operation whose required body has two media
    types (JSON, and multipart for files) is typed `… | Unset` without importing `Unset`, and the module fails to
    import. The schema is right; the missing import is added here, until a version of the generator fixes it."""
    for module in api.rglob("*.py"):
        code = module.read_text()
        if "Unset" in code and not re.search(r"^from \.\.\.types import .*\bUnset\b", code, re.MULTILINE):
            module.write_text(f"from ...types import Unset\n{code}")


class Generated:
    """The generated package: its models and types, and its operations by operationId (the modules are grouped by
    tag, whose French names the generator turns into odd identifiers: `pi_è_ces_jointes`)."""

    def __init__(self, package):
        self.package = package
        self.models = importlib.import_module(f"{PACKAGE}.models")
        self.types = importlib.import_module(f"{PACKAGE}.types")
        api = importlib.import_module(f"{PACKAGE}.api")
        self.operations = {}
        for info in pkgutil.walk_packages(api.__path__, f"{PACKAGE}.api."):
            module = importlib.import_module(info.name)
            if hasattr(module, "sync_detailed"):
                self.operations[info.name.rpartition(".")[2]] = module

    def client(self, base_url, user):
        """An authenticated client with a fresh personal token of `user`, who has a second factor (the API requires
        one for personal data). Undocumented statuses raise (`raise_on_unexpected_status`)."""
        TOTPDevice.objects.get_or_create(user=user, name="Application", defaults={"confirmed": True})
        _, key = ApiToken.objects.issue(user, name="Client généré")
        return self.package.AuthenticatedClient(
            base_url=base_url, token=key, prefix="Token", raise_on_unexpected_status=True
        )

    def pdf(self, title, name):
        """A PDF to upload, as the generated `File` carries it."""
        return self.types.File(payload=BytesIO(pdf_bytes(title)), file_name=name, mime_type="application/pdf")

    def model(self, name, payload):
        """A request body built as a client developer would from JSON: the model checks enums and formats."""
        return getattr(self.models, name).from_dict(payload)


@dataclass
class Journey:
    api: Generated
    clients: dict  # identity → AuthenticatedClient
    receiver: Receiver  # the webhooks' HTTP receiver on 127.0.0.1
    learned: dict = field(default_factory=dict)  # what earlier steps found out (numbers, ids…)

    def call(self, identity, operation, *args, expect=200, **kwargs):
        """The operation's parsed response, after checking its status and that it is entirely documented."""
        response = self.api.operations[operation].sync_detailed(*args, client=self.clients[identity], **kwargs)
        assert response.status_code == expect, (operation, response.status_code, response.content[:1000])
        if expect < 400:  # a refusal's fields are the error contract's (extranet/api/errors.py)
            assert_documented(response.parsed, operation)
        return response.parsed


def assert_documented(value, where):
    """No field the schema does not name, at any depth (the generated models keep them in additional_properties)."""
    if isinstance(value, list):
        for index, item in enumerate(value):
            assert_documented(item, f"{where}[{index}]")
        return
    if not hasattr(value, "to_dict") or not hasattr(value, "__attrs_attrs__"):
        return
    extra = getattr(value, "additional_properties", {})
    assert not extra, f"{where}: fields absent from the schema: {sorted(extra)}"
    for attribute in value.__attrs_attrs__:
        if attribute.name != "additional_properties":
            assert_documented(getattr(value, attribute.name), f"{where}.{attribute.name}")


PERSON = {
    "civility": "mme",
    "last_name": "Durand",
    "first_name": "Lucie",
    "birth_date": "1985-05-14",
    "nir": make_nir(sex="2", year="85", month="05"),
    "phone": "06 12 34 56 78",  # the form the service stores any French number in (PersonSerializer.phone)
    "email": "lucie.durand@exemple.fr",
}
MAS_REFERRAL = {
    "referral_date": "2026-01-05",
    "contexts": ["care_renunciation"],
    "cares": ["gp_or_specialist_consultations"],
    "renunciation_duration": "over_1_year",
    "causes": ["out_of_pocket"],
    "detector_email": "detecteur@exemple.fr",
    "consent_mode": "remote",
    "notice_given": True,
}
# What a client developer would type in a field of each catalogue type (a choice takes its first value).
SAMPLES = {
    "text": "Du lundi au jeudi, le matin.",
    "free_text": "Droits fermés depuis octobre alors que la situation n'a pas changé.",
    "date": "2026-01-05",
    "email": "contact@exemple.fr",
    "phone": "0556000000",
    "boolean": True,
}


def sample(field):
    if field.choices:
        first = field.choices[0].value
        return [first] if field.type_.value == "multiple_choice" else first
    return SAMPLES[field.type_.value]


def deposit_of(kind):
    """A deposit written from the catalogue alone: the kind's first motif open to any structure, each of its fields
    filled by type (so that each must come back as sent), and the files it requires."""
    motif = next(motif for motif in kind.motifs if not (motif.insured_document or motif.mas_referral))
    details = {field.name: sample(field) for field in kind.details if field.name != "motif_other"}
    if motif.needs_precision:
        details["motif_other"] = "Déclaration de médecin traitant"
    body = {"kind": kind.slug, "motif": motif.slug, "details": details}
    if kind.has_person:
        assert [field.name for field in kind.person] == list(PERSON)
        body["person"] = PERSON
    return body, any(file.required for file in kind.files)


def deposit_model(api, body):
    """The deposit's variant in the `oneOf`, named after its kind: `DepositCaseReview` for `case_review`."""
    return api.model("Deposit" + body["kind"].title().replace("_", ""), body)


def assert_read_back(detail, body, kind):
    """The detail gives back what was deposited: the same keys and the same values (a detail of the kind left out
    comes back empty)."""
    assert (detail.kind.value, detail.motif) == (body["kind"], body["motif"])
    if "person" in body:
        person = detail.person.to_dict()
        assert person.pop("nir_display").replace(" ", "") == body["person"]["nir"]
        assert person == body["person"]
    else:
        assert detail.person is None
    left_out = dict.fromkeys((field.name for field in kind.details), "") if "details" in body else {}
    assert detail.details.to_dict() == left_out | body.get("details", {})
    if "mas_referral" in body:
        sent = body["mas_referral"]
        assert {key: value for key, value in detail.mas_referral.to_dict().items() if key in sent} == sent
    else:
        assert detail.mas_referral is None


# The steps, in the journey's order.


def who_am_i(journey):
    me = journey.call("technicien", "me_retrieve")
    assert (me.role, me.second_factor) == ("technicien", True)
    assert [caisse.code for caisse in me.caisses] == ["331"]
    assert journey.call("agent", "me_retrieve").caisse.code == "331"


def read_the_catalogue(journey):
    kinds = journey.call("technicien", "kinds_list")
    assert sorted(kind.slug for kind in kinds) == sorted(kind.value for kind in journey.api.models.KindEnum)
    journey.learned["kinds"] = kinds


def deposit_each_kind(journey):
    numbers = journey.learned["numbers"] = {}
    for kind in journey.learned["kinds"]:
        body, needs_files = deposit_of(kind)
        data = deposit_model(journey.api, body)
        if needs_files:
            attachments = [journey.api.pdf(f"Pièce {kind.slug}", f"{kind.slug}.pdf")]
            data = journey.api.models.DepositMultipart(data=data, attachments=attachments)
        created = journey.call("technicien", "requests_create", body=data, expect=201)
        assert created.status.value == "new"
        assert_read_back(journey.call("agent", "requests_retrieve", created.number), body, kind)
        numbers[created.number] = body


def deposit_a_mas_referral(journey):
    body = {"kind": "access_difficulty", "motif": "mas_referral", "person": PERSON, "mas_referral": MAS_REFERRAL}
    created = journey.call("technicien", "requests_create", body=deposit_model(journey.api, body), expect=201)
    assert created.mas_referral.consent_mode.value == "remote"
    [kind] = [kind for kind in journey.learned["kinds"] if kind.slug == "access_difficulty"]
    assert_read_back(journey.call("agent", "requests_retrieve", created.number), body, kind)
    journey.learned["numbers"][created.number] = body
    journey.learned["number"] = created.number


def refuse_a_duplicate(journey):
    """The same person, kind and motif while the first is open: the error names the open request."""
    body = {"kind": "access_difficulty", "motif": "mas_referral", "person": PERSON, "mas_referral": MAS_REFERRAL}
    refused = journey.call("technicien", "requests_create", body=deposit_model(journey.api, body), expect=409)
    assert isinstance(refused, journey.api.models.Error)
    assert (refused.code.value, refused.existing) == ("duplicate_open_request", journey.learned["number"])


def refuse_an_invalid_deposit(journey):
    """Every refused field at once, under the name it was sent as."""
    wrong_key = PERSON["nir"][:13] + f"{(int(PERSON['nir'][13:]) + 1) % 97:02d}"
    body = {"kind": "access_difficulty", "motif": "mas_referral", "person": PERSON | {"nir": wrong_key}}
    body["mas_referral"] = MAS_REFERRAL | {"notice_given": False}
    refused = journey.call("technicien", "requests_create", body=deposit_model(journey.api, body), expect=400)
    assert refused.code.value == "invalid"
    assert sorted(refused.fields.additional_properties) == ["mas_referral.notice_given", "person.nir"]


def find_them_in_the_caisse_queue(journey):
    page = journey.call("agent", "requests_list", status=journey.api.models.RequestsListStatut("new"))
    assert sorted(row.number for row in page.results) == sorted(journey.learned["numbers"])
    page = journey.call("technicien", "requests_list", kind=journey.api.models.RequestsListTypeDeDemande("contact"))
    assert [row.number for row in page.results] == [
        number for number, body in journey.learned["numbers"].items() if body["kind"] == "contact"
    ]


def register_a_webhook(journey):
    events = [journey.api.models.EventsEnum("request.status_changed")]
    endpoint = journey.api.models.WebhookInputRequest(
        name="Logiciel de suivi", url=journey.receiver.url, events=events
    )
    created = journey.call("gestionnaire", "webhooks_create", body=endpoint, expect=201)
    assert created.secret.startswith("whsec_")
    journey.learned["webhook"] = (created.id, created.secret)


def sync_what_changed(journey):
    """A client's sync: the last `updated_at` it saw, then only what changed after it; the detail it holds is
    unchanged (304) until it changes."""
    number = journey.learned["number"]
    ordering = journey.api.models.RequestsListOrdering("updated_at")
    seen = journey.call("technicien", "requests_list", ordering=ordering).results
    assert [row.updated_at for row in seen] == sorted(row.updated_at for row in seen)
    cursor = seen[-1].updated_at
    assert journey.call("technicien", "requests_list", ordering=ordering, updated_after=cursor).results == []
    held = journey.api.operations["requests_retrieve"].sync_detailed(number, client=journey.clients["technicien"])
    etag = held.headers["ETag"]
    unchanged = journey.api.operations["requests_retrieve"].sync_detailed(
        number, client=journey.clients["technicien"], if_none_match=etag
    )
    assert (unchanged.status_code, unchanged.parsed, unchanged.headers["ETag"]) == (304, None, etag)

    taken = journey.call("agent", "requests_take_charge_create", number)
    assert taken.status.value == "in_progress"
    refused = journey.call("agent", "requests_take_charge_create", number, expect=409)
    assert (refused.code.value, refused.current_status.value) == ("wrong_status", "in_progress")

    changed = journey.call("technicien", "requests_list", ordering=ordering, updated_after=cursor).results
    assert [row.number for row in changed] == [number]
    fresh = journey.api.operations["requests_retrieve"].sync_detailed(
        number, client=journey.clients["technicien"], if_none_match=etag
    )
    assert (fresh.status_code, fresh.parsed.status.value) == (200, "in_progress")
    assert fresh.headers["ETag"] != etag


def receive_the_webhook(journey):
    """The worker sends what the take charge queued; the receiver checks it as docs/webhooks.md says."""
    call_command("db_worker", batch=True, interval=0, startup_delay=False, verbosity=0)
    endpoint_id, secret = journey.learned["webhook"]
    [received] = journey.receiver.received
    assert documented_check()(secret, received.headers["X-Espace-Signature"], received.body)
    payload = json.loads(received.body)
    assert (payload["event"], payload["request"]) == ("request.status_changed", journey.learned["number"])
    log = journey.call("gestionnaire", "webhooks_retrieve", endpoint_id)
    [delivery] = log.deliveries
    assert (str(delivery.id), delivery.state.value) == (received.headers["X-Espace-Delivery"], "delivered")
    assert [attempt.status_code for attempt in delivery.attempt_log] == [200]


def exchange_messages(journey):
    number = journey.learned["number"]
    models = journey.api.models
    journey.call(
        "agent", "requests_messages_create", number, body=models.MessageInputRequest(body="Avis ?"), expect=201
    )
    note = models.MessageInputRequest(body="Déjà connue.", internal=True)
    journey.call("agent", "requests_messages_create", number, body=note, expect=201)
    reply = models.MessageUploadRequest(body="Ci-joint l'avis.", files=[journey.api.pdf("Avis 2025", "avis.pdf")])
    sent = journey.call("technicien", "requests_messages_create", number, body=reply, expect=201)
    assert [attachment.name for attachment in sent.attachments] == ["avis.pdf"]
    seen = journey.call("technicien", "requests_messages_list", number)
    assert [(item.side.value, item.body) for item in seen] == [("caisse", "Avis ?"), ("partner", "Ci-joint l'avis.")]
    assert "Déjà connue." in [item.body for item in journey.call("agent", "requests_messages_list", number)]


def upload_and_download_a_file(journey):
    number = journey.learned["number"]
    upload = journey.api.models.AttachmentUploadRequest(files=[journey.api.pdf("Avis 2024", "avis-2024.pdf")])
    (stored,) = journey.call("technicien", "requests_attachments_create", number, body=upload, expect=201)
    assert stored.name == "avis-2024.pdf"
    listed = journey.call("agent", "requests_attachments_list", number)
    assert stored.id in [attachment.id for attachment in listed]
    downloaded = journey.call("agent", "requests_attachments_retrieve", number, stored.id)
    assert downloaded.payload.read() == pdf_bytes("Avis 2024")


def resolve_with_a_file(journey):
    number = journey.learned["number"]
    answer = journey.api.models.AnswerUploadRequest(
        answer="Rendez-vous le 2 décembre.", files=[journey.api.pdf("Attestation", "attestation.pdf")]
    )
    resolved = journey.call("agent", "requests_resolve_create", number, body=answer)
    assert resolved.status.value == "resolved"
    detail = journey.call("technicien", "requests_retrieve", number)
    assert [change.to_status.value for change in detail.status_history] == ["new", "in_progress", "resolved"]
    assert detail.answer.text == "Rendez-vous le 2 décembre."
    [file] = detail.answer.files
    assert file.name == "attestation.pdf"
    downloaded = journey.call("technicien", "requests_attachments_retrieve", number, file.id)
    assert downloaded.payload.read() == pdf_bytes("Attestation")


def manage_the_structure_members(journey):
    member = journey.api.model(
        "MemberInputRequest",
        {"civility": "m", "last_name": "Martin", "first_name": "Paul", "email": "paul.martin@exemple.fr"},
    )
    created = journey.call("gestionnaire", "structure_members_create", body=member, expect=201)
    assert (created.email, created.status) == ("paul.martin@exemple.fr", "invited")
    listed = journey.call("gestionnaire", "structure_members_list")
    assert created.id in [row.id for row in listed]
    deactivated = journey.call("gestionnaire", "structure_members_deactivate_create", created.id)
    assert deactivated.is_active is False


JOURNEY = [
    who_am_i,
    read_the_catalogue,
    deposit_each_kind,
    deposit_a_mas_referral,
    refuse_a_duplicate,
    refuse_an_invalid_deposit,
    find_them_in_the_caisse_queue,
    register_a_webhook,
    sync_what_changed,
    receive_the_webhook,
    exchange_messages,
    upload_and_download_a_file,
    resolve_with_a_file,
    manage_the_structure_members,
]


@pytest.fixture
def journey(generated, live_server, monkeypatch, settings, technicien, gestionnaire, agent):
    monkeypatch.setattr(PerTokenThrottle, "THROTTLE_RATES", {"token": "10000/minute"})
    # The queue a deployment has: what an action queues waits for the worker, which the journey runs itself.
    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
    identities = {"technicien": technicien, "gestionnaire": gestionnaire, "agent": agent}
    clients = {name: generated.client(live_server.url, user) for name, user in identities.items()}
    with Receiver() as receiver:
        yield Journey(generated, clients, receiver)


def test_the_whole_journey_through_the_generated_client(journey):
    for step in JOURNEY:
        step(journey)
