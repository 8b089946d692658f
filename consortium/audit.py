"""The audit trail: ``audit.record(actor, action, obj, changes, via=...)``, append-only.

``via`` defaults to the interface the current request or task came through (set by
``AuditViaMiddleware``, the API authentication and the Celery task hooks), so services need not pass it.

Nothing updates or deletes an event except ``redact`` (erasure of a person's identity) and ``purge_before``
(the retention period), both called by ``consortium.personal_data`` only.
"""

import contextlib
import contextvars
import json
from collections.abc import Callable, Iterable, Mapping
from datetime import date, datetime
from decimal import Decimal
from typing import Any
from uuid import UUID

from django.db import connection, models, transaction
from django.db.models import Q

from .models import AuditEvent, Via

_current_via: contextvars.ContextVar[str] = contextvars.ContextVar("audit_via", default=Via.COMMAND)


def set_via(via: str) -> contextvars.Token:
    return _current_via.set(via)


def reset_via(token: contextvars.Token) -> None:
    _current_via.reset(token)


def current_via() -> str:
    return _current_via.get()


def _jsonable(value: Any) -> Any:
    if isinstance(value, models.Model):
        return str(value.pk)
    if isinstance(value, (UUID, Decimal)):
        return str(value)
    if isinstance(value, (date, datetime)):
        return value.isoformat()
    if isinstance(value, models.fields.files.FieldFile):
        return value.name or ""
    if isinstance(value, Mapping):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set)):
        return [_jsonable(v) for v in value]
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    return str(value)


def snapshot(obj: models.Model, fields: Iterable[str]) -> dict[str, Any]:
    return {f: _jsonable(getattr(obj, f)) for f in fields}


def diff(before: Mapping[str, Any], after: Mapping[str, Any]) -> dict[str, list[Any]]:
    """``{field: [old, new]}`` for every field whose value changed."""
    return {k: [before.get(k), after.get(k)] for k in after if before.get(k) != after.get(k)}


def _actor_fields(actor) -> tuple[Any, str]:
    if actor is None:
        return None, "system"
    token = getattr(actor, "token", None)
    if token is not None:
        return None, f"token:{token.name}@{token.institution.short_name}"
    if getattr(actor, "is_authenticated", False):
        return actor, actor.email
    return None, "anonymous"


def record(
    actor,
    action: str,
    obj: models.Model,
    changes: Mapping[str, Any] | None = None,
    *,
    via: str | None = None,
    consortium_id: UUID | None = None,
    institution_id: UUID | None = None,
) -> AuditEvent:
    user, label = _actor_fields(actor)
    return AuditEvent.objects.create(
        actor=user,
        actor_label=label[:255],
        action=action,
        object_type=obj._meta.label_lower,
        object_id=str(obj.pk),
        object_repr=str(obj)[:255],
        changes=_jsonable(dict(changes or {})),
        via=via or current_via(),
        consortium_id=consortium_id,
        institution_id=institution_id,
    )


# --- The two sanctioned rewrites of the trail: erasure and retention (consortium.personal_data) ------------------


@contextlib.contextmanager
def _sanctioned_rewrite():
    """Lets this transaction past PostgreSQL's append-only trigger (migration 0005), for the two rewrites below."""
    with transaction.atomic():
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("SELECT set_config('jointcred.audit_rewrite', 'on', true)")
        try:
            yield
        finally:
            if connection.vendor == "postgresql":
                with connection.cursor() as cursor:
                    cursor.execute("SELECT set_config('jointcred.audit_rewrite', 'off', true)")


def _deep(value: Any, replace: Callable[[str], str]) -> Any:
    if isinstance(value, str):
        return replace(value)
    if isinstance(value, Mapping):
        return {replace(str(k)): _deep(v, replace) for k, v in value.items()}
    if isinstance(value, list):
        return [_deep(v, replace) for v in value]
    return value


def redact(identifiers: Iterable[str], replace: Callable[[str], str]) -> int:
    """Erasure (GDPR Art. 17): rewrite the events that mention a person (their names, emails) with ``replace``.
    The events themselves stay: who decided what remains on record, without the erased person's identity.
    Returns the number of events rewritten."""
    terms = [t for t in identifiers if t]
    if not terms:
        return 0
    query = Q()
    for term in terms:
        escaped = json.dumps(term)[1:-1]  # how a JSON column stored as text (SQLite) holds non-ASCII characters
        query |= Q(actor_label__icontains=term) | Q(object_repr__icontains=term) | Q(changes__icontains=term)
        if escaped != term:
            query |= Q(changes__icontains=escaped)
    rewritten = 0
    with _sanctioned_rewrite():
        for event in list(AuditEvent.objects.filter(query)):
            values = {"actor_label": replace(event.actor_label)[:255],
                      "object_repr": replace(event.object_repr)[:255], "changes": _deep(event.changes, replace)}
            if any(getattr(event, k) != v for k, v in values.items()):
                models.QuerySet.update(AuditEvent.objects.filter(pk=event.pk), **values)  # past the app's guard
                rewritten += 1
    return rewritten


def purge_before(cutoff: datetime) -> int:
    """Retention: delete the events older than ``cutoff``. Returns how many were deleted."""
    with _sanctioned_rewrite():
        deleted, _ = models.QuerySet.delete(AuditEvent.objects.filter(at__lt=cutoff))  # past the app's guard
    return deleted


class AuditViaMiddleware:
    """Marks everything a request records as coming from the browser or the API."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        token = set_via(Via.API if request.path.startswith("/api/") else Via.BROWSER)
        try:
            return self.get_response(request)
        finally:
            reset_via(token)
