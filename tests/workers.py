"""Real Celery worker processes against the test database: the ``worker_process`` fixture (tests/conftest.py) and
the worker-scaling benchmark (tests/benchmarks/scaling.py) start them the same way.

A worker is ``python -m celery -A consortium worker`` with the production settings (``consortium.settings``) pointed
at the test database (``DATABASE_URL``), sharing the test process's issuer-key encryption key and demo seals
(``worker_env``), on a queue of its own.
"""

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from django.db import connection

from consortium.celery import app as celery_app

ROOT = Path(__file__).resolve().parents[1]


def database_url() -> str:
    """The URL of the database this process uses (the test database), for a worker; empty unless PostgreSQL."""
    s = connection.settings_dict
    if s["ENGINE"] != "django.db.backends.postgresql":
        return ""
    auth = s["USER"] + (f":{s['PASSWORD']}" if s["PASSWORD"] else "")
    return f"postgres://{auth}@{s['HOST'] or '127.0.0.1'}:{s['PORT'] or 5432}/{s['NAME']}"


def unavailable_reason() -> str:
    """Why a real worker cannot run here ("" when it can): it needs a Redis broker and a PostgreSQL test database
    that a second process can share."""
    if not os.environ.get("REDIS_URL", ""):
        return "REDIS_URL is not set: no broker for a real worker (CI sets it)"
    if not database_url():
        return "the test database is not PostgreSQL, so a worker process cannot share it (CI uses PostgreSQL)"
    return ""


def _redis_url_with_db(url: str, db: int) -> str:
    return urlunsplit(urlsplit(url)._replace(path=f"/{db}"))


def workers_redis_url() -> str:
    """The real workers' own Redis database: ``REDIS_URL``'s number + 8 (mod 16), or ``TEST_WORKER_REDIS_DB``.

    Apart from the test process's cache (on ``REDIS_URL``), so purging a test's queue or a worker's restored messages
    touches nothing else, and apart from a development worker that may be consuming ``REDIS_URL``."""
    url = os.environ["REDIS_URL"]
    db = os.environ.get("TEST_WORKER_REDIS_DB") or (int(urlsplit(url).path.strip("/") or 0) + 8) % 16
    return _redis_url_with_db(url, int(db))


def reset_celery_connections() -> None:
    """Close the test process's broker connections, forget its result backend: the next use follows ``app.conf``."""
    from kombu import pools

    pools.reset()
    celery_app._pool = None
    if "amqp" in celery_app.__dict__:
        celery_app.amqp._producer_pool = None
    celery_app._backend_cache = None
    celery_app._local.__dict__.pop("backend", None)


def worker_env(*, database_url: str, encryption_key: str, seal_dir: Path | str) -> dict[str, str]:
    """The environment of a worker process on the test database: production settings, the test process's
    issuer-key encryption key (``CREDENTIAL_KEY_ENCRYPTION_KEY``) and demo seals (``SEAL_DIR``), so both sign and
    check the same material."""
    return {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "consortium.settings",
        "DJANGO_SECRET_KEY": "worker-test-secret",
        "DATABASE_URL": database_url,
        "EMAIL_URL": "dummymail://",
        "DB_CONN_MAX_AGE": "0",
        "CREDENTIAL_KEY_ENCRYPTION_KEY": encryption_key,
        "SEAL_DEMO_AUTO": "true",
        "SEAL_DIR": str(seal_dir),
    }


class Workers:
    """Real Celery worker processes consuming one queue, for the test that holds ``worker_process`` (or a benchmark).

    ``start()`` one (solo pool by default, or ``pool="prefork"`` with ``concurrency`` pool processes, one by
    default), ``kill()`` it (SIGKILL: no warm shutdown, no chance to hand its message back), ``start()`` the next on
    the same queue. From its creation on, this process's Celery app sends through the same broker (``broker_url``)
    and routes every task without a queue (``delay_on_commit`` after an award, the sweep) to ``queue``; it is no
    longer eager. ``render_delay``: the first render sleeps that long, its process id in ``render_marker``
    (tests/worker_hooks.py).
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
        reset_celery_connections()

    def start(self, *, pool: str = "solo", env: dict[str, str] | None = None, render_delay: float = 0,
              max_tasks_per_child: int | None = None, concurrency: int = 1) -> subprocess.Popen:
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
            args.append(f"--concurrency={concurrency}")
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
