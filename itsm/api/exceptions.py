"""One exception handler: illegal or lost transitions are 409, model validation is 400 naming the field."""

from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import ProtectedError
from django_fsm import ConcurrentTransition, TransitionNotAllowed
from rest_framework import status
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from itsm.errors import StateConflict


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    if isinstance(exc, ConcurrentTransition):
        return Response(
            {
                "detail": "Someone else changed the state of this record first; reload and try again.",
                "code": "concurrent_transition",
            },
            status=status.HTTP_409_CONFLICT,
        )
    if isinstance(exc, TransitionNotAllowed):
        # A practice's refusal may carry its own code and details (a change's conflicts, for one).
        body = {"detail": str(exc), "code": getattr(exc, "code", "transition_not_allowed")}
        body.update(getattr(exc, "extra", {}))
        return Response(body, status=status.HTTP_409_CONFLICT)
    if isinstance(exc, StateConflict):
        return Response({exc.field: str(exc), "code": "conflict"}, status=status.HTTP_409_CONFLICT)
    if isinstance(exc, ProtectedError):
        return Response(
            {"detail": "This record is still referenced and cannot be deleted.", "code": "protected"},
            status=status.HTTP_409_CONFLICT,
        )
    if isinstance(exc, DjangoValidationError):
        detail = exc.message_dict if hasattr(exc, "error_dict") else {"non_field_errors": exc.messages}
        exc = ValidationError(detail=detail)
    return drf_exception_handler(exc, context)
