"""The race: 16 agents take the same request at the same instant, 20 times over (PostgreSQL: real row locks).

Apart from tests/requests/test_workflow.py, whose tests share one cast built once in a transaction: these commit
from 16 threads and need a database of their own (`transaction=True`)."""

import threading

import pytest
from django.db import connection

from extranet.notifications.models import OutgoingEmail
from requests import services, workflow
from requests.models import Request, Status, StatusChange
from tests.factories import CaisseMembershipFactory, MembershipFactory, RequestFactory

NEW, IN_PROGRESS = Status.NEW, Status.IN_PROGRESS

THREADS = 16
TRIALS = 20


def unlocked_fetch(request):
    """The row lock removed: what `requests.workflow.lock` would be without select_for_update."""
    return Request.objects.select_related("assigned_to", "author", "caisse").get(pk=request.pk)


def simultaneous_take_charge(demande, agents):
    barrier = threading.Barrier(len(agents))
    outcomes = [None] * len(agents)

    def attempt(index, agent):
        try:
            barrier.wait(timeout=60)
            won = services.take_charge(demande, agent=agent)
            outcomes[index] = ("won", won.assigned_to_id, agent.pk)
        except workflow.AlreadyTaken as refusal:
            outcomes[index] = ("taken", refusal.holder.pk if refusal.holder else None, str(refusal))
        except Exception as error:  # reported by the assertions, not swallowed
            outcomes[index] = ("error", repr(error), agent.pk)
        finally:
            connection.close()

    threads = [threading.Thread(target=attempt, args=(n, agent)) for n, agent in enumerate(agents)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return outcomes


def race(caisse, structure, agents, trials=TRIALS):
    """Run the trials; for each, what it takes to check "exactly one winner, the others told who, one log row"."""
    author = MembershipFactory(structure=structure).user
    names = {agent.pk: agent.get_full_name() for agent in agents}
    results = []
    for _ in range(trials):
        demande = RequestFactory(structure=structure, caisse=caisse, author=author)
        outcomes = simultaneous_take_charge(demande, agents)
        winners = [outcome[2] for outcome in outcomes if outcome[0] == "won"]
        holder = Request.objects.get(pk=demande.pk).assigned_to_id
        refusals = [outcome for outcome in outcomes if outcome[0] == "taken"]
        expected = f"La demande {demande.number} vient d'être prise en charge par {names.get(holder)}."
        rows = StatusChange.objects.filter(request=demande, from_status=NEW, to_status=IN_PROGRESS)
        results.append(
            {
                "winners": len(winners),
                "holder is the winner": winners == [holder],
                "log rows": list(rows.values_list("by", flat=True)),
                "errors": [outcome for outcome in outcomes if outcome[0] == "error"],
                "refusals naming the holder": sum(o[1] == holder and o[2] == expected for o in refusals),
                "refusals": sorted({o[2].replace(demande.number, "N") for o in refusals}),
            }
        )
    return results


def lock_violations(results):
    """Trials without exactly one winner, holding the request, with one log row."""
    return [
        (trial, result)
        for trial, result in enumerate(results)
        if result["winners"] != 1
        or not result["holder is the winner"]
        or len(result["log rows"]) != 1
        or result["errors"]
    ]


def naming_violations(results):
    """Trials where some of the 15 losers were not told who has the request."""
    return [
        (trial, result["refusals"])
        for trial, result in enumerate(results)
        if result["refusals naming the holder"] != THREADS - 1
    ]


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
class TestSimultaneousTakeCharge:
    def agents(self, caisse):
        return [CaisseMembershipFactory(caisse=caisse).user for _ in range(THREADS)]

    def test_16_agents_at_once_exactly_one_wins_with_one_log_row(self, caisse, structure):
        results = race(caisse, structure, self.agents(caisse))
        assert lock_violations(results) == []
        assert StatusChange.objects.filter(from_status=NEW, to_status=IN_PROGRESS).count() == TRIALS
        assert OutgoingEmail.objects.count() == TRIALS  # one take-charge email per request, not 16

    def test_16_agents_at_once_the_15_others_are_told_who_has_it(self, caisse, structure):
        results = race(caisse, structure, self.agents(caisse))
        assert lock_violations(results) == []
        assert naming_violations(results) == []

    def test_the_check_fails_without_the_row_lock(self, caisse, structure, monkeypatch):
        """Mutation check: with `lock` fetching without select_for_update, the race above is lost."""
        monkeypatch.setattr(workflow, "lock", unlocked_fetch)
        results = race(caisse, structure, self.agents(caisse))
        lost = [result for result in results if result["winners"] > 1 or len(result["log rows"]) > 1]
        assert lost, f"the race check did not notice the missing row lock: {results}"
        assert lock_violations(results)
