"""Cursor pagination: constant cost at any depth, so page 1,000 is as fast as page 1."""

from rest_framework.pagination import CursorPagination


class TicketCursorPagination(CursorPagination):
    """Newest first by default; `?ordering=` from the OrderingFilter is honoured; `?page_size=` up to 100."""

    ordering = "-opened_at"
    page_size_query_param = "page_size"
    max_page_size = 100


class IdCursorPagination(CursorPagination):
    """For append-only lists such as the journal: oldest first."""

    ordering = "id"
    page_size_query_param = "page_size"
    max_page_size = 200
