"""Django's text, date and checkbox inputs, written in one pass: the same markup as their templates
(django/forms/widgets/input.html and attrs.html, two templates an input), without rendering them. The filter forms of
the history and the queue have half a dozen inputs on pages read all day: their templates were a tenth of those
pages' time (bench/profile_pages.py). Django's names are kept: templates tell a checkbox by its class name
(BoundField.widget_type, templates/forms/field.html)."""

from django import forms
from django.utils.html import conditional_escape
from django.utils.safestring import mark_safe


class OnePassInputMixin:
    def render(self, name, value, attrs=None, renderer=None):
        widget = self.get_context(name, value, attrs)["widget"]
        parts = [f'<input type="{conditional_escape(widget["type"])}" name="{conditional_escape(widget["name"])}"']
        if widget["value"] is not None:
            parts.append(f' value="{conditional_escape(widget["value"])}"')
        for key, item in widget["attrs"].items():
            if item is True:
                parts.append(f" {conditional_escape(key)}")
            elif item is not False:
                parts.append(f' {conditional_escape(key)}="{conditional_escape(item)}"')
        parts.append(">")
        # Safe: every value above is escaped as the templates' autoescaping would.
        return mark_safe("".join(parts))  # noqa: S308


class TextInput(OnePassInputMixin, forms.TextInput):
    pass


class DateInput(OnePassInputMixin, forms.DateInput):
    pass


class CheckboxInput(OnePassInputMixin, forms.CheckboxInput):
    pass
