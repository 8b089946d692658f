"""JSON errors, always an object: field messages for validation, ``detail`` otherwise (409 with a reason for a
refused transition)."""

from django.core.exceptions import ValidationError as DjangoValidationError
from rest_framework import status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from consortium.errors import DomainError


def exception_handler(exc, context):
    if isinstance(exc, DomainError):
        body = {"detail": exc.message}
        if exc.details:
            body["reasons"] = exc.details
        return Response(body, status=exc.status_code)
    if isinstance(exc, DjangoValidationError):
        if hasattr(exc, "message_dict"):
            return Response(exc.message_dict, status=status.HTTP_400_BAD_REQUEST)
        return Response({"detail": " ".join(exc.messages)}, status=status.HTTP_400_BAD_REQUEST)
    response = drf_exception_handler(exc, context)
    if response is not None and isinstance(response.data, list):
        # A bare message (``ValidationError("...")``, as DRF's search filter raised for a NUL) is an object too,
        # as the schema says.
        response.data = {"detail": " ".join(str(message) for message in response.data)}
    return response
