"""A sample of the suite's kinds of tests, for tests/test_setup.py, which runs it in pytest processes of its own to see
which tests each run of `make test` keeps and what its summary says (tests/conftest.py).

Its name is no test_*.py: the suite itself never collects it, pytest runs it only when named. Its tests touch no
database, so those processes create none (migrating one took most of their time): which tests run is decided from the
markers and the settings alone."""

import pytest


def test_a_test_of_both_runs():
    pass


def test_another_test_of_both_runs():
    pass


def test_a_third_test_of_both_runs():
    pass


@pytest.mark.one_database
def test_a_process_started_apart():
    pass
