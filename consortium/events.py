"""Domain events: a lower app publishes, higher apps subscribe (settings.DOMAIN_EVENT_SUBSCRIBERS).

Subscribers run after the surrounding transaction commits, so they never see (or act on) a decision
that was rolled back. Payloads are plain ids and values, never model instances.
"""

import logging
from functools import partial
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils.module_loading import import_string

logger = logging.getLogger(__name__)


class UnknownEvent(LookupError):
    pass


def subscribers(name: str) -> list[str]:
    try:
        return list(settings.DOMAIN_EVENT_SUBSCRIBERS[name])
    except KeyError:
        raise UnknownEvent(f"Domain event {name!r} is not declared in DOMAIN_EVENT_SUBSCRIBERS.") from None


def publish(name: str, **payload: Any) -> None:
    for path in subscribers(name):
        handler = import_string(path)
        # robust: a failing subscriber (say, its broker is down) is logged; the committed decision stands and the
        # request that made it answers normally. (Django's log line names the callback by its __qualname__.)
        run = partial(handler, **payload)
        run.__qualname__ = path
        transaction.on_commit(run, robust=True)
