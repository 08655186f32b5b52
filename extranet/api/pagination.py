from datetime import UTC

from django.conf import settings
from django.db.models import Q
from django.utils.dateparse import parse_datetime
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.pagination import Cursor, CursorPagination
from rest_framework.utils.urls import remove_query_param

from extranet.api.errors import Refusal

INVALID_CURSOR = "Curseur non valide : reprenez le lien « next » d'une réponse."


def invalid_cursor(parameter):
    """A cursor is opaque: only one the API wrote (a `next` or `previous` link) is read; a client that made one up
    is told so by its own code, apart from the filters' `invalid`."""
    return Refusal("invalid_cursor", INVALID_CURSOR, fields={parameter: [INVALID_CURSOR]})


class NewestFirst(CursorPagination):
    """Newest first, by cursor: no COUNT(*), and a page stays right while requests keep arriving. An invalid page
    size or cursor is an error to fix (400), not something silently replaced."""

    ordering = ("-created_at", "-pk")
    page_size = 20
    page_size_query_param = "page_size"
    max_page_size = 100

    def get_page_size(self, request):
        raw = request.query_params.get(self.page_size_query_param)
        if raw is None:
            return self.page_size
        if not raw.isdigit() or not 1 <= int(raw) <= self.max_page_size:
            raise ValidationError({self.page_size_query_param: [f"Un nombre entier de 1 à {self.max_page_size}."]})
        return int(raw)

    def decode_cursor(self, request):
        try:
            cursor = super().decode_cursor(request)
        except NotFound:
            raise invalid_cursor(self.cursor_query_param) from None
        # DRF decodes the cursor's position without reading it: a position that is not what this ordering writes
        # (anyone can encode "p=2026") would reach the query, and the database's refusal would be a server error.
        if cursor is not None and cursor.position is not None:
            position = self.read_position(cursor.position)
            if position is None:
                raise invalid_cursor(self.cursor_query_param)
            cursor = cursor._replace(position=position)
        return cursor

    def read_position(self, text):
        """The cursor's position as the query compares it, or None if it is not one this ordering writes."""
        return text if _is_moment(text) else None

    def get_paginated_response_schema(self, schema):
        # DRF's own examples name a placeholder host: these name this service's (settings.SITE_URL, the schema's
        # server), as the links a client receives do.
        paginated = super().get_paginated_response_schema(schema)
        for name, description, cursor in (
            ("next", "La page suivante, ou null.", "cD0yMDI2LTExLTIwKzA4JTNBMTIlM0EwMCUyQjAwJTNBMDA="),
            ("previous", "La page précédente, ou null.", "cj0xJnA9MjAyNi0xMS0yMSswOSUzQTAwJTNBMDAlMkIwMCUzQTAw"),
        ):
            paginated["properties"][name].update(
                description=description, example=f"{settings.SITE_URL}/api/v1/requests/?cursor={cursor}"
            )
        return paginated

    def get_schema_operation_parameters(self, view):
        parameters = super().get_schema_operation_parameters(view)
        for parameter in parameters:
            if parameter["name"] == self.page_size_query_param:
                parameter["schema"] = {"type": "integer", "minimum": 1, "maximum": self.max_page_size}
            if parameter["name"] == self.cursor_query_param:
                parameter["description"] = "Le curseur d'un lien `next` ou `previous` (à reprendre tel quel)."
        return parameters


class ByLastChange(NewestFirst):
    """For incremental sync: by last change (`Request.updated_at`), oldest first, `id` breaking ties, the cursor on
    both (a keyset). A request that changes while a client pages moves past the cursor, to a later page: it is read
    again, never skipped. DRF's cursor keeps a position on the first column and an offset among the rows equal on it:
    a row leaving that run (it changed) would shift the offset, and the next page would skip a row."""

    ordering = ("updated_at", "pk")

    def paginate_queryset(self, queryset, request, view=None):
        self.request = request
        self.page_size = self.get_page_size(request)
        self.base_url = request.build_absolute_uri()
        self.cursor = self.decode_cursor(request)
        backwards = self.cursor is not None and self.cursor.reverse
        position = self.cursor.position if self.cursor is not None else None
        if position is not None:
            moment, pk = position
            # The bound on updated_at alone lets the index (scope, updated_at, id) start at the cursor; the rest only
            # sorts out the rows changed at the cursor's very moment.
            if backwards:
                queryset = queryset.filter(Q(updated_at__lte=moment), Q(updated_at__lt=moment) | Q(pk__lt=pk))
            else:
                queryset = queryset.filter(Q(updated_at__gte=moment), Q(updated_at__gt=moment) | Q(pk__gt=pk))
        ordering = ("-updated_at", "-pk") if backwards else self.ordering
        rows = list(queryset.order_by(*ordering)[: self.page_size + 1])
        self.page, more = rows[: self.page_size], len(rows) > self.page_size
        if backwards:
            self.page.reverse()
            self.has_next, self.has_previous = True, more
        else:
            self.has_next, self.has_previous = more, position is not None
        return self.page

    def get_next_link(self):
        if not self.has_next:
            return None
        if not self.page:  # nothing before the cursor a previous link gave: the list from its start
            return remove_query_param(self.base_url, self.cursor_query_param)
        return self._link(self.page[-1], backwards=False)

    def get_previous_link(self):
        if not self.has_previous or not self.page:
            return None
        return self._link(self.page[0], backwards=True)

    def _link(self, demande, *, backwards):
        position = f"{demande.updated_at.isoformat()}|{demande.pk}"
        return self.encode_cursor(Cursor(offset=0, reverse=backwards, position=position))

    def read_position(self, text):
        moment, _, pk = text.partition("|")
        return (parse_datetime(moment), int(pk)) if _is_moment(moment) and pk.isdigit() else None


def _is_moment(text):
    """A date-time as the cursors write it: with its offset, and within what the database holds."""
    try:
        moment = parse_datetime(text)
        return moment is not None and moment.tzinfo is not None and moment.astimezone(UTC) is not None
    except (ValueError, OverflowError):
        return False
