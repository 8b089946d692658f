"""The OpenAPI schema documents the errors every API operation can answer with, not only its success.

Partner systems generate clients from ``/api/schema/``, and the API fuzz test (``tests/trust/``) holds every answer
to it: a status code the schema does not list is a bug in the schema.
"""

from drf_spectacular import openapi
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, inline_serializer
from rest_framework import serializers

from . import idempotency

ERROR = inline_serializer(
    "Error",
    fields={
        "detail": serializers.CharField(),
        "reasons": serializers.JSONField(required=False, help_text="The rules that refused it, when there are any."),
    },
)

INVALID = OpenApiResponse(
    OpenApiTypes.OBJECT,
    description="Invalid input: messages by field (`{\"field\": [\"message\"]}`), or `detail` when a rule refused it.",
)
UNAUTHENTICATED = OpenApiResponse(ERROR, description="No valid token (`Authorization: Token <key>`).")
FORBIDDEN = OpenApiResponse(ERROR, description="The token lacks the scope, or the policy refuses your institution.")
NOT_FOUND = OpenApiResponse(ERROR, description="No such object among those you may see.")
NO_SUCH_PAGE = OpenApiResponse(ERROR, description="No such page.")
CONFLICT = OpenApiResponse(ERROR, description="The object's status does not allow this (`detail`).")
UNSUPPORTED_MEDIA_TYPE = OpenApiResponse(ERROR, description="The body is not in one of the documented media types.")
THROTTLED = OpenApiResponse(ERROR, description="Too many requests: wait the seconds in `Retry-After`.")

# Idempotent writes (idempotency.py): the request header, the replay marker, and the answers about the key.
IDEMPOTENCY_KEY = OpenApiParameter(
    idempotency.HEADER,
    {"type": "string", "minLength": 1, "maxLength": 255, "pattern": idempotency.KEY_PATTERN},
    OpenApiParameter.HEADER,
    description="Optional: makes the request safe to retry. 1–255 printable ASCII characters, unique per request "
    "(a UUID). Repeating it with the same request returns the first answer (`Idempotent-Replayed: true`) without "
    "running again; with a different request it is a 422. Keys are yours alone (per token) and kept 24 hours.",
)
IDEMPOTENT_REPLAYED = OpenApiParameter(
    idempotency.REPLAYED_HEADER,
    {"type": "string", "enum": ["true"]},
    OpenApiParameter.HEADER,
    response=True,
    description="`true` when this is the stored answer to an earlier request with the same `Idempotency-Key`.",
)
RETRY_AFTER = OpenApiParameter(
    "Retry-After",
    {"type": "string", "pattern": "^[0-9]+$"},
    OpenApiParameter.HEADER,
    response=[409],
    description="Seconds to wait when a request with the same `Idempotency-Key` is still being processed.",
)
KEY_REUSED = OpenApiResponse(
    ERROR, description="The `Idempotency-Key` was already used for a different request (method, path, query or body)."
)
KEY_IN_PROGRESS = OpenApiResponse(
    ERROR, description="A request with the same `Idempotency-Key` is still being processed: retry after `Retry-After`."
)
#: Added to a 400, 409 or 422 that the view describes itself (whose body may then also be an ``Error``).
KEY_MENTIONS = {
    "400": "Or the `Idempotency-Key` header is invalid (`detail`).",
    "409": "Or a request with the same `Idempotency-Key` is still being processed: retry after `Retry-After` seconds.",
    "422": "Or the `Idempotency-Key` was already used for a different request (`detail`).",
}


class AutoSchema(openapi.AutoSchema):
    """drf-spectacular's schema plus the errors common to the API; what a view declares itself comes first."""

    def _get_response_bodies(self, direction="response"):
        responses = super()._get_response_bodies(direction)
        for code, response in self._common_errors().items():
            if code not in responses:
                responses[code] = self._get_response_for_code(response, code, direction=direction)
        if self._idempotent():
            self._admit_key_errors(responses, direction)
        return responses

    def _admit_key_errors(self, responses, direction) -> None:
        """A view's own 400, 409 or 422 may also be an answer about the ``Idempotency-Key``: say so, and let its
        body be an ``Error`` too."""
        error = self._get_response_for_code(KEY_REUSED, "422", direction=direction)["content"]
        for code, mention in KEY_MENTIONS.items():
            described = responses.get(code)
            if described is None or idempotency.HEADER in described.get("description", ""):
                continue
            described["description"] = f"{described.get('description', '')} {mention}".strip()
            for media_type, body in described.get("content", {}).items():
                ours = error.get(media_type, next(iter(error.values())))["schema"]
                theirs = body.get("schema")
                if theirs and theirs != ours and theirs.get("type") != "object":
                    body["schema"] = {"anyOf": [theirs, ours]}

    def _idempotent(self) -> bool:
        return self.method in idempotency.METHODS and getattr(self.view, "idempotent_writes", False)

    def get_override_parameters(self):
        parameters = super().get_override_parameters()
        if self._idempotent():
            parameters = [*parameters, IDEMPOTENCY_KEY, IDEMPOTENT_REPLAYED, RETRY_AFTER]
        return parameters

    def _common_errors(self) -> dict[str, OpenApiResponse]:
        writes = self.method in ("POST", "PUT", "PATCH")
        errors = {}
        if writes or self._is_list_view():
            errors["400"] = INVALID
        if self.get_auth():
            errors["401"] = UNAUTHENTICATED
            errors["403"] = FORBIDDEN
        if "{" in self.path:
            errors["404"] = NOT_FOUND
        elif self._is_list_view() and getattr(self.view, "pagination_class", None):
            errors["404"] = NO_SUCH_PAGE
        if writes and self.get_request_serializer() is not None:
            errors["415"] = UNSUPPORTED_MEDIA_TYPE
        if self.view.get_throttles():
            errors["429"] = THROTTLED
        if self._idempotent():
            errors["409"] = KEY_IN_PROGRESS
            errors["422"] = KEY_REUSED
        return errors
