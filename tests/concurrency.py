"""Run calls at the same moment, each on its own thread and database connection (PostgreSQL tests of locks)."""

import contextlib
import threading

from django.db import connection, transaction


def race(*calls, timeout: float = 60) -> list[tuple[str, object]]:
    """Each call is a callable, or ``(prepare, act)``: ``prepare()`` runs first on the thread's own connection and
    its result is passed to ``act``; every thread then waits at one barrier and all act together.
    Returns ``[("ok", value) | ("error", exception)]`` in the order of ``calls``."""
    barrier = threading.Barrier(len(calls))
    results: list = [None] * len(calls)

    def run(index, call):
        prepare, act = call if isinstance(call, tuple) else ((lambda: ()), call)
        try:
            args = prepare()
            barrier.wait(timeout=10)
            results[index] = ("ok", act(*args))
        except Exception as exc:  # reported to the test, which asserts on it
            results[index] = ("error", exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i, call)) for i, call in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=timeout)
    assert not any(thread.is_alive() for thread in threads), "a thread hung (deadlock?)"
    return results


def errors(results) -> list:
    return [value for outcome, value in results if outcome == "error"]


@contextlib.contextmanager
def row_locked_elsewhere(model, pk, timeout: float = 30):
    """While the block runs, another connection holds ``SELECT … FOR UPDATE`` on the row (as a concurrent
    transaction would); released when the block ends."""
    locked, release = threading.Event(), threading.Event()

    def hold():
        try:
            with transaction.atomic():
                model.objects.select_for_update().get(pk=pk)
                locked.set()
                release.wait(timeout=timeout)
        finally:
            connection.close()

    thread = threading.Thread(target=hold)
    thread.start()
    try:
        assert locked.wait(timeout=10), "the other connection could not lock the row"
        yield
    finally:
        release.set()
        thread.join(timeout=timeout)
