import django_filters
from django import forms
from django.contrib.auth import get_user_model
from django.db.models import Q

from extranet.forms import StyledFormMixin
from requests.models import Kind, Status


class FilterForm(StyledFormMixin, forms.Form):
    pass


class HistoryFilter(django_filters.FilterSet):
    """Filters of the "Historique des demandes" (the queryset is already the structure's, for one caisse)."""

    number = django_filters.CharFilter(field_name="number", lookup_expr="startswith", label="Numéro")
    status = django_filters.ChoiceFilter(choices=Status.choices, label="Statut", empty_label="Tous les statuts")
    kind = django_filters.ChoiceFilter(choices=Kind.choices, label="Type de demande", empty_label="Tous les types")
    deposited_from = django_filters.DateFilter(
        field_name="created_at",
        lookup_expr="date__gte",
        label="Déposée à partir du",
        widget=forms.DateInput(attrs={"type": "date"}),
    )
    deposited_to = django_filters.DateFilter(
        field_name="created_at",
        lookup_expr="date__lte",
        label="Déposée jusqu'au",
        widget=forms.DateInput(attrs={"type": "date"}),
    )
    author = django_filters.ModelChoiceFilter(
        queryset=get_user_model().objects.none(), label="Demandeur", empty_label="Tous les demandeurs"
    )
    person = django_filters.CharFilter(method="filter_person", label="Personne concernée (nom ou prénom)")
    followed = django_filters.BooleanFilter(
        method="filter_followed", label="Seulement les demandes que je suis", widget=forms.CheckboxInput
    )

    class Meta:
        form = FilterForm
        fields = []

    def __init__(self, *args, structure, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user
        self.filters["author"].queryset = (
            get_user_model().objects.filter(membership__structure=structure).order_by("last_name", "first_name")
        )

    def filter_person(self, queryset, name, value):
        for word in value.split():
            queryset = queryset.filter(Q(person_last_name__icontains=word) | Q(person_first_name__icontains=word))
        return queryset

    def filter_followed(self, queryset, name, value):
        return queryset.filter(follows__user=self.user) if value else queryset
