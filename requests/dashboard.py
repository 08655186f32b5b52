"""Dashboards: the caisse's statistics (agents and administrateurs) and a structure's (gestionnaires).

No person's data is shown: counts, delays, structure names and MAS lists only. The figures come from
requests/stats.py, a fixed number of queries per page; the charts from extranet/core/charts.py.
"""

from django.contrib.auth.decorators import login_required
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlencode

from extranet.core.charts import bar_chart, percent
from requests import stats
from requests.models import Kind, Request, Status
from structures.guards import no_convention, require_caisse_staff, require_gestionnaire

STATUS_LABELS = dict(Status.choices)
KIND_LABELS = dict(Kind.choices)
RENUNCIATION = "dont le contexte comprend un renoncement aux soins"


def _period_links(selected):
    return [(key, label, key == selected.key) for key, label in stats.PERIODS.items()]


def _list_links(route, period, *, every_status=None):
    """The list a figure counts (the caisse's queue, the structure's history): the period's requests, filtered as
    the figure is. `every_status`: the list's value for all statuses, when it has a default of its own (the queue
    shows the open requests without one)."""

    def link(**filters):
        params = {name: value for name, value in filters.items() if value}
        if "status" not in params and every_status:
            params["status"] = every_status
        if period.start is not None:
            params["deposited_from"] = timezone.localdate(period.start).isoformat()
        return f"{reverse(route)}?{urlencode(params)}"

    return link


def _count_charts(prefix, counts, link):
    total = counts.total
    return [
        bar_chart(
            f"{prefix}-statuts",
            "Demandes par statut",
            [(STATUS_LABELS[s], n, str(n), percent(n, total)) for s, n in counts.by_status],
            label_header="Statut",
            value_header="Demandes",
            share_header="Part",
            urls=[link(status=s) for s, _ in counts.by_status],
        ),
        bar_chart(
            f"{prefix}-types",
            "Demandes par type",
            [(KIND_LABELS[k], n, str(n), percent(n, total)) for k, n in counts.by_kind],
            label_header="Type de demande",
            value_header="Demandes",
            share_header="Part",
            urls=[link(kind=k) for k, _ in counts.by_kind],
        ),
    ]


def _delay_chart(chart_id, title, delays, step, count_name, note=""):
    rows = []
    for kind, kind_delays in delays.by_kind.items():
        seconds = getattr(kind_delays, step)
        count = getattr(kind_delays, count_name)
        rows.append((KIND_LABELS[kind], seconds, stats.format_delay(seconds), str(count)))
    return bar_chart(
        chart_id,
        title,
        rows,
        label_header="Type de demande",
        value_header="Délai médian",
        share_header="Demandes mesurées",
        note=note,
    )


def _mas_chart(chart_id, title, distribution, among, *, multiple=True):
    base = distribution.base
    note = (
        f"Sur {base} saisine{'s' if base > 1 else ''} {among}{' ; plusieurs réponses possibles' if multiple else ''}."
    )
    return bar_chart(
        chart_id,
        title,
        [(label, n, str(n), percent(n, distribution.base)) for _, label, n in distribution.rows],
        label_header="Réponse",
        value_header="Saisines",
        share_header="Part",
        note=note,
    )


@login_required
def caisse_dashboard(request):
    staff = require_caisse_staff(request.user)
    period = stats.period(request.GET.get("periode"))
    requests = period.apply(Request.objects.visible_to(request.user))
    counts = stats.counts(requests)
    delays = stats.median_delays(requests)
    mas_report = stats.mas_distributions(requests)
    structures = stats.most_active_structures(requests)
    link = _list_links("requests:queue", period, every_status="all")
    context = {
        "caisse": staff.caisse,
        "period": period,
        "period_links": _period_links(period),
        "counts": counts,
        "statuses": Status.choices,
        "take_charge_median": stats.format_delay(delays.overall.take_charge),
        "resolution_median": stats.format_delay(delays.overall.resolution),
        "total_url": link(),
        "open_url": link(status="open"),
        "count_charts": _count_charts("caisse", counts, link),
        "delay_charts": [
            _delay_chart("delai-prise-en-charge", "Délai médian de prise en charge", delays, "take_charge", "taken"),
            _delay_chart("delai-resolution", "Délai médian de résolution", delays, "resolution", "resolved"),
        ],
        "structures_chart": bar_chart(
            "structures",
            f"Les {stats.TOP_STRUCTURES} structures qui ont déposé le plus de demandes",
            [(name, n, str(n), percent(n, counts.total)) for _, name, n in structures],
            label_header="Structure",
            value_header="Demandes",
            share_header="Part",
            urls=[link(structure=structure_id) for structure_id, _, _ in structures],
        ),
        "mas": mas_report,
        "mas_charts": [
            _mas_chart("mas-contextes", "Saisines MAS : contexte", mas_report.contexts, "de la période"),
            _mas_chart("mas-soins", "Saisines MAS : soins non réalisés", mas_report.cares, RENUNCIATION),
            _mas_chart(
                "mas-durees", "Saisines MAS : durée du renoncement", mas_report.durations, RENUNCIATION, multiple=False
            ),
            _mas_chart("mas-causes", "Saisines MAS : causes du renoncement", mas_report.causes, RENUNCIATION),
        ],
    }
    return render(request, "requests/dashboard.html", context)


@login_required
def structure_dashboard(request):
    membership = require_gestionnaire(request.user)
    caisse = request.caisse_context.current
    if caisse is None:
        return no_convention(request, membership.structure)
    period = stats.period(request.GET.get("periode"))
    all_requests = Request.objects.visible_to(request.user).filter(caisse=caisse)
    requests = period.apply(all_requests)
    counts = stats.counts(requests)
    delays = stats.median_delays(requests)
    now = timezone.now()
    oldest = [(demande, (now - demande.created_at).days) for demande in stats.oldest_open(all_requests)]
    link = _list_links("requests:history", period)
    context = {
        "structure": membership.structure,
        "caisse": caisse,
        "period": period,
        "period_links": _period_links(period),
        "counts": counts,
        "statuses": Status.choices,
        "open_count": all_requests.open().count(),
        "resolution_median": stats.format_delay(delays.overall.resolution),
        "total_url": link(),
        "count_charts": _count_charts("structure", counts, link),
        "delay_charts": [
            _delay_chart("delai-resolution", "Délai médian de résolution", delays, "resolution", "resolved"),
        ],
        "oldest_open": oldest,
    }
    return render(request, "requests/structure_dashboard.html", context)
