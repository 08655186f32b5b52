"""The API through a Python client generated from its schema alone, as a partner's developer would write theirs: a
fresh `openapi-python-client` generation at each run (never committed), imported, and driven against a real HTTP
server (pytest-django's `live_server`) with personal tokens.

Each response is parsed by the generated models: a documented status that never comes, a field the schema requires
but the server leaves out, a value outside the schema's enum, or a field the server sends and the schema does not
name, fails the journey. If a step cannot go through the generated client, the schema is what to fix.

The journey is one small function per step, each on the `Journey` that carries the identities and what the
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
from django_otp.plugins.otp_totp.models import TOTPDevice
from drf_spectacular.generators import SchemaGenerator
from drf_spectacular.renderers import OpenApiJsonRenderer

from extranet.accounts.models import ApiToken
from extranet.api.throttling import PerTokenThrottle
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

    def model(self, name, payload):
        """A request body built as a client developer would from JSON: the model checks enums and formats."""
        return getattr(self.models, name).from_dict(payload)


@dataclass
class Journey:
    api: Generated
    clients: dict  # identity → AuthenticatedClient
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


MAS_REFERRAL = {
    "kind": "access_difficulty",
    "motif": "mas_referral",
    "person_civility": "mme",
    "person_last_name": "Durand",
    "person_first_name": "Lucie",
    "person_birth_date": "1985-05-14",
    "person_nir": make_nir(sex="2", year="85", month="05"),
    "referral_date": "2026-01-05",
    "contexts": ["care_renunciation"],
    "cares": ["gp_or_specialist_consultations"],
    "renunciation_duration": "over_1_year",
    "causes": ["out_of_pocket"],
    "detector_email": "detecteur@exemple.fr",
    "consent_mode": "remote",
    "notice_given": True,
}


# The steps, in the journey's order.


def who_am_i(journey):
    me = journey.call("technicien", "me_retrieve")
    assert (me.role, me.second_factor) == ("technicien", True)
    assert [caisse.code for caisse in me.caisses] == ["331"]
    assert journey.call("agent", "me_retrieve").caisse.code == "331"


def deposit_a_mas_referral(journey):
    created = journey.call(
        "technicien", "requests_create", body=journey.api.model("DepositRequest", MAS_REFERRAL), expect=201
    )
    assert (created.kind.value, created.motif, created.status.value) == ("access_difficulty", "mas_referral", "new")
    assert created.person.last_name == "Durand"
    assert created.mas_referral.consent_mode == "remote"
    journey.learned["number"] = created.number


def find_it_in_the_caisse_queue(journey):
    page = journey.call("agent", "requests_list", status=journey.api.models.RequestsListStatut("new"))
    assert [row.number for row in page.results] == [journey.learned["number"]]
    page = journey.call("technicien", "requests_list", kind=journey.api.models.RequestsListTypeDeDemande("contact"))
    assert page.results == []


def read_the_detail(journey):
    detail = journey.call("agent", "requests_retrieve", journey.learned["number"])
    assert detail.person.first_name == "Lucie"
    assert [change.to_status.value for change in detail.status_history] == ["new"]


def take_charge(journey):
    taken = journey.call("agent", "requests_take_charge_create", journey.learned["number"])
    assert taken.status.value == "in_progress"
    journey.call("agent", "requests_take_charge_create", journey.learned["number"], expect=409)


def exchange_messages(journey):
    number = journey.learned["number"]
    message = journey.api.models.MessageInputRequest
    journey.call("agent", "requests_messages_create", number, body=message(body="Avis d'imposition ?"), expect=201)
    journey.call(
        "agent", "requests_messages_create", number, body=message(body="Déjà connue.", internal=True), expect=201
    )
    journey.call("technicien", "requests_messages_create", number, body=message(body="Ci-joint l'avis."), expect=201)
    seen = journey.call("technicien", "requests_messages_list", number)
    assert [item.body for item in seen] == ["Avis d'imposition ?", "Ci-joint l'avis."]
    assert "Déjà connue." in [item.body for item in journey.call("agent", "requests_messages_list", number)]


def upload_and_download_a_file(journey):
    number = journey.learned["number"]
    upload = journey.api.models.AttachmentUploadRequest(
        files=[journey.api.types.File(payload=BytesIO(pdf_bytes("Avis 2025")), file_name="avis.pdf")]
    )
    (stored,) = journey.call("technicien", "requests_attachments_create", number, body=upload, expect=201)
    assert stored.name == "avis.pdf"
    listed = journey.call("agent", "requests_attachments_list", number)
    assert [attachment.id for attachment in listed] == [stored.id]
    downloaded = journey.call("agent", "requests_attachments_retrieve", number, stored.id)
    assert downloaded.payload.read().startswith(b"%PDF")


def resolve(journey):
    answer = journey.api.models.AnswerRequest(answer="Rendez-vous le 2 décembre.")
    resolved = journey.call("agent", "requests_resolve_create", journey.learned["number"], body=answer)
    assert resolved.status.value == "resolved"
    detail = journey.call("technicien", "requests_retrieve", journey.learned["number"])
    assert [change.to_status.value for change in detail.status_history] == ["new", "in_progress", "resolved"]
    exchanges = journey.call("technicien", "requests_messages_list", journey.learned["number"])
    assert (exchanges[-1].body, exchanges[-1].answer) == ("Rendez-vous le 2 décembre.", True)


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
    deposit_a_mas_referral,
    find_it_in_the_caisse_queue,
    read_the_detail,
    take_charge,
    exchange_messages,
    upload_and_download_a_file,
    resolve,
    manage_the_structure_members,
]


@pytest.fixture
def journey(generated, live_server, monkeypatch, technicien, gestionnaire, agent):
    monkeypatch.setattr(PerTokenThrottle, "THROTTLE_RATES", {"token": "10000/minute"})
    identities = {"technicien": technicien, "gestionnaire": gestionnaire, "agent": agent}
    return Journey(generated, {name: generated.client(live_server.url, user) for name, user in identities.items()})


def test_the_whole_journey_through_the_generated_client(journey):
    for step in JOURNEY:
        step(journey)
