"""requests/rows.py writes the queue's rows as the template loop did, byte for byte: the loop is the reference
(queue_rows_reference.html, with the includes it used), rendered by Django over generated rows, hostile text
included, and compared with queue_rows."""

from datetime import UTC, datetime
from pathlib import Path
from types import SimpleNamespace

from django.template import engines
from hypothesis import given, settings
from hypothesis import strategies as st

from requests.catalog import KINDS
from requests.rows import queue_rows, request_rows

REFERENCE = (Path(__file__).parent / "queue_rows_reference.html").read_text(encoding="utf-8")
# The history's and home page's rows: the row template, included in a loop as the pages did.
ROW_REFERENCE = (
    "{% for demande in rows %}"
    + (Path(__file__).parent / "request_row_reference.html").read_text(encoding="utf-8")
    + "{% endfor %}"
)

text = st.text(alphabet=st.characters(blacklist_categories=["Cs"]), max_size=12) | st.sampled_from(
    ["", "<b>é</b>", 'O\'Brien & "fils"', "ßtraße", "{{ x }}"]
)
KIND_MOTIFS = [(kind, motif.value) for kind, spec in KINDS.items() for motif in spec.motifs]


class Agent(SimpleNamespace):
    def get_full_name(self):
        return self.full_name


@st.composite
def rows(draw):
    kind, motif = draw(st.sampled_from(KIND_MOTIFS))
    spec = KINDS[kind]
    has_person = draw(st.booleans())
    last, first, civility = draw(text), draw(text), draw(st.sampled_from(["Mme", "M.", ""]))
    number = draw(st.from_regex(r"\A26[0-9]{8}\Z"))
    row = SimpleNamespace(
        number=number,
        get_absolute_url=lambda: f"/demandes/{number}/",
        get_kind_display=lambda: spec.title,
        kind_short_label=spec.short_label,
        motif_label=spec.motif_display(motif),
        motif_short_label=spec.motif_short_display(motif),
        structure_name=draw(text),
        author_first_name=draw(text),
        author_last_name=draw(st.none() | text),
        has_person=has_person,
        person_name=f"{civility} {last.upper()} {first}".strip() if has_person else "",
        masked_nir=draw(st.sampled_from(["2 84 05 •• ••• ••• 12", "", "<nir>"])),
        get_person_civility_display=lambda: civility,
        person_last_name=last,
        person_first_name=first,
        deposited_day=draw(st.sampled_from(["01/12/2026", "31/01/2025"])),
        deposited_time=draw(st.sampled_from(["09h05", "23h59"])),
        status=draw(st.sampled_from(["new", "in_progress", "resolved"])),
        awaiting_partner_since=draw(st.sampled_from([None, "2026-11-30"])),
        unanswered=draw(st.booleans()),
        has_news=draw(st.booleans()),
        assigned_to=draw(st.none() | st.builds(Agent, full_name=text)),
        age=draw(st.integers(0, 400)),
        overdue=draw(st.booleans()),
    )
    return row


@settings(max_examples=300, deadline=None)
@given(listed=st.lists(rows(), max_size=4))
def test_queue_rows_are_the_template_s(listed):
    reference = engines["django"].from_string(REFERENCE).render({"rows": listed})
    assert queue_rows(listed) == reference


@st.composite
def history_rows(draw):
    kind = draw(st.sampled_from(list(KINDS)))
    has_person = draw(st.booleans())
    number = draw(st.from_regex(r"\A26[0-9]{8}\Z"))
    return SimpleNamespace(
        pk=draw(st.integers(1, 6)),
        number=number,
        get_absolute_url=lambda: f"/demandes/{number}/",
        follow_url=f"/demandes/{number}/suivre/",
        get_kind_display=lambda: KINDS[kind].title,
        status=draw(st.sampled_from(["new", "in_progress", "resolved"])),
        awaiting_partner_since=draw(st.sampled_from([None, "2026-11-30"])),
        has_news=draw(st.booleans()),
        created_at=draw(
            st.datetimes(min_value=datetime(2020, 1, 1), max_value=datetime(2030, 1, 1), timezones=st.just(UTC))
        ),
        author=SimpleNamespace(last_name=draw(text), first_name=draw(text)),
        has_person=has_person,
        person_name=draw(text) if has_person else "",
        masked_nir=draw(st.sampled_from(["2 84 05 •• ••• ••• 12", "<nir>"])),
    )


@settings(max_examples=300, deadline=None)
@given(
    listed=st.lists(history_rows(), max_size=4),
    followed=st.none() | st.sets(st.integers(1, 6)),
    next_url=st.sampled_from(["", "/demandes/?page=2&status=new", '/x"<>']),
    token=st.sampled_from(["abc", 'a<b>"c']),
)
def test_history_rows_are_the_template_s(listed, followed, next_url, token):
    request = SimpleNamespace(path="/demandes/")
    reference = (
        engines["django"]
        .from_string(ROW_REFERENCE)
        .render({"rows": listed, "followed": followed, "return_to": next_url, "csrf_token": token, "request": request})
    )
    assert request_rows(listed, followed=followed, next_url=next_url or request.path, csrf_token=token) == reference
