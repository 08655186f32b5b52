import pytest

from tests.factories import CaisseMembershipFactory, ConventionFactory, MembershipFactory


def grow(n, make):
    for _ in range(n):
        make()


@pytest.mark.django_db
@pytest.mark.parametrize("size", [3, 30])
def test_structure_list_has_constant_queries(client, caisse, caisse_admin, django_assert_num_queries, size):
    def make():
        structure = ConventionFactory(caisse=caisse).structure
        MembershipFactory(structure=structure, gestionnaire=True)

    grow(size, make)
    client.force_login(caisse_admin)
    with django_assert_num_queries(6):
        assert client.get("/caisse/structures/").status_code == 200


@pytest.mark.django_db
@pytest.mark.parametrize("size", [3, 30])
@pytest.mark.parametrize(("search", "queries"), [({}, 7), ({"q": "a"}, 6)])
def test_technicien_list_has_constant_queries(
    client, structure, gestionnaire, django_assert_num_queries, size, search, queries
):
    """The techniciens and the gestionnaires (their seats counted from them); a search reads the techniciens once
    and pages them in memory, without counting them in the database."""
    grow(size, lambda: MembershipFactory(structure=structure))
    grow(min(size, 4), lambda: MembershipFactory(structure=structure, gestionnaire=True))
    client.force_login(gestionnaire)
    with django_assert_num_queries(queries):
        assert client.get("/structure/techniciens/", search).status_code == 200


@pytest.mark.django_db
@pytest.mark.parametrize("size", [3, 30])
def test_agent_list_has_constant_queries(client, caisse, caisse_admin, django_assert_num_queries, size):
    grow(size, lambda: CaisseMembershipFactory(caisse=caisse))
    client.force_login(caisse_admin)
    with django_assert_num_queries(5):
        assert client.get("/caisse/agents/").status_code == 200


@pytest.mark.django_db
@pytest.mark.parametrize("size", [2, 12])
def test_agent_list_workloads_in_constant_queries(
    client, caisse, caisse_admin, structure, django_assert_num_queries, size
):
    from tests.factories import RequestFactory

    for _ in range(size):
        RequestFactory(structure=structure, caisse=caisse, in_progress=CaisseMembershipFactory(caisse=caisse).user)
    client.force_login(caisse_admin)
    with django_assert_num_queries(5):
        assert client.get("/caisse/agents/").status_code == 200
