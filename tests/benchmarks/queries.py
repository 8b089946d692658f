"""Query counts per list page: `python -m tests.benchmarks.queries` (needs DATABASE_URL and REDIS_URL).

For every list endpoint (API /api/v1/...) and every browser list page the URL conf has (found and filled by
``tests/benchmarks/query_counts.py``, the code ``tests/test_query_counts.py`` asserts with), in a throw-away test
database: builds 10 rows visible to a suitable actor, counts the queries of one request, builds up to 100 rows,
counts again. The two counts must be equal (no N+1). Each list is measured in its own transaction, rolled back, so
no list sees another's rows. Prints the table: list, page size, rows, queries at each size, equal?
"""

from __future__ import annotations

import tempfile
import time

from tests.benchmarks.common import require_services, setup_django, test_database


def run() -> list:
    from django.db import transaction
    from django.test.utils import override_settings

    from tests.benchmarks import query_counts as qc

    counts = []
    with tempfile.TemporaryDirectory(prefix="bench-queries-") as tmp, override_settings(
        MEDIA_ROOT=f"{tmp}/media", PRIVATE_MEDIA_ROOT=f"{tmp}/private", SEAL_DIR=f"{tmp}/seals",
        STORAGES={"default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
                  "private": {"BACKEND": "django.core.files.storage.FileSystemStorage",
                              "OPTIONS": {"location": f"{tmp}/private", "base_url": None}},
                  "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}},
    ):
        for page in qc.list_pages():
            if page.key not in qc.ROWS:
                counts.append(qc.Count(page, 0, 0, -1, -1, None, problems=["no row builder"]))
                continue
            with transaction.atomic():
                counts.append(qc.measure(page, qc.Base()))
                transaction.set_rollback(True)
    return counts


def main() -> None:
    require_services()
    setup_django()
    with test_database() as connection:
        started = time.perf_counter()
        counts = run()
    unequal = [c for c in counts if not c.equal or c.problems]
    api = sum(c.page.kind == "api" for c in counts)
    print(f"Query counts per list — {api} API list endpoints, {len(counts) - api} browser list pages, "
          f"{connection.vendor}, {time.perf_counter() - started:.0f} s")
    print("(queries of one request after a warm-up one, with the smaller / the larger number of rows; API lists are "
          "asked for page_size=200)")
    from tests.benchmarks import query_counts as qc

    print(qc.table(counts))
    if unequal:
        print(f"N+1 or problem: {', '.join(c.page.key for c in unequal)} — MISSED (target: equal counts everywhere)")
    else:
        print("every list asks the same number of queries at both sizes — met")


if __name__ == "__main__":
    main()
