from datetime import UTC

from django.utils.dateparse import parse_datetime
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.pagination import CursorPagination

INVALID_CURSOR = "Curseur non valide : reprenez le lien « next » d'une réponse."


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
            raise ValidationError({self.cursor_query_param: [INVALID_CURSOR]}) from None
        # DRF decodes the cursor's position without reading it: a position that is not a date-time (anyone can
        # encode "p=2026") would reach the query, and the database's refusal would be a server error.
        if cursor is not None and cursor.position is not None and not _is_moment(cursor.position):
            raise ValidationError({self.cursor_query_param: [INVALID_CURSOR]})
        return cursor

    def get_schema_operation_parameters(self, view):
        parameters = super().get_schema_operation_parameters(view)
        for parameter in parameters:
            if parameter["name"] == self.page_size_query_param:
                parameter["schema"] = {"type": "integer", "minimum": 1, "maximum": self.max_page_size}
        return parameters


def _is_moment(text):
    """A date-time as the cursors write `created_at`: with its offset, and within what the database holds."""
    try:
        moment = parse_datetime(text)
        return moment is not None and moment.tzinfo is not None and moment.astimezone(UTC) is not None
    except (ValueError, OverflowError):
        return False
