"""A real Celery worker process, fed through Redis, working on the test database."""

import os
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
from django.db import connection

from consortium.celery import app as celery_app
from consortium.models import AuditEvent, Via
from consortium.tasks import agreement_notify_signatories

from ..factories import AgreementPartyFactory, ContactFactory

ROOT = Path(__file__).resolve().parents[2]
pytestmark = [pytest.mark.celery_worker, pytest.mark.django_db(transaction=True)]


def _database_url() -> str:
    s = connection.settings_dict
    if s["ENGINE"] != "django.db.backends.postgresql":
        return ""
    auth = s["USER"] + (f":{s['PASSWORD']}" if s["PASSWORD"] else "")
    return f"postgres://{auth}@{s['HOST'] or '127.0.0.1'}:{s['PORT'] or 5432}/{s['NAME']}"


@pytest.fixture
def worker(settings):
    redis_url = os.environ.get("REDIS_URL", "")
    database_url = _database_url()
    reason = ""
    if not redis_url:
        reason = "REDIS_URL is not set: no broker for a real worker (CI sets it)"
    elif not database_url:
        reason = "the test database is not PostgreSQL, so a worker process cannot share it (CI uses PostgreSQL)"
    if reason:
        if os.environ.get("CI"):
            pytest.fail(f"The real-worker test must run in CI: {reason}")
        pytest.skip(reason)

    queue = f"test-{uuid.uuid4().hex[:8]}"
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "consortium.settings",
        "DJANGO_SECRET_KEY": "worker-test-secret",
        "DATABASE_URL": database_url,
        "REDIS_URL": redis_url,
        "EMAIL_URL": "dummymail://",
        "DB_CONN_MAX_AGE": "0",
    }
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "consortium",
            "worker",
            "-Q",
            queue,
            "--pool=solo",
            "--without-gossip",
            "--without-mingle",
            "--without-heartbeat",
            "--loglevel=INFO",
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    previous = celery_app.conf.task_always_eager
    celery_app.conf.task_always_eager = False
    try:
        yield queue
    finally:
        celery_app.conf.task_always_eager = previous
        process.terminate()
        try:
            output, _ = process.communicate(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            output, _ = process.communicate()
        print(output[-4000:])


def test_worker_runs_a_task_through_redis(worker):
    party = AgreementPartyFactory()
    ContactFactory(institution=party.institution, service="legal")
    ContactFactory(institution=party.institution, service="marketing")  # not a signatory contact

    result = agreement_notify_signatories.apply_async(args=[str(party.version_id)], queue=worker)
    assert result.get(timeout=90) == 1  # the result travelled back through Redis

    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        event = AuditEvent.objects.filter(
            action="agreement.signatories_notified", object_id=str(party.version_id)
        ).first()
        if event:
            break
        time.sleep(0.5)
    assert event is not None, "the worker did not record its work in the test database"
    assert event.via == Via.TASK
    assert event.changes == {"emails": 1}
