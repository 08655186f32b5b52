"""Retention for every kind: personal data erased a configurable number of months after resolution."""

import io
import os
import subprocess
import sys
from datetime import timedelta

import pytest
import time_machine
from django.core.management import call_command
from django.utils import timezone

from requests import services
from requests.models import Message, Request
from requests.retention import purge_expired_requests
from tests.factories import RequestFactory
from tests.helpers import text

pytestmark = pytest.mark.django_db

RESOLVED_AT = timezone.make_aware(timezone.datetime(2025, 3, 10, 9, 0))


@pytest.fixture
def resolved(structure, caisse, technicien, agent):
    """Makes a request of the given kind, with an exchange, resolved on 10/03/2025."""

    def make(**traits):
        with time_machine.travel(RESOLVED_AT - timedelta(days=2), tick=False):
            made = RequestFactory(structure=structure, caisse=caisse, author=technicien, **traits)
            services.post_message(made, author=technicien, body="Madame Canari est hébergée chez sa sœur.")
        with time_machine.travel(RESOLVED_AT - timedelta(days=1), tick=False):
            services.take_charge(made, agent=agent)
        with time_machine.travel(RESOLVED_AT, tick=False):
            services.resolve(made, agent=agent, answer="Dossier de Madame Canari régularisé.")
        return Request.objects.get(pk=made.pk)

    return make


def purge_at(moment, **options):
    with time_machine.travel(moment, tick=False):
        return purge_expired_requests(**options)


@pytest.mark.parametrize(
    ("traits", "setting_key"),
    [
        ({}, "access_difficulty"),
        ({"appointment": True}, "appointment"),
        ({"case_review": True}, "case_review"),
        ({"document": True}, "document"),
    ],
)
def test_each_kind_follows_its_own_setting(settings, resolved, traits, setting_key):
    settings.RETENTION_MONTHS = {**settings.RETENTION_MONTHS, setting_key: 6}
    request = resolved(**traits)
    assert purge_at(timezone.make_aware(timezone.datetime(2025, 9, 9, 9, 0))).requests == 0  # 6 months minus a day
    report = purge_at(timezone.make_aware(timezone.datetime(2025, 9, 11, 9, 0)))
    assert report.by_policy == {setting_key: 1}
    request.refresh_from_db()
    assert request.purged_at is not None
    assert (request.person_last_name, request.person_nir, request.details) == ("", "", {})
    bodies = list(Message.objects.filter(request=request).values_list("body", flat=True))
    assert bodies and not any("Canari" in body for body in bodies)


def test_other_kinds_keep_their_default_while_one_is_shortened(settings, resolved):
    settings.RETENTION_MONTHS = {**settings.RETENTION_MONTHS, "appointment": 6, "case_review": 24}
    kept = resolved(case_review=True)
    purged = resolved(appointment=True)
    report = purge_at(timezone.make_aware(timezone.datetime(2026, 1, 1)))
    assert report.by_policy == {"appointment": 1}
    kept.refresh_from_db()
    purged.refresh_from_db()
    assert kept.purged_at is None and kept.person_last_name
    assert purged.purged_at is not None


def test_dry_run_counts_and_erases_nothing_then_the_purge_is_idempotent(settings, resolved):
    settings.RETENTION_MONTHS = {**settings.RETENTION_MONTHS, "contact": 3}
    request = resolved(contact=True)
    later = timezone.make_aware(timezone.datetime(2025, 7, 1))
    out = io.StringIO()
    with time_machine.travel(later, tick=False):
        call_command("purge_personal_data", "--dry-run", stdout=out)
    expected = "seraient effacées : 1 demande(s) (Contacter votre organisme d'assurance maladie : 1), 2 message(s)"
    assert expected in out.getvalue()
    assert "Contacter votre organisme d'assurance maladie 3 mois" in out.getvalue()
    assert Message.objects.filter(request=request, body__contains="Canari").count() == 2

    assert purge_at(later).requests == 1
    first = Request.objects.get(pk=request.pk).purged_at
    assert purge_at(later + timedelta(days=30)).requests == 0
    assert Request.objects.get(pk=request.pk).purged_at == first


def test_open_requests_are_never_purged(settings, structure, caisse, technicien):
    settings.RETENTION_MONTHS = dict.fromkeys(settings.RETENTION_MONTHS, 1)
    RequestFactory(structure=structure, caisse=caisse, author=technicien)
    assert purge_at(timezone.now() + timedelta(days=3650)).requests == 0


def test_the_request_page_says_its_data_were_erased(settings, resolved, technicien_client):
    settings.RETENTION_MONTHS = {**settings.RETENTION_MONTHS, "access_difficulty": 6}
    request = resolved()
    purge_at(timezone.make_aware(timezone.datetime(2026, 1, 1)))
    page = text(technicien_client.get(f"/demandes/{request.number}/"))
    assert "ont été effacées le 01/01/2026" in page
    assert "Canari" not in page


@pytest.mark.one_database
@pytest.mark.parametrize(("value", "accepted"), [("36", True), ("douze", False), ("0", False)])
def test_durations_come_from_the_environment(value, accepted):
    loading = "from django.conf import settings; print(settings.RETENTION_MONTHS['case_review'])"
    result = subprocess.run(  # noqa: S603 — the test's own interpreter and code
        [sys.executable, "-c", loading],
        env={**os.environ, "DJANGO_SETTINGS_MODULE": "extranet.settings", "RETENTION_MONTHS_CASE_REVIEW": value},
        capture_output=True,
        text=True,
    )
    if accepted:
        assert result.stdout.strip() == value
    else:
        assert "RETENTION_MONTHS_CASE_REVIEW must be a number of months" in result.stderr
