"""The lists' rows (the caisse's queue, the structure's history and home page), written in one pass: the markup their
templates gave, without the template engine.

The templates are kept as the reference (tests/requests/queue_rows_reference.html, request_row_reference.html);
tests/requests/test_rows.py renders them with Django over generated rows, hostile text included, and compares. The
queue is the agents' page, read all day, twenty to a hundred rows a page: the engine spent about 0.35 ms a row
resolving its forty variables (bench/profile_pages.py: 7.4 ms of the page's 34 for 20 rows), this about 0.03 ms. As
the templates would, every value is escaped (`conditional_escape`) and `upper` is `str(value).upper()` before it. A
change of the rows' markup is made here and in the reference, or the comparison fails.
"""

from django.utils import timezone
from django.utils.html import conditional_escape as e
from django.utils.safestring import mark_safe

_STATUS_BADGES = {
    "new": '<span class="badge text-bg-primary">Nouveau</span>',
    "in_progress": '<span class="badge text-bg-warning">Pris en charge</span>',
}
_RESOLVED_BADGE = '<span class="badge text-bg-success">Résolu</span>'


def queue_rows(rows):
    return mark_safe("".join(_queue_row(row) for row in rows))  # noqa: S308 — every value escaped in _queue_row


def _queue_row(d):
    kind = e(d.get_kind_display())
    motif = e(d.motif_label)
    structure = e(d.structure_name)
    author = f"{e(d.author_first_name)} {e(str(d.author_last_name).upper())}"
    if d.has_person:
        masked = e(d.masked_nir)
        person = (
            f'<td title="{e(d.person_name)}, NIR {masked}"><span class="visually-hidden">'
            f"{e(d.get_person_civility_display())} </span>{e(str(d.person_last_name).upper())} "
            f'{e(d.person_first_name)} <span class="text-body-secondary">NIR {masked}</span></td>'
        )
    else:
        person = (
            '<td><span class="text-body-secondary">—<span class="visually-hidden"> sans personne concernée</span>'
            "</span></td>"
        )
    badges = [_STATUS_BADGES.get(d.status, _RESOLVED_BADGE), "\n"]
    if d.status == "in_progress" and d.awaiting_partner_since:
        badges.append(
            ' <span class="badge text-bg-light border">En attente'
            '<span class="visually-hidden"> de la structure</span></span>'
        )
    if d.unanswered:
        badges.append(' <span class="badge text-bg-danger">Sans réponse</span>')
    if d.has_news:
        badges.append(
            ' <span class="badge text-bg-info">Réponse reçue'
            '<span class="visually-hidden"> de la structure depuis votre dernière visite</span></span>'
        )
    if d.assigned_to:
        name = e(d.assigned_to.get_full_name())
        agent = f'<td title="{name}">{name}</td>'
    else:
        agent = '<td><span class="text-body-secondary">Non attribuée</span></td>'
    overdue = ' <span class="badge text-bg-danger">En retard</span>' if d.overdue else ""
    row_class = ' class="table-danger"' if d.overdue else ""
    return (
        f'\n    <tr{row_class} data-testid="queue-row">\n'
        f'      <th scope="row"><a href="{e(d.get_absolute_url())}"><span class="font-monospace">{e(d.number)}</span>'
        '<span class="visually-hidden"> : consulter la demande</span></a></th>\n'
        f'      <td title="{kind} — {motif}"><span title="{kind}">'
        f'<span aria-hidden="true">{e(d.kind_short_label)}</span><span class="visually-hidden">{kind}</span></span>\n'
        f' · <span class="text-body-secondary"><span aria-hidden="true">{e(d.motif_short_label)}</span>'
        f'<span class="visually-hidden">{motif}</span></span></td>\n'
        f'      <td title="{structure}, par {author}">{structure} '
        f'<span class="text-body-secondary">par {author}</span></td>\n'
        f"      {person}\n"
        f"      <td>{e(d.deposited_day)} {e(d.deposited_time)}</td>\n"
        f"      <td>{''.join(badges)}</td>\n"
        f"      {agent}\n"
        f"      <td>{e(d.age)}{overdue}</td>\n"
        "    </tr>\n  "
    )


def request_rows(rows, *, followed, next_url, csrf_token):
    """The history's rows (a star to follow each, unless `followed` is None: the home page's), each star's form coming
    back to `next_url`, with the page's CSRF token."""
    return mark_safe("".join(_request_row(row, followed, next_url, csrf_token) for row in rows))  # noqa: S308


def _request_row(d, followed, next_url, csrf_token):
    number = e(d.number)
    status = _STATUS_BADGES.get(d.status, _RESOLVED_BADGE)
    if d.status == "in_progress" and d.awaiting_partner_since:
        status = '<span class="badge text-bg-warning">Pris en charge — en attente de votre réponse</span>'
    news = (
        ' <span class="badge text-bg-info">Du nouveau'
        '<span class="visually-hidden"> depuis votre dernière visite</span></span>'
        if d.has_news
        else ""
    )
    star = ""
    if followed is not None:
        pressed = d.pk in followed
        star = (
            f'\n    \n    <form method="post" action="{e(d.follow_url)}" data-follow data-no-busy>\n      \n'
            f'      <input type="hidden" name="csrfmiddlewaretoken" value="{e(csrf_token)}">'
            f'<input type="hidden" name="next" value="{e(next_url)}">\n'
            f'      <button type="submit" class="btn btn-link star" aria-pressed="{"true" if pressed else "false"}" '
            f'title="{"Ne plus suivre cette demande" if pressed else "Suivre cette demande"}">\n'
            f'        <span aria-hidden="true" data-star>{"★" if pressed else "☆"}</span>\n'
            f'        <span class="visually-hidden">Suivre la demande n° {number}</span>\n'
            "      </button>\n    </form>\n    "
        )
    deposited = timezone.template_localtime(d.created_at)  # as the template's date filter
    person = (
        f" — Personne concernée <strong>{e(d.person_name)}</strong> "
        f'<span class="text-body-secondary small">(NIR {e(d.masked_nir)})</span>'
        if d.has_person
        else ""
    )
    return (
        f'<li class="list-group-item py-3 request-row" id="demande-{number}">\n'
        f'  <p class="mb-1 fw-semibold">{e(d.get_kind_display())} {status}\n{news}</p>\n'
        f'  <div class="d-flex flex-wrap align-items-center column-gap-2 mb-1">\n    {star}\n'
        f'    <p class="mb-0"><span class="font-monospace">{number}</span> — déposée le '
        f"{deposited:%d/%m/%Y %H}h{deposited:%M}</p>\n"
        "  </div>\n"
        f'  <p class="mb-1">Demandeur <strong>{e(str(d.author.last_name).upper())} {e(d.author.first_name)}</strong>'
        f"{person}</p>\n"
        f'  <a href="{e(d.get_absolute_url())}">Consulter le détail<span class="visually-hidden"> de la demande '
        f"{number}</span></a>\n"
        "</li>\n"
    )
