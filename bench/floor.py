"""The benchmark's floor: the cheapest signed-in page the app could serve, against which bench/run.py measures.

Mounted at /bench/floor/ only when the server starts with BENCH_FLOOR_VIEW=1 (bench/run.py does), never otherwise.
One query: the user's structure's 20 newest requests, read in the order of the index request_structure_newest
(structure, caisse, -created_at), rendered through a template that extends nothing.
"""

from django.contrib.auth.decorators import login_required
from django.db.models import Subquery
from django.shortcuts import render

from requests.models import Request
from structures.models import Membership


@login_required
def floor(request):
    structure = Subquery(Membership.objects.filter(user_id=request.user.pk).values("structure_id")[:1])
    rows = Request.objects.filter(structure_id=structure).order_by("caisse_id", "-created_at")
    return render(request, "bench/floor.html", {"rows": rows.values("number", "status", "created_at")[:20]})
