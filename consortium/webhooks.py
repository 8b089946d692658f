"""Webhooks: an institution's HTTPS endpoints receive the feed events of the types they chose.

* **Outbox.** ``consortium.feed.record`` creates one ``WebhookDelivery`` per matching endpoint in the transaction of
  the change (``fan_out``), with the exact body to send: the event as the ``/api/v1/events/`` feed serves it. The
  first attempt is sent to Celery after commit (``consortium.tasks.webhook_deliver``, one task per delivery).
* **Retries** are scheduled in the database, not as Celery countdowns (a countdown longer than Redis's
  ``visibility_timeout`` would be delivered twice): a failed attempt sets ``next_attempt_at`` with exponential backoff
  (1, 2, 4 … minutes, at most an hour apart) until 24 hours after the first attempt, and the beat task
  ``webhooks_dispatch`` sends the deliveries that are due, every minute. It also finds a first attempt whose message
  was lost (broker down). An attempt first *claims* its delivery (a conditional update that moves ``next_attempt_at``
  a lease ahead), so the dispatcher and a late message never send the same attempt twice.
* **Signature.** ``X-JointCred-Signature: v1=<hex HMAC-SHA256 of "<timestamp>.<body>">`` with the endpoint's secret,
  ``X-JointCred-Timestamp`` in Unix seconds; ``verify`` is the reference check for receivers (docs/integration.md).
  Rotating the secret (``webhook_rotate_secret``) keeps the previous one for ``WEBHOOK_SECRET_OVERLAP`` seconds, during
  which the header carries both signatures (``v1=<new>, v1=<previous>``): receivers switch without a refused delivery.
* **Safety of the target (SSRF).** HTTPS only; plain HTTP and loopback addresses only when
  ``WEBHOOK_ALLOW_LOOPBACK`` (DEBUG and the tests). The host is resolved when sending; if any address is private,
  link-local, reserved or multicast the delivery is refused, and the connection goes to the address that was checked
  (no second lookup an attacker's DNS could answer differently). Short timeouts (``WEBHOOK_CONNECT_TIMEOUT``,
  ``WEBHOOK_READ_TIMEOUT``), redirects never followed (a 3xx is a failure), at most 64 KiB of the answer read.
* **Health.** Every attempt is logged (``WebhookAttempt``). An endpoint whose every attempt failed for
  ``WEBHOOK_DISABLE_AFTER`` seconds (24 h), or ``WEBHOOK_DISABLE_AFTER_FAILURES`` attempts in a row, is disabled with
  the reason on its page, an audit event and an email to its institution's administrators; its pending deliveries
  are cancelled (the partner catches up from the events feed). Only an administrator enables it again.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import http.client
import ipaddress
import json
import secrets
import socket
import ssl
import time
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from cryptography.fernet import InvalidToken
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from . import audit, encryption, policy
from .errors import DomainError, TransitionError
from .models import (
    DeliveryStatus,
    FeedEvent,
    Institution,
    User,
    WebhookAttempt,
    WebhookDelivery,
    WebhookEndpoint,
)

SECRET_PREFIX = "whsec_"  # noqa: S105  (a label in front of each generated secret, not a secret)
TEST_EVENT = "webhook.test"
#: How long a claimed attempt keeps others away: longer than connecting, sending and reading the answer.
LEASE = dt.timedelta(seconds=60)
BACKOFF_BASE = 60
BACKOFF_CAP = 60 * 60
MAX_ANSWER_BYTES = 64 * 1024
MAX_ENDPOINTS_PER_INSTITUTION = 20
#: Receivers reject a delivery whose timestamp is further than this from their clock (replays).
TIMESTAMP_TOLERANCE = 5 * 60

NOT_HTTPS = gettext_lazy("Use an https:// address (plain http only for 127.0.0.1 or localhost in development).")
NOT_PUBLIC = gettext_lazy("This address is not on the public internet (private, loopback, link-local or reserved); "
                          "webhooks are only sent to public HTTPS servers.")
WITH_CREDENTIALS = gettext_lazy("Leave user names and passwords out of the address; deliveries are signed instead.")
UNKNOWN_EVENT_TYPES = gettext_lazy("Unknown event types: %(types)s.")
NO_EVENT_TYPES = gettext_lazy("Choose at least one event type.")
DISABLED_ALREADY = gettext_lazy("The endpoint is already disabled.")
ENABLED_ALREADY = gettext_lazy("The endpoint is already enabled.")
TEST_NEEDS_ENABLED = gettext_lazy("Enable the endpoint before sending a test event.")


# --- Secrets ----------------------------------------------------------------------------------------------------


def _fernet():
    return encryption.fernet(purpose="sign webhook deliveries (see docs/integration.md)",
                             development_info=b"jointcred webhook secret encryption (development only)")


def secret_of(endpoint: WebhookEndpoint) -> str:
    try:
        return _fernet().decrypt(endpoint.secret_encrypted.encode("ascii")).decode()
    except InvalidToken as exc:
        raise DomainError(_("The endpoint's secret cannot be decrypted with the configured key.")) from exc


def signing_secrets(endpoint: WebhookEndpoint, now: dt.datetime | None = None) -> list[str]:
    """The secrets a delivery is signed with now: the endpoint's, and the one before a rotation while it overlaps."""
    current = [secret_of(endpoint)]
    until = endpoint.previous_secret_until
    if endpoint.previous_secret_encrypted and until and (now or timezone.now()) < until:
        try:
            return [*current, _fernet().decrypt(endpoint.previous_secret_encrypted.encode("ascii")).decode()]
        except InvalidToken:  # the old secret is only a courtesy: sign with the current one alone
            return current
    return current


def signature(secret: str, timestamp: int | str, body: bytes) -> str:
    digest = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return f"v1={digest}"


def verify(secret: str, *, timestamp: str, signature_header: str, body: bytes, now: float | None = None,
           tolerance: int = TIMESTAMP_TOLERANCE) -> bool:
    """What a receiver checks (the reference for docs/integration.md): a fresh timestamp and a matching signature."""
    try:
        sent = int(timestamp)
    except (TypeError, ValueError):
        return False
    if abs((time.time() if now is None else now) - sent) > tolerance:
        return False
    expected = signature(secret, sent, body)
    return any(hmac.compare_digest(expected, part.strip()) for part in signature_header.split(","))


# --- Where deliveries may go --------------------------------------------------------------------------------------


def _allowed_address(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    if address.is_loopback:
        return bool(settings.WEBHOOK_ALLOW_LOOPBACK)
    return address.is_global and not address.is_multicast


def _is_loopback_host(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def validate_url(url: str) -> None:
    """Refuse, with a message, an address deliveries must never go to (checked again, resolved, when sending)."""
    parts = urlsplit(url)
    host = (parts.hostname or "").lower()
    if parts.username or parts.password:
        raise ValidationError(WITH_CREDENTIALS, code="credentials")
    loopback_allowed = settings.WEBHOOK_ALLOW_LOOPBACK and _is_loopback_host(host)
    if parts.scheme != "https" and not (parts.scheme == "http" and loopback_allowed):
        raise ValidationError(NOT_HTTPS, code="scheme")
    if not host:
        raise ValidationError(NOT_HTTPS, code="host")
    try:
        literal = ipaddress.ip_address(host)
    except ValueError:
        literal = None
    if (literal is not None and not _allowed_address(literal)) or (host == "localhost" and not loopback_allowed):
        raise ValidationError(NOT_PUBLIC, code="private")


class UnsafeTarget(Exception):
    pass


def _resolve(host: str, port: int) -> str:
    """One address of ``host`` to connect to; every address it resolves to must be allowed."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as exc:
        raise UnsafeTarget(f"cannot resolve {host}: {exc}") from exc
    addresses = [info[4][0] for info in infos]
    for address in addresses:
        if not _allowed_address(ipaddress.ip_address(address.split("%")[0])):
            raise UnsafeTarget(f"{host} resolves to {address}, which is not a public address")
    if not addresses:
        raise UnsafeTarget(f"{host} has no address")
    return addresses[0]


class _PinnedHTTPConnection(http.client.HTTPConnection):
    """Connects to the address that was checked, whatever the name resolves to now."""

    def __init__(self, host, port, *, address, connect_timeout, read_timeout):
        super().__init__(host, port, timeout=connect_timeout)
        self._address, self._read_timeout = address, read_timeout

    def _open(self):
        return socket.create_connection((self._address, self.port), timeout=self.timeout)

    def connect(self):
        self.sock = self._open()
        self.sock.settimeout(self._read_timeout)


class _PinnedHTTPSConnection(_PinnedHTTPConnection):
    default_port = http.client.HTTPS_PORT

    def connect(self):
        raw = self._open()
        # The certificate is checked against the host name (SNI too), not the address.
        self.sock = ssl.create_default_context().wrap_socket(raw, server_hostname=self.host)
        self.sock.settimeout(self._read_timeout)


@dataclass
class Answer:
    status_code: int | None
    duration_ms: int
    error: str = ""

    @property
    def ok(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300


def post(url: str, body: bytes, headers: Mapping[str, str]) -> Answer:
    """POST once, never following a redirect. Errors are answers too (``status_code`` None, ``error`` set)."""
    started = time.monotonic()

    def answer(status_code=None, error=""):
        return Answer(status_code, int((time.monotonic() - started) * 1000), error[:500])

    parts = urlsplit(url)
    try:
        validate_url(url)
        port = parts.port or (443 if parts.scheme == "https" else 80)
        address = _resolve(parts.hostname, port)
    except (ValidationError, UnsafeTarget, ValueError) as exc:
        message = " ".join(exc.messages) if isinstance(exc, ValidationError) else str(exc)
        return answer(error=_("Refused: %(reason)s") % {"reason": message})
    connection_class = _PinnedHTTPSConnection if parts.scheme == "https" else _PinnedHTTPConnection
    connection = connection_class(parts.hostname, port, address=address,
                                  connect_timeout=settings.WEBHOOK_CONNECT_TIMEOUT,
                                  read_timeout=settings.WEBHOOK_READ_TIMEOUT)
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    try:
        connection.request("POST", path, body=body, headers=dict(headers))
        response = connection.getresponse()
        response.read(MAX_ANSWER_BYTES)
        status = response.status
    except (OSError, http.client.HTTPException) as exc:
        return answer(error=f"{exc.__class__.__name__}: {exc}")
    finally:
        connection.close()
    if 300 <= status < 400:
        return answer(status, _("Redirects are not followed (%(status)s).") % {"status": status})
    return answer(status)


# --- Endpoints: the administrators' services ------------------------------------------------------------------------


def _event_types(values: Iterable[str]) -> list[str]:
    from .feed import EVENT_TYPES

    chosen = sorted(set(values))
    unknown = [v for v in chosen if v not in EVENT_TYPES]
    if unknown:
        raise ValidationError({"event_types": [UNKNOWN_EVENT_TYPES % {"types": ", ".join(unknown)}]})
    if not chosen:
        raise ValidationError({"event_types": [NO_EVENT_TYPES]})
    return chosen


def _check_url(url: str) -> str:
    try:
        validate_url(url)
    except ValidationError as exc:
        raise ValidationError({"url": exc.messages}) from None
    return url


def _locked(endpoint: WebhookEndpoint) -> WebhookEndpoint:
    return WebhookEndpoint.objects.select_for_update().select_related("institution").get(pk=endpoint.pk)


def _record(actor, action: str, endpoint: WebhookEndpoint, changes: Mapping[str, Any] | None = None) -> None:
    audit.record(actor, action, endpoint, changes, institution_id=endpoint.institution_id)


@transaction.atomic
def webhook_create(*, actor, institution: Institution, url: str, event_types: Iterable[str],
                   description: str = "") -> tuple[WebhookEndpoint, str]:
    """Register an endpoint; returns it with its signing secret, which is shown once."""
    from .services import save_validated

    policy.require(actor, "webhook.manage", institution)
    Institution.objects.select_for_update().get(pk=institution.pk)  # counts the endpoints one creation at a time
    if WebhookEndpoint.objects.filter(institution=institution).count() >= MAX_ENDPOINTS_PER_INSTITUTION:
        raise DomainError(_("%(name)s already has %(n)s webhook endpoints; delete one first.") % {
            "name": institution.short_name, "n": MAX_ENDPOINTS_PER_INSTITUTION})
    secret = SECRET_PREFIX + secrets.token_urlsafe(32)
    endpoint = WebhookEndpoint(
        institution=institution, url=_check_url(url), event_types=_event_types(event_types),
        description=description, secret_encrypted=_fernet().encrypt(secret.encode()).decode("ascii"),
        secret_prefix=secret[: len(SECRET_PREFIX) + 4], created_by=actor if isinstance(actor, User) else None,
    )
    save_validated(endpoint, exclude=["created_by"])
    _record(actor, "webhook.created", endpoint, {"url": endpoint.url, "event_types": endpoint.event_types})
    return endpoint, secret


@transaction.atomic
def webhook_rotate_secret(*, actor, endpoint: WebhookEndpoint,
                          now: dt.datetime | None = None) -> tuple[WebhookEndpoint, str]:
    """A new signing secret, shown once; the previous one still signs deliveries for ``WEBHOOK_SECRET_OVERLAP``
    seconds (both signatures in the header). Rotating again during the overlap drops the oldest secret."""
    policy.require(actor, "webhook.manage", endpoint)
    endpoint = _locked(endpoint)
    now = now or timezone.now()
    secret = SECRET_PREFIX + secrets.token_urlsafe(32)
    previous_prefix = endpoint.secret_prefix
    endpoint.previous_secret_encrypted = endpoint.secret_encrypted
    endpoint.previous_secret_until = now + dt.timedelta(seconds=settings.WEBHOOK_SECRET_OVERLAP)
    endpoint.secret_encrypted = _fernet().encrypt(secret.encode()).decode("ascii")
    endpoint.secret_prefix = secret[: len(SECRET_PREFIX) + 4]
    endpoint.save(update_fields=["previous_secret_encrypted", "previous_secret_until", "secret_encrypted",
                                 "secret_prefix", "updated_at"])
    _record(actor, "webhook.secret_rotated", endpoint, {"secret_prefix": [previous_prefix, endpoint.secret_prefix],
                                                         "previous_valid_until": endpoint.previous_secret_until})
    return endpoint, secret


@transaction.atomic
def webhook_update(*, actor, endpoint: WebhookEndpoint, url: str, event_types: Iterable[str],
                   description: str = "") -> WebhookEndpoint:
    from .services import save_validated

    policy.require(actor, "webhook.manage", endpoint)
    endpoint = _locked(endpoint)
    fields = ("url", "event_types", "description")
    before = audit.snapshot(endpoint, fields)
    endpoint.url, endpoint.event_types, endpoint.description = _check_url(url), _event_types(event_types), description
    save_validated(endpoint, exclude=["created_by"])
    changes = audit.diff(before, audit.snapshot(endpoint, fields))
    if changes:
        _record(actor, "webhook.updated", endpoint, changes)
    return endpoint


def _cancel_pending(endpoint: WebhookEndpoint, now: dt.datetime) -> int:
    return WebhookDelivery.objects.filter(endpoint=endpoint, status=DeliveryStatus.PENDING).update(
        status=DeliveryStatus.CANCELLED, completed_at=now, next_attempt_at=None, updated_at=now)


@transaction.atomic
def webhook_disable(*, actor, endpoint: WebhookEndpoint) -> WebhookEndpoint:
    policy.require(actor, "webhook.manage", endpoint)
    endpoint = _locked(endpoint)
    if not endpoint.is_active:
        raise TransitionError(DISABLED_ALREADY)
    now = timezone.now()
    endpoint.is_active, endpoint.disabled_at, endpoint.disabled_automatically = False, now, False
    endpoint.disabled_reason = _("Disabled by an administrator.")
    endpoint.save()
    cancelled = _cancel_pending(endpoint, now)
    _record(actor, "webhook.disabled", endpoint, {"automatically": False, "cancelled_deliveries": cancelled})
    return endpoint


@transaction.atomic
def webhook_enable(*, actor, endpoint: WebhookEndpoint) -> WebhookEndpoint:
    """Enable by hand (also after an automatic disable); the failure count starts again."""
    policy.require(actor, "webhook.manage", endpoint)
    endpoint = _locked(endpoint)
    if endpoint.is_active:
        raise TransitionError(ENABLED_ALREADY)
    previous = endpoint.disabled_reason
    endpoint.is_active, endpoint.disabled_at, endpoint.disabled_automatically = True, None, False
    endpoint.disabled_reason, endpoint.consecutive_failures, endpoint.failing_since = "", 0, None
    endpoint.save()
    _record(actor, "webhook.enabled", endpoint, {"was": previous})
    return endpoint


@transaction.atomic
def webhook_delete(*, actor, endpoint: WebhookEndpoint) -> None:
    policy.require(actor, "webhook.manage", endpoint)
    endpoint = _locked(endpoint)
    _record(actor, "webhook.deleted", endpoint, {"url": endpoint.url})
    endpoint.delete()


@transaction.atomic
def webhook_send_test(*, actor, endpoint: WebhookEndpoint) -> WebhookDelivery:
    """A signed test delivery in the shape of a feed event (type ``webhook.test``, ``seq`` null)."""
    policy.require(actor, "webhook.manage", endpoint)
    endpoint = _locked(endpoint)
    if not endpoint.is_active:
        raise TransitionError(TEST_NEEDS_ENABLED)
    now = timezone.now()
    item = {
        "seq": None,
        "id": str(uuid.uuid4()),
        "type": TEST_EVENT,
        "occurred_at": now.isoformat().replace("+00:00", "Z"),
        "resource": {"type": "webhook", "id": str(endpoint.pk), "url": None},
        "consortium": None,
        "tombstone": False,
        "data": {"message": "A test delivery from JointCred: your endpoint is reachable and checks signatures."},
    }
    delivery = _deliveries(endpoint_bodies=[(endpoint, None, TEST_EVENT, _body(item))], now=now)[0]
    _record(actor, "webhook.test_sent", endpoint, {"delivery": str(delivery.pk)})
    return delivery


# --- Deliveries ---------------------------------------------------------------------------------------------------


def _body(item: Mapping[str, Any]) -> str:
    return json.dumps(item, ensure_ascii=False, separators=(",", ":"))


def _deliveries(*, endpoint_bodies, now) -> list[WebhookDelivery]:
    from .tasks import webhook_deliver

    created = WebhookDelivery.objects.bulk_create([
        WebhookDelivery(endpoint=endpoint, event=event, event_type=event_type, body=body, next_attempt_at=now)
        for endpoint, event, event_type, body in endpoint_bodies
    ])
    for delivery in created:
        webhook_deliver.delay_on_commit(str(delivery.pk))
    return created


def fan_out(event: FeedEvent, institution_ids: Iterable[str]) -> list[WebhookDelivery]:
    """One delivery per active endpoint of the audience that subscribes to the event's type (``feed.record``)."""
    from .feed import as_item

    endpoints = [e for e in WebhookEndpoint.objects.filter(is_active=True, institution_id__in=list(institution_ids))
                 if event.event_type in e.event_types]
    if not endpoints:
        return []
    body = _body(as_item(event))
    return _deliveries(endpoint_bodies=[(e, event, event.event_type, body) for e in endpoints], now=timezone.now())


def backoff(attempt: int) -> dt.timedelta:
    """The wait after failed attempt number ``attempt`` (1-based): 1, 2, 4 … minutes, at most an hour."""
    return dt.timedelta(seconds=min(BACKOFF_BASE * 2 ** min(attempt - 1, 20), BACKOFF_CAP))


def _headers(delivery: WebhookDelivery, secrets_now: list[str], body: bytes) -> dict[str, str]:
    timestamp = int(time.time())  # the receiver's clock judges it: always the real time of sending
    return {
        "Content-Type": "application/json",
        "User-Agent": "JointCred-Webhooks/1",
        "X-JointCred-Event": delivery.event_type,
        "X-JointCred-Delivery": str(delivery.pk),
        "X-JointCred-Timestamp": str(timestamp),
        "X-JointCred-Signature": ", ".join(signature(secret, timestamp, body) for secret in secrets_now),
    }


def _should_disable(endpoint: WebhookEndpoint, delivery: WebhookDelivery, now: dt.datetime) -> bool:
    """Too many failures in a row; or failing for ``WEBHOOK_DISABLE_AFTER``; or a delivery gave up after its whole
    retry window (a day) without one successful attempt to the endpoint in the meantime."""
    if endpoint.consecutive_failures >= settings.WEBHOOK_DISABLE_AFTER_FAILURES:
        return True
    if endpoint.failing_since is None:
        return False
    if now - endpoint.failing_since >= dt.timedelta(seconds=settings.WEBHOOK_DISABLE_AFTER):
        return True
    return delivery.status == DeliveryStatus.FAILED and endpoint.failing_since <= delivery.first_attempt_at


def _disable_automatically(endpoint: WebhookEndpoint, now: dt.datetime, last_error: str) -> None:
    from .tasks import webhook_notify_disabled

    endpoint.is_active, endpoint.disabled_at, endpoint.disabled_automatically = False, now, True
    endpoint.disabled_reason = (_(
        "Disabled automatically on %(when)s: every delivery attempt failed since %(since)s (%(n)s in a row; the "
        "last: %(error)s). Fix the receiver, then enable the endpoint again; catch up on missed events from the "
        "events feed.") % {"when": timezone.localtime(now).strftime("%Y-%m-%d %H:%M"),
                           "since": timezone.localtime(endpoint.failing_since or now).strftime("%Y-%m-%d %H:%M"),
                           "n": endpoint.consecutive_failures, "error": last_error})[:500]
    endpoint.save()
    cancelled = _cancel_pending(endpoint, now)
    _record(None, "webhook.disabled", endpoint, {"automatically": True, "consecutive_failures":
                                                 endpoint.consecutive_failures, "cancelled_deliveries": cancelled})
    webhook_notify_disabled.delay_on_commit(str(endpoint.pk))


def delivery_attempt(*, delivery_id, now: dt.datetime | None = None) -> WebhookAttempt | None:
    """Send one attempt of a due delivery and log it; None when the delivery is not due or is someone else's now.

    ``now`` is the moment of the attempt (the tests move it; the retry schedule follows it)."""
    now = now or timezone.now()
    claimed = WebhookDelivery.objects.filter(pk=delivery_id, status=DeliveryStatus.PENDING,
                                             next_attempt_at__lte=now).update(next_attempt_at=now + LEASE,
                                                                              updated_at=now)
    if not claimed:
        return None
    delivery = WebhookDelivery.objects.select_related("endpoint").get(pk=delivery_id)
    if not delivery.endpoint.is_active:
        _cancel_pending(delivery.endpoint, now)
        return None
    body = delivery.body.encode()
    try:
        secrets_now = signing_secrets(delivery.endpoint, now)
    except DomainError as exc:  # a key-encryption key that was rotated away: logged like any failed attempt
        answer = Answer(None, 0, exc.message)
    else:
        answer = post(delivery.endpoint.url, body, _headers(delivery, secrets_now, body))
    with transaction.atomic():
        endpoint = _locked(delivery.endpoint)
        delivery = WebhookDelivery.objects.select_for_update().get(pk=delivery.pk)
        delivery.attempts += 1
        delivery.first_attempt_at = delivery.first_attempt_at or now
        delivery.last_status_code, delivery.last_error = answer.status_code, answer.error
        error = answer.error or (_("HTTP %(status)s") % {"status": answer.status_code})
        if answer.ok:
            delivery.status, delivery.completed_at, delivery.next_attempt_at = DeliveryStatus.SUCCEEDED, now, None
            endpoint.consecutive_failures, endpoint.failing_since, endpoint.last_success_at = 0, None, now
        else:
            retry_at = now + backoff(delivery.attempts)
            if retry_at > delivery.first_attempt_at + dt.timedelta(seconds=settings.WEBHOOK_RETRY_FOR):
                delivery.status, delivery.completed_at, delivery.next_attempt_at = DeliveryStatus.FAILED, now, None
            else:
                delivery.next_attempt_at = retry_at
            endpoint.consecutive_failures += 1
            endpoint.failing_since = endpoint.failing_since or now
        attempt = WebhookAttempt.objects.create(
            delivery=delivery, number=delivery.attempts, started_at=now, duration_ms=answer.duration_ms,
            status_code=answer.status_code, error=answer.error, succeeded=answer.ok)
        delivery.save()
        endpoint.save(update_fields=["consecutive_failures", "failing_since", "last_success_at", "updated_at"])
        if not answer.ok and endpoint.is_active and _should_disable(endpoint, delivery, now):
            _disable_automatically(endpoint, now, error)
    return attempt


def deliveries_due(*, now: dt.datetime | None = None, limit: int = 500) -> list[str]:
    """The deliveries whose attempt is due (retries, and first attempts whose message was lost), oldest first."""
    now = now or timezone.now()
    return [str(pk) for pk in WebhookDelivery.objects.filter(
        status=DeliveryStatus.PENDING, next_attempt_at__lte=now, endpoint__is_active=True,
    ).order_by("next_attempt_at").values_list("pk", flat=True)[:limit]]


def administrators_emails(endpoint: WebhookEndpoint) -> list[str]:
    from .models import Role, RoleAssignment

    return sorted(set(RoleAssignment.objects.filter(
        role=Role.INSTITUTION_ADMIN, institution_id=endpoint.institution_id, target_id__isnull=True,
        user__is_active=True,
    ).values_list("user__email", flat=True)))
