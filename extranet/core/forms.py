from html import escape

from django import forms
from django.forms.renderers import TemplatesSetting
from django.forms.utils import flatatt
from django.utils.safestring import mark_safe

from extranet.core.text import validate_storable, without_bidi_controls


class FormRenderer(TemplatesSetting):
    """Renders every form field with its label, help text and French errors next to it (templates/forms/)."""

    form_template_name = "forms/form.html"
    field_template_name = "forms/field.html"


_WIDGET_CLASSES = {
    forms.CheckboxInput: "form-check-input",
    forms.RadioSelect: "form-check-input",
    forms.CheckboxSelectMultiple: "form-check-input",
    forms.Select: "form-select",
    forms.SelectMultiple: "form-select",
}


class CleanTextMixin:
    """What every form takes in, as extranet/core/text.py says: the bidirectional controls removed from the submitted
    values (but passwords', which are not shown and must stay as typed) before anything reads them, so that a field
    checks, stores and shows the text without them; and a text that cannot be stored refused at its field."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.is_bound:
            kept = {name for name, field in self.fields.items() if isinstance(field.widget, forms.PasswordInput)}
            self.data = _without_bidi_controls(self.data, kept)

    def full_clean(self):
        # Here rather than at __init__: subclasses add fields after it.
        for field in self.fields.values():
            if isinstance(field, forms.CharField) and validate_storable not in field.validators:
                field.validators.append(validate_storable)
        super().full_clean()


def _without_bidi_controls(data, kept):
    def cleaned(name, value):
        return without_bidi_controls(value) if isinstance(value, str) and name not in kept else value

    if hasattr(data, "lists"):  # a QueryDict or a MultiValueDict: several values a name
        copy = data.copy()
        for name, values in data.lists():
            copy.setlist(name, [cleaned(name, value) for value in values])
        return copy
    return {
        name: [cleaned(name, item) for item in value] if isinstance(value, list) else cleaned(name, value)
        for name, value in data.items()
    }


class StyledFormMixin(CleanTextMixin):
    """Bootstrap classes on widgets, and invalid fields marked for assistive technologies; and, as every form of the
    application, the text cleaning of CleanTextMixin."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for field in self.fields.values():
            css = next(
                (css for widget, css in _WIDGET_CLASSES.items() if isinstance(field.widget, widget)), "form-control"
            )
            field.widget.attrs["class"] = f"{field.widget.attrs.get('class', '')} {css}".strip()

    def full_clean(self):
        super().full_clean()
        self.mark_invalid_fields()

    def mark_invalid_fields(self):
        """Also after validation, for the errors a service adds to the form; a field is marked once."""
        for name in self.errors:
            if name in self.fields and self.fields[name].widget.attrs.get("aria-invalid") != "true":
                bound = self[name]
                attrs = self.fields[name].widget.attrs
                attrs["aria-invalid"] = "true"
                attrs["class"] = f"{attrs.get('class', '')} is-invalid"
                described = [f"{bound.auto_id}_error"]
                if self.fields[name].help_text:
                    described.append(f"{bound.auto_id}_helptext")
                attrs["aria-describedby"] = " ".join(described)


class OnePassSelect(forms.Select):
    """A select written in one pass, option groups included. Django renders every option through two templates
    (the option, its attributes): on the filter forms of the queue and the history (a caisse's hundreds of
    structures, the motifs of every kind) that was most of the page's time (bench/results.md). The standard library's
    escape is Django's, without its lazy-string wrapper: hundreds of calls per page."""

    def render(self, name, value, attrs=None, renderer=None):
        wanted = self.format_value(value)
        found = False

        def options(choices):
            nonlocal found
            parts = []
            for option_value, label in choices:
                if isinstance(label, (list, tuple)):
                    parts.append(f'<optgroup label="{escape(str(option_value))}">{options(label)}</optgroup>')
                    continue
                option_value = "" if option_value is None else str(option_value)
                selected = not found and option_value in wanted
                found = found or selected
                parts.append(
                    f'<option value="{escape(option_value)}"{" selected" if selected else ""}>'
                    f"{escape(str(label))}</option>"
                )
            return "".join(parts)

        attributes = flatatt(self.build_attrs(self.attrs, attrs))
        # Safe: every value and label above is escaped, and flatatt escapes the attributes.
        return mark_safe(f'<select name="{escape(name)}"{attributes}>{options(self.choices)}</select>')  # noqa: S308
