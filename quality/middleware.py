"""Counts the visits of the public programme pages (D9 funnel), without personal data.

Listed in ``settings.MIDDLEWARE`` near the end. Programmes knows nothing of it: quality looks at the response of
the ``programme-public`` view. Counted: a GET answered with 200 (a published programme's page), not HEAD, not
a browser's prefetch, not a robot that says so in its User-Agent. The ``utm_campaign`` parameter picks the
campaign (``quality.recruitment.visit_record``); no address, cookie or user is looked at or kept.
"""

from __future__ import annotations

import logging

from django.db import DatabaseError

from . import recruitment

logger = logging.getLogger(__name__)

#: The view whose visits are counted (its URL name).
PAGE = "programme-public"
#: Parts of the User-Agent of robots that announce themselves (compared in lower case).
ROBOT_MARKERS = ("bot", "spider", "crawl")


def is_robot(user_agent: str) -> bool:
    agent = user_agent.lower()
    return any(marker in agent for marker in ROBOT_MARKERS)


def counts(request, response) -> bool:
    """Is this request a visit of the public programme page worth counting?"""
    match = getattr(request, "resolver_match", None)
    if match is None or match.url_name != PAGE or request.method != "GET" or response.status_code != 200:
        return False
    purpose = f"{request.headers.get('Sec-Purpose', '')} {request.headers.get('Purpose', '')}".lower()
    if "prefetch" in purpose:
        return False  # the browser fetched it in case the person goes there
    return not is_robot(request.headers.get("User-Agent", ""))


class PageVisitMiddleware:
    def __init__(self, get_response) -> None:
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if counts(request, response):
            try:
                recruitment.visit_record(programme_code=str(request.resolver_match.kwargs.get("code", "")),
                                         utm_campaign=request.GET.get("utm_campaign"))
            except DatabaseError:
                # The page is already rendered: a counter that cannot be written must not turn it into an error.
                logger.warning("A visit of %s could not be counted.", request.path, exc_info=True)
        return response
