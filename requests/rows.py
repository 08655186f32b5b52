"""The queue's rows, written in one pass: the markup the template loop gave, without the template engine.

The loop is kept as the reference (tests/requests/queue_rows_reference.html); tests/requests/test_rows.py renders it
with Django over generated rows, hostile text included, and compares. The queue is the agents' page, read all day,
twenty to a hundred rows a page: the engine spent about 0.35 ms a row resolving its forty variables
(bench/profile_pages.py: 7.4 ms of the page's 34 for 20 rows), this about 0.03 ms. As the templates would, every value
is escaped (`conditional_escape`) and `upper` is `str(value).upper()` before it. A change of the row's markup is made
here and in the reference, or the comparison fails.
"""

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
