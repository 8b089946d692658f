"""Faults: a worker killed mid-render, the broker down while a board awards, the database connection lost in the
middle of a request. Real processes (a Celery worker, a private redis-server), PostgreSQL and Redis (runs in CI).

What each proves:

* a worker SIGKILLed while it renders a certificate (the whole solo worker, or the prefork child) loses nothing and
  renders nothing twice: after Redis redelivers the unacknowledged message (``visibility_timeout``), after the pool
  rejects it back to the queue (``reject_on_worker_lost``), or when neither happens, after the sweep sends it again,
  the award has one document of each kind, each with one file whose SHA-256 is the stored one;
* with the broker down, awarding through the browser answers at once, the award and its documents are committed
  and shown "being prepared", and once Redis is back the sweep sends the renders and a worker renders them;
* a database connection dropped mid-transaction answers a 503 page that says nothing was saved, and nothing was.
"""

import hashlib
import posixpath
import shutil
import socket
import subprocess
import time
from collections import Counter
from datetime import timedelta

import psycopg2
import pytest
from django.db import OperationalError, connection
from django.test import RequestFactory
from django.urls import reverse

from certification import services
from certification.models import Award, BulkIssue, Credential, Document, DocumentStatus
from certification.tasks import documents_sweep, render_document
from consortium.models import AuditEvent
from consortium.views import server_error
from tests.benchmarks.certificates import _cohort

# Transactional: the worker process and the request's on-commit sends see committed rows only.
pytestmark = pytest.mark.django_db(transaction=True)


def wait_for(condition, *, timeout: float, workers=None, message: str = ""):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if value := condition():
            return value
        time.sleep(0.1)
    output = workers.output()[-4000:] if workers else ""
    raise AssertionError(f"{message} (waited {timeout} s)\n{output}")


def documents_of(award: Award) -> list[Document]:
    return list(Document.objects.filter(credential__award=award).order_by("kind"))


def all_ready(award: Award) -> bool:
    documents = documents_of(award)
    return bool(documents) and all(d.status == DocumentStatus.READY for d in documents)


def stored_files(document: Document) -> list[str]:
    """The files of this document's credential and kind in its storage folder (a second render would add one)."""
    storage, folder = document.file.storage, posixpath.dirname(document.file.name)
    prefix = f"{document.credential.credential_id}-{document.kind}-"
    return sorted(name for name in storage.listdir(folder)[1] if name.startswith(prefix))


def assert_rendered_once_each(award: Award) -> list[Document]:
    documents = documents_of(award)
    assert Counter(d.kind for d in documents) == {"certificate": 1, "supplement": 1}
    for document in documents:
        assert document.status == DocumentStatus.READY, (document.kind, document.status, document.error)
        with document.file.open("rb") as handle:
            content = handle.read()
        assert content.startswith(b"%PDF-") and hashlib.sha256(content).hexdigest() == document.sha256
        assert stored_files(document) == [posixpath.basename(document.file.name)]
    # Nothing is left for the sweep.
    assert services.documents_requeue_stale(older_than=timedelta(0)) == []
    return documents


# --- A worker killed mid-render ---------------------------------------------------------------------------------


@pytest.mark.celery_worker
@pytest.mark.parametrize("pool, recovery", [
    ("solo", "redelivery"),  # the whole worker dies; Redis redelivers the unacked message after visibility_timeout
    ("solo", "sweep"),  # ... and Redis does not within the test (the production timeout): the sweep sends it again
    ("prefork", "reject"),  # the pool child dies; the worker rejects the message back to the queue at once
])
def test_a_worker_killed_mid_render_renders_each_document_once(worker_process, pool, recovery):
    visibility = {"CELERY_VISIBILITY_TIMEOUT": "2" if recovery == "redelivery" else "3600",
                  "CELERY_UNACKED_RESTORE_INTERVAL": "1"}
    _edition, board, enrolments = _cohort(1)
    worker_process.start(pool=pool, env=visibility, render_delay=60)
    award = services.award_decide(actor=board, enrolment=enrolments[0])  # both renders sent after commit

    pid = worker_process.rendering_pid()
    killed = Document.objects.get(credential__award=award, status=DocumentStatus.RENDERING)
    worker_process.kill(pid)
    killed.refresh_from_db()
    assert (killed.status, killed.attempts, killed.file.name) == (DocumentStatus.RENDERING, 1, "")

    if pool == "solo":
        assert not worker_process.running
        worker_process.start(env=visibility)  # on the same queue
    if recovery == "sweep":
        other = Document.objects.filter(credential__award=award).exclude(pk=killed.pk).get()
        wait_for(lambda: Document.objects.get(pk=other.pk).status == DocumentStatus.READY, timeout=60,
                 workers=worker_process, message="the new worker did not render the waiting document")
        killed.refresh_from_db()
        assert killed.status == DocumentStatus.RENDERING  # not redelivered: its message sits unacknowledged
        assert documents_sweep.apply(kwargs={"older_than": 0}).get() == [str(killed.pk)]

    wait_for(lambda: all_ready(award), timeout=60, workers=worker_process,
             message="the documents of the award were not all rendered")
    documents = assert_rendered_once_each(award)
    assert {d.pk: d.attempts for d in documents} == {d.pk: 2 if d.pk == killed.pk else 1 for d in documents}


# --- The broker down while the board awards ---------------------------------------------------------------------


class PrivateRedis:
    """A redis-server of this test's own on a free loopback port (never the machine's Redis)."""

    def __init__(self, log_dir) -> None:
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = probe.getsockname()[1]
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.log = log_dir / "redis.log"
        self.process: subprocess.Popen | None = None

    def start(self) -> None:
        with open(self.log, "a") as log:
            self.process = subprocess.Popen(
                ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
                stdout=log, stderr=subprocess.STDOUT)
        wait_for(self.answers, timeout=10, message=f"redis-server did not start: {self.log.read_text()}")

    def answers(self) -> bool:
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=1) as sock:
                sock.sendall(b"PING\r\n")
                return sock.recv(16).startswith(b"+PONG")
        except OSError:
            return False

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=10)


@pytest.fixture
def private_redis(tmp_path):
    if not shutil.which("redis-server"):
        pytest.skip("redis-server is not installed")
    redis = PrivateRedis(tmp_path)
    redis.start()
    try:
        yield redis
    finally:
        redis.stop()


@pytest.mark.celery_worker
def test_with_the_broker_down_an_award_is_committed_and_rendered_once_it_is_back(
    private_redis, worker_process, client, caplog
):
    edition, board, enrolments = _cohort(1)
    worker_process.use_broker(private_redis.url)
    private_redis.stop()

    client.force_login(board)
    started = time.monotonic()
    response = client.post(reverse("award-edition-award", args=[edition.pk]), {"enrolment": str(enrolments[0].pk)},
                           follow=True)
    assert time.monotonic() - started < 5, "the request waited for the broker"
    assert response.status_code == 200
    assert "1 learner awarded; the documents are being rendered." in response.content.decode()
    award = Award.objects.get(enrolment=enrolments[0])
    assert [d.status for d in documents_of(award)] == [DocumentStatus.QUEUED] * 2
    assert sum("left queued for the sweep" in r.getMessage() for r in caplog.records) == 2
    page = client.get(reverse("award-detail", args=[award.pk])).content.decode()
    assert page.count("Being prepared") == 2

    private_redis.start()  # on the same port
    worker_process.start()
    assert sorted(documents_sweep.apply(kwargs={"older_than": 0}).get()) == sorted(
        str(d.pk) for d in documents_of(award))
    wait_for(lambda: all_ready(award), timeout=60, workers=worker_process,
             message="the swept documents were not rendered")
    documents = assert_rendered_once_each(award)
    assert [d.attempts for d in documents] == [1, 1]
    page = client.get(reverse("award-detail", args=[award.pk])).content.decode()
    assert page.count("Download (PDF)") == 2


# --- The database connection lost mid-request ------------------------------------------------------------------


@pytest.fixture
def postgresql():
    if connection.vendor != "postgresql":
        import os

        if os.environ.get("CI"):
            pytest.fail("The database fault test must run in CI (PostgreSQL)")
        pytest.skip("terminating a backend needs PostgreSQL")


def terminate_own_backend() -> None:
    """From a second connection, end this connection's PostgreSQL backend (as a restart or failover would)."""
    pid = connection.connection.get_backend_pid()
    s = connection.settings_dict
    other = psycopg2.connect(dbname=s["NAME"], user=s["USER"], password=s["PASSWORD"] or None,
                             host=s["HOST"] or "127.0.0.1", port=s["PORT"] or 5432)
    try:
        other.autocommit = True
        with other.cursor() as cursor:
            cursor.execute("SELECT pg_terminate_backend(%s)", [pid])

            def gone():
                cursor.execute("SELECT count(*) FROM pg_stat_activity WHERE pid = %s", [pid])
                return cursor.fetchone()[0] == 0

            wait_for(gone, timeout=10, message="the backend did not end")
    finally:
        other.close()


def test_a_connection_lost_mid_award_answers_503_and_saves_nothing(postgresql, client, monkeypatch):
    edition, board, enrolments = _cohort(1)
    real_record = services._record

    def record_then_lose_the_connection(actor, action, *args, **kwargs):
        real_record(actor, action, *args, **kwargs)
        if action == "credential.issued":  # award, credential, documents and two audit events written by now
            terminate_own_backend()

    monkeypatch.setattr(services, "_record", record_then_lose_the_connection)
    # Not rendered here (the award's renders would run in this process, eagerly, when the second award commits).
    monkeypatch.setattr(render_document.__class__, "delay_on_commit", lambda self, *args, **kwargs: None)
    client.force_login(board)
    url = reverse("award-edition-award", args=[edition.pk])
    response = client.post(url, {"enrolment": str(enrolments[0].pk)})

    assert response.status_code == 503 and response["Retry-After"] == "30"
    assert "nothing of it was saved" in response.content.decode()
    assert not Award.objects.exists() and not Credential.objects.exists() and not Document.objects.exists()
    assert not BulkIssue.objects.exists()
    assert not AuditEvent.objects.filter(action__in=["award.decided", "credential.issued"]).exists()

    # The next request works, and repeating the award is what the page asks for: it is awarded once.
    monkeypatch.setattr(services, "_record", real_record)
    assert client.post(url, {"enrolment": str(enrolments[0].pk)}).status_code == 302
    assert Award.objects.filter(enrolment=enrolments[0]).count() == 1


@pytest.mark.django_db  # overrides the module's transactional mark: nothing is written
def test_a_database_error_before_any_view_answers_the_503_page_too():
    request = RequestFactory().get("/programmes/")
    try:
        raise OperationalError("server closed the connection unexpectedly")
    except OperationalError:
        response = server_error(request)  # handler500, as Django calls it for an exception raised in a middleware
    assert response.status_code == 503 and response["Retry-After"] == "30"
    assert "temporarily unavailable" in response.content.decode()


# --- Any task, any event: a send that fails after the commit never fails the request -------------------------------


@pytest.mark.django_db
def test_a_task_whose_broker_is_down_is_logged_and_the_commit_stands(monkeypatch, caplog,
                                                                    django_capture_on_commit_callbacks):
    from kombu.exceptions import OperationalError

    from consortium.tasks import agreement_notify_signatories

    def refuse(*args, **kwargs):
        raise OperationalError("Error 111 connecting to 127.0.0.1:1. Connection refused.")

    monkeypatch.setattr(agreement_notify_signatories, "apply_async", refuse)
    with django_capture_on_commit_callbacks(execute=True):
        agreement_notify_signatories.delay_on_commit("00000000-0000-0000-0000-000000000000")
    assert any("broker is unreachable" in r.getMessage() and "agreement_notify_signatories" in r.getMessage()
               for r in caplog.records)


@pytest.mark.django_db
def test_a_failing_event_subscriber_is_logged_and_does_not_undo_or_fail_the_publisher(settings, caplog,
                                                                                    django_capture_on_commit_callbacks):
    from consortium import events

    settings.DOMAIN_EVENT_SUBSCRIBERS = {**settings.DOMAIN_EVENT_SUBSCRIBERS,
                                         "admissions.enrolled": ["tests.trust.test_faults.exploding_subscriber"]}
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        events.publish("admissions.enrolled", enrolment_id="e-1")
    assert len(callbacks) == 1
    assert any("exploding_subscriber" in r.getMessage() or "broker gone" in str(r.exc_info) for r in caplog.records)


def exploding_subscriber(**payload):
    raise ConnectionError("broker gone")
