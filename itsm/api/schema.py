"""OpenAPI post-processing: every operation documents the error answers the API actually gives."""

ERROR = {
    "type": "object",
    "properties": {"detail": {"type": "string"}, "code": {"type": "string"}},
    "required": ["detail"],
}
FIELD_ERRORS = {
    "type": "object",
    "description": "Field name to a list of messages; `non_field_errors` for the record as a whole.",
    "additionalProperties": {"type": "array", "items": {"type": "string"}},
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
            if "{" in path:
                responses.setdefault("404", _response("No such record, or not one you may see.", error))
            if method in ("post", "put", "patch"):
                responses.setdefault("400", _response("Invalid input; names the fields.", fields))
            if method == "post" and path.rstrip("/").rsplit("/", 1)[-1] in TRANSITIONS:
                responses.setdefault(
                    "409", _response("Not allowed from the current state, or lost to a concurrent change.", error)
                )
    return result
