from django import forms
from django.forms.renderers import TemplatesSetting
from django.forms.utils import flatatt
from django.utils.html import format_html, format_html_join


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


class StyledFormMixin:
    """Bootstrap classes on widgets, and invalid fields marked for assistive technologies."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for field in self.fields.values():
            css = next(
                (css for widget, css in _WIDGET_CLASSES.items() if isinstance(field.widget, widget)), "form-control"
            )
            field.widget.attrs["class"] = f"{field.widget.attrs.get('class', '')} {css}".strip()

    def full_clean(self):
        super().full_clean()
        for name in self.errors:
            if name in self.fields:
                bound = self[name]
                attrs = self.fields[name].widget.attrs
                attrs["aria-invalid"] = "true"
                attrs["class"] = f"{attrs.get('class', '')} is-invalid"
                described = [f"{bound.auto_id}_error"]
                if self.fields[name].help_text:
                    described.append(f"{bound.auto_id}_helptext")
                attrs["aria-describedby"] = " ".join(described)


class LongSelect(forms.Select):
    """A select of hundreds of options (a caisse's structures), written in one pass: Django renders each option
    through its own template, which made the caisse's queue page 10× slower than a plain list (bench/results.md)."""

    def render(self, name, value, attrs=None, renderer=None):
        selected = "" if value is None else str(value)
        options = format_html_join(
            "",
            '<option value="{}"{}>{}</option>',
            (
                (option_value, " selected" if str(option_value) == selected else "", label)
                for option_value, label in self.choices
            ),
        )
        return format_html(
            '<select name="{}"{}>{}</select>', name, flatatt(self.build_attrs(self.attrs, attrs)), options
        )
