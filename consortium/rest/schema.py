"""The OpenAPI schema documents the errors every API operation can answer with, not only its success.

Partner systems generate clients from ``/api/schema/``, and the API fuzz test (``tests/trust/``) holds every answer
to it: a status code the schema does not list is a bug in the schema.
"""

from drf_spectacular import openapi
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, inline_serializer
from rest_framework import serializers

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


class AutoSchema(openapi.AutoSchema):
    """drf-spectacular's schema plus the errors common to the API; what a view declares itself comes first."""

    def _get_response_bodies(self, direction="response"):
        responses = super()._get_response_bodies(direction)
        for code, response in self._common_errors().items():
            if code not in responses:
                responses[code] = self._get_response_for_code(response, code, direction=direction)
        return responses

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
        return errors
