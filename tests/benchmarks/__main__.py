"""`make bench` / `make bench-full`: every benchmark in turn, each in its own process, figures printed as they come.

    python -m tests.benchmarks              # quick sizes (under 10 minutes on the CI machine)
    BENCH_FULL=1 python -m tests.benchmarks # the issue's full sizes (BENCH_N=1000 certificates, longer load runs)
    python -m tests.benchmarks api_load     # only the ones named

The scaling and API benchmarks need PostgreSQL and Redis (``DATABASE_URL``, ``REDIS_URL``; the Makefile starts
both and points at them). Each benchmark builds and drops its own database.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
#: In the order they run: what each measures.
BENCHMARKS = {
    "certificates": "certificate issuance through the render task vs raw WeasyPrint and the yardstick",
    "scaling": "the same rendering with 1 and 2 Celery worker processes on Redis",
    "api_load": "constant-rate load on the API and the verification page (gunicorn, 2 workers)",
    "queries": "queries per list page and endpoint at 10 and 100 rows",
    "fonts": "what the fonts for names in any script cost",
}


def main(names: list[str]) -> int:
    unknown = [name for name in names if name not in BENCHMARKS]
    if unknown:
        print(f"Unknown benchmark(s): {', '.join(unknown)}; choose from {', '.join(BENCHMARKS)}", file=sys.stderr)
        return 2
    env = dict(os.environ)
    full = env.get("BENCH_FULL", "") not in ("", "0")
    if full:
        env.setdefault("BENCH_N", "1000")
    print(f"JointCred benchmarks ({'full' if full else 'quick'} sizes) — {time.strftime('%Y-%m-%d %H:%M')} — "
          f"{os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.2f}", flush=True)
    failed, started = [], time.monotonic()
    for name in names or list(BENCHMARKS):
        print(f"\n=== {name}: {BENCHMARKS[name]}", flush=True)
        t = time.monotonic()
        status = subprocess.call([sys.executable, "-m", f"tests.benchmarks.{name}"], cwd=ROOT, env=env)
        print(f"=== {name}: {'done' if status == 0 else f'FAILED (exit {status})'} in {time.monotonic() - t:.0f} s",
              flush=True)
        if status:
            failed.append(name)
    summary = f"; failed: {', '.join(failed)}" if failed else ""
    print(f"\nAll benchmarks: {time.monotonic() - started:.0f} s{summary}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
