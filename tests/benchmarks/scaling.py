"""Worker scaling benchmark: `make bench` (60 awards) / `make bench-full` (BENCH_FULL=1: BENCH_N awards, default 200).

Needs PostgreSQL (``DATABASE_URL``) and Redis (``REDIS_URL``): real Celery worker processes render the documents, and
they share the bench's throw-away test database (tests/workers.py starts them as the tests' ``worker_process`` does).

1. builds a cohort (``certificates._cohort``) and awards it without enqueuing (certificate + supplement each);
2. run 1: one worker, ``--pool=prefork --concurrency=1``; run 2: one worker, ``--concurrency=2``. Production runs one
   prefork worker per container with ``--concurrency`` pool processes (docker-compose.yml's and the Makefile's
   ``worker``, 2 by default), so only the number of pool processes changes between the runs;
3. each run: the worker is started, each pool process is warmed up (fonts, templates, connections: a long-running
   worker has done that), the documents are reset to queued (the credentials' signed copies and status entries too,
   so both runs do the same work), then every document is sent as the award's commit sends it and the clock runs
   until the last one is rendered (its ``rendered_at``).

Prints wall time and documents/s for 1 and 2 pool processes, the speed-up (target ≥ 1.6), the CPU seconds of each
worker process, of this process, of PostgreSQL and of Redis during each run, the machine's idle CPU, row-lock waits
seen in PostgreSQL, and the peak RSS of each pool process (target ≤ 400 MB). Linux only (/proc).
"""

from __future__ import annotations

import os
import re
import resource
import shutil
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

from tests.benchmarks.certificates import _cohort
from tests.benchmarks.common import require_services, setup_django, test_database

QUICK_AWARDS = 60
WARMUP_AWARDS = 2  # 4 documents rendered before the clock starts: 2 per pool process with 2
SPEED_UP_TARGET = 1.6
RSS_TARGET_MB = 400
TICK = os.sysconf("SC_CLK_TCK")
POLL_S = 0.5  # this process shares the 2 CPUs with the workers: it polls lightly
TREE_EVERY = 20  # polls between two scans of /proc for the worker's pool processes (replaced ones included)
TIMEOUT_S = 1800


# --- /proc accounting -------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Proc:
    comm: str
    ppid: int
    ticks: int  # CPU: utime + stime, plus cutime + cstime of the children it has reaped
    title: str = ""  # a PostgreSQL backend's process title: "postgres: 15/main: <user> <database> <client> <state>"


def _processes() -> dict[int, Proc]:
    found = {}
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            raw = Path(entry.path, "stat").read_text()
        except OSError:  # gone meanwhile
            continue
        comm = raw[raw.index("(") + 1:raw.rindex(")")]
        fields = raw[raw.rindex(")") + 2:].split()  # fields[0] is the state (field 3 of proc(5))
        title = ""
        if comm == "postgres":
            try:
                title = Path(entry.path, "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
            except OSError:
                continue
        found[int(entry.name)] = Proc(comm, int(fields[1]), sum(int(f) for f in fields[11:15]), title)
    return found


def _descendants(processes: dict[int, Proc], root: int) -> list[int]:
    tree, frontier = [], [root]
    while frontier:
        pid = frontier.pop()
        tree.append(pid)
        frontier += [child for child, p in processes.items() if p.ppid == pid]
    return tree


def _ticks_named(processes: dict[int, Proc], comm: str) -> int:
    """Every process of that name: the server's exited backends are in their parent's reaped-children CPU."""
    return sum(p.ticks for p in processes.values() if p.comm == comm)


def _backend_ticks(processes: dict[int, Proc], database: str) -> dict[int, int]:
    """The PostgreSQL backends connected to ``database`` (the workers' and this process's connections)."""
    return {pid: p.ticks for pid, p in processes.items()
            if p.comm == "postgres" and f" {database} " in f"{p.title} "}


def _system_ticks() -> tuple[int, int, int]:
    """(busy, idle, steal) CPU ticks of the whole machine since boot (/proc/stat; guest time is inside user time).
    Steal: time the hypervisor gave this virtual machine's CPUs to someone else."""
    user, nice, system, idle, iowait, irq, softirq, steal = (
        int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:9])
    return user + nice + system + irq + softirq, idle + iowait, steal


def _peak_rss_mb(pid: int) -> float:
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return 0.0
    match = re.search(r"^VmHWM:\s+(\d+) kB", status, re.M)
    return int(match.group(1)) / 1024 if match else 0.0


@dataclass
class Sample:
    processes: dict[int, Proc]
    busy: int
    idle: int
    steal: int
    own_cpu: float

    @classmethod
    def now(cls) -> Sample:
        usage = resource.getrusage(resource.RUSAGE_SELF)
        busy, idle, steal = _system_ticks()
        return cls(_processes(), busy, idle, steal, usage.ru_utime + usage.ru_stime)


@dataclass
class Run:
    processes: int
    documents: int
    wall_s: float
    pool_cpu_s: dict[int, float]
    main_cpu_s: float
    own_cpu_s: float
    postgres_cpu_s: float
    database_cpu_s: float
    redis_cpu_s: float
    busy_s: float
    idle_s: float
    steal_s: float
    peak_rss_mb: dict[int, float]
    main_rss_mb: float
    per_process: list[int]
    lock_samples: int = 0
    samples: int = 0
    failed: list[str] = field(default_factory=list)

    @property
    def docs_per_s(self) -> float:
        return self.documents / self.wall_s

    @property
    def other_cpu_s(self) -> float:
        return max(0.0, self.busy_s - sum(self.pool_cpu_s.values()) - self.main_cpu_s - self.own_cpu_s
                   - self.postgres_cpu_s - self.redis_cpu_s)


# --- Documents ----------------------------------------------------------------------------------------------------


def _reset(edition) -> None:
    """Every document of the edition queued again, its credential unsigned and without a status entry, as issued."""
    from certification.models import Credential, Document, DocumentStatus, StatusEntry, StatusList

    Document.objects.filter(credential__award__enrolment__edition=edition).update(
        status=DocumentStatus.QUEUED, file="", sha256="", error="", attempts=0, rendered_at=None, seal_fingerprint="")
    StatusEntry.objects.filter(credential__award__enrolment__edition=edition).delete()
    StatusList.objects.update(next_index=0)
    Credential.objects.filter(award__enrolment__edition=edition).update(signed_json=None, signed_jwt="")


def _send(document_ids: list[str]) -> None:
    """What the award's commit sends for each document (``RenderTask.send_or_log``), but raising on a broker error."""
    from certification.tasks import render_document

    for document_id in document_ids:
        render_document.apply_async(args=[document_id], **render_document.send_options)


def _pending(document_ids: list[str]) -> int:
    from certification.models import Document, DocumentStatus

    return Document.objects.filter(pk__in=document_ids).exclude(
        status__in=[DocumentStatus.READY, DocumentStatus.FAILED]).count()


def _lock_waiters() -> int:
    """Backends of this database waiting for a lock (a row lock two renders contend for) right now."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                       "AND wait_event_type = 'Lock'")
        return cursor.fetchone()[0]


def _wait(workers, document_ids: list[str], on_poll=None) -> None:
    deadline = time.monotonic() + TIMEOUT_S
    while _pending(document_ids):
        if not workers.running:
            raise SystemExit(f"The worker exited:\n{workers.output()[-3000:]}")
        if time.monotonic() > deadline:
            raise SystemExit(f"Not rendered within {TIMEOUT_S} s:\n{workers.output()[-3000:]}")
        if on_poll:
            on_poll()
        time.sleep(POLL_S)


def _wait_ready(workers, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while " ready." not in workers.output():
        if not workers.running or time.monotonic() > deadline:
            raise SystemExit(f"The worker did not start:\n{workers.output()[-3000:]}")
        time.sleep(0.1)


def _tasks_per_process(log: str, since: int) -> list[int]:
    """Renders that succeeded per pool process (ForkPoolWorker-N), from the worker's log after offset ``since``."""
    counts: dict[str, int] = {}
    for name in re.findall(r"/(ForkPoolWorker-\d+)\] Task certification\.tasks\.render_document\[[^\]]+\] "
                           r"succeeded", log[since:]):
        counts[name] = counts.get(name, 0) + 1
    return [counts[name] for name in sorted(counts)]


def _measure(workers, *, processes: int, edition, warmup: list[str], measured: list[str]) -> Run:
    from django.db import connection

    from certification.models import Document, DocumentStatus

    workers.start(pool="prefork", concurrency=processes)
    try:
        _wait_ready(workers)
        _reset(edition)
        _send(warmup)
        _wait(workers, warmup)
        log_offset = len(workers.output())
        main_pid = workers.process.pid
        peaks: dict[int, float] = {}
        locks = {"samples": 0, "waiting": 0}
        tree: list[int] = []

        def poll(rescan: bool = False) -> None:
            if rescan or locks["samples"] % TREE_EVERY == 0:
                tree[:] = _descendants(_processes(), main_pid)
            for pid in tree:
                peaks[pid] = max(peaks.get(pid, 0.0), _peak_rss_mb(pid))
            locks["samples"] += 1
            locks["waiting"] += bool(_lock_waiters())

        before = Sample.now()
        sent_at = time.time()
        _send(measured)
        _wait(workers, measured, poll)
        after = Sample.now()
        poll(rescan=True)
        rendered = Document.objects.filter(pk__in=measured)
        last = max(d.rendered_at for d in rendered if d.rendered_at).timestamp()
        failed = [d.error for d in rendered if d.status == DocumentStatus.FAILED]
        # The log lines of the last renders may trail their commit by a moment.
        time.sleep(0.5)
        per_process = _tasks_per_process(workers.output(), log_offset)
    finally:
        workers.stop()

    def cpu(pid: int) -> float:
        start = before.processes.get(pid)
        end = after.processes.get(pid)
        return ((end.ticks if end else 0) - (start.ticks if start else 0)) / TICK

    database = connection.settings_dict["NAME"]
    backends_before = _backend_ticks(before.processes, database)
    backends_after = _backend_ticks(after.processes, database)
    children = [pid for pid in _descendants(after.processes, main_pid) if pid != main_pid]
    return Run(
        processes=processes, documents=len(measured), wall_s=last - sent_at,
        pool_cpu_s={pid: cpu(pid) for pid in children}, main_cpu_s=cpu(main_pid),
        own_cpu_s=after.own_cpu - before.own_cpu,
        postgres_cpu_s=(_ticks_named(after.processes, "postgres") - _ticks_named(before.processes, "postgres")) / TICK,
        redis_cpu_s=(_ticks_named(after.processes, "redis-server")
                     - _ticks_named(before.processes, "redis-server")) / TICK,
        database_cpu_s=sum(ticks - backends_before.get(pid, 0) for pid, ticks in backends_after.items()) / TICK,
        busy_s=(after.busy - before.busy) / TICK, idle_s=(after.idle - before.idle) / TICK,
        steal_s=(after.steal - before.steal) / TICK,
        peak_rss_mb={pid: peaks.get(pid, 0.0) for pid in children}, main_rss_mb=peaks.get(main_pid, 0.0),
        per_process=per_process, lock_samples=locks["waiting"], samples=locks["samples"], failed=failed)


def run(n: int) -> dict:
    from cryptography.fernet import Fernet
    from django.conf import settings
    from django.db import transaction

    from certification import services
    from certification.models import Document
    from certification.tasks import render_document
    from certification.vc import keys, seal, status
    from tests.workers import Workers, database_url, reset_celery_connections, worker_env

    scratch = Path(tempfile.mkdtemp(prefix="bench-scaling-"))
    encryption_key = Fernet.generate_key().decode()
    settings.CREDENTIAL_KEY_ENCRYPTION_KEY = [encryption_key]
    settings.SEAL_DIR = scratch / "seals"

    started = time.perf_counter()
    edition, board, enrolments = _cohort(n + WARMUP_AWARDS)
    from unittest import mock

    with mock.patch.object(render_document, "delay_on_commit"):
        awards = [services.award_decide(actor=board, enrolment=enrolment) for enrolment in enrolments]
    issuer = awards[0].issuing_institution
    # What the first render would make: the demo seal (two processes making it at once would each write a key),
    # the issuer's signing key and its status list, made once here so that both runs do the same work.
    seal.ensure_demo_seal(issuer)
    keys.ensure_key(issuer)
    with transaction.atomic():
        status._locked_list(issuer.pk)
    ids = [str(pk) for pk in Document.objects.filter(credential__award__enrolment__edition=edition)
           .order_by("credential__issued_at", "-kind").values_list("pk", flat=True)]  # as each award sends them
    warmup, measured = ids[:WARMUP_AWARDS * 2], ids[WARMUP_AWARDS * 2:]
    setup = time.perf_counter() - started

    env = worker_env(database_url=database_url(), encryption_key=encryption_key, seal_dir=settings.SEAL_DIR)
    env.update({
        "MEDIA_ROOT": str(scratch / "media"), "PRIVATE_MEDIA_ROOT": str(scratch / "private"),
        # Production's persistent connections (the tests' workers reconnect per task so a test can drop its
        # database at once; here the workers have stopped before the database is dropped).
        "DB_CONN_MAX_AGE": os.environ.get("DB_CONN_MAX_AGE", "60"),
    })
    log_dir = scratch / "workers"
    log_dir.mkdir()
    saved = {key: render_document.app.conf[key] for key in
             ("broker_url", "result_backend", "task_always_eager", "task_default_queue")}
    workers = Workers(queue=f"bench-{uuid.uuid4().hex[:8]}", broker_url=os.environ["REDIS_URL"], env=env,
                      log_dir=log_dir)
    load = Path("/proc/loadavg").read_text().split()[:3]
    try:
        runs = [_measure(workers, processes=p, edition=edition, warmup=warmup, measured=measured) for p in (1, 2)]
    except BaseException:
        print(workers.output()[-4000:], file=sys.stderr)
        raise
    finally:
        workers.stop()
        workers.purge()
        render_document.app.conf.update(saved)
        reset_celery_connections()
        shutil.rmtree(scratch, ignore_errors=True)
    return {"awards": n, "setup_s": setup, "runs": runs, "load": load, "queue": workers.queue,
            "max_tasks_per_child": settings.CELERY_WORKER_MAX_TASKS_PER_CHILD}


def _report(figures: dict, vendor: str) -> None:
    one, two = figures["runs"]
    speed_up = two.docs_per_s / one.docs_per_s
    cores = os.cpu_count() or 1

    def cpus(run: Run) -> str:
        values = sorted(run.pool_cpu_s.values())
        total = sum(values)
        return f"{total:6.1f} s" + (f" ({' + '.join(f'{v:.1f}' for v in values)})" if len(values) > 1 else "")

    def rss(run: Run) -> str:
        return " / ".join(f"{v:.0f}" for v in sorted(run.peak_rss_mb.values())) + " MB"

    def row(label: str, value) -> None:
        print(f"  {label:<30}{value(one):<26}{value(two)}")

    print(f"Worker scaling benchmark — {one.documents} documents ({figures['awards']} awards: certificate + "
          f"supplement), {vendor}, Redis queue {figures['queue']}")
    print(f"  one Celery worker, prefork pool (as docker-compose.yml's `worker`, --concurrency=2), warmed up with "
          f"{WARMUP_AWARDS * 2} renders; {cores} CPUs, load average {' '.join(figures['load'])} before the runs")
    print(f"  {'':<30}{'--concurrency=1':<26}--concurrency=2")
    row("wall time", lambda r: f"{r.wall_s:6.1f} s")
    row("throughput", lambda r: f"{r.docs_per_s:6.2f} documents/s")
    row("documents per pool process", lambda r: " / ".join(str(c) for c in r.per_process))
    row("CPU, pool processes", cpus)
    row("CPU per document", lambda r: f"{sum(r.pool_cpu_s.values()) / r.documents * 1000:6.0f} ms")
    row("CPU, worker main process", lambda r: f"{r.main_cpu_s:6.1f} s")
    row("CPU, this process (send, poll)", lambda r: f"{r.own_cpu_s:6.1f} s")
    row("CPU, PostgreSQL: this database", lambda r: f"{r.database_cpu_s:6.1f} s")
    row("CPU, PostgreSQL: all processes", lambda r: f"{r.postgres_cpu_s:6.1f} s")
    row("CPU, Redis", lambda r: f"{r.redis_cpu_s:6.1f} s")
    row("CPU, everything else (others)", lambda r: f"{r.other_cpu_s:6.1f} s")
    row("machine busy / idle / stolen", lambda r: f"{r.busy_s / r.wall_s:4.2f} / {r.idle_s / r.wall_s:4.2f} / "
                                                  f"{r.steal_s / r.wall_s:4.2f} cores")
    row("cores: pool / everything else", lambda r: f"{sum(r.pool_cpu_s.values()) / r.wall_s:4.2f} / "
                                                 f"{r.other_cpu_s / r.wall_s:4.2f}")
    row("polls with a lock wait", lambda r: f"{r.lock_samples} of {r.samples}")
    row("peak RSS per pool process", rss)
    row("peak RSS, worker main process", lambda r: f"{r.main_rss_mb:.0f} MB")
    verdict = "met" if speed_up >= SPEED_UP_TARGET else "MISSED"
    print(f"  speed-up                      {speed_up:4.2f}× with 2 pool processes (target ≥ {SPEED_UP_TARGET}: "
          f"{verdict})")
    print(f"  what limits it                {_diagnosis(one, two, cores)}")
    print(f"  bound from CPU alone          {_cpu_bound(one, two, cores):4.2f}× (estimate: what the measured CPU per "
          f"document allows with {cores} CPUs free for the worker, PostgreSQL, Redis and this process)")
    worst = max(max(r.peak_rss_mb.values(), default=0) for r in figures["runs"])
    limit = figures["max_tasks_per_child"]
    most = max(max(r.per_process, default=0) for r in figures["runs"]) + WARMUP_AWARDS * 2
    replaced = "none was in these runs" if not limit or most < limit else "some were during these runs"
    print(f"  peak RSS per pool process     {worst:4.0f} MB at most (target ≤ {RSS_TARGET_MB}: "
          f"{'met' if worst <= RSS_TARGET_MB else 'MISSED'}); CELERY_WORKER_MAX_TASKS_PER_CHILD = {limit} (a pool "
          f"process is replaced after that many tasks: {replaced}, at most {most} tasks per process)")
    print(f"  cohort setup                  {figures['setup_s']:4.1f} s (not part of the figures above)")
    for run_ in figures["runs"]:
        if run_.failed:
            print(f"  FAILED: {len(run_.failed)} documents with --concurrency={run_.processes}: {run_.failed[0]}")


def _cpu_bound(one: Run, two: Run, cores: int) -> float:
    """The speed-up the measured CPU costs allow on an otherwise idle machine: one pool process renders serially;
    two are bound by their own CPU per document or by the machine's CPUs shared with everything a render needs."""
    def per_document(run: Run) -> tuple[float, float]:
        pool = sum(run.pool_cpu_s.values()) / run.documents
        overhead = (run.main_cpu_s + run.own_cpu_s + run.database_cpu_s + run.redis_cpu_s) / run.documents
        return pool, pool + overhead

    pool_one, _ = per_document(one)
    pool_two, total_two = per_document(two)
    return min(two.processes / pool_two, cores / total_two) / (1 / pool_one)


def _diagnosis(one: Run, two: Run, cores: int) -> str:
    """Why two pool processes are not twice as fast, from the second run's figures."""
    pool_cores = sum(two.pool_cpu_s.values()) / two.wall_s
    idle, others = two.idle_s / two.wall_s, two.other_cpu_s / two.wall_s
    cost = (sum(two.pool_cpu_s.values()) / two.documents) / (sum(one.pool_cpu_s.values()) / one.documents)
    if idle < 0.15 * cores:
        return (f"the CPUs: busy all along ({idle:.2f} cores idle), the 2 pool processes got {pool_cores:.2f} cores; "
                f"everything else took {others:.2f}, stolen {two.steal_s / two.wall_s:.2f}; a document cost "
                f"{cost:.2f}× the CPU of the 1-process run")
    if two.samples and two.lock_samples > 0.2 * two.samples:
        return (f"waiting: {idle:.2f} cores idle while renders waited for row locks in {two.lock_samples} of "
                f"{two.samples} polls")
    return (f"waiting, not CPU: {idle:.2f} cores idle, the pool processes got {pool_cores:.2f} cores "
            f"(no row-lock waits seen: look at the broker, prefetching or I/O)")


def main() -> None:
    require_services("real worker processes cannot share an in-memory SQLite test database")
    setup_django()
    full = os.environ.get("BENCH_FULL") == "1"
    n = int(os.environ.get("BENCH_N", "200")) if full else QUICK_AWARDS
    with test_database() as connection:
        figures = run(n)
    _report(figures, connection.vendor)
    if any(r.failed for r in figures["runs"]):
        sys.exit(1)


if __name__ == "__main__":
    main()
