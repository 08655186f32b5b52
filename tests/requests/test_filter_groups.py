"""The filter forms' field groups, remembered by the process (requests/filters.py FilterForm.field_groups): the same
markup as rendering them anew, whatever the values, errors and choices, and no field template rendered the second
time a combination is asked for."""

import re

import pytest

from requests import filters
from requests.filters import HistoryFilter, QueueFilter
from requests.models import Request
from tests.factories import ConventionFactory, MembershipFactory


@pytest.fixture(autouse=True)
def forgotten():
    filters._FIELD_GROUPS.clear()
    yield
    filters._FIELD_GROUPS.clear()


def panel(response):
    return re.search(r'<details class="filter-panel.*?</details>', response.content.decode(), re.S).group(0)


def field_templates(response):
    return [t.name for t in response.templates if t.name and t.name.startswith("forms/")]


def fresh(form):
    """The groups as Django renders them, on a form that never went through field_groups."""
    return [str(field.as_field_group()) for field in form]


HISTORY_DATA = [
    None,
    {"status": "new"},
    {"status": "resolved", "kind": "contact", "followed": "on"},
    {"deposited_from": "pas une date"},
    {"status": "n-importe-quoi"},
    {"author": "999999"},
    {"number": "2633"},
]


@pytest.mark.django_db
@pytest.mark.parametrize("data", HISTORY_DATA)
def test_history_groups_are_the_rendered_ones(structure, technicien, data):
    def form():
        filterset = HistoryFilter(data, queryset=Request.objects.all(), structure=structure, user=technicien)
        filterset.form.is_valid()
        return filterset.form

    expected = fresh(form())
    assert [str(group) for group in form().field_groups()] == expected
    assert [str(group) for group in form().field_groups()] == expected  # remembered


@pytest.mark.django_db
@pytest.mark.parametrize("data", [None, {"status": "new"}, {"assignment": "me", "news": "on"}, {"structure": "0"}])
def test_queue_groups_are_the_rendered_ones(caisse, structure, agent, data):
    def form():
        filterset = QueueFilter(
            data, queryset=Request.objects.all(), caisse=caisse, calendar=caisse.calendar, user=agent
        )
        filterset.form.is_valid()
        return filterset.form

    expected = fresh(form())
    assert [str(group) for group in form().field_groups()] == expected
    assert [str(group) for group in form().field_groups()] == expected


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("user_client", "url"), [("technicien_client", "/demandes/"), ("agent_client", "/caisse/demandes/")]
)
def test_a_list_renders_its_fields_once(request, user_client, url):
    client = request.getfixturevalue(user_client)
    first = client.get(f"{url}?status=new")
    second = client.get(f"{url}?status=new")
    assert "forms/field.html" in field_templates(first)
    assert field_templates(second) == []
    assert panel(second) == panel(first)
    other = client.get(f"{url}?status=resolved")
    assert "forms/field.html" in field_templates(other)
    assert '<option value="resolved" selected>' in panel(other)


@pytest.mark.django_db
def test_a_new_member_is_in_the_choices_at_once(technicien_client, structure):
    technicien_client.get("/demandes/")
    MembershipFactory(structure=structure, user__last_name="Recrue", user__first_name="Nouvelle")
    assert "Nouvelle RECRUE" in panel(technicien_client.get("/demandes/"))


@pytest.mark.django_db
def test_a_new_structure_is_in_the_queue_choices_at_once(agent_client, caisse):
    agent_client.get("/caisse/demandes/")
    ConventionFactory(caisse=caisse, structure__name="Association Nouvelle")
    assert "Association Nouvelle" in panel(agent_client.get("/caisse/demandes/"))


@pytest.mark.django_db
def test_the_process_remembers_a_bounded_number(technicien_client, monkeypatch):
    monkeypatch.setattr(filters, "_FIELD_GROUPS_SIZE", 3)
    for number in range(6):
        technicien_client.get(f"/demandes/?number={number}")
    assert len(filters._FIELD_GROUPS) == 3
