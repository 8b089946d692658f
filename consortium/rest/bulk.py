"""Building blocks of the bulk exchange endpoints (imports of a CSV file or JSON rows, a dry run by default).

An import takes its rows as JSON, as a ``text/csv`` body, or as the multipart field ``file`` (``curl -F
file=@applicants.csv``); ``?dry_run=false`` saves, anything else only checks. See docs/integration.md, "Bulk
exchange".
"""

from __future__ import annotations

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.exceptions import ParseError
from rest_framework.parsers import BaseParser

from consortium import csv_import


class CSVParser(BaseParser):
    """A ``text/csv`` body, handed to the view as bytes (``consortium.csv_import`` reads it)."""

    media_type = "text/csv"

    def parse(self, stream, media_type=None, parser_context=None) -> bytes:
        data = stream.read(csv_import.MAX_BYTES + 1)
        if len(data) > csv_import.MAX_BYTES:
            raise ParseError(f"The file is larger than {csv_import.MAX_BYTES // 2**20} MB; split it.")
        return data


DRY_RUN = OpenApiParameter(
    "dry_run",
    OpenApiTypes.BOOL,
    OpenApiParameter.QUERY,
    default=True,
    description="`true` (the default): check every row and answer its outcome, saving nothing. `false`: save every "
    "row, all or nothing (nothing when a row is refused: 422 with the same report).",
)


COMMIT_REFUSED = ("A commit (`dry_run=false`) refused: some rows are errors, so nothing was saved; the report says "
                  "which.")


def import_schema(*, operation_id: str, rows: type[serializers.Serializer], report: type[serializers.Serializer],
                  file_help: str, parameters: tuple = (), ok: str, bad_request: str, forbidden: str,
                  not_found: str, description: str):
    """The OpenAPI description of a bulk import endpoint: JSON rows, a CSV body or a multipart ``file``; ``dry_run``
    after the endpoint's own ``parameters``; the report answered with 200, or with 422 when a commit is refused."""
    from .schema import CONFLICT, ERROR

    return extend_schema(
        operation_id=operation_id,
        request={
            "application/json": rows,
            "text/csv": OpenApiTypes.STR,
            "multipart/form-data": inline_serializer(f"{rows.__name__.removesuffix('Serializer')}Upload",
                                                     {"file": serializers.FileField(help_text=file_help)}),
        },
        parameters=[*parameters, DRY_RUN],
        responses={
            200: OpenApiResponse(report, description=ok),
            400: OpenApiResponse(OpenApiTypes.OBJECT, description=bad_request),
            403: OpenApiResponse(ERROR, description=forbidden),
            404: OpenApiResponse(ERROR, description=not_found),
            409: CONFLICT,
            422: OpenApiResponse(report, description=COMMIT_REFUSED),
        },
        description=description,
    )


class _DryRunSerializer(serializers.Serializer):
    dry_run = serializers.BooleanField(default=True)


def dry_run(request) -> bool:
    """``?dry_run=`` (true unless false is said); a value that is neither is a 400."""
    query = _DryRunSerializer(data={"dry_run": request.query_params["dry_run"]} if "dry_run" in request.query_params
                              else {})
    query.is_valid(raise_exception=True)
    return query.validated_data["dry_run"]


def uploaded_csv(request) -> bytes | None:
    """The CSV of a ``text/csv`` body or of the multipart field ``file``; None when the body is JSON."""
    if isinstance(request.data, bytes):
        return request.data
    if request.content_type.startswith(CSVParser.media_type):
        return b""  # an empty body: "The file is empty."
    upload = request.FILES.get("file") if hasattr(request, "FILES") else None
    if upload is None:
        if request.content_type.startswith("multipart/"):
            raise serializers.ValidationError({"file": ["Send the CSV file in the multipart field \"file\"."]})
        return None
    if upload.size > csv_import.MAX_BYTES:
        raise serializers.ValidationError({"file": [f"The file is larger than {csv_import.MAX_BYTES // 2**20} MB; "
                                                    "split it."]})
    return upload.read()


def csv_messages(exc) -> dict[str, list[str]]:
    """A ``django.core.exceptions.ValidationError`` about the file as the API's field messages."""
    return {"file": list(exc.messages)}
