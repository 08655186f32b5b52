"""Departures and hand-offs (issue 16): a technicien's open requests handed to a colleague at their deactivation,
an agent's « Remettre dans la file », an administrateur's direct attribution of a new request. The workflow table
(tests/requests/test_workflow.py) covers every role of the two transitions; this is what they mean."""

import pytest
from django.contrib.messages import ERROR, get_messages

from extranet.notifications.models import OutgoingEmail
from requests import services
from requests.models import Request, RequestUserObjectPermission, Status, StatusChange
from structures.models import Membership
from tests.factories import CaisseMembershipFactory, MembershipFactory, RequestFactory
from tests.helpers import text

PAGE_QUERIES = 6
CAISSE_MESSAGE = "Merci de joindre l'avis d'imposition."


def departure_url(membership):
    return f"/structure/techniciens/{membership.pk}/depart/"


def subjects_to(user):
    return list(OutgoingEmail.objects.filter(recipient=user.email).values_list("subject", flat=True))


@pytest.fixture
def leaving(structure):
    return Membership.objects.get(pk=MembershipFactory(structure=structure).pk)


@pytest.fixture
def colleague(structure):
    return MembershipFactory(structure=structure).user


@pytest.fixture
def their_requests(structure, caisse, leaving, agent):
    """The leaving technicien's requests: new, in progress, resolved; and a colleague's own."""
    return {
        "new": RequestFactory(structure=structure, caisse=caisse, author=leaving.user),
        "in_progress": RequestFactory(structure=structure, caisse=caisse, author=leaving.user, in_progress=agent),
        "resolved": RequestFactory(structure=structure, caisse=caisse, author=leaving.user, resolved=True),
        "someone_else_s": RequestFactory(structure=structure, caisse=caisse),
    }


def state(requests):
    return {
        name: Request.objects.filter(pk=demande.pk).values_list("author_id", "handled_by_id", "status").get()
        for name, demande in requests.items()
    }


@pytest.mark.django_db
class TestHandoverAtDeparture:
    def test_the_page_lists_their_open_requests_only(self, gestionnaire_client, leaving, their_requests, colleague):
        response = gestionnaire_client.get(departure_url(leaving))
        assert response.status_code == 200
        page = text(response)
        for name in ("new", "in_progress"):
            assert their_requests[name].number in page
        for name in ("resolved", "someone_else_s"):
            assert their_requests[name].number not in page
        choices = [user.pk for user in response.context["form"].fields["colleague"].queryset]
        assert colleague.pk in choices and leaving.user_id not in choices

    def test_the_open_requests_go_to_the_colleague_in_one_step(
        self, commit, gestionnaire_client, gestionnaire, leaving, their_requests, colleague, agent
    ):
        before = state(their_requests)
        with commit():
            response = gestionnaire_client.post(departure_url(leaving), {"colleague": colleague.pk})
        assert response.status_code == 302
        told = [str(message) for message in get_messages(response.wsgi_request)]
        assert told == [
            f"Le compte de {leaving.user} est désactivé et ses sessions sont fermées. 2 demandes en cours confiées à "
            f"{colleague.get_full_name()}."
        ]
        leaving.refresh_from_db()
        assert not leaving.is_active and not leaving.user.is_active
        after = state(their_requests)
        author = leaving.user_id
        assert after["new"] == (author, colleague.pk, Status.NEW)
        assert after["in_progress"] == (author, colleague.pk, Status.IN_PROGRESS)
        assert after["resolved"] == before["resolved"]
        assert after["someone_else_s"] == before["someone_else_s"]
        # One log row per request handed over: to whom, by whom, the status unchanged.
        for name in ("new", "in_progress"):
            row = StatusChange.objects.filter(request=their_requests[name]).last()
            assert (row.handed_to, row.by, row.from_status) == (colleague, gestionnaire, row.to_status)
        assert not StatusChange.objects.filter(request=their_requests["resolved"], handed_to__isnull=False).exists()

    def test_the_colleague_is_told_instead_of_the_author_and_the_gestionnaires(
        self, commit, gestionnaire, leaving, their_requests, colleague, agent
    ):
        services.deactivate_technicien(leaving, by=gestionnaire, hand_to=colleague)
        demande = Request.objects.get(pk=their_requests["in_progress"].pk)
        OutgoingEmail.objects.all().delete()
        with commit():
            services.post_message(demande, author=agent, body=CAISSE_MESSAGE)
            services.take_charge(Request.objects.get(pk=their_requests["new"].pk), agent=agent)
        assert len(subjects_to(colleague)) == 2
        assert subjects_to(gestionnaire) == [] and subjects_to(leaving.user) == []

    def test_the_colleague_gone_too_the_gestionnaires_are_told(
        self, commit, gestionnaire, leaving, their_requests, colleague, agent
    ):
        services.deactivate_technicien(leaving, by=gestionnaire, hand_to=colleague)
        services.deactivate_technicien(colleague.membership, by=gestionnaire)
        OutgoingEmail.objects.all().delete()
        with commit():
            services.post_message(
                Request.objects.get(pk=their_requests["in_progress"].pk), author=agent, body=CAISSE_MESSAGE
            )
        assert len(subjects_to(gestionnaire)) == 1 and subjects_to(colleague) == []

    def test_a_request_handed_over_is_handed_on_at_the_colleague_s_departure(
        self, gestionnaire, leaving, their_requests, colleague, structure
    ):
        services.deactivate_technicien(leaving, by=gestionnaire, hand_to=colleague)
        third = MembershipFactory(structure=structure).user
        assert services.deactivate_technicien(colleague.membership, by=gestionnaire, hand_to=third) == 2
        assert Request.objects.get(pk=their_requests["new"].pk).handled_by == third

    def test_the_history_says_who_entrusted_it_to_whom(
        self, gestionnaire_client, gestionnaire, leaving, their_requests, colleague
    ):
        services.deactivate_technicien(leaving, by=gestionnaire, hand_to=colleague)
        page = text(gestionnaire_client.get(f"/demandes/{their_requests['new'].number}/"))
        assert f"Confiée à {colleague.first_name} {colleague.last_name.upper()}" in page
        assert f"Suivie par {colleague.get_full_name()}" in page

    @pytest.mark.parametrize("who", ["of another structure", "deactivated colleague", "the leaving technicien"])
    def test_only_an_active_colleague_of_the_structure_and_nothing_half_written(
        self, gestionnaire, gestionnaire_client, leaving, their_requests, other_structure, structure, who
    ):
        target = {
            "of another structure": lambda: MembershipFactory(structure=other_structure).user,
            "deactivated colleague": lambda: MembershipFactory(structure=structure, is_active=False).user,
            "the leaving technicien": lambda: leaving.user,
        }[who]()
        before = state(their_requests), StatusChange.objects.count()
        with pytest.raises(services.HandoverRefused, match="Choisissez un collègue actif de la même structure."):
            services.deactivate_technicien(leaving, by=gestionnaire, hand_to=target)
        response = gestionnaire_client.post(departure_url(leaving), {"colleague": target.pk})
        assert response.status_code == 400
        assert "colleague" in response.context["form"].errors
        assert (state(their_requests), StatusChange.objects.count()) == before
        leaving.refresh_from_db()
        assert leaving.is_active and leaving.user.is_active

    def test_a_failure_in_the_handover_undoes_the_deactivation(
        self, gestionnaire, leaving, their_requests, colleague, monkeypatch
    ):
        def broken(*args, **kwargs):
            raise RuntimeError("disque plein")

        monkeypatch.setattr(StatusChange.objects, "bulk_create", broken)
        before = state(their_requests)
        with pytest.raises(RuntimeError):
            services.deactivate_technicien(leaving, by=gestionnaire, hand_to=colleague)
        leaving.refresh_from_db()
        assert leaving.is_active and leaving.user.is_active
        assert state(their_requests) == before

    def test_without_a_colleague_the_account_is_deactivated_and_nothing_handed(
        self, gestionnaire_client, leaving, their_requests
    ):
        before = state(their_requests)
        assert gestionnaire_client.post(departure_url(leaving), {"colleague": ""}).status_code == 302
        leaving.refresh_from_db()
        assert not leaving.is_active
        assert state(their_requests) == before

    def test_only_the_structure_s_gestionnaires(self, technicien, leaving, colleague, other_gestionnaire):
        for by in (technicien, other_gestionnaire):
            with pytest.raises(services.HandoverRefused):
                services.deactivate_technicien(leaving, by=by, hand_to=colleague)
        leaving.refresh_from_db()
        assert leaving.is_active

    @pytest.mark.parametrize("size", [1, 6])
    def test_the_page_s_query_count_is_pinned(
        self, gestionnaire_client, leaving, structure, caisse, colleague, django_assert_num_queries, size
    ):
        for _ in range(size):
            RequestFactory(structure=structure, caisse=caisse, author=leaving.user)
        gestionnaire_client.get("/")  # the session's first request of the test
        # Session, user and memberships, the technicien, the colleagues, their open requests.
        with django_assert_num_queries(PAGE_QUERIES):
            assert gestionnaire_client.get(departure_url(leaving)).status_code == 200


@pytest.mark.django_db
class TestHandBack:
    def test_back_in_the_queue_without_the_right_to_resolve(self, client, caisse, structure):
        agent = CaisseMembershipFactory(caisse=caisse).user
        demande = RequestFactory(structure=structure, caisse=caisse, in_progress=agent)
        assert RequestUserObjectPermission.objects.filter(content_object=demande, user=agent).exists()
        client.force_login(agent)
        page = text(client.get(f"/demandes/{demande.number}/"))
        assert "Remettre dans la file" in page
        response = client.post(f"/demandes/{demande.number}/remettre-dans-la-file/")
        assert response.status_code == 302
        demande = Request.objects.get(pk=demande.pk)
        assert (demande.status, demande.assigned_to, demande.taken_at) == (Status.NEW, None, None)
        assert not RequestUserObjectPermission.objects.filter(content_object=demande).exists()
        row = StatusChange.objects.filter(request=demande).last()
        assert (row.from_status, row.to_status, row.by, row.assigned_to) == (
            Status.IN_PROGRESS,
            Status.NEW,
            agent,
            None,
        )
        page = text(client.get(f"/demandes/{demande.number}/"))
        assert "Remise dans la file (Pris en charge → Nouveau)" in page
        # In the queue's new requests, for anyone of the caisse to take.
        assert demande.number in text(client.get("/caisse/demandes/?status=new"))
        other = CaisseMembershipFactory(caisse=caisse).user
        services.take_charge(demande, agent=other)
        assert Request.objects.get(pk=demande.pk).assigned_to == other

    def test_another_agent_may_not(self, client, caisse, structure):
        agent = CaisseMembershipFactory(caisse=caisse).user
        demande = RequestFactory(structure=structure, caisse=caisse, in_progress=agent)
        other = CaisseMembershipFactory(caisse=caisse).user
        client.force_login(other)
        assert "Remettre dans la file" not in text(client.get(f"/demandes/{demande.number}/"))
        response = client.post(f"/demandes/{demande.number}/remettre-dans-la-file/")
        assert [m.level for m in get_messages(response.wsgi_request)] == [ERROR]
        assert Request.objects.get(pk=demande.pk).assigned_to == agent


@pytest.mark.django_db
class TestDispatch:
    def test_the_administrateur_gives_a_new_request_to_an_agent(self, commit, client, caisse_admin, demande, agent):
        client.force_login(caisse_admin)
        assert "Attribuer à un agent" in text(client.get(f"/demandes/{demande.number}/"))
        with commit():
            response = client.post(f"/demandes/{demande.number}/attribuer/", {"agent": agent.pk})
        assert response.status_code == 302
        demande = Request.objects.get(pk=demande.pk)
        assert (demande.status, demande.assigned_to) == (Status.IN_PROGRESS, agent)
        assert RequestUserObjectPermission.objects.filter(content_object=demande, user=agent).exists()
        row = StatusChange.objects.filter(request=demande).last()
        assert (row.by, row.assigned_to) == (caisse_admin, agent)
        # The structure is told it is taken in charge, as at a take-charge.
        assert subjects_to(demande.author) == [f"Demande {demande.number} prise en charge"]

    def test_an_agent_sees_no_such_form(self, agent_client, demande):
        assert "Attribuer à un agent" not in text(agent_client.get(f"/demandes/{demande.number}/"))

    @pytest.mark.parametrize("who", ["agent of another caisse", "deactivated agent", "technicien"])
    def test_only_to_an_active_agent_of_the_caisse(self, client, caisse_admin, demande, other_caisse, caisse, who):
        target = {
            "agent of another caisse": lambda: CaisseMembershipFactory(caisse=other_caisse).user,
            "deactivated agent": lambda: CaisseMembershipFactory(caisse=caisse, is_active=False).user,
            "technicien": lambda: demande.author,
        }[who]()
        with pytest.raises(services.WorkflowRefused, match="Choisissez un agent actif de la caisse."):
            services.dispatch(demande, admin=caisse_admin, agent=target)
        client.force_login(caisse_admin)
        response = client.post(f"/demandes/{demande.number}/attribuer/", {"agent": target.pk})
        assert response.status_code == 400
        assert "agent" in response.context["dispatch_form"].errors
        assert Request.objects.get(pk=demande.pk).status == Status.NEW


@pytest.mark.django_db
class TestWorkload:
    def test_each_agent_s_requests_in_progress_on_the_agents_page(
        self, admin_client, caisse, structure, other_caisse, other_structure
    ):
        busy = CaisseMembershipFactory(caisse=caisse, user__last_name="Occupée")
        idle = CaisseMembershipFactory(caisse=caisse, user__last_name="Disponible")
        for _ in range(2):
            RequestFactory(structure=structure, caisse=caisse, in_progress=busy.user)
        RequestFactory(structure=structure, caisse=caisse, resolved=True, in_progress=busy.user)
        handed_back = RequestFactory(structure=structure, caisse=caisse, in_progress=idle.user)
        services.hand_back(handed_back, agent=idle.user)
        RequestFactory(structure=structure, caisse=caisse)  # new: nobody's
        response = admin_client.get("/caisse/agents/")
        workloads = {membership.user.last_name: membership.workload for membership in response.context["page"]}
        assert workloads == {"Occupée": 2, "Disponible": 0}
        assert "Demandes en cours" in text(response)
