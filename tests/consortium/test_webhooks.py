"""Webhooks (consortium/webhooks.py): signed deliveries to a receiver on 127.0.0.1 that fails on purpose, retries on a
controlled clock, the delivery log, automatic disabling, the refusal of private targets (SSRF), and the pages.

The receiver is a tiny ``http.server`` in a thread on a free port; tests run attempts directly
(``webhooks.delivery_attempt(now=...)``) and move ``now`` instead of sleeping through the backoff.
"""

from __future__ import annotations

import datetime as dt
import json
import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from django.core import mail
from django.core.exceptions import PermissionDenied, ValidationError
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from consortium import feed, webhooks
from consortium.models import AuditEvent, DeliveryStatus, WebhookAttempt, WebhookDelivery, WebhookEndpoint

from ..admissions.test_services import who

pytestmark = pytest.mark.django_db
API = "/api/v1"


class Receiver:
    """Answers the statuses of ``plan`` in turn (then 200) and keeps every request it got."""

    def __init__(self):
        self.plan: list = []
        self.requests: list[dict] = []
        self.delay = 0.0
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                receiver.requests.append({"path": self.path, "headers": dict(self.headers), "body": body})
                if receiver.delay:
                    time.sleep(receiver.delay)
                status = receiver.plan.pop(0) if receiver.plan else 200
                self.send_response(status)
                if 300 <= status < 400:
                    self.send_header("Location", f"http://127.0.0.1:{receiver.port}/elsewhere")
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hooks/jointcred"

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver():
    r = Receiver()
    yield r
    r.close()


@pytest.fixture
def endpoint(world, receiver):
    """UB's endpoint for decided applications and paid invoices, with its secret."""
    ep, secret = webhooks.webhook_create(actor=who(world, "UB_admin"), institution=world.ub, url=receiver.url,
                                         event_types=["application.decided", "invoice.paid"],
                                         description="SIS")
    ep.secret = secret
    return ep


def _decided(world, resource_id="app-1", audience=None):
    return feed.record("application.decided", resource_type="application", resource_id=resource_id,
                       consortium_id=world.ca.pk, institution_ids=audience or [world.ub.pk, world.ua.pk],
                       data={"status": "admitted"})


def _delivery(event) -> WebhookDelivery:
    return WebhookDelivery.objects.get(event=event)


#: The moment of the first attempt: a little after the deliveries are made (set for each test).
T0: dt.datetime


@pytest.fixture(autouse=True)
def _clock():
    global T0
    T0 = timezone.now().replace(microsecond=0) + dt.timedelta(minutes=1)


def _attempt(delivery, at):
    return webhooks.delivery_attempt(delivery_id=delivery.pk, now=at)


# --- Signed deliveries --------------------------------------------------------------------------------------------


def test_a_delivery_is_the_feed_item_signed_with_the_endpoint_secret(world, endpoint, receiver, token_client):
    event = _decided(world)
    attempt = _attempt(_delivery(event), T0)
    assert attempt.succeeded and attempt.status_code == 200 and attempt.number == 1
    [request] = receiver.requests
    headers, body = request["headers"], request["body"]
    assert request["path"] == "/hooks/jointcred"
    assert headers["X-JointCred-Event"] == "application.decided"
    assert headers["X-JointCred-Delivery"] == str(_delivery(event).pk)
    assert headers["Content-Type"] == "application/json"
    timestamp = headers["X-JointCred-Timestamp"]
    assert abs(int(timestamp) - time.time()) < 60
    assert headers["X-JointCred-Signature"] == webhooks.signature(endpoint.secret, timestamp, body)
    assert webhooks.verify(endpoint.secret, timestamp=timestamp, signature_header=headers["X-JointCred-Signature"],
                           body=body)
    # The body is the feed's item for the event, byte for byte the shape the API serves.
    served = token_client(world.ub).get(f"{API}/events/").json()["results"]
    assert json.loads(body) == served[0] == feed.as_item(event)


def test_a_receiver_refuses_a_replay_a_forgery_and_a_wrong_secret(world, endpoint, receiver):
    _attempt(_delivery(_decided(world)), T0)
    [request] = receiver.requests
    headers, body = request["headers"], request["body"]
    signed = {"timestamp": headers["X-JointCred-Timestamp"], "signature_header": headers["X-JointCred-Signature"]}
    assert webhooks.verify(endpoint.secret, body=body, **signed)
    assert not webhooks.verify(endpoint.secret, body=body, now=time.time() + 301, **signed)  # replayed later
    assert not webhooks.verify(endpoint.secret, body=body + b" ", **signed)  # altered body
    assert not webhooks.verify("whsec_wrong", body=body, **signed)
    assert not webhooks.verify(endpoint.secret, body=body, timestamp="soon", signature_header="v1=00")


def test_the_secret_is_stored_encrypted_and_shown_once(world, endpoint, client):
    stored = WebhookEndpoint.objects.get(pk=endpoint.pk)
    assert stored.secret_encrypted.startswith("gAAAA") and endpoint.secret not in stored.secret_encrypted
    assert webhooks.secret_of(stored) == endpoint.secret and endpoint.secret.startswith("whsec_")
    client.force_login(world.people["UB_admin"])
    page = client.get(reverse("webhook-detail", args=[endpoint.pk])).content.decode()
    assert endpoint.secret not in page and stored.secret_prefix in page


def test_a_rotated_secret_signs_beside_the_previous_one_until_the_overlap_ends(world, endpoint, receiver, settings):
    settings.WEBHOOK_SECRET_OVERLAP = 3600
    old = endpoint.secret
    rotated, new = webhooks.webhook_rotate_secret(actor=who(world, "UB_admin"), endpoint=endpoint, now=T0)
    assert new != old and new.startswith("whsec_") and rotated.secret_prefix == new[:10]
    assert rotated.previous_secret_until == T0 + dt.timedelta(hours=1)
    assert old not in rotated.previous_secret_encrypted and new not in rotated.secret_encrypted

    _attempt(_delivery(_decided(world, "app-during")), T0 + dt.timedelta(minutes=5))
    headers, body = receiver.requests[-1]["headers"], receiver.requests[-1]["body"]
    timestamp, header = headers["X-JointCred-Timestamp"], headers["X-JointCred-Signature"]
    assert header == ", ".join((webhooks.signature(new, timestamp, body), webhooks.signature(old, timestamp, body)))
    # A receiver still on the old secret, and one already on the new, both accept it.
    assert webhooks.verify(old, timestamp=timestamp, signature_header=header, body=body)
    assert webhooks.verify(new, timestamp=timestamp, signature_header=header, body=body)

    _attempt(_delivery(_decided(world, "app-after")), T0 + dt.timedelta(hours=1, seconds=1))
    headers, body = receiver.requests[-1]["headers"], receiver.requests[-1]["body"]
    timestamp, header = headers["X-JointCred-Timestamp"], headers["X-JointCred-Signature"]
    assert header == webhooks.signature(new, timestamp, body)
    assert not webhooks.verify(old, timestamp=timestamp, signature_header=header, body=body)
    assert AuditEvent.objects.filter(action="webhook.secret_rotated", object_id=str(endpoint.pk)).count() == 1


def test_the_guides_receiver_check_accepts_both_signatures_during_a_rotation(world, endpoint, receiver):
    import re
    from pathlib import Path

    guide = (Path(__file__).resolve().parents[2] / "docs" / "integration.md").read_text(encoding="utf-8")
    [snippet] = [b for b in re.findall(r"^```python\n(.*?)^```", guide, re.S | re.M) if "def verify" in b]
    namespace: dict = {}
    exec(snippet, namespace)  # noqa: S102  (our own documentation's code, checked here)
    old = endpoint.secret
    _ep, new = webhooks.webhook_rotate_secret(actor=who(world, "UB_admin"), endpoint=endpoint, now=T0)
    _attempt(_delivery(_decided(world)), T0)
    headers, body = receiver.requests[-1]["headers"], receiver.requests[-1]["body"]
    assert namespace["verify"](old, headers, body) and namespace["verify"](new, headers, body)
    assert not namespace["verify"]("whsec_wrong", headers, body)


def test_rotating_again_drops_the_oldest_secret(world, endpoint, receiver):
    first = endpoint.secret
    _ep, second = webhooks.webhook_rotate_secret(actor=who(world, "UB_admin"), endpoint=endpoint, now=T0)
    ep, third = webhooks.webhook_rotate_secret(actor=who(world, "UB_admin"), endpoint=endpoint, now=T0)
    assert webhooks.signing_secrets(ep, T0) == [third, second] and first not in webhooks.signing_secrets(ep, T0)


def test_the_administrator_rotates_from_the_endpoint_page_and_sees_the_new_secret_once(world, endpoint, client):
    with pytest.raises(PermissionDenied):
        webhooks.webhook_rotate_secret(actor=who(world, "UA_admin"), endpoint=endpoint)
    client.force_login(world.people["UB_admin"])
    assert "Rotate the secret" in client.get(reverse("webhook-detail", args=[endpoint.pk])).content.decode()
    answer = client.post(reverse("webhook-rotate-secret", args=[endpoint.pk]))
    page = answer.content.decode()
    stored = WebhookEndpoint.objects.get(pk=endpoint.pk)
    new = webhooks.secret_of(stored)
    assert answer.status_code == 200 and "New signing secret" in page and new in page and new != endpoint.secret
    detail = client.get(reverse("webhook-detail", args=[endpoint.pk])).content.decode()
    assert new not in detail and "The previous secret also signs deliveries until" in detail
    client.force_login(world.people["UA_admin"])  # another institution's administrator
    assert client.post(reverse("webhook-rotate-secret", args=[endpoint.pk])).status_code == 404
    assert webhooks.secret_of(WebhookEndpoint.objects.get(pk=endpoint.pk)) == new


def test_only_subscribed_active_endpoints_of_the_audience_get_a_delivery(world, endpoint, receiver):
    webhooks.webhook_create(actor=who(world, "UC_admin"), institution=world.uc, url=receiver.url,
                            event_types=["application.decided"])
    assert WebhookDelivery.objects.filter(event=_decided(world)).count() == 1  # UB's, not UC's (not in the audience)
    other_type = feed.record("award.issued", resource_id="a", consortium_id=None, institution_ids=[world.ub.pk])
    assert not WebhookDelivery.objects.filter(event=other_type).exists()
    webhooks.webhook_disable(actor=who(world, "UB_admin"), endpoint=endpoint)
    assert not WebhookDelivery.objects.filter(event=_decided(world, "app-2")).exists()


def test_the_first_attempt_is_sent_after_commit(world, endpoint, receiver, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        event = _decided(world)
    assert len(callbacks) == 1 and len(receiver.requests) == 1  # the eager task ran once the decision committed
    assert _delivery(event).status == DeliveryStatus.SUCCEEDED


# --- Retries, the log, and disabling -------------------------------------------------------------------------------


def test_failures_are_retried_with_backoff_and_logged_until_one_succeeds(world, endpoint, receiver):
    receiver.plan = [500, 503]
    delivery = _delivery(_decided(world))
    first = _attempt(delivery, T0)
    assert (first.status_code, first.succeeded) == (500, False)
    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.PENDING and delivery.next_attempt_at == T0 + dt.timedelta(minutes=1)
    assert _attempt(delivery, T0 + dt.timedelta(seconds=30)) is None  # not due yet: nothing sent
    assert webhooks.deliveries_due(now=T0 + dt.timedelta(seconds=30)) == []
    assert webhooks.deliveries_due(now=T0 + dt.timedelta(seconds=61)) == [str(delivery.pk)]
    second = _attempt(delivery, T0 + dt.timedelta(seconds=61))
    assert second.status_code == 503
    delivery.refresh_from_db()
    assert delivery.next_attempt_at == T0 + dt.timedelta(seconds=61 + 120)  # 1, 2, 4 … minutes
    third = _attempt(delivery, T0 + dt.timedelta(seconds=181))
    assert third.succeeded and third.number == 3
    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.SUCCEEDED and delivery.attempts == 3
    assert [a.status_code for a in WebhookAttempt.objects.filter(delivery=delivery).order_by("number")] == [
        500, 503, 200]
    ids = {r["headers"]["X-JointCred-Delivery"] for r in receiver.requests}
    assert ids == {str(delivery.pk)} and len(receiver.requests) == 3  # one delivery id: receivers drop repeats
    endpoint.refresh_from_db()
    assert endpoint.consecutive_failures == 0 and endpoint.failing_since is None and endpoint.last_success_at


def test_backoff_doubles_up_to_an_hour():
    assert [webhooks.backoff(n).total_seconds() for n in range(1, 9)] == [
        60, 120, 240, 480, 960, 1920, 3600, 3600]


def test_a_claimed_attempt_is_not_sent_twice(world, endpoint, receiver):
    delivery = _delivery(_decided(world))
    WebhookDelivery.objects.filter(pk=delivery.pk).update(next_attempt_at=T0 + webhooks.LEASE)  # another has it
    assert _attempt(delivery, T0) is None and receiver.requests == []


def test_a_delivery_failing_for_a_day_gives_up_and_the_endpoint_is_disabled(
        world, endpoint, receiver, settings, django_capture_on_commit_callbacks):
    receiver.plan = [500] * 100
    delivery = _delivery(_decided(world))
    pending = _delivery(_decided(world, "app-2"))
    at, attempts = T0, 0
    with django_capture_on_commit_callbacks(execute=True):
        while True:
            assert _attempt(delivery, at) is not None
            attempts += 1
            delivery.refresh_from_db()
            if delivery.status != DeliveryStatus.PENDING:
                break
            at = delivery.next_attempt_at
    assert delivery.status == DeliveryStatus.FAILED
    assert at - T0 <= dt.timedelta(hours=24) and at - T0 > dt.timedelta(hours=22)
    assert 25 <= attempts <= 35  # 1, 2, 4 … 32, 60, 60 … minutes over a day
    endpoint.refresh_from_db()
    assert not endpoint.is_active and endpoint.disabled_automatically and "HTTP 500" in endpoint.disabled_reason
    pending.refresh_from_db()
    assert pending.status == DeliveryStatus.CANCELLED  # nothing more is sent to it
    assert AuditEvent.objects.filter(action="webhook.disabled", object_id=str(endpoint.pk)).exists()
    [email] = [m for m in mail.outbox if "Webhook disabled" in m.subject]
    assert email.to == [world.people["UB_admin"].email] and endpoint.url in email.body


def test_many_failures_in_a_row_disable_sooner_and_an_administrator_enables_again(world, endpoint, receiver,
                                                                                 settings, client):
    settings.WEBHOOK_DISABLE_AFTER_FAILURES = 3
    receiver.plan = [500, 500, 500]
    for i in range(3):
        _attempt(_delivery(_decided(world, f"app-{i}")), T0 + dt.timedelta(seconds=i))
    endpoint.refresh_from_db()
    assert not endpoint.is_active and endpoint.consecutive_failures == 3
    client.force_login(world.people["UB_admin"])
    page = client.get(reverse("webhook-detail", args=[endpoint.pk])).content.decode()
    assert "disabled automatically" in page and "HTTP 500" in page
    response = client.post(reverse("webhook-enable", args=[endpoint.pk]))
    assert response.status_code == 302
    endpoint.refresh_from_db()
    assert endpoint.is_active and endpoint.consecutive_failures == 0 and not endpoint.disabled_reason
    assert _attempt(_delivery(_decided(world, "app-9")), T0 + dt.timedelta(minutes=5)).succeeded


def test_redirects_are_not_followed(world, endpoint, receiver):
    receiver.plan = [302]
    attempt = _attempt(_delivery(_decided(world)), T0)
    assert attempt.status_code == 302 and not attempt.succeeded and "Redirects are not followed" in attempt.error
    assert len(receiver.requests) == 1  # /elsewhere was never asked


def test_a_slow_receiver_times_out(world, endpoint, receiver, settings):
    settings.WEBHOOK_READ_TIMEOUT = 0.3
    receiver.delay = 1.0
    attempt = _attempt(_delivery(_decided(world)), T0)
    assert attempt.status_code is None and "timed out" in attempt.error.lower()
    assert attempt.duration_ms < 1000


def test_a_closed_port_is_a_logged_error(world, endpoint, receiver):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    WebhookEndpoint.objects.filter(pk=endpoint.pk).update(url=f"http://127.0.0.1:{port}/")
    attempt = _attempt(_delivery(_decided(world)), T0)
    assert attempt.status_code is None and "Connection" in attempt.error


# --- Where deliveries may go (SSRF) ---------------------------------------------------------------------------------


@pytest.mark.parametrize("url", [
    "http://hooks.example.org/x",  # not https
    "ftp://hooks.example.org/x",
    "https://10.0.0.7/x",
    "https://192.168.1.20/x",
    "https://172.16.0.1/x",
    "https://169.254.169.254/latest/meta-data/",  # cloud metadata
    "https://[fd00::1]/x",
    "https://[::ffff:10.0.0.1]/x",
    "https://0.0.0.0/x",
    "https://user:secret@hooks.example.org/x",
])
def test_private_and_non_https_targets_are_refused(url):
    with pytest.raises(ValidationError):
        webhooks.validate_url(url)


def test_loopback_is_allowed_only_when_the_setting_says_so(settings):
    webhooks.validate_url("http://127.0.0.1:8080/x")
    webhooks.validate_url("https://localhost/x")
    settings.WEBHOOK_ALLOW_LOOPBACK = False
    for url in ("http://127.0.0.1:8080/x", "https://127.0.0.1/x", "https://localhost/x", "https://[::1]/x"):
        with pytest.raises(ValidationError):
            webhooks.validate_url(url)
    webhooks.validate_url("https://hooks.example.org/x")  # a public name: checked again, resolved, when sending


def test_a_name_that_resolves_to_a_private_address_is_refused_when_sending(world, endpoint, receiver, monkeypatch):
    """DNS rebinding: the address was public when registered and points inside now; nothing is sent."""
    WebhookEndpoint.objects.filter(pk=endpoint.pk).update(url="https://hooks.example.org/jointcred")
    monkeypatch.setattr(webhooks.socket, "getaddrinfo",
                        lambda *a, **k: [(socket.AF_INET, socket.SOCK_STREAM, 6, "", ("10.1.2.3", 443))])
    connects = []
    monkeypatch.setattr(webhooks.socket, "create_connection", lambda *a, **k: connects.append(a))
    attempt = _attempt(_delivery(_decided(world)), T0)
    assert not attempt.succeeded and "10.1.2.3" in attempt.error and "Refused" in attempt.error
    assert connects == [] and receiver.requests == []


def test_the_connection_goes_to_the_checked_address(world, endpoint, receiver, monkeypatch):
    """The name is resolved once; the socket connects to that address (a second lookup could differ)."""
    WebhookEndpoint.objects.filter(pk=endpoint.pk).update(url=f"http://localhost:{receiver.port}/pinned")
    looked_up = []

    def getaddrinfo(host, port, *args, **kwargs):
        looked_up.append(host)
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", ("127.0.0.1", port))]

    monkeypatch.setattr(webhooks.socket, "getaddrinfo", getaddrinfo)
    attempt = _attempt(_delivery(_decided(world)), T0)
    assert attempt.succeeded and receiver.requests[0]["headers"]["Host"] == f"localhost:{receiver.port}"
    assert looked_up.count("localhost") == 1 and set(looked_up) <= {"localhost", "127.0.0.1"}


def test_an_endpoint_with_a_private_address_cannot_be_registered(world):
    with pytest.raises(ValidationError) as refused:
        webhooks.webhook_create(actor=who(world, "UB_admin"), institution=world.ub, url="https://10.0.0.1/",
                                event_types=["award.issued"])
    assert "url" in refused.value.message_dict


# --- The administrators' pages and the read-only API ----------------------------------------------------------------


def test_an_administrator_registers_an_endpoint_and_sees_the_secret_once(world, client, receiver):
    client.force_login(world.people["UB_admin"])
    assert client.get(reverse("webhook-create")).status_code == 200
    response = client.post(reverse("webhook-create"), {
        "institution": world.ub.pk, "url": receiver.url, "description": "SIS",
        "event_types": ["application.decided", "enrolment.created"]})
    assert response.status_code == 200
    endpoint = WebhookEndpoint.objects.get(institution=world.ub)
    secret = webhooks.secret_of(endpoint)
    assert secret in response.content.decode()
    assert endpoint.event_types == ["application.decided", "enrolment.created"]
    listing = client.get(reverse("webhook-list")).content.decode()
    assert receiver.url in listing and secret not in listing
    refused = client.post(reverse("webhook-create"), {"institution": world.ub.pk, "url": "http://example.org/",
                                                      "event_types": ["award.issued"]})
    assert refused.status_code == 200 and "https://" in refused.content.decode()
    assert WebhookEndpoint.objects.count() == 1


def test_an_administrator_edits_tests_disables_and_deletes(world, client, endpoint, receiver,
                                                           django_capture_on_commit_callbacks):
    client.force_login(world.people["UB_admin"])
    detail = reverse("webhook-detail", args=[endpoint.pk])
    edited = client.post(reverse("webhook-update", args=[endpoint.pk]), {
        "url": receiver.url + "/v2", "description": "SIS v2", "event_types": ["credential.revoked"]})
    assert edited.status_code == 302
    endpoint.refresh_from_db()
    assert endpoint.url.endswith("/v2") and endpoint.event_types == ["credential.revoked"]
    with django_capture_on_commit_callbacks(execute=True):
        assert client.post(reverse("webhook-test", args=[endpoint.pk])).status_code == 302
    [request] = receiver.requests
    assert request["headers"]["X-JointCred-Event"] == "webhook.test"
    assert json.loads(request["body"])["type"] == "webhook.test"
    log = client.get(detail).content.decode()
    assert "webhook.test" in log and ">200<" in log and " ms" in log
    assert client.post(reverse("webhook-disable", args=[endpoint.pk])).status_code == 302
    endpoint.refresh_from_db()
    assert not endpoint.is_active and not endpoint.disabled_automatically
    assert "This endpoint is disabled." in client.get(detail).content.decode()
    assert client.post(reverse("webhook-delete", args=[endpoint.pk])).status_code == 302
    assert not WebhookEndpoint.objects.filter(pk=endpoint.pk).exists()
    actions = set(AuditEvent.objects.filter(object_id=str(endpoint.pk)).values_list("action", flat=True))
    assert {"webhook.created", "webhook.updated", "webhook.test_sent", "webhook.disabled", "webhook.deleted"} <= actions


def test_other_people_cannot_see_or_touch_the_endpoint(world, endpoint):
    for person, expected in (("UC_admin", 404), ("UB_students", 404), ("UB_staff", 404)):
        client = Client()
        client.force_login(world.people[person])
        assert client.get(reverse("webhook-detail", args=[endpoint.pk])).status_code == expected, person
        assert client.post(reverse("webhook-delete", args=[endpoint.pk])).status_code == expected, person
    uc_admin = Client()
    uc_admin.force_login(world.people["UC_admin"])
    assert endpoint.url not in uc_admin.get(reverse("webhook-list")).content.decode()
    assert WebhookEndpoint.objects.filter(pk=endpoint.pk).exists()


def test_the_api_lists_the_institutions_endpoints_read_only(world, endpoint, token_client):
    api = token_client(world.ub)
    [item] = api.get(f"{API}/webhooks/").json()["results"]
    assert item["url"] == endpoint.url and item["event_types"] == ["application.decided", "invoice.paid"]
    assert "secret" not in json.dumps(item).replace("secret_hint", "") and item["secret_hint"] == endpoint.secret_prefix
    other = token_client(world.uc)
    assert other.get(f"{API}/webhooks/").json()["results"] == []
    assert other.get(f"{API}/webhooks/{endpoint.pk}/").status_code == 404
    assert api.post(f"{API}/webhooks/", {"url": "https://x.example/"}, format="json").status_code in (403, 405)


def test_a_secret_that_cannot_be_decrypted_is_a_logged_failure(world, endpoint, receiver):
    WebhookEndpoint.objects.filter(pk=endpoint.pk).update(secret_encrypted="gAAAAnot-a-token")
    attempt = _attempt(_delivery(_decided(world)), T0)
    assert not attempt.succeeded and "decrypted" in attempt.error and receiver.requests == []
