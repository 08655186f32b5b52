"""The README's two commands set a fresh machine up (.ci/debian-packages, the Makefile's package lists), and the
suite never skips its browser tests silently (tests/browser/conftest.py)."""

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
# Scripts, make and pytest in processes of their own, on no database: one run is enough (tests/conftest.py).
pytestmark = pytest.mark.one_database


def fake_commands(tmp_path, *, uid, installed):
    """A PATH where `id -u` and `dpkg-query` answer as a machine with or without the packages would."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "id").write_text(f"#!/bin/sh\necho {uid}\n")
    status = "install ok installed" if installed else "unknown ok not-installed"
    (bin_dir / "dpkg-query").write_text(f"#!/bin/sh\nprintf '%s' '{status}'\n")
    (bin_dir / "apt-get").write_text(f'#!/bin/sh\necho apt-get "$@" >> {tmp_path / "apt.log"}\n')
    for command in bin_dir.iterdir():
        command.chmod(0o755)
    return {**os.environ, "PATH": f"{bin_dir}:{os.environ['PATH']}"}


def install_packages(env, *packages):
    return subprocess.run(  # noqa: S603 — the project's own script
        ["/bin/sh", str(ROOT / ".ci" / "debian-packages"), *packages], env=env, capture_output=True, text=True
    )


def test_without_root_it_stops_at_once_with_the_one_command_to_run(tmp_path):
    result = install_packages(fake_commands(tmp_path, uid=1000, installed=False), "chromium", "libharfbuzz-subset0")
    assert result.returncode == 1
    lines = [line.strip() for line in result.stderr.splitlines()]
    assert "sudo apt-get install -y chromium libharfbuzz-subset0" in lines
    assert not (tmp_path / "apt.log").exists()


def test_as_root_it_installs_what_is_missing(tmp_path):
    result = install_packages(fake_commands(tmp_path, uid=0, installed=False), "chromium", "chromium-l10n")
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "apt.log").read_text().splitlines() == [
        "apt-get update -qq",
        "apt-get install -y -qq chromium chromium-l10n",
    ]


def test_nothing_is_done_when_everything_is_there(tmp_path):
    result = install_packages(fake_commands(tmp_path, uid=1000, installed=True), "chromium")
    assert (result.returncode, result.stdout, result.stderr) == (0, "", "")


def packages_for(target, **env):
    result = subprocess.run(  # noqa: S603 — make, on the project's own Makefile
        [shutil.which("make"), "--no-print-directory", "-n", target],
        cwd=ROOT,
        env={k: v for k, v in os.environ.items() if k != "SKIP_BROWSER"} | env,
        capture_output=True,
        text=True,
        check=True,
    )
    (line,) = [line for line in result.stdout.splitlines() if "debian-packages" in line]
    return line.split("debian-packages")[1].split()


def test_the_demo_installs_weasyprints_libraries_and_the_tests_haproxy_and_chromium_too():
    demo = packages_for("demo-packages")
    assert {"libpango-1.0-0", "libpangoft2-1.0-0", "libharfbuzz-subset0", "fonts-dejavu-core"} <= set(demo)
    assert packages_for("test-packages") == [*demo, "haproxy", "chromium", "chromium-l10n"]
    assert packages_for("test-packages", SKIP_BROWSER="1") == [*demo, "haproxy"]


# What the pytest processes below have no use for, two thirds of their start-up: the suite's plugins they use none of
# (hypothesis alone about a second; `-p no:` is harmless for one not installed: locust, the bench's extra), and the
# rewriting of assertions, redone at each start where no bytecode is written (PYTHONDONTWRITEBYTECODE): what they
# show is which tests ran and the summary, never an assertion's message.
LEAN = ["--assert=plain"] + [
    arg
    for name in ("hypothesispytest", "anyio", "syrupy", "faker", "time_machine", "locust")
    for arg in ("-p", f"no:{name}")
]


def run_browser_tests(tmp_path, *args, **env):
    # A database of its own: under xdist its workers' test databases are named like this run's (test_extranet_gw0…),
    # and dropping them at the end would pull this run's from under its feet on PostgreSQL.
    return subprocess.run(  # noqa: S603 — the test's own interpreter
        [sys.executable, "-m", "pytest", "-q", *LEAN, *args, "tests/browser/test_security.py"],
        cwd=ROOT,
        env={k: v for k, v in os.environ.items() if k != "SKIP_BROWSER"}
        | {"DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}"}
        | env,
        capture_output=True,
        text=True,
    )


@pytest.mark.parametrize("skip", ["", "0"])
def test_without_chromium_the_browser_tests_stop_the_run_with_what_to_do(skip, tmp_path):
    result = run_browser_tests(tmp_path, CHROMIUM="/nonexistent/chromium", SKIP_BROWSER=skip)
    assert result.returncode == pytest.ExitCode.USAGE_ERROR, result.stdout + result.stderr
    assert "Chromium introuvable (/nonexistent/chromium)" in result.stderr
    assert "SKIP_BROWSER=1" in result.stderr


def test_under_xdist_without_chromium_each_browser_test_fails_saying_what_to_do(tmp_path):
    """A worker of `make test`'s pytest-xdist cannot stop the run with a usage error: the tests fail instead."""
    result = run_browser_tests(tmp_path, "-n", "2", CHROMIUM="/nonexistent/chromium")
    assert result.returncode == pytest.ExitCode.TESTS_FAILED, result.stdout + result.stderr
    # Each test's report starts with the reason (the short summary may repeat it, as wide as the terminal allows).
    reasons = [line for line in result.stdout.splitlines() if line.startswith("Chromium introuvable (/nonexistent/")]
    assert len(reasons) == 2, result.stdout
    assert "2 error" in result.stdout.splitlines()[-1]


def test_browser_tests_are_skipped_only_when_asked_and_the_summary_says_so(tmp_path):
    result = run_browser_tests(tmp_path, CHROMIUM="/nonexistent/chromium", SKIP_BROWSER="1")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Tests de navigateur ignorés à la demande (SKIP_BROWSER=1) : 2." in result.stdout.splitlines()


def pytest_lines(*args, **env):
    result = subprocess.run(  # noqa: S603 — the test's own interpreter
        [sys.executable, "-m", "pytest", "-q", "-p", "no:randomly", *LEAN, *args],
        cwd=ROOT,
        env={k: v for k, v in os.environ.items() if k != "SKIP_BROWSER"} | env,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout.splitlines()


# Three tests of both runs and one `one_database` test, none touching a database (tests/setup_sample.py).
SAMPLE = "tests/setup_sample.py"
ONE_DATABASE_AND_OTHERS = ["tests/browser/test_security.py", SAMPLE]
SUMMARY_SQLITE = (
    "Tests laissés à la passe PostgreSQL qui tourne en même temps : 1 (processus à part, configuration : une seule "
    "base suffit)."
)
SUMMARY_POSTGRES = (
    "Tests laissés à la passe SQLite qui tourne en même temps : 2 (parcours dans le navigateur : une seule base "
    "suffit)."
)


def test_next_to_a_postgresql_run_sqlite_leaves_it_the_processes_apart_and_the_summary_says_so(tmp_path):
    lines = pytest_lines("--alongside", SAMPLE, DATABASE_URL=f"sqlite:///{tmp_path / 'db.sqlite3'}")
    assert SUMMARY_SQLITE in lines
    assert any(line.startswith("3 passed, 1 skipped") for line in lines), lines


@pytest.mark.postgres
def test_next_to_a_sqlite_run_postgresql_leaves_it_the_browser_journeys_and_the_summary_says_so():
    url = f"{os.environ['DATABASE_URL']}_alongside"  # its own test database, beside this run's
    # Chromium is not even started: any existing file stands for it.
    lines = pytest_lines("--alongside", *ONE_DATABASE_AND_OTHERS, DATABASE_URL=url, CHROMIUM=sys.executable)
    assert SUMMARY_POSTGRES in lines
    assert any(line.startswith("4 passed, 2 skipped") for line in lines), lines


def test_sqlite_alone_runs_the_one_database_tests(tmp_path):
    lines = pytest_lines(SAMPLE, DATABASE_URL=f"sqlite:///{tmp_path / 'db.sqlite3'}")
    assert any(line.startswith("4 passed") for line in lines), lines
    assert not any("passe PostgreSQL" in line for line in lines)


MAKE_VARIABLES = {"MAKEFLAGS", "MFLAGS", "MAKELEVEL", "SQLITE_ARGS", "POSTGRES_ARGS", "PYTEST_ARGS"}


def pytest_commands_of_make_test(*variables):
    """`make -n test`'s pytest commands, as "database options" ("sqlite --alongside")."""
    result = subprocess.run(  # noqa: S603 — make, on the project's own Makefile
        [shutil.which("make"), "--no-print-directory", "-n", "test", *variables],
        cwd=ROOT,
        # Under `make test`, the parent make hands its SQLITE_ARGS/POSTGRES_ARGS (environment, MAKEFLAGS) to any make.
        env={k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "CI", *MAKE_VARIABLES}},
        capture_output=True,
        text=True,
        check=True,
    )
    commands = [line.split() for line in result.stdout.splitlines() if "bin/pytest" in line]
    return sorted(" ".join([words[0].removeprefix("DATABASE_URL=").split(":")[0], *words[2:]]) for words in commands)


def test_make_test_shares_them_only_when_both_runs_go_together():
    # Each run spread over two processes (pytest-xdist), whatever the machine says of its cores.
    assert pytest_commands_of_make_test("CI=true") == [
        "postgres --alongside -n 2 --dist worksteal",
        "sqlite --alongside -n 2 --dist worksteal",
    ]
    assert pytest_commands_of_make_test("CI=false", "LOCAL_POSTGRES=") == ["sqlite -n 2 --dist worksteal"]
