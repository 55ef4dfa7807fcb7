"""Versioned ticket updates in the API: detail responses carry `ETag: "<version>"`; a write that sends `If-Match`
with an older version gets 412 and changes nothing. Without If-Match, writes work as before."""

from __future__ import annotations

from django.db import transaction
from rest_framework import status
from rest_framework.exceptions import APIException

from itsm.models import Ticket

UNSAFE = ("POST", "PUT", "PATCH", "DELETE")


class PreconditionFailed(APIException):
    status_code = status.HTTP_412_PRECONDITION_FAILED
    default_code = "precondition_failed"
    default_detail = "The ticket has changed since you read it."


def ticket_etag(version: int) -> str:
    return f'"{version}"'


def _versions(header: str) -> set[str] | None:
    """The ETags an If-Match header names; None for '*' (any)."""
    tags = {tag.strip().removeprefix("W/") for tag in header.split(",") if tag.strip()}
    return None if "*" in tags else tags


class VersionedTicketMixin:
    """For ticket viewsets: ETag on detail responses, If-Match honoured (under a row lock) on detail writes."""

    def dispatch(self, request, *args, **kwargs):
        if request.method in UNSAFE and request.META.get("HTTP_IF_MATCH"):
            # One transaction, so the version checked under the row lock is the one the write changes.
            with transaction.atomic():
                response = super().dispatch(request, *args, **kwargs)
                if response.status_code >= 400:
                    transaction.set_rollback(True)
                return response
        return super().dispatch(request, *args, **kwargs)

    def get_object(self):
        obj = super().get_object()
        header = self.request.META.get("HTTP_IF_MATCH")
        if self.request.method in UNSAFE and header:
            version = Ticket.objects.select_for_update().values_list("version", flat=True).get(pk=obj.pk)
            wanted = _versions(header)
            if wanted is not None and ticket_etag(version) not in wanted:
                raise PreconditionFailed(
                    {
                        "detail": f"{obj.number} has changed since you read it (it is now version {version}): "
                        "read it again and re-apply your change.",
                        "current_etag": ticket_etag(version),
                    }
                )
            obj.version = version
        self._versioned_pk, self._read_version = obj.pk, obj.version
        return obj

    def finalize_response(self, request, response, *args, **kwargs):
        response = super().finalize_response(request, response, *args, **kwargs)
        pk = getattr(self, "_versioned_pk", None)
        if pk is not None and 200 <= response.status_code < 300 and self.kwargs.get(self.lookup_field):
            if request.method in UNSAFE:
                # The write may have moved the version on: read the one it left.
                version = Ticket.objects.filter(pk=pk).values_list("version", flat=True).first()
            else:
                version = self._read_version
            if version is not None:
                response["ETag"] = ticket_etag(version)
        return response
