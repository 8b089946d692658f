"""Rendering tasks: thin, idempotent (safe to run twice or after a worker died), retried with backoff.

A render is sent after the transaction that created the document commits, and sending it never fails that
request: when the broker cannot be reached the document simply stays queued, and the beat's sweep
(``documents_sweep``) sends it again later, as it does for a render whose worker died.
"""

from datetime import timedelta

from celery import shared_task
from django.conf import settings

from consortium.celery import Task

from . import services


class RenderTask(Task):
    """Sent after commit without subscribing to its result (the document row is the result): with Redis down there
    is then no result backend to wait for either. A send that fails leaves the document queued for the sweep."""

    send_options = {"ignore_result": True}
    when_not_sent = ", left queued for the sweep"


@shared_task(
    bind=True,
    base=RenderTask,
    acks_late=True,  # the render is idempotent, so a redelivery after a lost worker is safe
    reject_on_worker_lost=True,
    autoretry_for=(OSError, ConnectionError, TimeoutError),
    retry_backoff=True,
    retry_backoff_max=600,
    max_retries=5,
    time_limit=getattr(settings, "CELERY_TASK_TIME_LIMIT", 300),
    soft_time_limit=getattr(settings, "CELERY_TASK_SOFT_TIME_LIMIT", 240),
)
def render_document(self, document_id: str) -> str:
    try:
        document = services.document_render(document_id)
    except Exception as exc:
        # Every failed attempt is recorded: left "rendering", a document whose retry never comes (lost message,
        # worker gone) could not be retried by the board, which retries failed documents only.
        retrying = isinstance(exc, self.autoretry_for) and self.request.retries < self.max_retries
        note = f" (attempt {self.request.retries + 1}; retried automatically)" if retrying else ""
        services.document_failed(document_id, f"{exc.__class__.__name__}: {exc}{note}")
        raise
    return document.sha256


@shared_task
def documents_sweep(older_than: int | None = None) -> list[str]:
    """Beat: send again the documents whose render message was lost (``services.documents_requeue_stale``);
    ``older_than`` in seconds, ``DOCUMENT_SWEEP_AFTER`` by default."""
    seconds = settings.DOCUMENT_SWEEP_AFTER if older_than is None else older_than
    return services.documents_requeue_stale(older_than=timedelta(seconds=seconds))
