"""Cursor pagination: constant cost at any depth, so page 1,000 is as fast as page 1."""

from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.pagination import CursorPagination


class StrictCursorPagination(CursorPagination):
    """Bad paging input is a 400 naming the parameter (DRF answers 404 to a bad cursor and ignores a bad size)."""

    page_size_query_param = "page_size"

    def decode_cursor(self, request):
        try:
            return super().decode_cursor(request)
        except NotFound as exc:
            raise ValidationError({self.cursor_query_param: [str(exc.detail)]}) from exc

    def get_page_size(self, request):
        raw = request.query_params.get(self.page_size_query_param)
        if raw is not None:
            try:
                value = int(raw)
            except ValueError:
                value = 0
            if value < 1:
                raise ValidationError({self.page_size_query_param: ["A whole number of at least 1."]})
        return super().get_page_size(request)


class TicketCursorPagination(StrictCursorPagination):
    """Newest first by default; `?ordering=` from the OrderingFilter is honoured; `?page_size=` up to 100."""

    ordering = "-opened_at"
    max_page_size = 100


class IdCursorPagination(StrictCursorPagination):
    """For append-only lists such as the journal: oldest first."""

    ordering = "id"
    max_page_size = 200
