"""A technicien's departure, seen by their gestionnaire: their open requests, and the colleague to hand them to.

The page lives with the requests (it lists them and the handover writes on them); the deactivation itself is
structures/services.py's, called inside the same transaction by `services.deactivate_technicien`.
"""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_http_methods

from extranet.core.plurals import quantity
from requests import services
from requests.forms import HandoverForm
from structures.guards import require_gestionnaire
from structures.models import Membership


@login_required
@require_http_methods(["GET", "POST"])
def technicien_departure(request, pk):
    structure = require_gestionnaire(request.user).structure
    membership = get_object_or_404(
        Membership.objects.select_related("user"),
        pk=pk,
        structure=structure,
        role=Membership.Role.TECHNICIEN,
        is_active=True,
    )
    leaving = membership.user
    form = HandoverForm(request.POST or None, structure=structure, leaving=leaving)
    if request.method == "POST" and form.is_valid():
        colleague = form.cleaned_data["colleague"]
        try:
            handed = services.deactivate_technicien(membership, by=request.user, hand_to=colleague)
        except services.HandoverRefused as refusal:
            form.add_error("colleague", str(refusal))
        else:
            done = f"Le compte de {leaving} est désactivé et ses sessions sont fermées."
            if handed:
                handed_over = quantity(handed, "demande en cours confiée", "demandes en cours confiées")
                done += f" {handed_over} à {colleague.get_full_name()}."
            messages.success(request, done)
            return redirect("structures:technicien_list")
    return render(
        request,
        "requests/technicien_departure.html",
        {
            "membership": membership,
            "leaving": leaving,
            "form": form,
            "open_requests": services.open_requests_followed_by(leaving, structure),
        },
        status=400 if form.errors else 200,
    )
