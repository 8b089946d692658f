import ipaddress
import json
import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pytest
from django.db import connection
from rest_framework.test import APIClient

from consortium import policy
from consortium.celery import app as celery_app
from consortium.services import apitoken_create

from .factories import (
    ConsortiumFactory,
    InstitutionFactory,
    MembershipFactory,
    RoleAssignmentFactory,
    StaffFactory,
    UserFactory,
)


class NetworkBlocked(OSError):
    """The tests reach nothing but this machine: PostgreSQL, Redis, live test servers and workers on loopback."""


def _loopback(host) -> bool:
    if host in ("localhost", ""):
        return True
    try:
        return ipaddress.ip_address(str(host).split("%")[0]).is_loopback
    except ValueError:
        return False


@pytest.fixture(autouse=True, scope="session")
def _no_network():
    """Every connection to a non-loopback address fails (before any packet is sent), so a test that would reach
    the network (a JSON-LD context, a did:web resolution, a font, a CDN) fails loudly instead."""
    real_connect, real_connect_ex = socket.socket.connect, socket.socket.connect_ex

    def check(sock, address):
        if sock.family in (socket.AF_INET, socket.AF_INET6) and not _loopback(address[0]):
            raise NetworkBlocked(f"Network access to {address[0]!r} is blocked in the tests (loopback only).")

    def connect(sock, address):
        check(sock, address)
        return real_connect(sock, address)

    def connect_ex(sock, address):
        check(sock, address)
        return real_connect_ex(sock, address)

    socket.socket.connect, socket.socket.connect_ex = connect, connect_ex
    try:
        yield
    finally:
        socket.socket.connect, socket.socket.connect_ex = real_connect, real_connect_ex


@pytest.fixture(autouse=True)
def _private_media(settings, tmp_path):
    """Every test writes files to its own folders."""
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.PRIVATE_MEDIA_ROOT = tmp_path / "private"
    settings.SEAL_DIR = tmp_path / "seals"
    settings.STORAGES = {
        **settings.STORAGES,
        "private": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": tmp_path / "private", "base_url": None},
        },
    }
    # pytest-django's ``settings`` fires setting_changed, which resets Django's storage handler.


@pytest.fixture(autouse=True)
def _clear_cache():
    from django.core.cache import cache

    cache.clear()


@pytest.fixture
def world(db):
    """Two consortia: A (lead UA, partner UB, associated employer EA) and B (lead UC).

    Each university has an institution admin, a student admin and a plain staff member; consortium A
    has a consortium admin at UA.
    """
    ua = InstitutionFactory(short_name="UA", country="BE")
    ub = InstitutionFactory(short_name="UB", country="ES")
    uc = InstitutionFactory(short_name="UC", country="NL")
    ea = InstitutionFactory(short_name="EA", country="DE", kind="employer", erasmus_code="", pic="", schac_code="")
    ca = ConsortiumFactory(acronym="CA")
    cb = ConsortiumFactory(acronym="CB")
    MembershipFactory(consortium=ca, institution=ua, role="lead")
    MembershipFactory(consortium=ca, institution=ub, role="partner")
    MembershipFactory(consortium=ca, institution=ea, role="associated")
    MembershipFactory(consortium=cb, institution=uc, role="lead")

    people = {}
    for inst in (ua, ub, uc):
        people[f"{inst.short_name}_admin"] = StaffFactory(institution=inst).user
        RoleAssignmentFactory(user=people[f"{inst.short_name}_admin"], role="institution_admin", institution=inst)
        people[f"{inst.short_name}_students"] = StaffFactory(institution=inst).user
        RoleAssignmentFactory(user=people[f"{inst.short_name}_students"], role="student_admin", institution=inst)
        people[f"{inst.short_name}_staff"] = StaffFactory(institution=inst).user
    people["CA_admin"] = StaffFactory(institution=ua).user
    RoleAssignmentFactory(user=people["CA_admin"], role="consortium_admin", consortium=ca)
    people["learner"] = UserFactory()
    people["superuser"] = UserFactory(is_superuser=True, is_staff=True)

    class World:
        pass

    w = World()
    w.ua, w.ub, w.uc, w.ea, w.ca, w.cb = ua, ub, uc, ea, ca, cb
    w.people = people
    return w


@pytest.fixture
def api_client():
    return APIClient()


@pytest.fixture
def token_client(db):
    """``token_client(institution, scopes)`` → an APIClient authenticated with a fresh token."""

    def make(institution, scopes=None):
        _token, key = apitoken_create(
            actor=None,
            institution=institution,
            name=f"test-{institution.short_name}",
            scopes=scopes or policy.api_scopes(),
            check_policy=False,
        )
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
        client.token = _token
        return client

    return make


ROOT = Path(__file__).resolve().parents[1]


def _database_url() -> str:
    s = connection.settings_dict
    if s["ENGINE"] != "django.db.backends.postgresql":
        return ""
    auth = s["USER"] + (f":{s['PASSWORD']}" if s["PASSWORD"] else "")
    return f"postgres://{auth}@{s['HOST'] or '127.0.0.1'}:{s['PORT'] or 5432}/{s['NAME']}"


def _redis_url_with_db(url: str, db: int) -> str:
    return urlunsplit(urlsplit(url)._replace(path=f"/{db}"))


def workers_redis_url() -> str:
    """The real workers' own Redis database: ``REDIS_URL``'s number + 8 (mod 16), or ``TEST_WORKER_REDIS_DB``.

    Apart from the test process's cache (on ``REDIS_URL``), so purging a test's queue or a worker's restored messages
    touches nothing else, and apart from a development worker that may be consuming ``REDIS_URL``."""
    url = os.environ["REDIS_URL"]
    db = os.environ.get("TEST_WORKER_REDIS_DB") or (int(urlsplit(url).path.strip("/") or 0) + 8) % 16
    return _redis_url_with_db(url, int(db))


def _reset_celery_connections() -> None:
    """Close the test process's broker connections, forget its result backend: the next use follows ``app.conf``."""
    from kombu import pools

    pools.reset()
    celery_app._pool = None
    if "amqp" in celery_app.__dict__:
        celery_app.amqp._producer_pool = None
    celery_app._backend_cache = None
    celery_app._local.__dict__.pop("backend", None)


class Workers:
    """Real Celery worker processes consuming one queue, for the test that holds ``worker_process``.

    ``start()`` one (solo pool by default, or ``pool="prefork"`` with one child), ``kill()`` it (SIGKILL: no warm
    shutdown, no chance to hand its message back), ``start()`` the next on the same queue. While the fixture is
    active the test process's Celery app sends through the same broker (``broker_url``) and routes every task
    without a queue (``delay_on_commit`` after an award, the sweep) to ``queue``; it is no longer eager.
    ``render_delay``: the first render sleeps that long, its process id in ``render_marker`` (tests/worker_hooks.py).
    """

    def __init__(self, *, queue: str, broker_url: str, env: dict[str, str], log_dir: Path) -> None:
        self.queue, self.env, self.log_dir = queue, env, log_dir
        self.render_marker = log_dir / "rendering.pid"
        self.process: subprocess.Popen | None = None
        self.count = 0
        self.brokers: set[str] = set()
        self.use_broker(broker_url)

    def use_broker(self, broker_url: str) -> None:
        """Send through ``broker_url`` from now on (test process and workers started later), e.g. a private Redis."""
        self.broker_url = broker_url
        self.brokers.add(broker_url)
        celery_app.conf.update(broker_url=broker_url, result_backend=broker_url, task_always_eager=False,
                               task_default_queue=self.queue)
        _reset_celery_connections()

    def start(self, *, pool: str = "solo", env: dict[str, str] | None = None, render_delay: float = 0,
              max_tasks_per_child: int | None = None) -> subprocess.Popen:
        assert not self.running, "this test's previous worker still runs: kill() or stop() it first"
        self.count += 1
        env = {**self.env, "REDIS_URL": self.broker_url, **(env or {})}
        entry = ["-m", "celery"]
        if render_delay:
            entry = ["-m", "tests.worker_hooks"]
            env.update(TEST_WORKER_RENDER_DELAY=str(render_delay), TEST_WORKER_RENDER_MARKER=str(self.render_marker))
        args = [sys.executable, *entry, "-A", "consortium", "worker", "-Q", self.queue, f"--pool={pool}",
                f"--hostname={self.queue}-{self.count}@%h", "--without-gossip", "--without-mingle",
                "--without-heartbeat", "--loglevel=INFO"]
        if pool == "prefork":
            args.append("--concurrency=1")
        if max_tasks_per_child:
            args.append(f"--max-tasks-per-child={max_tasks_per_child}")
        with open(self.log_dir / f"worker-{self.count}.log", "w") as log:  # the child keeps its own descriptor
            self.process = subprocess.Popen(args, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
        return self.process

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def rendering_pid(self, timeout: float = 60) -> int:
        """The process id of the process in the delayed first render (``render_delay``), once it is in it."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.render_marker.exists() and (text := self.render_marker.read_text()):
                return int(text)
            assert self.running, f"the worker exited:\n{self.output()[-3000:]}"
            time.sleep(0.05)
        raise AssertionError(f"no render started within {timeout} s:\n{self.output()[-3000:]}")

    def kill(self, pid: int | None = None) -> None:
        """SIGKILL the worker, or ``pid`` (one of its pool processes: the worker itself goes on)."""
        assert self.process is not None
        os.kill(pid or self.process.pid, signal.SIGKILL)
        if pid in (None, self.process.pid):
            self.process.wait(timeout=10)

    def stop(self) -> None:
        """Warm shutdown (SIGTERM), SIGKILL if it does not end in 20 s."""
        if not self.running:
            return
        self.process.terminate()
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=10)

    def output(self) -> str:
        return "".join(f"--- {log.name}\n{log.read_text(errors='replace')}" for log in
                       sorted(self.log_dir.glob("worker-*.log")))

    def purge(self) -> None:
        """Drop what is left of this test's queue: waiting messages, and delivered ones a killed worker never acked."""
        import redis

        for url in self.brokers:
            try:
                client = redis.Redis.from_url(url, socket_connect_timeout=2, socket_timeout=5)
                for key in client.scan_iter(match=f"*{self.queue}*"):
                    client.delete(key)
                for tag, raw in client.hscan_iter("unacked"):
                    if self.queue in json.loads(raw)[1:]:  # [message, exchange, routing key]
                        client.hdel("unacked", tag)
                        client.zrem("unacked_index", tag)
            except redis.ConnectionError:
                continue  # a private Redis that is gone already


@pytest.fixture
def worker_process(settings, tmp_path):
    """A :class:`Workers` for this test's own queue on the workers' Redis database (none started yet)."""
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

    from cryptography.fernet import Fernet

    encryption_key = Fernet.generate_key().decode()
    settings.CREDENTIAL_KEY_ENCRYPTION_KEY = [encryption_key]
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "consortium.settings",
        "DJANGO_SECRET_KEY": "worker-test-secret",
        "DATABASE_URL": database_url,
        "EMAIL_URL": "dummymail://",
        "DB_CONN_MAX_AGE": "0",
        # Issuer keys and demo seals shared with this test process, so both sign and check the same material.
        "CREDENTIAL_KEY_ENCRYPTION_KEY": encryption_key,
        "SEAL_DEMO_AUTO": "true",
        "SEAL_DIR": str(settings.SEAL_DIR),
    }
    log_dir = tmp_path / "workers"
    log_dir.mkdir()
    saved = {key: celery_app.conf[key] for key in
             ("broker_url", "result_backend", "task_always_eager", "task_default_queue")}
    workers = Workers(queue=f"test-{uuid.uuid4().hex[:8]}", broker_url=workers_redis_url(), env=env,
                      log_dir=log_dir)
    # This process is the client of a real worker here, so it may wait for results (Celery's "never call
    # result.get() within a task" guard is a process-wide flag that an earlier eager call can leave set).
    from celery.result import allow_join_result

    try:
        with allow_join_result():
            yield workers
    finally:
        workers.stop()
        workers.purge()
        celery_app.conf.update(saved)
        _reset_celery_connections()
        print(workers.output()[-6000:])


@pytest.fixture
def worker(worker_process):
    """One real worker (solo pool) on this test's queue; the queue's name."""
    worker_process.start()
    return worker_process.queue
