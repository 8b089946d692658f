"""API load benchmark: `python -m tests.benchmarks.api_load` (needs DATABASE_URL (PostgreSQL) and REDIS_URL).

1. In a throw-away test database on that PostgreSQL server, builds a consortium of 3 universities with one joint
   programme (the certificate bench's graded cohort, one learner awarded through the certification services, its
   documents left unrendered), then bulk-inserts ``BENCH_APPLICATIONS`` applications (10,000) over four editions and
   ``BENCH_ENROLMENTS`` enrolments (2,000) with their grades on the approved result sheets (rows of the same models,
   ``bulk_create``), and a partner-system token of the lead university that sees them all.
2. For each endpoint, starts a fresh gunicorn as production does (``consortium.settings``, DEBUG off, 2 sync workers
   (``BENCH_WORKERS``), collected static files, access log) on a free loopback port, with plain http allowed on
   loopback and the per-token API rate limit lifted (one token sends everything here; the default 600/minute would
   answer most requests 429), warms it up with 20 sequential requests, and stops it gracefully afterwards.
3. Drives it at a constant rate (``BENCH_RATE``, 50 requests/s) for ``BENCH_DURATION`` seconds per endpoint (12 s;
   60 s with ``BENCH_FULL=1``): request i is sent at t0 + i/rate whatever happened to the earlier ones, and its
   latency is measured from that scheduled moment (no coordinated omission: a stalled server shows as latency).
   Endpoints: the application list (page of 50), one application, the results list (page of 50), the public
   verification page of the issued credential.
4. Prints per endpoint: requests, p50/p95/p99 latency, errors (non-2xx or exceptions), achieved rate, the target
   (p95 < 150 ms and no error: met/MISSED), and the CPU seconds spent meanwhile by gunicorn (master + workers), every
   ``postgres`` process on the machine (of which the bench database's backends), this process (the load generator)
   and the rest of the machine (other people's work: the figures are noisy on a shared machine), and the CPU per
   request the server answered during the run (counted in its access log: an overloaded server goes on serving
   requests whose client gave up after 10 s).
"""

from __future__ import annotations

import asyncio
import os
import random
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from tests.benchmarks.common import require_services, setup_django

ROOT = Path(__file__).resolve().parents[2]
FULL = os.environ.get("BENCH_FULL", "") not in ("", "0")
RATE = float(os.environ.get("BENCH_RATE", "50"))
DURATION = float(os.environ.get("BENCH_DURATION", "60" if FULL else "12"))
APPLICATIONS = int(os.environ.get("BENCH_APPLICATIONS", "10000"))
ENROLMENTS = int(os.environ.get("BENCH_ENROLMENTS", "2000"))
WORKERS = int(os.environ.get("BENCH_WORKERS", "2"))
TARGET_P95_MS = 150.0
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


# --- Data ---------------------------------------------------------------------------------------------------------


@dataclass
class Targets:
    token_key: str
    application_id: str
    credential_id: str
    applications: int
    enrolments: int
    grades: int
    seconds: float


def seed(applications: int, enrolments: int) -> Targets:
    """The programme, its editions and people through the services; the volume through ``bulk_create``."""
    import datetime as dt
    from unittest import mock

    from django.db import connection
    from django.utils import timezone

    from admissions.models import AdmissionFramework, Application, ApplicationStatus, Enrolment
    from assessment.models import Assessment, Grade, ResultSheet
    from certification import services as certification_services
    from certification.tasks import render_document
    from consortium import policy
    from consortium.models import User
    from consortium.services import apitoken_create
    from programmes.models import Edition
    from tests.benchmarks.certificates import _cohort

    started = time.perf_counter()
    rng = random.Random(11)  # the same rows every run
    edition, board, cohort = _cohort(3)
    with mock.patch.object(render_document, "delay_on_commit"):  # rendering is another bench's business
        award = certification_services.award_decide(actor=board, enrolment=cohort[0])
    credential = award.credentials.get()
    programme = edition.programme
    now = timezone.now()
    editions = [edition]
    for number, status, offset in ((2024, "closed", -700), (2025, "closed", -350), (2027, "open", 20)):
        other = Edition.objects.create(
            programme=programme, intake_code=f"bench-{number}", curriculum=edition.curriculum, status=status,
            application_opens_at=now + dt.timedelta(days=offset - 60),
            application_closes_at=now + dt.timedelta(days=offset),
            starts_on=(now + dt.timedelta(days=offset + 20)).date(),
            ends_on=(now + dt.timedelta(days=offset + 120)).date(), capacity=3000)
        AdmissionFramework.objects.create(edition=other, reviewing_institution=programme.lead_institution)
        editions.append(other)

    users = User.objects.bulk_create(
        [User(email=f"applicant{i}@bench.example", full_name=f"Applicant {i}", password="!") for i in
         range(applications)], batch_size=2000)
    decided = [ApplicationStatus.REJECTED, ApplicationStatus.WITHDRAWN, ApplicationStatus.DECLINED,
               ApplicationStatus.LAPSED, ApplicationStatus.COMPLETED]
    pending = [ApplicationStatus.SUBMITTED, ApplicationStatus.UNDER_REVIEW, ApplicationStatus.INFO_REQUESTED,
               ApplicationStatus.ADMITTED, ApplicationStatus.WAITLISTED, ApplicationStatus.REJECTED]
    countries = ["BE", "ES", "NL", "DE", "FR", "IT", "PL", "PT"]
    rows = []
    for i, user in enumerate(users):
        if i < enrolments:
            target, status = edition, ApplicationStatus.ENROLLED
        else:
            target = editions[1 + i % 3]
            status = rng.choice(pending if target.status == "open" else decided)
        submitted = now - dt.timedelta(days=rng.randint(1, 60), minutes=i)
        rows.append(Application(
            edition=target, applicant=user, status=status, given_names=f"Given{i}", family_names=f"Family {i:05d}",
            date_of_birth=dt.date(1970 + i % 35, 1 + i % 12, 1 + i % 28), nationality=rng.choice(countries),
            email=user.email, participant_profile="professional", track="assessed", route="standard",
            education="MSc Electrical Engineering", highest_eqf_level=7, experience_years=i % 15,
            experience="Verification engineer at a semiconductor company.", language_proofs="IELTS 7.0",
            motivation="I want to move from verification into design." * 3, submitted_at=submitted,
            decided_at=submitted + dt.timedelta(days=3) if status != ApplicationStatus.SUBMITTED else None))
    created = Application.objects.bulk_create(rows, batch_size=2000)
    learners = Enrolment.objects.bulk_create(
        [Enrolment(application=a, edition=edition, learner=a.applicant, enrolled_at=now) for a in created[:enrolments]],
        batch_size=2000)
    grades = []
    for sheet in ResultSheet.objects.filter(edition=edition).select_related("course"):
        template = Grade.objects.filter(sheet=sheet).first()
        for assessment in Assessment.objects.filter(edition=edition, course=sheet.course):
            grades += [Grade(sheet=sheet, assessment=assessment, enrolment=e, national_grade=str(8 + i % 12),
                             national_scale=template.national_scale, joint_grade=str(8 + i % 12),
                             entered_by=template.entered_by) for i, e in enumerate(learners)]
    Grade.objects.bulk_create(grades, batch_size=2000)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")  # planner statistics, as autovacuum keeps them in production after a bulk load
    _token, key = apitoken_create(actor=None, institution=programme.lead_institution, name="load bench",
                                  scopes=policy.api_scopes(), check_policy=False)
    return Targets(token_key=key, application_id=str(created[len(created) // 2].pk),
                   credential_id=credential.credential_id, applications=applications + len(cohort),
                   enrolments=enrolments + len(cohort), grades=Grade.objects.count(),
                   seconds=time.perf_counter() - started)


# --- CPU accounting from /proc --------------------------------------------------------------------------------------


def _stat(pid: int) -> tuple[str, int, int, int] | None:
    """(command, parent, start time, CPU ticks (user + system)) of one process, None when it is gone."""
    try:
        raw = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    name = raw[raw.index("(") + 1 : raw.rindex(")")]
    fields = raw[raw.rindex(")") + 2 :].split()
    return name, int(fields[1]), int(fields[19]), int(fields[11]) + int(fields[12])


def _cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return ""


def _machine_busy() -> int:
    """Busy CPU ticks of the whole machine (all cores): everything but idle and iowait."""
    values = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    return sum(values) - values[3] - values[4]


class CpuSnapshot:
    """CPU ticks per process group: gunicorn (``master`` and its children), postgres (all; the bench database's
    backends apart), this process."""

    def __init__(self, master: int, database: str) -> None:
        self.groups: dict[str, dict[tuple[int, int], int]] = {"gunicorn": {}, "postgres": {}, "postgres_bench": {},
                                                              "generator": {}}
        for entry in os.listdir("/proc"):
            if not entry.isdigit():
                continue
            pid = int(entry)
            stat = _stat(pid)
            if stat is None:
                continue
            name, parent, start, ticks = stat
            if pid == master or parent == master:
                self.groups["gunicorn"][(pid, start)] = ticks
            elif name == "postgres":
                self.groups["postgres"][(pid, start)] = ticks
                if f" {database} " in _cmdline(pid):
                    self.groups["postgres_bench"][(pid, start)] = ticks
            elif pid == os.getpid():
                self.groups["generator"][(pid, start)] = ticks
        self.machine = _machine_busy()

    def seconds_since(self, before: CpuSnapshot) -> dict[str, float]:
        """CPU seconds per group between ``before`` and this snapshot (a process that started in between counts
        whole; one that ended in between is lost, which the persistent connections and workers make rare)."""
        spent = {}
        for group, processes in self.groups.items():
            spent[group] = sum(ticks - before.groups[group].get(key, 0) for key, ticks in processes.items())
            spent[group] /= CLOCK_TICKS
        spent["machine"] = (self.machine - before.machine) / CLOCK_TICKS
        return spent


# --- gunicorn ---------------------------------------------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _database_url() -> str:
    from django.db import connection

    s = connection.settings_dict
    auth = s["USER"] + (f":{s['PASSWORD']}" if s["PASSWORD"] else "")
    return f"postgres://{auth}@{s['HOST'] or '127.0.0.1'}:{s['PORT'] or 5432}/{s['NAME']}"


def server_env(port: int, tmp: Path, encryption_key: str) -> dict[str, str]:
    """Production settings, on loopback: DEBUG off, plain http allowed, no per-token rate limit."""
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "consortium.settings",
        "DJANGO_DEBUG": "false",
        "DJANGO_SECRET_KEY": f"bench-only-{os.urandom(16).hex()}",
        "DATABASE_URL": _database_url(),
        "DJANGO_ALLOWED_HOSTS": "127.0.0.1,localhost",
        "PUBLIC_BASE_URL": f"http://127.0.0.1:{port}",
        "SECURE_SSL_REDIRECT": "false",
        "SESSION_COOKIE_SECURE": "false",
        "CSRF_COOKIE_SECURE": "false",
        "SECURE_HSTS_SECONDS": "0",
        "MFA_REQUIRED_FOR_STAFF": "false",
        "API_RATE": "1000000/minute",
        "CACHE_KEY_PREFIX": f"bench-api-{os.getpid()}",
        "CREDENTIAL_KEY_ENCRYPTION_KEY": encryption_key,
        "EMAIL_URL": "dummymail://",
        "LOG_LEVEL": "WARNING",
        "VAR_DIR": str(tmp / "var"),
        "STATIC_ROOT": str(tmp / "static"),
        "MEDIA_ROOT": str(tmp / "media"),
        "PRIVATE_MEDIA_ROOT": str(tmp / "private"),
        "PYTHONDONTWRITEBYTECODE": "1",
    }
    env.pop("DJANGO_CONFIGURATION", None)
    return env


COLLECT_STATIC = """
import django
from django.core.management import call_command
from whitenoise.compress import Compressor

django.setup()
# The manifest (hashed names) production pages need, without gzip/brotli copies of every file: the benchmark fetches
# no static file, and compressing Swagger UI's bundles took over a minute on this machine.
Compressor.should_compress = lambda self, filename: False
call_command("collectstatic", interactive=False, verbosity=0)
"""


def collect_static(env: dict[str, str]) -> float:
    started = time.perf_counter()
    subprocess.run([sys.executable, "-c", COLLECT_STATIC], cwd=ROOT, env=env, check=True)
    return time.perf_counter() - started


def start_gunicorn(env: dict[str, str], port: int, log: Path, access_log: Path) -> subprocess.Popen:
    """``make web``'s command: 2 sync workers, the access log (to a file here) on."""
    gunicorn = Path(sys.executable).parent / "gunicorn"
    with open(log, "a") as out:  # the child keeps its own descriptor
        process = subprocess.Popen(
            [str(gunicorn), "consortium.wsgi:application", "--bind", f"127.0.0.1:{port}", "--workers", str(WORKERS),
             "--worker-class", "sync", "--log-level", "warning", "--access-logfile", str(access_log)],
            cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 60
    import urllib.request

    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"gunicorn exited with {process.returncode}:\n{log.read_text()[-3000:]}")
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2) as answer:
                if answer.status == 200:
                    return process
        except OSError:
            time.sleep(0.2)
    process.kill()
    raise RuntimeError(f"gunicorn did not answer /healthz within 60 s:\n{log.read_text()[-3000:]}")


def stop_gunicorn(process: subprocess.Popen) -> None:
    """Graceful shutdown (SIGTERM: workers finish their request), SIGKILL after 30 s."""
    if process.poll() is not None:
        return
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=10)


# --- The constant-rate load generator ---------------------------------------------------------------------------------


@dataclass
class Run:
    name: str
    path: str
    sent: int
    latencies_ms: list[float]
    errors: int
    error_kinds: dict[str, int]
    wall: float
    cpu: dict[str, float]
    served: int

    def percentile(self, p: float) -> float:
        ordered = sorted(self.latencies_ms)
        return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))] if ordered else float("nan")

    @property
    def met(self) -> bool:
        return self.errors == 0 and self.percentile(95) < TARGET_P95_MS


async def _drive(url: str, headers: dict[str, str], rate: float, duration: float):
    """Send ``rate × duration`` GETs, request i at t0 + i/rate; latency from that scheduled moment to the end of the
    response body. No connection limit (the pool never delays a send); each request times out after 10 s."""
    import aiohttp

    count = int(rate * duration)
    loop = asyncio.get_running_loop()
    connector = aiohttp.TCPConnector(limit=0, force_close=True)  # gunicorn's sync workers close after each answer
    async with aiohttp.ClientSession(connector=connector, timeout=aiohttp.ClientTimeout(total=10)) as session:
        t0 = loop.time() + 0.1

        async def one(i: int):
            scheduled = t0 + i / rate
            delay = scheduled - loop.time()
            if delay > 0:
                await asyncio.sleep(delay)
            try:
                async with session.get(url, headers=headers, allow_redirects=False) as response:
                    await response.read()
                    outcome = "ok" if 200 <= response.status < 300 else f"HTTP {response.status}"
            except Exception as exc:
                outcome = type(exc).__name__
            return (loop.time() - scheduled) * 1000, outcome

        results = await asyncio.gather(*(one(i) for i in range(count)))
        return results, loop.time() - t0


def _lines(path: Path) -> int:
    return path.read_bytes().count(b"\n") if path.exists() else 0


def measure(name: str, base: str, path: str, headers: dict[str, str], master: int, database: str,
            access_log: Path) -> Run:
    import urllib.request

    for _ in range(20):  # warm-up, sequential: worker imports, template compilation, connections
        request = urllib.request.Request(base + path, headers=headers)  # noqa: S310
        try:
            with urllib.request.urlopen(request, timeout=10) as answer:  # noqa: S310
                answer.read()
        except OSError as exc:
            raise RuntimeError(f"{name}: GET {path} failed in the warm-up: {exc}") from exc
    before, logged = CpuSnapshot(master, database), _lines(access_log)
    results, wall = asyncio.run(_drive(base + path, headers, RATE, DURATION))
    cpu = CpuSnapshot(master, database).seconds_since(before)
    served = _lines(access_log) - logged  # answered by the server during the run (a client may have given up)
    kinds: dict[str, int] = {}
    for _latency, outcome in results:
        if outcome != "ok":
            kinds[outcome] = kinds.get(outcome, 0) + 1
    return Run(name, path, len(results), [latency for latency, _outcome in results], sum(kinds.values()), kinds,
               wall, cpu, served)


def report(run: Run) -> str:
    c = run.cpu
    others = max(0.0, c["machine"] - c["gunicorn"] - c["postgres"] - c["generator"])

    def cores(group: str) -> str:
        return f"{c[group]:5.1f} s ({c[group] / run.wall:4.2f})"

    def per_served(group: str) -> str:
        return f"{c[group] / run.served * 1000:5.1f}" if run.served else "  n/a"

    errors = f"{run.errors}" + (f" ({', '.join(f'{k}: {v}' for k, v in sorted(run.error_kinds.items()))})"
                                if run.errors else "")
    return "\n".join([
        f"  {run.name:<22} GET {run.path}",
        f"    requests {run.sent:>5}   p50 {run.percentile(50):7.1f} ms   p95 {run.percentile(95):7.1f} ms   "
        f"p99 {run.percentile(99):7.1f} ms   max {max(run.latencies_ms):7.1f} ms   errors {errors}",
        f"    achieved {run.sent / run.wall:6.1f} requests/s (target {RATE:g})   "
        f"p95 < {TARGET_P95_MS:g} ms and no error: {'met' if run.met else 'MISSED'}",
        f"    CPU seconds over the {run.wall:4.1f} s run (cores busy): gunicorn {cores('gunicorn')}   postgres (all) "
        f"{cores('postgres')}, of it the bench database's backends {cores('postgres_bench')}   generator "
        f"{cores('generator')}   rest of the machine {others:5.1f} s ({others / run.wall:4.2f})   machine "
        f"{c['machine'] / run.wall / os.cpu_count() * 100:3.0f} % busy",
        f"    served by gunicorn during the run {run.served}: CPU per request gunicorn {per_served('gunicorn')} ms, "
        f"bench database backends {per_served('postgres_bench')} ms",
    ])


def run_load(targets: Targets, tmp: Path) -> tuple[list[Run], float, float]:
    """Each endpoint against a fresh gunicorn: an overloaded run leaves requests in the listen backlog (their client
    gave up, the workers still serve them) that would otherwise slow the next endpoint's run."""
    from cryptography.fernet import Fernet
    from django.conf import settings
    from django.db import connection

    encryption_key = Fernet.generate_key().decode()
    settings.CREDENTIAL_KEY_ENCRYPTION_KEY = [encryption_key]
    token = {"Authorization": f"Token {targets.token_key}", "Accept": "application/json"}
    endpoints = [
        ("application list", "/api/v1/applications/", token),
        ("one application", f"/api/v1/applications/{targets.application_id}/", token),
        ("results list", "/api/v1/results/", token),
        ("verification page", f"/verify/{targets.credential_id}/", {"Accept": "text/html"}),
    ]
    database = connection.settings_dict["NAME"]
    static_seconds = collect_static(server_env(0, tmp, encryption_key))
    connection.close()  # the server's workers are the database's clients now
    runs, boots = [], []
    log = tmp / "gunicorn.log"
    for index, (name, path, headers) in enumerate(endpoints):
        port = _free_port()
        access_log = tmp / f"access-{index}.log"
        started = time.perf_counter()
        process = start_gunicorn(server_env(port, tmp, encryption_key), port, log, access_log)
        boots.append(time.perf_counter() - started)
        try:
            runs.append(measure(name, f"http://127.0.0.1:{port}", path, headers, process.pid, database, access_log))
        finally:
            stop_gunicorn(process)
    text = log.read_text() if log.exists() else ""
    if "Traceback" in text or "ERROR" in text:
        print(f"gunicorn log (last 3000 characters):\n{text[-3000:]}", file=sys.stderr)
    return runs, static_seconds, statistics.mean(boots)


def main() -> None:
    require_services()
    setup_django()
    from django.db import connection
    from django.test.utils import setup_test_environment, teardown_test_environment

    started = time.perf_counter()
    setup_test_environment()
    old_name = connection.creation.create_test_db(verbosity=0, autoclobber=True)
    migrated = time.perf_counter() - started
    try:
        with tempfile.TemporaryDirectory(prefix="bench-api-") as tmp:
            from django.test.utils import override_settings

            with override_settings(PRIVATE_MEDIA_ROOT=Path(tmp) / "private", SEAL_DIR=Path(tmp) / "seals",
                                   MEDIA_ROOT=Path(tmp) / "media"):
                targets = seed(APPLICATIONS, ENROLMENTS)
            runs, static_seconds, boot = run_load(targets, Path(tmp))
    finally:
        connection.close()
        connection.creation.destroy_test_db(old_name, verbosity=0)
        teardown_test_environment()
    mode = "full" if FULL else "quick"
    print(f"API load benchmark ({mode}) — gunicorn {WORKERS} sync workers, DEBUG off, PostgreSQL + Redis on this "
          f"machine ({os.cpu_count()} cores, shared), {RATE:g} requests/s for {DURATION:g} s per endpoint, "
          "constant rate (latency from the scheduled send)")
    print(f"  data: {targets.applications} applications, {targets.enrolments} enrolments, {targets.grades} grades "
          f"(seeded in {targets.seconds:.1f} s); static collected in {static_seconds:.1f} s; gunicorn up in "
          f"{boot:.1f} s (each endpoint has its own); database migrated in {migrated:.0f} s, whole bench "
          f"{time.perf_counter() - started:.0f} s")
    for run in runs:
        print(report(run))
    missed = [run.name for run in runs if not run.met]
    p95s = statistics.mean(run.percentile(95) for run in runs)
    print(f"  target p95 < {TARGET_P95_MS:g} ms with 0 errors at {RATE:g} requests/s: "
          + ("met on every endpoint" if not missed else f"MISSED on {', '.join(missed)}")
          + f" (mean p95 {p95s:.1f} ms)")


if __name__ == "__main__":
    main()
