"""Rendering tasks: thin, idempotent (safe to run twice or after a worker died), retried with backoff."""

from celery import shared_task
from django.conf import settings

from . import services


@shared_task(
    bind=True,
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
