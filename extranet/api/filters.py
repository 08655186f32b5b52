import django_filters
from django import forms
from django.core.exceptions import ValidationError
from django.utils.dateparse import parse_datetime
from drf_spectacular.utils import extend_schema_field

from extranet.core.filters import DayBoundFilter, within_range
from requests.models import Kind, Request, Status

NOT_A_MOMENT = (
    "Une date et heure ISO 8601 avec son décalage, par exemple 2026-03-01T10:00:00+01:00 ou 2026-03-01T09:00:00Z "
    "(dans une adresse, « + » s'écrit %(plus)s)."
)


class MomentField(forms.Field):
    """An ISO 8601 date-time with its offset: without one, it would be read in the server's time zone, which the
    client does not know (a sync would miss or repeat the changes of the hours between the two)."""

    def to_python(self, value):
        if value in self.empty_values:
            return None
        try:
            moment = parse_datetime(value)
        except ValueError:
            moment = None
        if moment is None or moment.tzinfo is None:
            raise ValidationError(NOT_A_MOMENT, code="invalid", params={"plus": "%2B"})
        within_range(moment.date())
        return moment


class TrueFalseField(forms.Field):
    """`true` or `false`, as the schema's boolean is written in a query: Django's own reads anything else as "no
    filter", which a client would take for an answer to the filter it meant."""

    def to_python(self, value):
        if value in self.empty_values:
            return None
        if value not in ("true", "false"):
            raise ValidationError("« true » ou « false ».", code="invalid")
        return value == "true"


@extend_schema_field({"type": "boolean"})
class TrueFalseFilter(django_filters.BooleanFilter):
    field_class = TrueFalseField


@extend_schema_field({"type": "string", "minLength": 1})
class TextFilter(django_filters.CharFilter):
    """A text filter, never empty (see RequestFilter.is_valid): the schema says so, and a client built from it never
    sends one."""


# The years a day filter takes, FIRST_DAY to LAST_DAY of extranet/core/filters.py (whole years, 1900 to 2100), as a
# pattern: JSON Schema bounds no date otherwise.
YEARS = r"^(?:19[0-9]{2}|20[0-9]{2}|2100)-"


@extend_schema_field({"type": "string", "format": "date", "pattern": YEARS})
class DayFilter(DayBoundFilter):
    """A day bound of the list, the schema saying which years it takes."""


@extend_schema_field({"type": "string", "format": "date-time", "pattern": YEARS})
class MomentFilter(django_filters.IsoDateTimeFilter):
    """A moment of the list (`updated_after`), the schema saying which years it takes, as for the days."""

    field_class = MomentField


class RequestFilter(django_filters.FilterSet):
    status = django_filters.ChoiceFilter(choices=Status.choices, help_text="new, in_progress ou resolved.")
    kind = django_filters.ChoiceFilter(choices=Kind.choices, help_text="Type de demande.")
    motif = TextFilter(help_text="Motif exact, par exemple mas_referral.")
    number = TextFilter(help_text="Numéro à 10 chiffres.")
    caisse = TextFilter(field_name="caisse__code", help_text="Code de la caisse (3 chiffres).")
    created_after = DayFilter(
        field_name="created_at", bound="from", help_text="Déposées ce jour (AAAA-MM-JJ) ou après."
    )
    created_before = DayFilter(
        field_name="created_at", bound="before", help_text="Déposées avant ce jour (AAAA-MM-JJ), ce jour exclu."
    )
    followed = TrueFalseFilter(
        method="filter_followed", help_text="true : seulement les demandes que vous suivez (l'étoile des pages)."
    )
    updated_after = MomentFilter(
        field_name="updated_at",
        lookup_expr="gt",
        help_text="Modifiées strictement après ce moment (`updated_at`), en ISO 8601 avec son décalage : "
        "2026-03-01T10:00:00+01:00.",
    )

    class Meta:
        model = Request
        fields = []

    def filter_followed(self, queryset, name, value):
        return queryset.filter(follows__user=self.request.user) if value else queryset

    def is_valid(self):
        # An empty value would silently mean "no filter": the client surely meant something else. Empty is empty:
        # a value of spaces (or of the controls Python counts as spaces) is a value, matching nothing.
        valid = super().is_valid()
        for name in self.filters:
            if name in self.data and not self.data.get(name, ""):
                self.form.add_error(name, "Valeur vide : donnez une valeur ou retirez ce paramètre.")
                valid = False
        return valid
