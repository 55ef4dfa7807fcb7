"""OpenAPI generation: read-only fields say when they can be null or blank, and every operation documents the error
answers the API actually gives (the schemathesis suite in tests/security holds the API to this schema)."""

from __future__ import annotations

from django.core.exceptions import FieldDoesNotExist
from django.db import models
from drf_spectacular import openapi
from rest_framework import serializers

ERROR = {
    "type": "object",
    "properties": {"detail": {"type": "string"}, "code": {"type": "string"}},
    "required": ["detail"],
}
FIELD_ERRORS = {
    "type": "object",
    "description": "Field name to a list of messages; `non_field_errors` for the record as a whole.",
    # Usually a list of messages; a nested serializer answers with its own object (or a list of them, one per item).
    "additionalProperties": {
        "anyOf": [
            {"type": "array", "items": {}},
            {"type": "string"},
            {"type": "object"},
        ]
    },
}
TRANSITIONS = (
    "start",
    "hold",
    "resume",
    "resolve",
    "reopen",
    "close",
    "cancel",
    "approve",
    "reject",
    "assess",
    "analyze",
    "fix",
    "request_approval",
    "schedule",
    "implement",
    "review",
    "revert_to_new",
)


def _model_field(field: serializers.Field) -> tuple[models.Field | None, bool]:
    """The model field a serializer field reads, and whether any relation on its way there may be null."""
    model = getattr(getattr(field.parent, "Meta", None), "model", None)
    attrs = getattr(field, "source_attrs", None)
    if model is None or not attrs or field.source == "*":
        return None, False
    nullable_on_the_way = False
    model_field = None
    for attr in attrs:
        if model is None:
            return None, False
        try:
            model_field = model._meta.get_field(attr)
        except FieldDoesNotExist:
            return None, False
        if model_field.is_relation and attr != attrs[-1]:
            nullable_on_the_way = nullable_on_the_way or model_field.null
            model = model_field.related_model
    return model_field, nullable_on_the_way


class AutoSchema(openapi.AutoSchema):
    """drf-spectacular's AutoSchema, plus what DRF drops from read-only fields: null and blank values.

    DRF builds read-only model fields without `allow_null`/`allow_blank`, so the schema would promise a string or an
    enum member where the API answers `null` (an unset foreign key) or `""` (an unset choice).
    """

    def _get_serializer_field_meta(self, field, direction):
        meta = super()._get_serializer_field_meta(field, direction)
        if isinstance(field, serializers.Field) and field.read_only and direction == "response":
            model_field, nullable_on_the_way = _model_field(field)
            if model_field is not None and (model_field.null or nullable_on_the_way):
                meta["nullable"] = True
        return meta

    def _map_serializer_field(self, field, direction, bypass_extensions=False):
        if isinstance(field, serializers.ChoiceField) and field.read_only and not field.allow_blank:
            model_field, _ = _model_field(field)
            if model_field is not None and model_field.blank and isinstance(model_field, models.CharField):
                field.allow_blank = True  # read-only: never validated, only what the schema says changes
        return super()._map_serializer_field(field, direction, bypass_extensions)


def _response(description: str, schema_ref: str) -> dict:
    return {"description": description, "content": {"application/json": {"schema": {"$ref": schema_ref}}}}


def add_error_responses(result, generator, request, public):
    """drf-spectacular postprocessing hook."""
    schemas = result.setdefault("components", {}).setdefault("schemas", {})
    schemas["Error"] = ERROR
    schemas["FieldErrors"] = FIELD_ERRORS
    error, fields = "#/components/schemas/Error", "#/components/schemas/FieldErrors"
    for path, operations in result.get("paths", {}).items():
        for method, operation in operations.items():
            responses = operation.setdefault("responses", {})
            if not path.endswith("/auth/token/"):
                responses.setdefault("401", _response("Not authenticated.", error))
                responses.setdefault("403", _response("Authenticated, but not allowed.", error))
            if "{" in path or not path.endswith("/auth/token/"):
                # Records one may not see are 404, and so are whole agents-only endpoints to end users.
                responses.setdefault("404", _response("No such record, or not one you may see.", error))
            responses.setdefault("429", _response("Too many requests; retry after the Retry-After seconds.", error))
            takes_query = any(p.get("in") == "query" for p in operation.get("parameters", []))
            if method in ("post", "put", "patch") or takes_query:
                responses.setdefault("400", _response("Invalid input; names the fields.", fields))
            if takes_query:  # gunicorn refuses a request line over 4094 bytes before the app sees it
                responses.setdefault(
                    "414", {"description": "URI too long (answered by the web server).", "content": {"text/html": {}}}
                )
            if method == "delete":
                responses.setdefault("409", _response("Still referenced by other records; not deleted.", error))
            if method == "post" and path.rstrip("/").rsplit("/", 1)[-1] in TRANSITIONS:
                responses.setdefault(
                    "409", _response("Not allowed from the current state, or lost to a concurrent change.", error)
                )
    return result
