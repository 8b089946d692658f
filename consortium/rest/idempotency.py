"""Idempotent writes: every POST and PATCH of the partner API accepts an ``Idempotency-Key`` header.

Semantics (IETF draft "The Idempotency-Key HTTP Header Field", and Stripe's behaviour; docs/integration.md,
"Idempotent writes"):

- A key is 1–255 printable ASCII characters, bare (``8e03…``) or in the draft's quoted form (``"8e03…"``, the same
  key); anything else is a 400. Keys belong to the caller (the API token, or the signed-in user): two partners may
  use the same key. Without the header a request is processed as always.
- The first request with a key runs, and its answer (status, body, headers such as ``Content-Type`` and
  ``Location``) is stored with a fingerprint of the request (method, path, query string, media type, SHA-256 of the
  body bytes), **in the same transaction as the work**: either both are saved or neither.
- The same key with the same fingerprint gets the stored answer again, with ``Idempotent-Replayed: true``; nothing
  runs again. Answers 4xx are stored too (the draft leaves it to the server: the same request gets the same answer,
  a corrected request needs a new key). Answers 5xx are not stored and their work is rolled back, so a retry with
  the same key runs afresh.
- The same key with another fingerprint (another body, path, method or query) is a 422.
- A key whose first request is still running is a 409 with ``Retry-After: 1``: the draft's answer, and no web
  worker is kept waiting. Never a second execution: the key row is inserted in its own short transaction under a
  unique constraint (scope, key), so of two concurrent requests the second gets an ``IntegrityError``; the winner
  then locks its row (``SELECT … FOR UPDATE``) for the rest of its transaction.
- A crashed request (worker killed, database connection lost) leaves its row "in progress" with its work rolled
  back. Once ``IDEMPOTENCY_LOCK_TIMEOUT`` (60 s) has passed, a retry takes the key over, but on PostgreSQL only if
  it can lock the row at once (``NOWAIT``): a request that is merely slow still holds its lock and is never run
  twice. SQLite has no row locks; there the timeout alone decides.
- Keys are kept ``IDEMPOTENCY_KEY_TTL`` (24 h) and then purged (``consortium.tasks.idempotency_keys_purge``,
  hourly); an expired key that is not purged yet counts as unused.

Where: :class:`IdempotentWritesMixin`, on ``PolicyViewSet`` (so on every viewset of the API) and on each plain
``APIView`` that writes (the bulk imports); ``tests/integration/test_idempotency.py`` fails on a POST or PATCH in the
schema without the header. The check runs in ``initial()``, after DRF has authenticated the caller and checked
permission and throttling, before the handler. Anonymous calls (the public ``POST /api/v1/verify/``, which changes
nothing) are left alone: there is no caller to scope a key to.

Why not a library (PyPI, 2026): ``django-idempotency-key`` supports Django ≤ 4.2 and has no request fingerprint;
``drf-idempotency`` keeps one key space for all callers (a partner reusing another's key would receive that
partner's answer) and allows only ``[A-Za-z0-9._~:-]``; ``drf-idempotencykey`` scopes keys to a ``User`` row (API
tokens have none), accepts only UUIDs and answers a reused key with 400/409. None stores the answer in the
transaction of the work, which is what makes a crash mid-request safe to retry.
"""

import hashlib
import logging
import re
from contextlib import ExitStack
from datetime import timedelta

from django.conf import settings
from django.db import DatabaseError, IntegrityError, transaction
from django.http import HttpResponse, RawPostDataException
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from rest_framework import status
from rest_framework.exceptions import APIException

from consortium.models import IdempotencyKey, IdempotencyStatus
from consortium.policy import ServicePrincipal

logger = logging.getLogger(__name__)

HEADER = "Idempotency-Key"
REPLAYED_HEADER = "Idempotent-Replayed"
METHODS = frozenset({"POST", "PATCH"})
#: 1–255 printable ASCII characters; the first and last not a space (HTTP strips those). Also the schema's pattern.
KEY_PATTERN = r"^[!-~]([ -~]{0,253}[!-~])?$"
RETRY_AFTER_SECONDS = 1
#: Never stored with an answer: recomputed for each response.
UNSTORED_HEADERS = frozenset({"content-length", "set-cookie", REPLAYED_HEADER.lower()})

INVALID_KEY = _(
    "The Idempotency-Key header must be 1 to 255 printable ASCII characters (no leading or trailing space), "
    "for example a UUID."
)
UNUSABLE_BODY = _("This request's body cannot be read again, so it cannot be sent with an Idempotency-Key.")


class InvalidKey(APIException):
    status_code = status.HTTP_400_BAD_REQUEST
    default_detail = INVALID_KEY
    default_code = "idempotency_key_invalid"


class KeyReused(APIException):
    status_code = status.HTTP_422_UNPROCESSABLE_ENTITY
    default_detail = _(
        "This Idempotency-Key was already used for a different request (another method, path, query or body). "
        "Repeat the original request to get its answer, or use a new key for a new request."
    )
    default_code = "idempotency_key_reused"


class KeyInProgress(APIException):
    status_code = status.HTTP_409_CONFLICT
    default_detail = _(
        "A request with this Idempotency-Key is still being processed. Retry after the seconds in Retry-After."
    )
    default_code = "idempotency_key_in_progress"
    wait = RETRY_AFTER_SECONDS  # DRF's exception handler turns it into Retry-After


class _Replay(Exception):
    """Not an error: carries the stored answer out of ``initial`` to ``handle_exception``."""

    def __init__(self, response: HttpResponse) -> None:
        self.response = response


def parse_key(raw: str) -> str:
    if not re.fullmatch(KEY_PATTERN, raw):
        raise InvalidKey()
    if len(raw) >= 2 and raw[0] == raw[-1] == '"':  # the draft's Structured Field string
        raw = raw[1:-1]
        if not raw:
            raise InvalidKey()
    return raw


def caller_scope(request) -> str | None:
    """Whose key space: the API token's, or the signed-in user's; None for an anonymous caller."""
    user = request.user
    if isinstance(user, ServicePrincipal):
        return f"token:{user.token.pk}"
    if user is not None and user.is_authenticated and user.pk is not None:
        return f"user:{user.pk}"
    return None


def fingerprint(django_request) -> str:
    try:
        body = django_request.body
    except RawPostDataException:  # a multipart body already parsed (and consumed) before the view
        raise InvalidKey(UNUSABLE_BODY) from None
    parts = [
        django_request.method,
        django_request.path,
        django_request.META.get("QUERY_STRING", ""),
        django_request.content_type or "",
        hashlib.sha256(body).hexdigest(),
    ]
    return hashlib.sha256("\n".join(parts).encode("utf-8", "surrogatepass")).hexdigest()


def replay(row: IdempotencyKey) -> HttpResponse:
    response = HttpResponse(bytes(row.response_body), status=row.response_status)
    for name, value in row.response_headers:
        response[name] = value
    response[REPLAYED_HEADER] = "true"
    return response


def claim(*, scope: str, key: str, fingerprint: str, method: str, path: str) -> tuple[IdempotencyKey, bool]:
    """The key for this request: ``(row, taken_over)``. Raises :class:`_Replay` with the stored answer for a repeat,
    :class:`KeyReused` for another request, :class:`KeyInProgress` while the first one runs."""
    for _attempt in range(3):
        now = timezone.now()
        try:
            with transaction.atomic():  # its own short transaction: committed before the work starts
                row = IdempotencyKey.objects.create(
                    scope=scope, key=key, fingerprint=fingerprint, method=method, path=path,
                    locked_until=now + timedelta(seconds=settings.IDEMPOTENCY_LOCK_TIMEOUT),
                    expires_at=now + timedelta(seconds=settings.IDEMPOTENCY_KEY_TTL),
                )
            return row, False
        except IntegrityError:
            pass  # the key is taken: by an earlier or a concurrent request
        row = IdempotencyKey.objects.filter(scope=scope, key=key).first()
        if row is None:
            continue  # released (its request failed) in the meantime
        if row.expires_at <= now:
            IdempotencyKey.objects.filter(pk=row.pk, expires_at__lte=now).delete()
            continue
        if row.fingerprint != fingerprint:
            raise KeyReused()
        if row.status == IdempotencyStatus.COMPLETED:
            raise _Replay(replay(row))
        if row.locked_until and row.locked_until > now:
            raise KeyInProgress()
        return row, True
    raise KeyInProgress()


def hold(row: IdempotencyKey, *, taken_over: bool) -> None:
    """Lock the row for the rest of the request's transaction. A row taken over is locked only if no live request
    holds it (``NOWAIT``), and only while it is still unfinished and past its lock timeout."""
    rows = IdempotencyKey.objects.filter(pk=row.pk, status=IdempotencyStatus.IN_PROGRESS)
    if not taken_over:
        rows.select_for_update().get()
        return
    now = timezone.now()
    try:
        with transaction.atomic():
            current = rows.select_for_update(nowait=True).first()
    except DatabaseError:  # locked: its request is alive, only slow
        raise KeyInProgress() from None
    if current is None:  # finished or released in the meantime
        finished = IdempotencyKey.objects.filter(pk=row.pk, status=IdempotencyStatus.COMPLETED).first()
        raise _Replay(replay(finished)) if finished else KeyInProgress()
    if current.locked_until and current.locked_until > now:
        raise KeyInProgress()
    logger.warning("Idempotency key %s of %s: taking over a request that did not finish", row.pk, row.scope)
    rows.update(locked_until=now + timedelta(seconds=settings.IDEMPOTENCY_LOCK_TIMEOUT))


def complete(row: IdempotencyKey, response: HttpResponse) -> None:
    headers = [[name, value] for name, value in response.items() if name.lower() not in UNSTORED_HEADERS]
    IdempotencyKey.objects.filter(pk=row.pk).update(
        status=IdempotencyStatus.COMPLETED, locked_until=None, response_status=response.status_code,
        response_headers=headers, response_body=bytes(response.content), updated_at=timezone.now(),
    )


def release(row: IdempotencyKey) -> None:
    """Forget a key whose request produced no answer to keep (5xx, an exception): a retry runs afresh."""
    try:
        IdempotencyKey.objects.filter(pk=row.pk, status=IdempotencyStatus.IN_PROGRESS).delete()
    except DatabaseError:  # the database is gone too: the row expires after IDEMPOTENCY_LOCK_TIMEOUT
        logger.exception("Idempotency key %s of %s could not be released", row.pk, row.scope)


def purge_expired() -> int:
    """Delete the keys past their ``IDEMPOTENCY_KEY_TTL``; returns how many."""
    deleted, _per_model = IdempotencyKey.objects.filter(expires_at__lte=timezone.now()).delete()
    return deleted


class IdempotentWritesMixin:
    """``Idempotency-Key`` on the POST and PATCH operations of a DRF view (the module's docstring says how).

    ``idempotent_writes = False`` opts a view out (the schema then omits the header too).
    """

    idempotent_writes = True

    def dispatch(self, request, *args, **kwargs):
        self._idempotency_row: IdempotencyKey | None = None
        self._idempotency_transaction = ExitStack()  # the work's transaction, entered once a key is claimed
        try:
            with self._idempotency_transaction:
                return super().dispatch(request, *args, **kwargs)
        finally:
            if self._idempotency_row is not None:  # no answer was stored: the work is rolled back, forget the key
                release(self._idempotency_row)

    def initial(self, request, *args, **kwargs):
        raw = request.headers.get(HEADER) if self.idempotent_writes and request.method in METHODS else None
        # The body is read before authentication, which may parse (and consume) a multipart body for the CSRF check.
        request_fingerprint = fingerprint(request._request) if raw is not None else ""
        super().initial(request, *args, **kwargs)
        scope = caller_scope(request) if raw is not None else None
        if scope is None:
            return
        row, taken_over = claim(scope=scope, key=parse_key(raw), fingerprint=request_fingerprint,
                                method=request.method, path=request.path)
        if not taken_over:
            self._idempotency_row = row
        self._idempotency_transaction.enter_context(transaction.atomic())
        hold(row, taken_over=taken_over)
        self._idempotency_row = row

    def handle_exception(self, exc):
        if isinstance(exc, _Replay):
            return exc.response
        return super().handle_exception(exc)

    def finalize_response(self, request, response, *args, **kwargs):
        response = super().finalize_response(request, response, *args, **kwargs)
        row = self._idempotency_row
        if row is None:
            return response
        if response.status_code >= 500:
            transaction.set_rollback(True)  # nothing is kept; dispatch releases the key once the transaction ended
            return response
        if response.streaming:
            return response  # cannot be stored: the work stands, dispatch releases the key
        if hasattr(response, "render"):
            response.render()
        try:
            with transaction.atomic():
                complete(row, response)
        except DatabaseError:
            logger.exception("Idempotency key %s of %s: the answer could not be stored", row.pk, row.scope)
            transaction.set_rollback(True)
            raise
        self._idempotency_row = None
        return response
