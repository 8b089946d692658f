"""A lost database connection answers 503 "temporarily unavailable, nothing was saved, try again", not a 500.

PostgreSQL restarted, failed over, or the request's backend was terminated: the open transaction died with the
connection, so the database rolled back whatever the interrupted service function had written (each is one
transaction). The page is rendered without the request's context, which would need the database again.
``DatabaseUnavailableMiddleware`` answers for the views; ``consortium.views.server_error`` (handler500) for what
fails before a view runs (the session, the user), using the same response.
"""

import logging

from django.db import InterfaceError, OperationalError, connections
from django.http import HttpResponse, JsonResponse
from django.template.loader import render_to_string
from django.utils.translation import gettext as _

logger = logging.getLogger(__name__)

RETRY_AFTER_SECONDS = 30


def is_database_lost(exception: BaseException | None) -> bool:
    return isinstance(exception, OperationalError | InterfaceError)


def database_unavailable(request, exception: BaseException) -> HttpResponse:
    """The 503 page (JSON under /api/), with ``Retry-After``; the error is logged."""
    logger.error("Database unavailable during %s %s", request.method, request.path, exc_info=exception)
    for connection in connections.all(initialized_only=True):
        # A dead connection outside a transaction is dropped now, so what still runs for this request (the session,
        # the messages) connects afresh instead of failing on it too.
        if connection.connection is not None and not connection.in_atomic_block and not connection.is_usable():
            connection.close()
    if request.path.startswith("/api/"):
        response = JsonResponse(
            {"detail": _("The service is temporarily unavailable; nothing was saved. Please try again.")}, status=503)
    else:
        response = HttpResponse(render_to_string("503.html"), status=503)
    response["Retry-After"] = str(RETRY_AFTER_SECONDS)
    return response


class DatabaseUnavailableMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        return database_unavailable(request, exception) if is_database_lost(exception) else None
