"""``python -m tests.worker_hooks -A consortium worker ...``: the ``celery`` command with fault hooks for the tests.

Test code only; the application never imports it. A test process cannot monkeypatch a worker process, so the worker
fixture starts this instead of ``python -m celery`` when a test asks for a hook:

``TEST_WORKER_RENDER_DELAY`` (seconds) and ``TEST_WORKER_RENDER_MARKER`` (a file path): the first render of any
worker sharing the marker creates it, writes its process id into it and sleeps that long before producing the PDF
(the document is "rendering" in the database by then). The test waits for the marker, then kills that process
mid-render. Every later render, in this worker or the next, runs at normal speed.
"""

import os
import sys
import time

from celery import signals

_installed = False


def _slow_first_render(render_pdf, delay: float, marker: str):
    def render(*args, **kwargs):
        try:
            fd = os.open(marker, os.O_CREAT | os.O_EXCL | os.O_WRONLY)
        except FileExistsError:
            return render_pdf(*args, **kwargs)
        with os.fdopen(fd, "w") as file:
            file.write(str(os.getpid()))
        time.sleep(delay)
        return render_pdf(*args, **kwargs)

    return render


def _install(**_signal_kwargs) -> None:
    """On the first task of each process that runs tasks (the solo worker, or each pool child): Django is set up."""
    global _installed
    if _installed:
        return
    _installed = True
    from certification import rendering

    rendering.render_pdf = _slow_first_render(
        rendering.render_pdf, float(os.environ["TEST_WORKER_RENDER_DELAY"]), os.environ["TEST_WORKER_RENDER_MARKER"])


if __name__ == "__main__":
    if os.environ.get("TEST_WORKER_RENDER_DELAY"):
        signals.task_prerun.connect(_install, weak=False)
    from celery.__main__ import main

    sys.argv[0] = "celery"
    main()
