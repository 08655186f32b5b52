"""The benchmark's floor: the cheapest signed-in page the app could serve, against which bench/run.py measures.

Mounted at /bench/floor/ only when the server starts with BENCH_FLOOR_VIEW=1 (bench/run.py does), never otherwise.
One query: the user's structure's 20 newest requests, read in the order of the index request_structure_newest
(structure, caisse, -created_at), rendered through a template that extends nothing.
"""

from django.contrib.auth.decorators import login_required
from django.shortcuts import render

from requests.models import Request


@login_required
def floor(request):
    # The membership comes with the signed-in user (one query, as on every page). A literal structure id, not a
    # subquery: planned as a subquery, the 10k database read its 5,000 rows and sorted them.
    rows = Request.objects.filter(structure_id=request.user.structure_membership.structure_id).order_by(
        "caisse_id", "-created_at"
    )
    return render(request, "bench/floor.html", {"rows": rows.values("number", "status", "created_at")[:20]})
