"""`{{ seats.cap|quantity:"place" }}`, `{{ n|quantity:"gestionnaire actif,gestionnaires actifs" }}`: the templates'
way to extranet/core/plurals.py (singular, then the plural after a comma when it is not the singular with an s)."""

from django import template

from extranet.core import plurals

register = template.Library()


@register.filter
def quantity(count, forms):
    singular, _, plural = forms.partition(",")
    return plurals.quantity(count, singular, plural or None)
