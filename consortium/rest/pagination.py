"""Pages of the API's lists: page numbers for ordinary requests, a sync cursor for partners that sync incrementally.

``?updated_since=<ISO 8601>`` (or a ``cursor`` from a previous page) switches a list to the change feed: only the
records changed at or after that moment (``updated_at >= updated_since``), ordered by ``(updated_at, id)`` and paged by
a keyset cursor, so a record that changes while a partner pages through moves to the end instead of shifting the
pages, and ties on ``updated_at`` (many grades approved at once) never make it skip or repeat a record. The sync pages
answer ``next`` and ``results`` (no ``count``: it would be meaningless while the set changes); ``next`` is null on the
last page. docs/integration.md ("Change feed") says how to resume.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import json

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from rest_framework.exceptions import ValidationError
from rest_framework.pagination import PageNumberPagination
from rest_framework.response import Response
from rest_framework.utils.urls import remove_query_param, replace_query_param

from .filters import UtcIsoDateTimeField

INVALID_CURSOR = _("Invalid cursor: pass the `next` link of the previous page as it is.")


class Pagination(PageNumberPagination):
    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 200
    since_query_param = "updated_since"
    cursor_query_param = "cursor"

    def paginate_queryset(self, queryset, request, view=None):
        params = request.query_params
        self.sync = self.since_query_param in params or self.cursor_query_param in params
        if not self.sync:
            return super().paginate_queryset(queryset, request, view)
        self.request = request
        since = self._since(params.get(self.since_query_param))
        if since is not None:
            queryset = queryset.filter(updated_at__gte=since)
        position = self._position(params.get(self.cursor_query_param), queryset.model)
        if position is not None:
            at, pk = position
            queryset = queryset.filter(Q(updated_at__gt=at) | Q(updated_at=at, pk__gt=pk))
        size = self.get_page_size(request)
        rows = list(queryset.order_by("updated_at", "pk")[: size + 1])
        self.has_more = len(rows) > size
        rows = rows[:size]
        self.last = rows[-1] if rows else None
        return rows

    def _since(self, value: str | None) -> dt.datetime | None:
        if value is None:
            return None
        try:
            return UtcIsoDateTimeField().clean(value)
        except DjangoValidationError as exc:
            raise ValidationError({self.since_query_param: exc.messages}) from None

    def _position(self, value: str | None, model) -> tuple[dt.datetime, object] | None:
        if value is None:
            return None
        try:
            decoded = json.loads(base64.urlsafe_b64decode(value.encode("ascii") + b"=" * (-len(value) % 4)))
            at = dt.datetime.fromisoformat(decoded["t"])
            pk = model._meta.pk.to_python(decoded["id"])
            if at.tzinfo is None or pk is None:
                raise ValueError(value)
            at.astimezone(dt.UTC)
        except (ValueError, TypeError, KeyError, UnicodeError, binascii.Error, OverflowError, DjangoValidationError):
            raise ValidationError({self.cursor_query_param: [INVALID_CURSOR]}) from None
        return at, pk

    @staticmethod
    def encode_cursor(at: dt.datetime, pk) -> str:
        raw = json.dumps({"t": at.isoformat(), "id": str(pk)}, separators=(",", ":")).encode()
        return base64.urlsafe_b64encode(raw).decode("ascii").rstrip("=")

    def get_paginated_response(self, data):
        if not self.sync:
            return super().get_paginated_response(data)
        return Response({"next": self._sync_next_link(), "previous": None, "results": data})

    def _sync_next_link(self) -> str | None:
        if not self.has_more or self.last is None:
            return None
        url = remove_query_param(self.request.build_absolute_uri(), self.page_query_param)
        return replace_query_param(url, self.cursor_query_param, self.encode_cursor(self.last.updated_at, self.last.pk))

    def get_paginated_response_schema(self, schema):
        paged = super().get_paginated_response_schema(schema)
        paged["required"] = ["results"]
        paged["properties"]["count"]["description"] = "All matching records (page-number pages only)."
        paged["properties"]["next"]["description"] = (
            "The next page, or null on the last one. With `updated_since`/`cursor` it carries the sync cursor.")
        return paged

    def get_schema_operation_parameters(self, view):
        return [
            *super().get_schema_operation_parameters(view),
            {
                "name": self.since_query_param,
                "required": False,
                "in": "query",
                "description": "Sync: only records changed at or after this moment (ISO 8601, e.g. "
                "`2026-09-01T08:00:00Z`), oldest change first, ordered by (`updated_at`, `id`), paged by `cursor` "
                "(follow `next`). Resume from the highest `updated_at` you received, minus a safety margin (see the "
                "integration guide).",
                "schema": {"type": "string", "format": "date-time"},
            },
            {
                "name": self.cursor_query_param,
                "required": False,
                "in": "query",
                "description": "Sync: the position in the change feed, from the `next` link of the previous page.",
                "schema": {"type": "string"},
            },
        ]
