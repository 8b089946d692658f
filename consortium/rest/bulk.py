"""Building blocks of the bulk exchange endpoints (imports of a CSV file or JSON rows, a dry run by default).

An import takes its rows as JSON, as a ``text/csv`` body, or as the multipart field ``file`` (``curl -F
file=@applicants.csv``); ``?dry_run=false`` saves, anything else only checks. See docs/integration.md, "Bulk
exchange".
"""

from __future__ import annotations

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter
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
