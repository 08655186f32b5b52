"""The webhooks' pages: a gestionnaire's under the structure's pages, a caisse administrateur's under the caisse's.
The same views for both sides; whose endpoints they show is structures/webhooks.py's answer (another owner's
endpoint is a 404, a role without webhooks a 403)."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST

from extranet.notifications import webhooks
from extranet.notifications.models import WebhookDelivery, WebhookEndpoint
from extranet.notifications.webhook_delivery import MAX_ATTEMPTS
from extranet.pages.webhooks.forms import WebhookEndpointForm
from structures.webhooks import webhook_owner

NEW_SECRET = "_new_webhook_secret"  # noqa: S105 (the session key that holds it, not a secret)
LISTED_DELIVERIES = 20


def _owner(request, side):
    owner = webhook_owner(request.user)
    if side not in owner:  # a gestionnaire at the caisse's address, or the reverse
        raise PermissionDenied
    return owner


def _endpoint(request, side, pk):
    return get_object_or_404(WebhookEndpoint.objects.filter(**_owner(request, side)), pk=pk)


def _url(side, name):
    return f"webhooks:{side}_{name}"


def last_deliveries(endpoint, count=LISTED_DELIVERIES):
    """The endpoint's latest deliveries, each with its attempts (newest first): the delivery log."""
    deliveries = WebhookDelivery.objects.filter(endpoint=endpoint).order_by("-created_at", "-pk")
    return list(deliveries.prefetch_related("attempt_log")[:count])


@login_required
def endpoint_list(request, side):
    owner = _owner(request, side)
    endpoints = WebhookEndpoint.objects.filter(**owner).order_by("-is_active", "name", "pk")
    return render(
        request,
        "webhooks/list.html",
        {"side": side, "owner": next(iter(owner.values())), "endpoints": endpoints, "events": webhooks.EVENTS},
    )


@login_required
@require_http_methods(["GET", "POST"])
def endpoint_create(request, side):
    owner = _owner(request, side)
    form = WebhookEndpointForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        endpoint, secret = webhooks.register(owner=owner, by=request.user, **form.cleaned_data)
        request.session[NEW_SECRET] = {"pk": endpoint.pk, "secret": secret}
        return redirect(_url(side, "secret"), endpoint.pk)
    return render(request, "webhooks/form.html", {"side": side, "form": form})


@never_cache  # the secret must not stay in a browser or proxy cache
@login_required
def endpoint_secret(request, side, pk):
    """The clear secret, once: it leaves the session as it is shown; only its sealed form is kept."""
    endpoint = _endpoint(request, side, pk)
    new = request.session.get(NEW_SECRET)
    if not new or new["pk"] != endpoint.pk:
        return redirect(_url(side, "detail"), endpoint.pk)
    del request.session[NEW_SECRET]
    return render(request, "webhooks/secret.html", {"side": side, "endpoint": endpoint, "secret": new["secret"]})


@login_required
def endpoint_detail(request, side, pk):
    endpoint = _endpoint(request, side, pk)
    return render(
        request,
        "webhooks/detail.html",
        {
            "side": side,
            "endpoint": endpoint,
            "event_labels": [webhooks.EVENTS[event] for event in endpoint.events if event in webhooks.EVENTS],
            "deliveries": last_deliveries(endpoint),
            "max_attempts": MAX_ATTEMPTS,
        },
    )


@login_required
@require_POST
def endpoint_rotate(request, side, pk):
    endpoint = _endpoint(request, side, pk)
    request.session[NEW_SECRET] = {"pk": endpoint.pk, "secret": webhooks.rotate_secret(endpoint)}
    return redirect(_url(side, "secret"), endpoint.pk)


@login_required
@require_POST
def endpoint_set_active(request, side, pk, active):
    endpoint = webhooks.set_active(_endpoint(request, side, pk), active)
    if active:
        messages.success(request, f"« {endpoint.name} » reçoit de nouveau les événements.")
    else:
        messages.success(request, f"« {endpoint.name} » est désactivé : il ne reçoit plus aucun événement.")
    return redirect(_url(side, "detail"), endpoint.pk)


@login_required
@require_POST
def endpoint_test(request, side, pk):
    endpoint = _endpoint(request, side, pk)
    if not endpoint.is_active:
        messages.error(request, "Réactivez ce point de réception avant de lui envoyer un événement de test.")
    else:
        webhooks.send_test(endpoint)
        messages.success(request, "Événement de test envoyé : son résultat s'affiche dans les derniers envois.")
    return redirect(_url(side, "detail"), endpoint.pk)


@login_required
@require_POST
def endpoint_delete(request, side, pk):
    endpoint = _endpoint(request, side, pk)
    endpoint.delete()
    messages.success(request, f"« {endpoint.name} » est supprimé, avec son journal des envois.")
    return redirect(_url(side, "list"))
