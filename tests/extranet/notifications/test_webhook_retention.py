"""The webhooks' delivery log is kept WEBHOOK_DELIVERY_RETENTION_DAYS, then purged every night: delivered and
abandoned deliveries (with their attempts), never one still to send."""

from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone

from extranet.notifications import webhooks
from extranet.notifications.models import WebhookAttempt, WebhookDelivery
from extranet.scheduler import run_job

pytestmark = pytest.mark.django_db

State = WebhookDelivery.State


def test_old_finished_deliveries_go_with_their_attempts_and_pending_ones_stay(structure, settings):
    settings.WEBHOOK_DELIVERY_RETENTION_DAYS = 30
    endpoint, _ = webhooks.register(
        owner={"structure": structure}, name="Suivi", url="https://8.8.8.8/", events=list(webhooks.EVENTS), by=None
    )
    now = timezone.now()
    with time_machine.travel(now - timedelta(days=31), tick=False):
        old = {state: webhooks.send_test(endpoint) for state in (State.DELIVERED, State.FAILED, State.PENDING)}
    with time_machine.travel(now - timedelta(days=29), tick=False):
        recent = webhooks.send_test(endpoint)
    for state, delivery in old.items():
        WebhookDelivery.objects.filter(pk=delivery.pk).update(state=state)
        WebhookAttempt.objects.create(delivery=delivery, status_code=200 if state == State.DELIVERED else 500)
    WebhookDelivery.objects.filter(pk=recent.pk).update(state=State.DELIVERED)

    assert run_job("webhook_deliveries") == "2 livraison(s) ancienne(s) effacée(s)"
    assert set(WebhookDelivery.objects.values_list("pk", flat=True)) == {old[State.PENDING].pk, recent.pk}
    assert list(WebhookAttempt.objects.values_list("delivery", flat=True)) == [old[State.PENDING].pk]
