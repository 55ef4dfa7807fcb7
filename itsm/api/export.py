"""CSV and JSON export of a whole API list: `GET <list>/export/?format=csv|json` with the list's own filters, search
and ordering (and so the list's visibility: an end user exports what their list shows).

The rows stream (StreamingHttpResponse over a server-side cursor read in chunks), each rendered by the list's own
serializer, so the query count does not grow with the rows (only with the chunks) and nothing holds the whole list.
Beyond ITSM_EXPORT_MAX_ROWS rows the export is refused with a 400 naming the limit (narrow the filters); CSV cells
that a spreadsheet would run as a formula are neutralised as in the workspace export.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator
from typing import Any

from django.conf import settings
from django.http import StreamingHttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.decorators import action
from rest_framework.renderers import JSONRenderer
from rest_framework.request import Request
from rest_framework.utils.encoders import JSONEncoder

from itsm.csvsafe import csv_safe

EXPORT_FORMATS = ("csv", "json")
CHUNK_SIZE = 500


class _Echo:
    def write(self, value: str) -> str:
        return value


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict | list):
        return json.dumps(value, cls=JSONEncoder, ensure_ascii=False, separators=(",", ":"))
    return str(value)


def export_rows(serializer: serializers.Serializer, rows: Any) -> Iterator[dict]:
    for row in rows:
        yield serializer.to_representation(row)


def csv_lines(columns: list[str], records: Iterator[dict]) -> Iterator[str]:
    writer = csv.writer(_Echo())
    yield writer.writerow([csv_safe(name) for name in columns])
    for record in records:
        yield writer.writerow([csv_safe(_cell(record.get(name))) for name in columns])


def json_chunks(records: Iterator[dict]) -> Iterator[str]:
    """A JSON array, one element at a time."""
    encoder = JSONEncoder(ensure_ascii=False)
    yield "["
    first = True
    for record in records:
        yield ("\n" if first else ",\n") + encoder.encode(record)
        first = False
    yield "]\n"


class ListExportMixin:
    """Adds `export/` beside a viewset's list (same queryset, filters, search and ordering)."""

    export_chunk_size = CHUNK_SIZE

    def perform_content_negotiation(self, request, force=False):
        # `?format=csv` is the export's own parameter, not DRF's renderer override; errors answer in JSON.
        if getattr(self, "action", None) == "export":
            renderer = JSONRenderer()
            return renderer, renderer.media_type
        return super().perform_content_negotiation(request, force)

    @extend_schema(
        summary="Export the whole filtered list (CSV or JSON, streamed)",
        parameters=[
            OpenApiParameter(
                "format", OpenApiTypes.STR, enum=list(EXPORT_FORMATS), default="csv", description="csv or json"
            )
        ],
        responses={
            (200, "text/csv"): OpenApiResponse(OpenApiTypes.STR, description="One row per record, a header first"),
            (200, "application/json"): OpenApiResponse(
                {"type": "array", "items": {"type": "object", "additionalProperties": {}}},
                description="An array of records, each as the list shows it",
            ),
            400: OpenApiResponse(OpenApiTypes.OBJECT, description="Bad format, or more rows than the limit"),
        },
    )
    @action(detail=False, methods=["get"], url_path="export", pagination_class=None)
    def export(self, request: Request) -> StreamingHttpResponse:
        fmt = request.query_params.get("format", "csv").lower()
        if fmt not in EXPORT_FORMATS:
            raise serializers.ValidationError({"format": [f"One of: {', '.join(EXPORT_FORMATS)}."]})
        queryset = self.filter_queryset(self.get_queryset())
        limit = settings.ITSM_EXPORT_MAX_ROWS
        if queryset[: limit + 1].count() > limit:
            raise serializers.ValidationError(
                {
                    "detail": [
                        f"More than {limit} rows match: the export is limited to ITSM_EXPORT_MAX_ROWS={limit} rows. "
                        "Narrow the filters."
                    ],
                    "max_rows": [str(limit)],
                }
            )
        serializer = self.get_serializer_class()(context=self.get_serializer_context())
        rows = export_rows(serializer, queryset.iterator(chunk_size=self.export_chunk_size))
        name = getattr(self, "basename", None) or "export"
        if fmt == "csv":
            columns = [name for name, field in serializer.fields.items() if not field.write_only]
            response = StreamingHttpResponse(csv_lines(columns, rows), content_type="text/csv; charset=utf-8")
        else:
            response = StreamingHttpResponse(json_chunks(rows), content_type="application/json")
        response["Content-Disposition"] = f'attachment; filename="{name}s.{fmt}"'
        response["X-Content-Type-Options"] = "nosniff"
        response["Cache-Control"] = "private, no-store"
        return response
