"""The workflow Nouveau → Pris en charge → Résolu: the whole table of (status × action × role), the log (the race:
test_workflow_race.py)."""

from dataclasses import dataclass
from datetime import timedelta

import pytest
import time_machine
from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import AnonymousUser
from django.contrib.messages import ERROR, SUCCESS, get_messages
from django.shortcuts import resolve_url

from extranet.notifications.models import OutgoingEmail
from requests import services, workflow
from requests.models import Attachment, Message, Request, RequestUserObjectPermission, Status, StatusChange
from structures.models import Caisse
from tests.factories import (
    CaisseFactory,
    CaisseMembershipFactory,
    ConventionFactory,
    MembershipFactory,
    RequestFactory,
)
from tests.helpers import built_once, text
from tests.requests.builders import a_pdf, image_bytes, upload

NEW, IN_PROGRESS, RESOLVED = Status.NEW, Status.IN_PROGRESS, Status.RESOLVED
STATUSES = [NEW, IN_PROGRESS, RESOLVED]
ACTIONS = ["take_charge", "resolve", "reassign", "hand_back", "dispatch"]
ROLES = [
    "anonymous",
    "technicien of the structure",
    "gestionnaire of the structure",
    "technicien of another structure of the caisse",
    "technicien of a structure of another caisse",
    "assigned agent",
    "other agent of the caisse",
    "administrateur of the caisse",
    "agent of another caisse",
    "administrateur of another caisse",
]
CAISSE_STAFF = {"assigned agent", "other agent of the caisse", "administrateur of the caisse"}
# The only edges: anything else is refused.
ALLOWED = {
    (NEW, "take_charge"): {"assigned agent", "other agent of the caisse", "administrateur of the caisse"},
    (IN_PROGRESS, "resolve"): {"assigned agent", "administrateur of the caisse"},
    (IN_PROGRESS, "reassign"): {"administrateur of the caisse"},
    (IN_PROGRESS, "hand_back"): {"assigned agent", "administrateur of the caisse"},
    (NEW, "dispatch"): {"administrateur of the caisse"},
}
# The transitions that name the agent who gets the request.
TARGETED = {"reassign", "dispatch"}
ANSWER = "Vos droits sont rétablis depuis le 1er mars ; l'attestation est jointe."
TABLE = [(status, action, role) for status in STATUSES for action in ACTIONS for role in ROLES]


def table_id(value):
    return str(value).replace(" ", "-")


@dataclass
class Cast:
    request: Request
    users: dict
    # The agent an administrateur hands the request to.
    target: object


def build_cast(status, caisse, structure, other_caisse, other_structure):
    technicien = MembershipFactory(structure=structure).user
    assigned = CaisseMembershipFactory(caisse=caisse, user__last_name="Assignée").user
    users = {
        "anonymous": AnonymousUser(),
        "technicien of the structure": technicien,
        "gestionnaire of the structure": MembershipFactory(structure=structure, gestionnaire=True).user,
        "technicien of another structure of the caisse": MembershipFactory(
            structure=ConventionFactory(caisse=caisse).structure
        ).user,
        "technicien of a structure of another caisse": MembershipFactory(structure=other_structure).user,
        "assigned agent": assigned,
        "other agent of the caisse": CaisseMembershipFactory(caisse=caisse, user__last_name="Autre").user,
        "administrateur of the caisse": CaisseMembershipFactory(caisse=caisse, admin=True).user,
        "agent of another caisse": CaisseMembershipFactory(caisse=other_caisse).user,
        "administrateur of another caisse": CaisseMembershipFactory(caisse=other_caisse, admin=True).user,
    }
    demande = RequestFactory(structure=structure, caisse=caisse, author=technicien)
    if status in (IN_PROGRESS, RESOLVED):
        services.take_charge(demande, agent=assigned)
    if status == RESOLVED:
        services.resolve(demande, agent=assigned, answer=ANSWER)
    return Cast(Request.objects.get(pk=demande.pk), users, users["other agent of the caisse"])


def snapshot(demande):
    """Everything a refused move must leave as it was."""
    demande = Request.objects.get(pk=demande.pk)
    return {
        "status": demande.status,
        "assigned_to": demande.assigned_to_id,
        "taken_at": demande.taken_at,
        "resolved_at": demande.resolved_at,
        "log": list(StatusChange.objects.filter(request=demande).values_list("pk", flat=True)),
        "messages": Message.objects.filter(request=demande).count(),
        "attachments": Attachment.objects.filter(request=demande).count(),
        "emails": OutgoingEmail.objects.count(),
        "rights to resolve": list(
            RequestUserObjectPermission.objects.filter(content_object=demande).values_list("user_id", flat=True)
        ),
    }


def assert_moved(cast, before, status, action, actor):
    """The allowed edge happened, with exactly one log row saying who, when, from and to."""
    demande = Request.objects.get(pk=cast.request.pk)
    new_rows = StatusChange.objects.filter(request=demande).exclude(pk__in=before["log"])
    assert new_rows.count() == 1
    row = new_rows.get()
    assert row.by == actor
    if action == "take_charge":
        assert demande.status == IN_PROGRESS
        assert demande.assigned_to == actor
        assert demande.taken_at is not None
        assert (row.from_status, row.to_status, row.assigned_to, row.at) == (
            NEW,
            IN_PROGRESS,
            actor,
            demande.taken_at,
        )
    elif action == "resolve":
        assert demande.status == RESOLVED
        assert demande.resolved_at is not None
        assert demande.assigned_to_id == before["assigned_to"]
        assert (row.from_status, row.to_status, row.at) == (IN_PROGRESS, RESOLVED, demande.resolved_at)
        answer = Message.objects.get(request=demande, is_answer=True)
        assert (answer.body, answer.author, answer.side, answer.is_internal) == (ANSWER, actor, "caisse", False)
    elif action == "hand_back":
        # Back in the queue: nobody in charge, nobody holding the right to resolve.
        assert (demande.status, demande.assigned_to, demande.taken_at) == (NEW, None, None)
        assert (row.from_status, row.to_status, row.assigned_to) == (IN_PROGRESS, NEW, None)
        assert snapshot(demande)["rights to resolve"] == []
    elif action == "dispatch":
        assert (demande.status, demande.assigned_to, demande.taken_at) == (IN_PROGRESS, cast.target, row.at)
        assert (row.from_status, row.to_status, row.assigned_to) == (NEW, IN_PROGRESS, cast.target)
        assert snapshot(demande)["rights to resolve"] == [cast.target.pk]
    else:
        assert demande.status == IN_PROGRESS
        assert demande.assigned_to == cast.target
        assert demande.taken_at == before["taken_at"]
        assert (row.from_status, row.to_status, row.assigned_to) == (IN_PROGRESS, IN_PROGRESS, cast.target)


def assert_unchanged(cast, before):
    assert snapshot(cast.request) == before


@pytest.fixture(scope="module")
def built(django_db_setup, django_db_blocker):
    """The caisses, structures and one cast per status, built once for the module's 500 tests (building a cast for
    each was a third of the module's time) in a transaction rolled back at the end of the module. Each test runs in
    a savepoint of it (pytest-django's `db`, see `cast_for`) rolled back after it: every test starts from the very
    same rows, whatever an earlier one moved. The module has no `transaction=True` test (test_workflow_race.py):
    one would run inside this transaction (tests/helpers.py `built_once`)."""

    def build():
        scene = {
            "caisse": CaisseFactory(code="331", name="CPAM de la Gironde"),
            "other_caisse": CaisseFactory(code="421", name="CPAM de la Loire"),
        }
        scene["structure"] = ConventionFactory(caisse=scene["caisse"], structure__name="Association Alpha").structure
        scene["other_structure"] = ConventionFactory(
            caisse=scene["other_caisse"], structure__name="Association Beta"
        ).structure
        scene["casts"] = {
            status: build_cast(
                status, scene["caisse"], scene["structure"], scene["other_caisse"], scene["other_structure"]
            )
            for status in STATUSES
        }
        return scene

    yield from built_once(django_db_blocker, build)


@pytest.fixture
def caisse(built, db):
    return Caisse.objects.get(pk=built["caisse"].pk)


@pytest.fixture
def other_caisse(built, db):
    return Caisse.objects.get(pk=built["other_caisse"].pk)


@pytest.fixture
def cast_for(built, db):
    """The cast of a status, read anew from the database: nothing a test changed in memory reaches the next."""

    def fresh(status):
        cast = built["casts"][status]
        users = get_user_model().objects.in_bulk([user.pk for user in cast.users.values() if user.pk])
        return Cast(
            Request.objects.get(pk=cast.request.pk),
            {role: users[user.pk] if user.pk else AnonymousUser() for role, user in cast.users.items()},
            users[cast.target.pk],
        )

    return fresh


def post_action(client, action, cast, **data):
    number = cast.request.number
    if action == "take_charge":
        return client.post(f"/demandes/{number}/prendre-en-charge/")
    if action == "resolve":
        return client.post(f"/demandes/{number}/resoudre/", {"answer": ANSWER, "confirm": "1"} | data)
    if action == "hand_back":
        return client.post(f"/demandes/{number}/remettre-dans-la-file/")
    if action == "dispatch":
        return client.post(f"/demandes/{number}/attribuer/", {"agent": cast.target.pk} | data)
    return client.post(f"/demandes/{number}/reattribuer/", {"agent": cast.target.pk} | data)


def flash(response):
    return [(message.level, message.message) for message in get_messages(response.wsgi_request)]


@pytest.mark.django_db
class TestWorkflowTableThroughTheViews:
    @pytest.mark.parametrize(("status", "action", "role"), TABLE, ids=table_id)
    def test_only_the_allowed_edges_move(self, client, cast_for, status, action, role):
        cast = cast_for(status)
        actor = cast.users[role]
        if role != "anonymous":
            client.force_login(actor)
        before = snapshot(cast.request)
        response = post_action(client, action, cast)
        detail = f"/demandes/{cast.request.number}/"

        if role in ALLOWED.get((status, action), ()):
            assert response.status_code == 302, response.content.decode()[:2000]
            assert response.url == detail
            assert [level for level, _ in flash(response)] == [SUCCESS]
            assert_moved(cast, before, status, action, actor)
            return

        assert_unchanged(cast, before)
        if role == "anonymous":
            assert response.status_code == 302
            assert response.url.startswith(resolve_url(settings.LOGIN_URL) + "?next=")
        elif role not in CAISSE_STAFF:
            # Partners, and the staff of another caisse: the request, and its actions, do not exist for them.
            assert response.status_code == 404
        else:
            # Back to the request with the reason: the form may no longer be on the page, the message always is.
            assert response.status_code == 302
            assert response.url == detail
            [(level, message)] = flash(response)
            assert level == ERROR
            if action == "take_charge" and status == IN_PROGRESS:
                assert f"La demande {cast.request.number}" in message
                assert cast.request.assigned_to.get_full_name() in message


@pytest.mark.django_db
class TestWorkflowTableThroughTheServices:
    @pytest.mark.parametrize(("status", "action", "role"), TABLE, ids=table_id)
    def test_only_the_allowed_edges_move(self, cast_for, status, action, role):
        cast = cast_for(status)
        actor = cast.users[role]
        before = snapshot(cast.request)

        def act():
            if action == "take_charge":
                return services.take_charge(cast.request, agent=actor)
            if action == "resolve":
                return services.resolve(cast.request, agent=actor, answer=ANSWER)
            if action == "hand_back":
                return services.hand_back(cast.request, agent=actor)
            if action == "dispatch":
                return services.dispatch(cast.request, admin=actor, agent=cast.target)
            return services.reassign(cast.request, admin=actor, agent=cast.target)

        if role in ALLOWED.get((status, action), ()):
            act()
            assert_moved(cast, before, status, action, actor)
        else:
            with pytest.raises(services.WorkflowRefused) as refusal:
                act()
            assert str(refusal.value)
            assert_unchanged(cast, before)


# The FSM's own table: (transition name) -> (source, target), as declared on Request.
EDGES = {t.name: (t.source, t.target) for t in Request._meta.get_field("status").get_all_transitions(Request)}


def expected_refusal(status, action):
    """The exception a refused cell raises: the request is not where the transition starts (AlreadyTaken when an
    agent was faster), or it is and the policy says no."""
    if EDGES[action][0] != status:
        taken = action in ("take_charge", "dispatch") and status == IN_PROGRESS
        return workflow.AlreadyTaken if taken else workflow.WrongStatus
    return workflow.NotAllowed


@pytest.mark.django_db
class TestWorkflowTableThroughTheWorkflow:
    """Every (status, transition, role) cell of `workflow.move`, the one path every move takes."""

    def test_the_fsm_declares_the_five_edges(self):
        assert EDGES == {
            "take_charge": (NEW, IN_PROGRESS),
            "resolve": (IN_PROGRESS, RESOLVED),
            "reassign": (IN_PROGRESS, IN_PROGRESS),
            "hand_back": (IN_PROGRESS, NEW),
            "dispatch": (NEW, IN_PROGRESS),
        }
        assert set(EDGES) == set(workflow.EDGES) == set(ACTIONS)

    @pytest.mark.parametrize(("status", "action", "role"), TABLE, ids=table_id)
    def test_each_cell(self, cast_for, status, action, role):
        cast = cast_for(status)
        actor = cast.users[role]
        arguments = {"to": cast.target} if action in TARGETED else {}
        before = snapshot(cast.request)

        if role not in ALLOWED.get((status, action), ()):
            with pytest.raises(workflow.WorkflowRefused) as refusal:
                workflow.move(cast.request, action, by=actor, **arguments)
            assert type(refusal.value) is expected_refusal(status, action)
            assert str(refusal.value)
            assert_unchanged(cast, before)
            return

        moved = workflow.move(cast.request, action, by=actor, **arguments)
        source, target = EDGES[action]
        assert (status, moved.status) == (source, target)
        stored = Request.objects.get(pk=cast.request.pk)
        assert stored.status == target
        [row] = StatusChange.objects.filter(request=stored).exclude(pk__in=before["log"])
        assert (row.from_status, row.to_status, row.by) == (source, target, actor)
        holder = stored.assigned_to if target == IN_PROGRESS else None
        assert row.assigned_to == (holder if holder and holder.pk != before["assigned_to"] else None)
        # The right to resolve follows whoever holds the request, while it is in progress only.
        assert snapshot(stored)["rights to resolve"] == ([holder.pk] if holder else [])


@pytest.mark.django_db
class TestRefusalsAreExplained:
    """A refused move says why, in French, where the agent looks."""

    def test_take_charge_of_a_request_already_taken_names_the_holder(self, client, cast_for):
        cast = cast_for(IN_PROGRESS)
        client.force_login(cast.users["other agent of the caisse"])
        response = post_action(client, "take_charge", cast)
        holder = cast.users["assigned agent"].get_full_name()
        assert flash(response) == [
            (ERROR, f"La demande {cast.request.number} vient d'être prise en charge par {holder}.")
        ]
        page = text(client.get(response.url))
        assert f"vient d'être prise en charge par {holder}" in page

    def test_a_second_resolve_of_the_same_request_is_explained(self, client, cast_for):
        """Double submission of the resolve form: the second one is refused and the agent is told why."""
        cast = cast_for(IN_PROGRESS)
        client.force_login(cast.users["assigned agent"])
        assert post_action(client, "resolve", cast).status_code == 302
        before = snapshot(cast.request)
        response = post_action(client, "resolve", cast)
        assert response.status_code == 302
        assert_unchanged(cast, before)
        assert "seule une demande prise en charge peut être résolue" in text(client.get(response.url))

    def test_resolving_a_request_reassigned_meanwhile_is_explained(self, client, cast_for):
        """The agent had the form open; an administrateur gave the request to someone else in between."""
        cast = cast_for(IN_PROGRESS)
        services.reassign(cast.request, admin=cast.users["administrateur of the caisse"], agent=cast.target)
        client.force_login(cast.users["assigned agent"])
        before = snapshot(cast.request)
        response = post_action(client, "resolve", cast)
        assert response.status_code == 302
        assert_unchanged(cast, before)
        assert "Seul l'agent en charge, ou un administrateur de la caisse, résout cette demande." in text(
            client.get(response.url)
        )

    def test_reassigning_a_request_resolved_meanwhile_is_explained(self, client, cast_for):
        cast = cast_for(RESOLVED)
        client.force_login(cast.users["administrateur of the caisse"])
        before = snapshot(cast.request)
        response = post_action(client, "reassign", cast)
        assert response.status_code == 302
        assert_unchanged(cast, before)
        assert "Seule une demande prise en charge peut être réattribuée." in text(client.get(response.url))


@pytest.mark.django_db
class TestStatusField:
    def test_status_cannot_be_assigned_by_hand(self, cast_for):
        demande = cast_for(NEW).request
        for status in STATUSES:
            with pytest.raises(AttributeError, match="Direct status modification is not allowed"):
                demande.status = status
        created = RequestFactory()
        with pytest.raises(AttributeError):
            created.status = RESOLVED
        assert Request.objects.get(pk=demande.pk).status == NEW

    def test_status_cannot_be_assigned_by_hand_after_refresh_from_db(self, cast_for):
        """Request.refresh_from_db drops `status` from the instance so that it can be reloaded; it must stay
        protected: assigning it, then saving, must not move the request outside the workflow."""
        demande = cast_for(IN_PROGRESS).request
        demande.refresh_from_db()
        try:
            demande.status = RESOLVED
        except AttributeError:
            refused = True
        else:
            refused = False
            demande.save()
        stored = Request.objects.get(pk=demande.pk)
        assert (refused, stored.status, stored.resolved_at) == (True, IN_PROGRESS, None)

    def test_refresh_from_db_reloads_the_status(self, cast_for):
        cast = cast_for(NEW)
        demande = cast.request
        assert demande.status == NEW
        services.take_charge(Request.objects.get(pk=demande.pk), agent=cast.users["assigned agent"])
        demande.refresh_from_db()
        assert demande.status == IN_PROGRESS
        with pytest.raises(AttributeError):
            demande.status = NEW

    def test_status_is_not_a_field_of_any_form_post(self, client, cast_for):
        """Posting `status` alongside an action changes nothing but what the action does."""
        cast = cast_for(NEW)
        client.force_login(cast.users["assigned agent"])
        response = client.post(f"/demandes/{cast.request.number}/prendre-en-charge/", {"status": RESOLVED})
        assert response.status_code == 302
        assert Request.objects.get(pk=cast.request.pk).status == IN_PROGRESS


def at(moment):
    return time_machine.travel(moment, tick=False)


@pytest.mark.django_db
class TestLog:
    def test_every_move_writes_one_row_who_when_from_to(self, cast_for):
        cast = cast_for(NEW)
        agent, admin, other = (
            cast.users["assigned agent"],
            cast.users["administrateur of the caisse"],
            cast.users["other agent of the caisse"],
        )
        t1 = cast.request.created_at.replace(microsecond=0) + timedelta(hours=1)
        with at(t1):
            services.take_charge(cast.request, agent=agent)
        with at(t1 + timedelta(hours=1)):
            services.reassign(cast.request, admin=admin, agent=other)
        with at(t1 + timedelta(hours=2)):
            services.resolve(cast.request, agent=other, answer=ANSWER)
        rows = list(
            StatusChange.objects.filter(request=cast.request).values_list(
                "from_status", "to_status", "by", "at", "assigned_to"
            )
        )
        author = cast.request.author_id
        assert rows == [
            ("", NEW, author, cast.request.created_at, None),
            (NEW, IN_PROGRESS, agent.pk, t1, agent.pk),
            (IN_PROGRESS, IN_PROGRESS, admin.pk, t1 + timedelta(hours=1), other.pk),
            (IN_PROGRESS, RESOLVED, other.pk, t1 + timedelta(hours=2), None),
        ]
        demande = Request.objects.get(pk=cast.request.pk)
        assert (demande.taken_at, demande.resolved_at, demande.assigned_to) == (
            t1,
            t1 + timedelta(hours=2),
            other,
        )

    def test_reassigning_to_the_agent_already_in_charge_logs_nothing(self, cast_for):
        cast = cast_for(IN_PROGRESS)
        before = snapshot(cast.request)
        services.reassign(
            cast.request, admin=cast.users["administrateur of the caisse"], agent=cast.users["assigned agent"]
        )
        assert_unchanged(cast, before)

    @pytest.mark.parametrize(
        "target",
        [
            "technicien of the structure",
            "agent of another caisse",
            "administrateur of another caisse",
            "deactivated agent of the caisse",
        ],
    )
    def test_reassignment_only_to_an_active_agent_of_the_caisse(self, client, cast_for, caisse, target):
        cast = cast_for(IN_PROGRESS)
        admin = cast.users["administrateur of the caisse"]
        if target == "deactivated agent of the caisse":
            cast.users[target] = CaisseMembershipFactory(caisse=caisse, is_active=False).user
        before = snapshot(cast.request)
        with pytest.raises(services.WorkflowRefused, match="Choisissez un agent actif de la caisse."):
            services.reassign(cast.request, admin=admin, agent=cast.users[target])
        client.force_login(admin)
        response = post_action(client, "reassign", cast, agent=cast.users[target].pk)
        assert response.status_code == 400
        assert "agent" in response.context["reassign_form"].errors
        assert_unchanged(cast, before)

    def test_the_detail_page_shows_the_log_to_both_sides(self, client, client_factory, cast_for):
        cast = cast_for(NEW)
        agent, admin, other = (
            cast.users["assigned agent"],
            cast.users["administrateur of the caisse"],
            cast.users["other agent of the caisse"],
        )
        services.take_charge(cast.request, agent=agent)
        services.reassign(cast.request, admin=admin, agent=other)
        services.resolve(cast.request, agent=other, answer=ANSWER)

        def name(user):
            return f"{user.last_name.upper()} {user.first_name}"

        expected = [
            f"Dépôt → Nouveau {name(cast.request.author)}",
            f"Nouveau → Pris en charge (en charge : {agent.get_full_name()}) {name(agent)}",
            f"Réattribuée (en charge : {other.get_full_name()}) {name(admin)}",
            f"Pris en charge → Résolu {name(other)}",
        ]
        for user in (cast.users["technicien of the structure"], cast.users["gestionnaire of the structure"], agent):
            viewer = client_factory()
            viewer.force_login(user)
            page = text(viewer.get(f"/demandes/{cast.request.number}/"))
            assert "Historique des statuts" in page
            log = page.split("Historique des statuts", 1)[1]
            positions = [log.find(row) for row in expected]
            assert -1 not in positions, (expected, log)
            assert positions == sorted(positions)


@pytest.mark.django_db
class TestResolve:
    @pytest.mark.parametrize("answer", ["", "   ", "\n\t"])
    def test_the_answer_is_required(self, client, cast_for, answer):
        cast = cast_for(IN_PROGRESS)
        client.force_login(cast.users["assigned agent"])
        before = snapshot(cast.request)
        response = post_action(client, "resolve", cast, answer=answer)
        assert response.status_code == 400
        assert response.context["form"].errors["answer"]
        assert "Réponse à la structure" in text(response)
        assert_unchanged(cast, before)
        with pytest.raises(services.WorkflowRefused, match="La réponse à la structure est obligatoire"):
            services.resolve(cast.request, agent=cast.users["assigned agent"], answer=answer)
        assert_unchanged(cast, before)

    def test_attachments_of_the_answer_are_stored_on_the_answer_message(self, client, client_factory, cast_for):
        cast = cast_for(IN_PROGRESS)
        agent = cast.users["assigned agent"]
        client.force_login(agent)
        files = [a_pdf("attestation-droits.pdf"), upload("courrier.png", image_bytes("PNG"), "image/png")]
        response = post_action(client, "resolve", cast, attachments=files)
        assert response.status_code == 302
        answer = Message.objects.get(request=cast.request, is_answer=True)
        stored = Attachment.objects.filter(request=cast.request).order_by("original_name")
        assert [(a.original_name, a.message_id, a.uploaded_by_id) for a in stored] == [
            ("attestation-droits.pdf", answer.pk, agent.pk),
            ("courrier.png", answer.pk, agent.pk),
        ]
        partner = client_factory()
        partner.force_login(cast.users["technicien of the structure"])
        for attachment in stored:
            download = partner.get(f"/demandes/{cast.request.number}/pieces/{attachment.public_id}/")
            assert download.status_code == 200
            assert f'filename="{attachment.original_name}"' in download["Content-Disposition"]

    def test_a_refused_file_refuses_the_whole_resolution(self, client, cast_for, private_media):
        cast = cast_for(IN_PROGRESS)
        client.force_login(cast.users["assigned agent"])
        before = snapshot(cast.request)
        response = post_action(client, "resolve", cast, attachments=[upload("virus.exe", b"MZ\x90\x00", "x/y")])
        assert response.status_code == 400
        assert response.context["form"].errors["attachments"]
        assert_unchanged(cast, before)
        assert not [path for path in private_media.rglob("*") if path.is_file()]


@pytest.mark.django_db
class TestResolutionStep:
    """Resolving is its own step: the answer is written, read back as the structure will read it, then confirmed.
    Nothing resolves a request but the confirmation."""

    def url(self, cast):
        return f"/demandes/{cast.request.number}/resoudre/"

    def test_the_step_starts_with_the_answer_to_write(self, client, cast_for):
        cast = cast_for(IN_PROGRESS)
        client.force_login(cast.users["assigned agent"])
        response = client.get(self.url(cast))
        assert response.status_code == 200
        page = text(response)
        assert "Étape 1 sur 2 : rédiger la réponse" in page and "Relire la réponse" in page
        assert "Confirmer et résoudre" not in page

    def test_a_post_without_the_confirmation_shows_the_preview_and_resolves_nothing(self, client, cast_for):
        cast = cast_for(IN_PROGRESS)
        client.force_login(cast.users["assigned agent"])
        before = snapshot(cast.request)
        response = client.post(self.url(cast), {"answer": "Droits ouverts.\nAttestation jointe."})
        assert response.status_code == 200
        assert_unchanged(cast, before)
        page = text(response)
        assert "Étape 2 sur 2 : vérifier et confirmer" in page
        assert f"la réponse telle que {cast.request.structure.name} la lira" in page
        assert "Action définitive." in page and "Confirmer et résoudre" in page
        html = response.content.decode()
        preview = html[html.index('data-testid="answer-preview"') :]
        assert "Droits ouverts.\nAttestation jointe." in preview[: preview.index("</div>")]
        assert 'type="hidden" name="answer" value="Droits ouverts.\nAttestation jointe."' in html
        # Even with files: without `confirm`, they are not read, and nothing is stored.
        with_files = client.post(self.url(cast), {"answer": "Droits ouverts.", "attachments": [a_pdf()]})
        assert with_files.status_code == 200
        assert_unchanged(cast, before)

    def test_the_confirmation_resolves_with_the_previewed_answer(self, client, cast_for):
        cast = cast_for(IN_PROGRESS)
        client.force_login(cast.users["assigned agent"])
        response = client.post(self.url(cast), {"answer": "Droits ouverts.", "confirm": "1"})
        assert response.status_code == 302 and response.url == f"/demandes/{cast.request.number}/"
        assert Request.objects.get(pk=cast.request.pk).status == Status.RESOLVED
        assert Message.objects.get(request=cast.request, is_answer=True).body == "Droits ouverts."

    def test_modifying_goes_back_to_the_answer_with_its_text(self, client, cast_for):
        cast = cast_for(IN_PROGRESS)
        client.force_login(cast.users["assigned agent"])
        before = snapshot(cast.request)
        response = client.post(self.url(cast), {"answer": "Premier jet.", "edit": "1"})
        assert response.status_code == 200
        assert response.context["form"].initial == {"answer": "Premier jet."}
        assert "Étape 1 sur 2" in text(response)
        assert_unchanged(cast, before)

    def test_a_refused_file_at_the_confirmation_keeps_the_preview(self, client, cast_for):
        cast = cast_for(IN_PROGRESS)
        client.force_login(cast.users["assigned agent"])
        before = snapshot(cast.request)
        bad = upload("virus.exe", b"MZ\x90\x00", "x/y")
        response = client.post(self.url(cast), {"answer": "Droits ouverts.", "confirm": "1", "attachments": [bad]})
        assert response.status_code == 400
        assert "Étape 2 sur 2" in text(response) and "Droits ouverts." in text(response)
        assert_unchanged(cast, before)

    @pytest.mark.parametrize("status", [NEW, RESOLVED])
    def test_a_request_not_in_progress_sends_back_to_its_page_saying_why(self, client, cast_for, status):
        cast = cast_for(status)
        client.force_login(cast.users["administrateur of the caisse"])
        for send in (lambda: client.get(self.url(cast)), lambda: client.post(self.url(cast), {"answer": "Réponse."})):
            response = send()
            assert response.status_code == 302
            assert "seule une demande prise en charge peut être résolue" in text(client.get(response.url))

    def test_another_agent_of_the_caisse_is_told_who_may_resolve(self, client, cast_for):
        cast = cast_for(IN_PROGRESS)
        client.force_login(cast.users["other agent of the caisse"])
        response = client.get(self.url(cast))
        assert response.status_code == 302
        assert "Seul l'agent en charge, ou un administrateur de la caisse, résout cette demande." in text(
            client.get(response.url)
        )

    @pytest.mark.parametrize("who", ["technicien of the structure", "agent of another caisse"])
    def test_the_step_does_not_exist_outside_the_caisse(self, client, cast_for, who):
        cast = cast_for(IN_PROGRESS)
        client.force_login(cast.users[who])
        assert client.get(self.url(cast)).status_code == 404
        assert client.post(self.url(cast), {"answer": "Réponse.", "confirm": "1"}).status_code == 404
        assert Request.objects.get(pk=cast.request.pk).status == Status.IN_PROGRESS


@pytest.mark.django_db
@pytest.mark.parametrize("target", ["technicien of the structure", "agent of another caisse", "account switched off"])
def test_a_reassignment_goes_only_to_an_agent_of_the_caisse_whoever_calls_the_workflow(target, other_caisse):
    """The target's rule is the workflow's own: a direct `move` is refused as `services.reassign` is."""
    demande = RequestFactory(in_progress=True)
    admin = CaisseMembershipFactory(caisse=demande.caisse, admin=True).user
    holder = demande.assigned_to
    user = {
        "technicien of the structure": lambda: MembershipFactory(structure=demande.structure).user,
        "agent of another caisse": lambda: CaisseMembershipFactory(caisse=other_caisse).user,
        "account switched off": lambda: CaisseMembershipFactory(caisse=demande.caisse, user__is_active=False).user,
    }[target]()
    log_rows = StatusChange.objects.filter(request=demande).count()
    with pytest.raises(workflow.WorkflowRefused, match="Choisissez un agent actif de la caisse."):
        workflow.move(demande, "reassign", by=admin, to=user)
    demande.refresh_from_db()
    assert demande.assigned_to == holder
    assert StatusChange.objects.filter(request=demande).count() == log_rows
    assert not RequestUserObjectPermission.objects.filter(user=user).exists()


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("state", "log"),
    [
        ({}, [("", NEW)]),
        ({"in_progress": True}, [("", NEW), (NEW, IN_PROGRESS)]),
        ({"resolved": True}, [("", NEW), (NEW, IN_PROGRESS), (IN_PROGRESS, RESOLVED)]),
    ],
)
def test_the_factory_states_go_through_the_workflow(state, log):
    demande = RequestFactory(**state)
    stored = Request.objects.get(pk=demande.pk)
    assert (demande.status, stored.status) == (log[-1][1], log[-1][1])
    assert list(stored.status_changes.values_list("from_status", "to_status")) == log
    assert stored.messages.filter(is_answer=True).exists() == ("resolved" in state)
    assert (stored.assigned_to is not None) == bool(state)
