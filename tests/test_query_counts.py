"""No list has an N+1: every list page and list endpoint asks the database as often with 100 rows as with 10.

The lists are found in the URL conf (``tests/benchmarks/query_counts.py``: every ViewSet ``list`` route, every
paginated or ``*-list``/``*-queue`` page); each needs a row builder there, so a new list joins this test the day it
appears (without one the test fails and says what to add). ``python -m tests.benchmarks.queries`` prints the table.
"""

import pytest

from .benchmarks import query_counts as qc

pytestmark = pytest.mark.django_db

PAGES = qc.list_pages()


def test_every_list_has_a_row_builder():
    found = {p.key for p in PAGES}
    missing = sorted(found - set(qc.ROWS))
    assert not missing, ("These lists have no row builder in tests/benchmarks/query_counts.py (ROWS), so their "
                         f"query counts are not checked: {missing}")
    stale = sorted(set(qc.ROWS) - found)
    assert not stale, f"Row builders for lists the URL conf no longer has: {stale}"


def test_the_discovery_finds_every_list():
    from django.urls import get_resolver

    from .url_walk import walk

    for kind, minimum in qc.EXPECTED_MINIMUM.items():
        assert sum(p.kind == kind for p in PAGES) >= minimum, f"fewer {kind} lists found than expected"
    router_lists = {p.name for route, p in walk(get_resolver().url_patterns)
                    if route.startswith("api/") and (getattr(p.callback, "actions", None) or {}).get("get") == "list"}
    assert router_lists <= {p.name for p in PAGES if p.kind == "api"}


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.key.replace(" ", ":"))
def test_the_list_asks_the_same_number_of_queries_for_10_and_100_rows(page, settings, tmp_path):
    if page.key not in qc.ROWS:
        pytest.fail(f"{page.key} ({page.route}) has no row builder: add one to tests/benchmarks/query_counts.py")
    settings.MFA_REQUIRED_FOR_STAFF = False
    count = qc.measure(page, qc.Base())
    assert not count.problems, "\n".join(count.problems)
    assert count.equal, (f"{page.key}: {count.small} queries with {count.small_rows} rows, {count.large} with "
                         f"{count.large_rows}: an N+1 (see python -m tests.benchmarks.queries)")
