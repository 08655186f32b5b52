from django.contrib.auth.decorators import login_required
from django.shortcuts import render

from extranet.audit.models import AccessLog
from extranet.core.pagination import page_number
from structures.guards import require_caisse_admin

PAGE_SIZE = 50


@login_required
def journal(request):
    """The caisse's access journal, newest first, for its administrateurs; paged without counting the table."""
    caisse = require_caisse_admin(request.user).caisse
    entries = AccessLog.objects.filter(caisse=caisse).select_related("user").order_by("-at", "-pk")
    number = request.GET.get("numero", "").strip()
    if number:
        entries = entries.filter(target__startswith=number)
    page = page_number(request.GET.get("page"))
    rows = list(entries[(page - 1) * PAGE_SIZE : page * PAGE_SIZE + 1])
    return render(
        request,
        "audit/journal.html",
        {"entries": rows[:PAGE_SIZE], "page": page, "has_next": len(rows) > PAGE_SIZE, "number": number},
    )
