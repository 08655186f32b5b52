import threading
from collections import Counter
from datetime import date

import django_filters
from django import forms
from django.contrib.auth import get_user_model
from django.db import models
from django.http import QueryDict
from django.utils import timezone
from django.utils.choices import BaseChoiceIterator

from extranet.core import widgets
from extranet.core.filters import DayBoundFilter
from extranet.core.forms import OnePassSelect, StyledFormMixin
from requests import news
from requests.catalog import KINDS
from requests.deadlines import overdue_q
from requests.models import Kind, Status
from requests.waiting import unanswered_q
from structures import conventions

# The browser's date picker (the value is sent as AAAA-MM-JJ).
DAY = widgets.DateInput(attrs={"type": "date"})


class FilterForm(StyledFormMixin, forms.Form):
    def field_groups(self):
        """Each field as `as_field_group` renders it (label, input, messages), remembered by the process.

        The history and the queue are read all day with a handful of filter combinations, and rendering their nine
        or so field groups was a tenth of those pages' time (bench/profile_pages.py). A field group is a function of
        what `_signature` gathers (the submitted values, the errors, every field's label, help, attributes and
        choices as they stand now), so a remembered one is the one the templates would render. The choices are read
        once here (the authors' query, as rendering did; a model field is given its list, so as not to ask again).
        """
        signature = self._signature()
        groups = _FIELD_GROUPS.get(signature)
        if groups is None:
            groups = [field.as_field_group() for field in self]
            with _FIELD_GROUPS_LOCK:
                if len(_FIELD_GROUPS) >= _FIELD_GROUPS_SIZE:
                    del _FIELD_GROUPS[next(iter(_FIELD_GROUPS))]
                _FIELD_GROUPS[signature] = groups
        return groups

    def _signature(self):
        errors = (
            tuple((name, tuple(map(str, messages))) for name, messages in self.errors.items()) if self.is_bound else ()
        )
        parts = [type(self).__qualname__, self.prefix, self.auto_id, self.is_bound, errors]
        for name, field in self.fields.items():
            # iter(): list() of a model field's choices would ask their len() first, a COUNT query.
            choices = list(iter(field.choices)) if hasattr(field, "choices") else None
            if isinstance(field, forms.ModelChoiceField):
                # Its list comes from a query: given to the field, which renders from it (no second query).
                field.choices = choices
            parts.append(
                (
                    name,
                    str(field.label),
                    str(field.help_text),
                    field.required,
                    tuple(sorted((key, str(value)) for key, value in field.widget.attrs.items())),
                    repr(self[name].value()),
                    _plain_choices(choices) if choices is not None else None,
                )
            )
        return tuple(parts)


# The remembered field groups (FilterForm.field_groups): a few hundred combinations, the oldest forgotten first.
_FIELD_GROUPS = {}
_FIELD_GROUPS_SIZE = 256
_FIELD_GROUPS_LOCK = threading.Lock()


def _plain_choices(choices):
    # Model choices' values are ModelChoiceIteratorValue (no stable repr): their str is the value rendered.
    return tuple(
        (str(value), _plain_choices(label) if isinstance(label, (list, tuple)) else str(label))
        for value, label in choices
    )


class ActiveCountMixin:
    """How many filters are in force: the filter panel's summary says it, and the panel opens when there are any.
    A value the form refused counts too: the panel must open on its error."""

    # A filter's value when none is asked for (the queue's open requests): in force, but not the user's choice.
    defaults = {}

    def active_count(self):
        if not self.is_bound:
            return 0
        self.form.is_valid()
        cleaned = getattr(self.form, "cleaned_data", {})
        return sum(
            1
            for name in self.filters
            if name in self.form.errors or cleaned.get(name) not in (None, "", False, self.defaults.get(name))
        )


class AuthorChoiceIterator(forms.models.ModelChoiceIterator):
    """The structure's members by name; two of the same name (it happens: "Lina NGUYEN" twice) told apart by their
    address, which is their login, and a deactivated account said so. One pass over the queryset, as before."""

    def __iter__(self):
        if self.field.empty_label is not None:
            yield ("", self.field.empty_label)
        members = list(self.queryset)
        names = Counter(member.get_full_name() for member in members)
        for member in members:
            label = member.get_full_name() or member.email
            if names[member.get_full_name()] > 1:
                label = f"{label} ({member.email})"
            if not member.is_active:
                label = f"{label}, compte désactivé"
            yield (forms.models.ModelChoiceIteratorValue(self.field.prepare_value(member), member), label)


class AuthorChoiceField(forms.ModelChoiceField):
    iterator = AuthorChoiceIterator


class AuthorFilter(django_filters.ModelChoiceFilter):
    field_class = AuthorChoiceField


class NewsFilterMixin:
    """« Du nouveau » for the reader (requests/news.py): the same rule in the structure's history and the caisse's
    queue, each side reading its own moment."""

    def filter_news(self, queryset, name, value):
        return queryset.filter(news.unseen_q(self.user)) if value else queryset


class HistoryFilter(ActiveCountMixin, NewsFilterMixin, django_filters.FilterSet):
    """Filters of the "Historique des demandes" (the queryset is already the structure's, for one caisse). None names
    the person concerned: the filters are in the page's address, which servers and proxies log. A person is found by
    the person search (requests/search.py), whose criteria are posted."""

    number = django_filters.CharFilter(
        field_name="number", lookup_expr="startswith", label="Numéro", widget=widgets.TextInput
    )
    status = django_filters.ChoiceFilter(
        choices=Status.choices, label="Statut", empty_label="Tous les statuts", widget=OnePassSelect
    )
    kind = django_filters.ChoiceFilter(
        choices=Kind.choices, label="Type de demande", empty_label="Tous les types", widget=OnePassSelect
    )
    deposited_from = DayBoundFilter(field_name="created_at", bound="from", label="Déposée à partir du", widget=DAY)
    deposited_to = DayBoundFilter(field_name="created_at", bound="through", label="Déposée jusqu'au", widget=DAY)
    author = AuthorFilter(
        queryset=get_user_model().objects.none(),
        label="Demandeur",
        empty_label="Tous les demandeurs",
        widget=OnePassSelect,
    )
    followed = django_filters.BooleanFilter(
        method="filter_followed", label="Seulement les demandes que je suis", widget=widgets.CheckboxInput
    )
    news = django_filters.BooleanFilter(
        method="filter_news",
        label="Seulement les demandes avec du nouveau de la caisse",
        widget=widgets.CheckboxInput,
    )
    awaiting = django_filters.BooleanFilter(
        method="filter_awaiting",
        label="Seulement les demandes en attente de votre réponse",
        widget=widgets.CheckboxInput,
    )

    class Meta:
        form = FilterForm
        fields = []

    def __init__(self, *args, structure, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user
        self.filters["author"].queryset = (
            get_user_model()
            .objects.filter(membership__structure=structure)
            .order_by("last_name", "first_name", "email")
            # What the choices show (AuthorChoiceIterator), not the whole account.
            .only("first_name", "last_name", "email", "is_active")
        )

    def filter_followed(self, queryset, name, value):
        return queryset.filter(follows__user=self.user) if value else queryset

    def filter_awaiting(self, queryset, name, value):
        return queryset.open().filter(awaiting_partner_since__isnull=False) if value else queryset


QUEUE_STATUSES = [
    ("open", "À traiter (Nouveau et Pris en charge)"),
    *Status.choices,
    ("all", "Tous les statuts"),
]
ASSIGNMENTS = [("me", "Prises en charge par moi"), ("none", "Non attribuées")]


def queue_motif_choices():
    """Every motif, grouped by kind. Values are "kind:motif": a slug ("other", "c2s") may exist for several kinds."""
    return [
        (spec.title, [(f"{spec.value}:{value}", label) for value, label in spec.motif_choices()])
        for spec in KINDS.values()
    ]


class StructureChoices(BaseChoiceIterator):
    """A caisse's structures as (id, name) pairs, as the process remembers them (structures/conventions.py), and
    iterated as they are: Django would normalise hundreds of pairs each time."""

    def __init__(self, caisse):
        self.caisse = caisse

    def __iter__(self):
        return iter(conventions.caisse_structures(self.caisse))

    def __len__(self):
        return len(conventions.caisse_structures(self.caisse))


class QueueFilter(ActiveCountMixin, NewsFilterMixin, django_filters.FilterSet):
    """Filters of the caisse's queue (the queryset is already the caisse's). Without a status, the open requests.

    Period filters compare `created_at` with midnight in Europe/Paris rather than casting it to a date, so that
    the indexes on (caisse, created_at) serve them.
    """

    status = django_filters.ChoiceFilter(
        choices=QUEUE_STATUSES, method="filter_status", label="Statut", empty_label=None, widget=OnePassSelect
    )
    kind = django_filters.ChoiceFilter(
        choices=Kind.choices, label="Type de demande", empty_label="Tous les types", widget=OnePassSelect
    )
    motif = django_filters.ChoiceFilter(
        choices=queue_motif_choices,
        method="filter_motif",
        label="Motif",
        empty_label="Tous les motifs",
        widget=OnePassSelect,
    )
    # Choices are (id, name) pairs, not model instances: a caisse has hundreds of structures (StructureChoices).
    structure = django_filters.ChoiceFilter(
        choices=[], label="Structure", empty_label="Toutes les structures", widget=OnePassSelect
    )
    assignment = django_filters.ChoiceFilter(
        choices=ASSIGNMENTS,
        method="filter_assignment",
        label="Attribution",
        empty_label="Toutes",
        widget=OnePassSelect,
    )
    deposited_from = DayBoundFilter(field_name="created_at", bound="from", label="Déposée à partir du", widget=DAY)
    deposited_to = DayBoundFilter(field_name="created_at", bound="through", label="Déposée jusqu'au", widget=DAY)
    number = django_filters.CharFilter(
        field_name="number", lookup_expr="startswith", label="Numéro", widget=widgets.TextInput
    )
    overdue = django_filters.BooleanFilter(
        method="filter_overdue", label="Seulement les demandes en retard", widget=widgets.CheckboxInput
    )
    unanswered = django_filters.BooleanFilter(
        method="filter_unanswered",
        label="Seulement les demandes sans réponse de la structure",
        widget=widgets.CheckboxInput,
    )
    news = django_filters.BooleanFilter(
        method="filter_news",
        label="Seulement les réponses reçues de la structure (depuis ma dernière visite)",
        widget=widgets.CheckboxInput,
    )

    class Meta:
        form = FilterForm
        fields = []

    defaults = {"status": "open"}
    # Above the queue, one click each for what an agent looks at first: (label, filter, value), the filter as the
    # panel sets it, so that the panel shows it chosen and the two never disagree.
    QUICK = (("À moi", "assignment", "me"), ("Nouvelles", "status", "new"), ("En retard", "overdue", "on"))

    def __init__(self, data=None, *args, caisse, calendar, user, today=None, **kwargs):
        data = data.copy() if data is not None else QueryDict(mutable=True)
        if not data.get("status"):
            data["status"] = "open"
        super().__init__(data, *args, **kwargs)
        self.user = user
        self.today = today or timezone.localdate()
        self.calendar = calendar  # the caisse's: its deadlines count its working days
        self.filters["structure"].extra["choices"] = StructureChoices(caisse)

    def filter_queryset(self, queryset):
        queryset = super().filter_queryset(queryset)
        if "status" not in self.form.cleaned_data:
            # An unknown status is reported next to the field; meanwhile the list stays the default one.
            queryset = self.filter_status(queryset, "status", "open")
        return queryset

    def filter_status(self, queryset, name, value):
        if value == "open":
            return queryset.open()
        return queryset if value == "all" else queryset.filter(status=value)

    def filter_motif(self, queryset, name, value):
        kind, _, motif = value.partition(":")
        return queryset.filter(kind=kind, motif=motif)

    def filter_assignment(self, queryset, name, value):
        if value == "me":
            return queryset.filter(assigned_to=self.user)
        return queryset.filter(assigned_to__isnull=True)

    def filter_overdue(self, queryset, name, value):
        return queryset.filter(overdue_q(self.today, calendar=self.calendar)) if value else queryset

    def filter_unanswered(self, queryset, name, value):
        return queryset.filter(unanswered_q(self.today, calendar=self.calendar)) if value else queryset

    def quick_filters(self, params):
        """(label, query string, active) of each quick filter: its link turns it on, or off when it is on, keeps the
        other filters of `params` (the list's own parameters) and goes back to the first page."""
        self.form.is_valid()
        cleaned = getattr(self.form, "cleaned_data", {})
        links = []
        for label, name, value in self.QUICK:
            field = self.form.fields[name]
            # The value as the form reads it from an address (a checkbox's "on" is True).
            wanted = field.clean(field.widget.value_from_datadict({name: value}, {}, name))
            active = name not in self.form.errors and cleaned.get(name) == wanted
            query = params.copy()
            query.pop("page", None)
            if active:
                query.pop(name, None)
            else:
                query[name] = value
            links.append((label, query.urlencode(), active))
        return links

    def applied(self):
        """The filters in force, as JSON values (for the export log)."""
        applied = {}
        for name, value in self.form.cleaned_data.items():
            if value in (None, "", False):
                continue
            if isinstance(value, models.Model):
                value = value.pk
            elif isinstance(value, date):
                value = value.isoformat()
            applied[name] = value
        return applied
