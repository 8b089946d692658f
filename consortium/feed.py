"""The events feed: what partner systems follow to sync incrementally (``/api/v1/events/``, webhooks).

Services call ``record(event_type, obj, consortium_id=..., institution_ids=...)`` at the decision points, inside the
transaction that makes the change, so an event exists exactly when its change committed. ``institution_ids`` is the
audience: the institutions whose partner systems may see the event, the same institutions whose tokens see the
resource in its API list (each app computes them from its own policy); a token sees an event when its institution is
in the audience and it holds the resource's read scope (``RESOURCES``). Bodies carry ids and statuses only, never
personal data: a partner reads the resource itself through the API, under the same policy.

**The sequence number never goes backwards for a reader.** A ``BigAutoField`` would not do: its value is taken when
the row is inserted, not when the transaction commits, so a transaction that took 41 can commit after one that took
42, and a reader that already moved past 42 would never see 41. Two ways out were weighed:

* PostgreSQL's transaction ids: store ``pg_current_xact_id()`` and serve only events below
  ``pg_snapshot_xmin(pg_current_snapshot())``, ordered by (txid, id). Writers never wait, but the cursor becomes the
  pair (a txid taken early can commit late too), the feed stands still while *any* transaction of the cluster stays
  open (a ``pg_dump``, a long report, a session left idle in a transaction), and a test's own transaction never sees
  its own events. Nothing of it exists on SQLite.
* **A row lock (chosen):** every writer takes the next number by updating the one ``FeedCounter`` row; the row stays
  locked until that writer's transaction ends. The next writer waits for it, so numbers are handed out in commit
  order: when a reader sees N, every number below N is committed already (or was rolled back, and the counter with
  it, so there are no gaps either). The same code runs on SQLite, which serialises writers anyway. The cost: while one
  transaction holds the counter, other decisions that record events wait for it to commit. Services therefore record
  as their last write, when the other row locks are already held (the lock order is then: the rows of the decision,
  the counter), and decisions are short transactions. PostgreSQL detects a deadlock should a service ever take a row
  lock after recording; the request then fails and nothing is saved.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any
from uuid import UUID

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F, Max
from django.utils.translation import gettext_lazy as _
from rest_framework.fields import DateTimeField

from .models import FeedAudience, FeedCounter, FeedEvent

COUNTER_ID = 1


@dataclass(frozen=True)
class Resource:
    """A kind of record events are about: the token scope that reads it and where the API serves it."""

    scope: str
    collection: str
    #: The list filter that names one of these (a result sheet is read as ``results/?sheet=<id>``), else None.
    list_filter: str | None = None

    def path(self, resource_id: str) -> str:
        if self.list_filter:
            return f"/api/v1/{self.collection}/?{self.list_filter}={resource_id}"
        return f"/api/v1/{self.collection}/{resource_id}/"


RESOURCES: dict[str, Resource] = {
    "institution": Resource("institutions:read", "institutions"),
    "consortium": Resource("consortia:read", "consortia"),
    "membership": Resource("memberships:read", "memberships"),
    "agreement": Resource("agreements:read", "agreements"),
    "programme": Resource("programmes:read", "programmes"),
    "course": Resource("programmes:read", "courses"),
    "curriculum_version": Resource("programmes:read", "curriculum-versions"),
    "edition": Resource("editions:read", "editions"),
    "application": Resource("applications:read", "applications"),
    "enrolment": Resource("enrolments:read", "enrolments"),
    "result": Resource("results:read", "results"),
    "result_sheet": Resource("results:read", "results", list_filter="sheet"),
    "award": Resource("awards:read", "awards"),
    "credential": Resource("awards:read", "credentials"),
    "invoice": Resource("finance:read", "invoices"),
    "payment": Resource("finance:read", "payments"),
}

#: Every event type, with the label the webhook form shows. ``<resource>.deleted`` is accepted for any resource.
EVENT_TYPES: dict[str, Any] = {
    "application.submitted": _("Application submitted"),
    "application.decided": _("Application decided (admitted, waitlisted or rejected)"),
    "application.withdrawn": _("Application withdrawn"),
    "enrolment.created": _("Learner enrolled"),
    "enrolment.withdrawn": _("Enrolled learner withdrawn"),
    "result.approved": _("Results approved by the examination board"),
    "result.corrected": _("Approved grade corrected (a new version)"),
    "result.deleted": _("Grade superseded by a correction (no longer listed)"),
    "award.issued": _("Award issued (also each re-issued version)"),
    "credential.revoked": _("Credential revoked"),
    "invoice.paid": _("Invoice paid"),
    "course.deleted": _("Course removed from a draft curriculum"),
}
#: Events saying a record left the lists, or a learner left the programme: the partner removes or closes its copy.
TOMBSTONE_SUFFIXES = (".deleted", ".withdrawn")


class UnknownFeedEvent(LookupError):
    pass


def is_tombstone(event_type: str) -> bool:
    return event_type.endswith(TOMBSTONE_SUFFIXES)


def event_type_choices() -> list[tuple[str, Any]]:
    return list(EVENT_TYPES.items())


def _next_seq() -> int:
    """The next number, under the counter's row lock (held until the caller's transaction ends)."""
    for _attempt in range(3):
        if FeedCounter.objects.filter(pk=COUNTER_ID).update(value=F("value") + 1):
            return FeedCounter.objects.values_list("value", flat=True).get(pk=COUNTER_ID)
        # The row is made by the migration; a test database flushed between tests loses it.
        try:
            with transaction.atomic():
                FeedCounter.objects.create(pk=COUNTER_ID, value=FeedEvent.objects.aggregate(m=Max("seq"))["m"] or 0)
        except IntegrityError:
            pass  # created by a concurrent writer: update it
    raise RuntimeError("The feed counter cannot be updated.")


def record(
    event_type: str,
    obj: Any = None,
    *,
    consortium_id: UUID | str | None,
    institution_ids: Iterable[UUID | str],
    data: Mapping[str, Any] | None = None,
    resource_type: str | None = None,
    resource_id: str | None = None,
) -> FeedEvent:
    """Record an event about ``obj`` (or ``resource_type``/``resource_id``, for a record being deleted) in the
    current transaction, and queue its webhook deliveries. Call it as the service's last write (see above)."""
    resource_type = resource_type or event_type.split(".", 1)[0]
    resource = RESOURCES.get(resource_type)
    if resource is None:
        raise UnknownFeedEvent(f"Unknown feed resource type {resource_type!r}.")
    if event_type not in EVENT_TYPES and event_type != f"{resource_type}.deleted":
        raise UnknownFeedEvent(f"Unknown feed event type {event_type!r}; declare it in EVENT_TYPES.")
    if resource_id is None:
        resource_id = str(obj.pk)
    audience = sorted({str(i) for i in institution_ids if i})
    from . import webhooks

    with transaction.atomic():  # counter, event, audience and deliveries together, also when called in autocommit
        event = FeedEvent.objects.create(
            seq=_next_seq(),
            event_type=event_type,
            resource_type=resource_type,
            resource_id=str(resource_id),
            scope=resource.scope,
            consortium_id=consortium_id,
            data=_plain(dict(data or {})),
        )
        FeedAudience.objects.bulk_create([FeedAudience(event=event, institution_id=i) for i in audience])
        webhooks.fan_out(event, audience)
    return event


def _plain(value: Any) -> Any:
    """JSON-safe: ids and decimals as strings, dates in ISO 8601."""
    from .audit import _jsonable

    return _jsonable(value)


_datetime = DateTimeField()


def as_item(event: FeedEvent) -> dict[str, Any]:
    """The event as the feed serves it and webhooks send it (one shape for both)."""
    tombstone = is_tombstone(event.event_type)
    resource = RESOURCES[event.resource_type]
    deleted = event.event_type.endswith(".deleted")
    return {
        "seq": event.seq,
        "id": str(event.event_id),
        "type": event.event_type,
        "occurred_at": _datetime.to_representation(event.occurred_at),
        "resource": {
            "type": event.resource_type,
            "id": event.resource_id,
            "url": None if deleted else f"{settings.PUBLIC_BASE_URL}{resource.path(event.resource_id)}",
        },
        "consortium": str(event.consortium_id) if event.consortium_id else None,
        "tombstone": tombstone,
        "data": event.data,
    }
