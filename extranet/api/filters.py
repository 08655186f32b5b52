from datetime import datetime, time

import django_filters
from django.utils import timezone

from requests.models import Kind, Request, Status


def _start_of(day):
    return timezone.make_aware(datetime.combine(day, time.min))


class RequestFilter(django_filters.FilterSet):
    status = django_filters.ChoiceFilter(choices=Status.choices, help_text="new, in_progress ou resolved.")
    kind = django_filters.ChoiceFilter(choices=Kind.choices, help_text="Type de demande.")
    motif = django_filters.CharFilter(help_text="Motif exact, par exemple mas_referral.")
    number = django_filters.CharFilter(help_text="Numéro à 10 chiffres.")
    caisse = django_filters.CharFilter(field_name="caisse__code", help_text="Code de la caisse (3 chiffres).")
    created_after = django_filters.DateFilter(
        method="filter_created_after", help_text="Déposées ce jour (AAAA-MM-JJ) ou après."
    )
    created_before = django_filters.DateFilter(
        method="filter_created_before", help_text="Déposées avant ce jour (AAAA-MM-JJ), ce jour exclu."
    )

    class Meta:
        model = Request
        fields = []

    def is_valid(self):
        # An empty value would silently mean "no filter": the client surely meant something else.
        valid = super().is_valid()
        for name in self.filters:
            if name in self.data and not self.data.get(name, "").strip():
                self.form.add_error(name, "Valeur vide : donnez une valeur ou retirez ce paramètre.")
                valid = False
        return valid

    # Bounds on the column itself, not on its date: the "newest first" indexes stay usable.
    def filter_created_after(self, queryset, name, value):
        return queryset.filter(created_at__gte=_start_of(value))

    def filter_created_before(self, queryset, name, value):
        return queryset.filter(created_at__lt=_start_of(value))
