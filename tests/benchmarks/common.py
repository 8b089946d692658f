"""What every benchmark does first: Django with the test settings, the services it needs, a throw-away database."""

from __future__ import annotations

import contextlib
import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def setup_django() -> None:
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "consortium.settings_test")
    import django

    django.setup()


def require_services(why: str = "") -> None:
    """Exit 2 with a message unless ``DATABASE_URL`` names PostgreSQL and ``REDIS_URL`` is set (the production
    shape; ``make bench`` starts both and sets them)."""
    missing = [name for name in ("DATABASE_URL", "REDIS_URL") if not os.environ.get(name)]
    if not missing and not os.environ["DATABASE_URL"].startswith(("postgres://", "postgresql://", "pgsql://")):
        missing = ["DATABASE_URL (PostgreSQL)"]
    if missing:
        name = Path(sys.argv[0]).stem
        print(f"{name}: set {' and '.join(missing)}{f' — {why}' if why else ''}, e.g.\n"
              "  DATABASE_URL=postgres://postgres@127.0.0.1:5432/jointcred_bench REDIS_URL=redis://127.0.0.1:6379/5 "
              f"{sys.executable} -m tests.benchmarks.{name}   (or simply: make bench BENCH={name})", file=sys.stderr)
        sys.exit(2)


@contextlib.contextmanager
def test_database():
    """A test database made for the run (``test_<name>``, migrated) and dropped afterwards, as the test runner does."""
    from django.db import connection
    from django.test.utils import setup_test_environment, teardown_test_environment

    setup_test_environment()
    old_name = connection.creation.create_test_db(verbosity=0, autoclobber=True)
    try:
        yield connection
    finally:
        connection.creation.destroy_test_db(old_name, verbosity=0)
        teardown_test_environment()
