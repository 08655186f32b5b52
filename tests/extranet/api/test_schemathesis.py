"""The API against its own OpenAPI schema (drf-spectacular), with Schemathesis, in-process (WSGI, same database
transaction as the test):

1. every operation, fuzzed with data that fits the schema and data that does not, for a technicien, a gestionnaire
   and an agent, each with its own token; then its examples and coverage cases (each constraint's boundaries), and
   the stateful phase on the links Schemathesis infers; every response judged by every check Schemathesis has
   (never a 5xx, only documented statuses, content types, headers and bodies, invalid input refused, the token
   required, unsupported methods a 405…);
2. every operation on a `{number}`: the owners read their object (200), the other structure's and the other
   caisse's members get a 404 whatever the operation;
3. every operation without credentials: 401.

The operations come from the generated schema: a new endpoint is covered without touching this file.

The project's Django app is named `requests`, like the HTTP library Schemathesis is built on: see
`_import_schemathesis` for how both live in one process, and run pytest with `-p no:schemathesis` (Schemathesis'
pytest plugin would import the library before Django loads the app, and the whole suite would fail to start).
"""

import json
import re
import sys
import traceback
from pathlib import Path

import pytest
from django.core import signals
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from django.test import override_settings
from django_otp.plugins.otp_totp.models import TOTPDevice
from drf_spectacular.generators import SchemaGenerator
from drf_spectacular.renderers import OpenApiJsonRenderer

from extranet.accounts.models import ApiToken
from extranet.api.throttling import PerTokenThrottle
from extranet.notifications import webhooks
from requests import services
from requests.attachments import AttachmentsField
from tests.factories import (
    CaisseFactory,
    CaisseMembershipFactory,
    ConventionFactory,
    MasReferralFactory,
    MembershipFactory,
    RequestFactory,
)
from tests.helpers import built_once
from tests.requests.builders import pdf_bytes

PROJECT_ROOT = Path(__file__).resolve().parents[3]


def _import_schemathesis():
    """Schemathesis, and the `requests` library under it, next to the project's app of the same name.

    The library is imported with the project's folder left out of the path and the app's modules set aside; then the
    app gets its `requests` and `requests.models` back (Django and the project's code import them by name), the
    library's other modules stay registered under their own names (`requests.structures`, `requests.auth`…:
    no clash), and the library's top-level names (`Session`, `PreparedRequest`, `exceptions`…) are added to the app's
    package for the `import requests` Schemathesis does inside some functions."""
    app_modules = {name: module for name, module in sys.modules.items() if name.partition(".")[0] == "requests"}
    saved_path = sys.path[:]
    for name in app_modules:
        del sys.modules[name]
    sys.path[:] = [entry for entry in sys.path if Path(entry or ".").resolve() != PROJECT_ROOT]
    try:
        import schemathesis
        import schemathesis.openapi
        import schemathesis.specs.openapi.checks
        import schemathesis.transport.wsgi  # noqa: F401

        import requests as http_library
    except ImportError:
        http_library = schemathesis = None
    finally:
        sys.path[:] = saved_path
        sys.modules.update(app_modules)
    if schemathesis is None:
        return None
    app_package = app_modules["requests"]
    for attribute, value in vars(http_library).items():
        if not attribute.startswith("__") and not hasattr(app_package, attribute):
            setattr(app_package, attribute, value)
    return schemathesis


schemathesis = _import_schemathesis()
if schemathesis is None:
    pytest.skip("schemathesis is not installed", allow_module_level=True)

from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402
from schemathesis.checks import CHECKS, load_all_checks  # noqa: E402
from schemathesis.core.parameters import ParameterLocation  # noqa: E402
from schemathesis.generation.hypothesis.builder import (  # noqa: E402
    HypothesisTestConfig,
    HypothesisTestMode,
    create_test,
)
from schemathesis.openapi.checks import RejectedPositiveData  # noqa: E402

pytestmark = pytest.mark.django_db

POSITIVE, NEGATIVE = schemathesis.GenerationMode.POSITIVE, schemathesis.GenerationMode.NEGATIVE
# Every check Schemathesis has (`--checks all`), read from its registry: a check a new version adds runs too.
load_all_checks()
# positive_data_acceptance, as Schemathesis has it, wants a schema-valid request accepted (2xx, 401, 403, 404). A
# few refusals depend on what earlier cases left or on what no schema can state: those the API answers with their own
# documented code (extranet/api/errors.py) are refusals a client handles, not schema-valid data refused for nothing.
# Any other refusal of positive data (`invalid` above all) is still a failure.
STATE_REFUSALS = {
    "email_already_used",  # an account an earlier case made with the same address
    "duplicate_open_request",  # a request an earlier case deposited for the same person, kind and motif
    "deposit_key_reused",  # an Idempotency-Key an earlier case used with another body
    "attachment_refused",  # a file whose content is not the PDF, JPEG or PNG its name says
    "unknown_caisse",  # a code that is well formed and names no caisse
    "no_active_convention",  # a caisse the structure has no convention with
    "caisse_required",  # a structure with several conventions, a deposit without its caisse
    "habilitation_required",  # a motif the structure is not habilitated for
    "wrong_status",  # a request an earlier case moved (resolved, taken)
    "not_allowed",  # a move reserved to another intervenant (the agent in charge, an administrateur)
    "internal_note_forbidden",  # a partner's internal note
    "webhook_inactive",  # an endpoint an earlier case deactivated
    "webhook_address_refused",  # a host name that resolves nowhere, or to a private address
    "invalid_cursor",  # a cursor not taken from a `next` link: opaque, any string is one by the schema
}


# What OpenAPI cannot write, refused with the field it concerns named:
UNWRITABLE_RULES = {
    # `format: uri` takes more than the https:// address of a host Django's URLValidator does (a TLD, a port…).
    ("POST /api/v1/webhooks/", "invalid"): {"url"},
}
# The deposit is the pages' forms' rules: a NIR's key (modulo 97) and its agreement with the birth date, a text
# made of spaces only, the MAS block and the signed sheet only with the MAS motif, the details' rules between
# fields. Its schema states each field's shape, not these: positive data there is refused with `invalid` or
# `unknown_fields`, naming the field. The other checks (schema conformance of every answer, negative data refused)
# still run on it, and the generated client's journey deposits each kind for real.
FORM_RULES = {"POST /api/v1/requests/"}


def positive_data_acceptance(ctx, response, case):
    try:
        return CHECKS.get_one("positive_data_acceptance")(ctx, response, case)
    except RejectedPositiveData:
        try:
            body = response.json()
        except ValueError:
            raise
        if body.get("code") in STATE_REFUSALS or f"{case.method.upper()} {case.path}" in FORM_RULES:
            return None
        allowed = UNWRITABLE_RULES.get((f"{case.method.upper()} {case.path}", body.get("code")))
        if allowed and set(body.get("fields", {})) <= allowed:
            return None
        raise


ALL_CHECKS = [
    positive_data_acceptance if check.__name__ == "positive_data_acceptance" else check
    for check in CHECKS.get_all()
    if callable(check) and not isinstance(check, type)
]
# Random cases per operation and identity: fewer than before the coverage phase, which now sends each constraint's
# boundaries and each wrong type systematically; the CI's time stays about where it was.
EXAMPLES = {POSITIVE: 10, NEGATIVE: 8}
FUZZ = {
    "deadline": None,
    "derandomize": True,  # the same cases on every run: CI stays stable
    "database": None,  # no example database (Hypothesis still caches in .hypothesis/, which it git-ignores)
    "print_blob": False,
    "suppress_health_check": [HealthCheck.too_slow, HealthCheck.filter_too_much, HealthCheck.data_too_large],
}

# What the browsable schema serves at /api/schema/ (same generator, same settings).
SCHEMA_DICT = json.loads(OpenApiJsonRenderer().render(SchemaGenerator().get_schema(request=None, public=True)))
WSGI_APP = get_wsgi_application()
SCHEMA = schemathesis.openapi.from_dict(SCHEMA_DICT)
# The requests some checks send of their own (unsupported methods, probes) go to the application too.
SCHEMA.app = WSGI_APP


def body_media_types(operation):
    method, path = operation
    return SCHEMA_DICT["paths"][path][method.lower()].get("requestBody", {}).get("content", {})


def negatable(operation):
    return "requestBody" in operation or any(
        parameter["in"] == "query" for parameter in operation.get("parameters", [])
    )


OPERATIONS = [
    (method.upper(), path)
    for path, item in SCHEMA_DICT["paths"].items()
    for method in item
    if method in {"get", "post", "put", "patch", "delete"}
]
# Negative data needs something to break: a query parameter or a body (a path's plain string takes anything).
FUZZ_RUNS = [
    (operation, mode)
    for operation in OPERATIONS
    for mode in (POSITIVE, NEGATIVE)
    if mode == POSITIVE or negatable(SCHEMA_DICT["paths"][operation[1]][operation[0].lower()])
]
NUMBERED = [(method, path) for method, path in OPERATIONS if "{number}" in path]
PATH_PARAMETER = re.compile(r"{(\w+)}")


def operation_id(operation):
    return f"{operation[0]} {operation[1]}"


def run_id(run):
    (method, path), mode = run
    return f"{method} {path} {mode}"


def token_for(user):
    """A token whose owner has a second factor, as the API requires for personal data."""
    TOTPDevice.objects.get_or_create(user=user, name="Application", defaults={"confirmed": True})
    _, key = ApiToken.objects.issue(user, name="Schemathesis")
    return f"Token {key}"


@pytest.fixture(autouse=True)
def generous_rate(monkeypatch):
    monkeypatch.setattr(PerTokenThrottle, "THROTTLE_RATES", {"token": "100000/minute"})


@pytest.fixture(autouse=True)
def same_transaction():
    """Django's WSGI handler closes "old" connections at each request's start and end: the test's transaction
    would go with it (on PostgreSQL). Django's test client does the same as this."""
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    yield
    signals.request_started.connect(close_old_connections)
    signals.request_finished.connect(close_old_connections)


@pytest.fixture
def server_errors():
    """Tracebacks of the exceptions the application let through (a 500): shown with the failing case."""
    caught = []

    def note(sender, request=None, **kwargs):
        caught.append(f"{request.method} {request.get_full_path()}\n{traceback.format_exc()}")

    signals.got_request_exception.connect(note)
    yield caught
    signals.got_request_exception.disconnect(note)


IDENTITIES = ["technicien", "gestionnaire", "agent"]


class Scene:
    """Structure S1 and caisse C1 with a technicien, a gestionnaire and an agent; S2 and C2 with a technicien and an
    agent (strangers to S1/C1's objects); each of them with a second factor and a token.

    `seeded`, objects of S1/C1 for the path parameters: a new request with an attachment (a MAS referral detected
    remotely: it has a sheet and awaits its confirmation letter), one taken in charge by the agent, one without a
    person (contact), a technicien a gestionnaire may deactivate and reactivate, and a webhook endpoint."""

    def __init__(self):
        caisse = CaisseFactory(code="331", name="CPAM de la Gironde")
        other_caisse = CaisseFactory(code="421", name="CPAM de la Loire")
        structure = ConventionFactory(caisse=caisse, structure__name="Association Alpha").structure
        other_structure = ConventionFactory(caisse=other_caisse, structure__name="Association Beta").structure
        technicien = MembershipFactory(structure=structure).user
        agent = CaisseMembershipFactory(caisse=caisse).user
        users = {
            "technicien": technicien,
            "gestionnaire": MembershipFactory(structure=structure, gestionnaire=True).user,
            "agent": agent,
            "other_technicien": MembershipFactory(structure=other_structure).user,
            "other_agent": CaisseMembershipFactory(caisse=other_caisse).user,
        }
        self.emails = {name: user.email for name, user in users.items()}
        self.tokens = {name: token_for(user) for name, user in users.items()}

        new = MasReferralFactory(
            request__structure=structure, request__caisse=caisse, request__author=technicien
        ).request
        (attachment,) = services.add_attachments(
            new,
            author=technicien,
            files=AttachmentsField(min_count=1).clean(
                [SimpleUploadedFile("justificatif.pdf", pdf_bytes(), content_type="application/pdf")]
            ),
        )
        taken = RequestFactory(structure=structure, caisse=caisse, author=technicien, case_review=True)
        services.take_charge(taken, agent=agent)
        contact = RequestFactory(structure=structure, caisse=caisse, author=technicien, contact=True)
        colleague = MembershipFactory(structure=structure)
        # Nothing listens on port 9: a test event is refused at once, and retried (never with the immediate queue).
        endpoint, _ = webhooks.register(
            owner={"structure": structure},
            name="Suivi",
            url="http://127.0.0.1:9/",
            events=list(webhooks.EVENTS),
            by=None,
        )
        self.seeded = {
            "numbers": [new.number, taken.number, contact.number],
            "attachment": (new.number, attachment.public_id),
            "member": colleague.pk,
            "webhook": endpoint.pk,
        }


@pytest.fixture(scope="module")
def scene_files(tmp_path_factory):
    return tmp_path_factory.mktemp("schemathesis-private")


@pytest.fixture(scope="module")
def built_scene(django_db_setup, django_db_blocker, scene_files):
    """The scene, built once for the module's 200 tests (14 to 20 s of setup, a sixth of the module's time, when each
    built its own), in a transaction rolled back at the end of the module. Each test runs in a savepoint of it
    (pytest-django's `db`, see `scene`) rolled back after it: every test starts from the very same rows, whatever an
    earlier one's cases created, moved or deactivated."""
    with override_settings(PRIVATE_MEDIA_ROOT=scene_files):
        yield from built_once(django_db_blocker, Scene)


@pytest.fixture
def private_media(settings, scene_files):
    """The scene's attachment stays where it was built (the suite's `private_media` gives each test a new folder)."""
    settings.PRIVATE_MEDIA_ROOT = scene_files
    return scene_files


@pytest.fixture
def scene(built_scene, db):
    return built_scene


def known_path_parameters(path, seeded):
    """Path parameters naming existing objects of S1/C1, for an operation's path."""
    names = PATH_PARAMETER.findall(path)
    if names == ["number"]:
        return [{"number": number} for number in seeded["numbers"]]
    if names == ["number", "id"]:
        number, pk = seeded["attachment"]
        return [{"number": number, "id": pk}]
    if names == ["id"] and path.startswith("/api/v1/structure/members/"):
        return [{"id": seeded["member"]}]
    if names == ["id"] and path.startswith("/api/v1/webhooks/"):
        return [{"id": seeded["webhook"]}]
    assert not names, f"{path}: which existing object should its path parameters {names} name? Add it here."
    return []


def fuzz(operation, mode, authorization, seeded, server_errors):
    method, path = operation
    api_operation = SCHEMA[path][method]
    options = {}
    if mode == NEGATIVE and "application/json" in body_media_types(operation):
        # In multipart every value is text: a boolean "became integer" arrives as "0", which is a valid boolean.
        options["media_type"] = "application/json"
    known = known_path_parameters(path, seeded)
    strategy = st.one_of(
        *(api_operation.as_strategy(mode, path_parameters=parameters, **options) for parameters in known),
        api_operation.as_strategy(mode, **options),
    )
    test = checked(authorization, server_errors, repeats_answered_alike=method == "GET")
    settings(max_examples=EXAMPLES[mode], **FUZZ)(given(case=strategy)(test))()


IDENTITY = {}  # the token of the identity under test, set by `checked`


@schemathesis.auth(refresh_interval=None)  # no cache: each test has its own identity
class IdentityToken:
    """The token set on each case as Schemathesis' own authentication: `ignored_auth` then knows it is a valid one,
    and proves it is required by sending the case without it and with a wrong one; a case whose negative data is the
    missing credentials goes without."""

    def get(self, case, context):
        return IDENTITY["authorization"]

    def set(self, case, data, context):
        case.headers = {**(case.headers or {}), "Authorization": data}


def sent_and_judged(case):
    """Everything of a case that its request or its checks read: the request's parts, and what Schemathesis noted
    of its making (mode, phase, what was made invalid and where), which decides what the checks expect. Not its id
    nor when it was drawn."""
    meta = case.meta.to_dict() if case.meta else None
    if meta:
        del meta["generation"]["time"]
    parts = (case.method, case.path, case.path_parameters, case.query, case.headers, case.cookies, case.body)
    return repr((*parts, case.media_type, case.multipart_content_types, meta))


def checked(authorization, server_errors, path_parameters=None, *, repeats_answered_alike=False):
    """A case sent with the identity's token, its response judged by every check. The checks that send requests of
    their own (`ignored_auth`, `unsupported_method`…) go to the same application. `path_parameters` name existing
    objects, except in the cases whose invalid value is a path parameter.

    `repeats_answered_alike`, for the fuzzing of a read (GET): nothing its cases send changes what the API answers
    (a read only adds to the access journal, which no operation returns; the checks' other methods are refused), so
    a case the test already sent and judged, the same in all it sends and all its checks read, would get the same
    answer and the same verdict: it is not sent again. Hypothesis draws many such repeats where the inputs are few
    (an operation without parameters, the three known numbers of a path): 231 of the reads' 414 cases, 714 of their
    1,119 requests with the checks' own. The other operations' repeats meet a changed state (a request already
    taken in charge, a member already deactivated): they are sent."""
    IDENTITY["authorization"] = authorization
    transport = {"app": WSGI_APP}
    judged = set()

    def check(case):
        if path_parameters and not (case.meta and case.meta.is_negative_at(ParameterLocation.PATH)):
            existing = {name: str(value) for name, value in path_parameters.items()}  # a UUID as its text
            case.path_parameters = {**(case.path_parameters or {}), **existing}
        if repeats_answered_alike:
            key = sent_and_judged(case)
            if key in judged:
                return
        server_errors.clear()
        response = case.call(**transport)
        try:
            case.validate_response(response, checks=ALL_CHECKS, transport_kwargs=transport)
        except (Exception, BaseExceptionGroup) as failure:  # Schemathesis raises a BaseExceptionGroup
            for caught in server_errors:
                failure.add_note(caught)
            raise
        if repeats_answered_alike:
            judged.add(key)

    return check


@pytest.mark.parametrize("run", FUZZ_RUNS, ids=run_id)
@pytest.mark.parametrize("identity", IDENTITIES)
def test_every_operation_conforms_to_the_schema(identity, run, scene, server_errors):
    operation, mode = run
    fuzz(operation, mode, scene.tokens[identity], scene.seeded, server_errors)


def examples_and_coverage(operation, authorization, seeded, server_errors):
    """Schemathesis' two other phases of one operation: the schema's examples, then its coverage cases (each
    boundary of each constraint, each missing required value, each wrong type, unexpected methods), as the CLI
    runs them. A path names an existing object of S1/C1: the boundaries are the body's and the query's."""
    method, path = operation
    known = known_path_parameters(path, seeded)
    test = create_test(
        operation=SCHEMA[path][method],
        test_func=checked(authorization, server_errors, known[0] if known else None),
        config=HypothesisTestConfig(
            project=SCHEMA.config,
            modes=[HypothesisTestMode.EXAMPLES, HypothesisTestMode.COVERAGE],
            settings=settings(max_examples=1, **FUZZ),
        ),
    )
    test()


def meant_for(operation):
    """The identity an operation is for: its coverage cases are about the schema's constraints, the same for all,
    and run once (the fuzzing above tries every identity on every operation)."""
    _, path = operation
    if path.startswith("/api/v1/structure/"):
        return "gestionnaire"
    if path.endswith(("/take-charge/", "/resolve/")):
        return "agent"
    return "technicien"


@pytest.mark.parametrize("operation", OPERATIONS, ids=operation_id)
def test_every_operation_passes_its_examples_and_coverage_cases(operation, scene, server_errors):
    examples_and_coverage(operation, scene.tokens[meant_for(operation)], scene.seeded, server_errors)


def links_workflow(authorization, server_errors):
    """Schemathesis' stateful phase: sequences of calls chained by the links it infers from the schema (a message
    posted, then the messages read…), every response judged by every check, `use_after_free` and
    `ensure_resource_availability` included (they need a sequence)."""
    IDENTITY["authorization"] = authorization

    class Workflow(SCHEMA.as_state_machine()):
        def get_call_kwargs(self, case):
            return {"app": WSGI_APP}

        def validate_response(self, response, case, additional_checks=None, **kwargs):
            server_errors.clear()
            try:
                case.validate_response(
                    response, checks=ALL_CHECKS, transport_kwargs={"app": WSGI_APP}, recorder=self.recorder
                )
            except (Exception, BaseExceptionGroup) as failure:
                for caught in server_errors:
                    failure.add_note(caught)
                raise

    Workflow.run(settings=settings(max_examples=STATEFUL_SCENARIOS, stateful_step_count=6, **FUZZ))


STATEFUL_SCENARIOS = 10


@pytest.mark.parametrize("identity", IDENTITIES)
def test_linked_operations_conform_to_the_schema(identity, scene, server_errors):
    links_workflow(scene.tokens[identity], server_errors)


# 2. Object-level authorisation


def call(method, path, authorization=None):
    headers = {"Authorization": authorization} if authorization else {}
    response = schemathesis.python.wsgi.get_client(WSGI_APP).open(path, method=method, headers=headers)
    return response.status_code, response.get_data()


def existing(path, seeded):
    """The path with its parameters naming objects of S1/C1: the request that has an attachment (a MAS referral),
    that attachment, a technicien of S1, a webhook endpoint of S1."""
    number, attachment = seeded["attachment"]
    owned = {"/api/v1/structure/members/": seeded["member"], "/api/v1/webhooks/": seeded["webhook"]}
    values = {"number": number, "id": next((pk for start, pk in owned.items() if path.startswith(start)), attachment)}
    return PATH_PARAMETER.sub(lambda match: str(values[match.group(1)]), path)


@pytest.mark.parametrize("operation", NUMBERED, ids=operation_id)
def test_another_structure_or_caisse_gets_a_404_the_owners_a_200(operation, scene):
    """Reading and acting alike: a move on another's request is a 404 before its body is read."""
    method, path = operation
    url = existing(path, scene.seeded)
    if method == "GET":
        for owner in ("technicien", "agent"):
            status, body = call(method, url, scene.tokens[owner])
            assert status == 200, (scene.emails[owner], url, body[:500])
    for stranger in ("other_technicien", "other_agent"):
        status, body = call(method, url, scene.tokens[stranger])
        assert status == 404, (scene.emails[stranger], url, body[:500])


# 3. Without credentials


@pytest.mark.parametrize("operation", OPERATIONS, ids=operation_id)
def test_without_credentials_every_operation_is_a_401(operation, scene):
    method, path = operation
    url = existing(path, scene.seeded)
    status, body = call(method, url)
    assert status == 401, (url, body[:500])
