"""The one-pass inputs (extranet/core/widgets.py) write exactly what Django's templates write, and the filter forms
of the history and the queue use them: were a filter to go back to Django's input, its two templates would be
rendered on every list page again."""

from datetime import date

import pytest
from django import forms
from django.http import QueryDict
from django.template import base
from django.test.utils import override_settings
from django.utils.safestring import mark_safe

from extranet.core import widgets
from requests.filters import HistoryFilter, QueueFilter
from requests.models import Request

ATTRS = [
    None,
    {"class": "form-control"},
    {"class": "form-control is-invalid", "aria-invalid": "true", "aria-describedby": "id_x_error", "required": True},
    {"class": 'a "quoted" <class> & more', "disabled": False, "placeholder": "L'été"},
    {"id": "id_x", "data-safe": mark_safe("<b>déjà sûr</b>")},
]
VALUES = [None, "", "2633107189", "<script>alert('x')</script> & \"", mark_safe("<i>sûr</i>"), 0, 12]


@pytest.mark.parametrize(
    ("ours", "djangos", "options", "values"),
    [
        (widgets.TextInput, forms.TextInput, {}, VALUES),
        (widgets.DateInput, forms.DateInput, {"attrs": {"type": "date"}}, [*VALUES, date(2026, 12, 1)]),
        (widgets.DateInput, forms.DateInput, {"format": "%d/%m/%Y"}, [None, date(2026, 12, 1), "01/12/2026"]),
        (widgets.CheckboxInput, forms.CheckboxInput, {}, [None, "", True, False, "on", "false", "1"]),
    ],
)
@pytest.mark.parametrize("attrs", ATTRS)
def test_one_pass_inputs_write_what_djangos_templates_write(ours, djangos, options, values, attrs):
    for value in values:
        assert ours(**options).render("x", value, attrs) == djangos(**options).render("x", value, attrs), value


@pytest.mark.django_db
@override_settings(DEBUG=False)
@pytest.mark.parametrize("filterset", [HistoryFilter, QueueFilter])
def test_the_filter_forms_render_no_widget_template(filterset, structure, caisse, technicien):
    kwargs = (
        {"structure": structure} if filterset is HistoryFilter else {"caisse": caisse, "calendar": caisse.calendar}
    )
    rendered = []
    original = base.Template.render

    def recording(self, context):
        rendered.append(self.name)
        return original(self, context)

    data = QueryDict("number=26&news=on&deposited_from=2026-01-01")
    form = filterset(data, queryset=Request.objects.none(), user=technicien, **kwargs).form
    base.Template.render = recording
    try:
        html = "".join(field.as_field_group() for field in form)
    finally:
        base.Template.render = original
    assert 'name="number"' in html
    assert not [name for name in rendered if name.startswith("django/forms/widgets/")], rendered
