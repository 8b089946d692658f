"""Quality tasks: thin, take ids, call ``quality.feedback``. The beat opens, reminds and closes the surveys."""

from celery import shared_task

from . import feedback


@shared_task(bind=True, autoretry_for=(ConnectionError, TimeoutError, OSError), retry_backoff=True, max_retries=8)
def invitation_email(self, invitation_id: str, reminder: bool = False) -> int:
    """Email a learner their survey invitation or a reminder (nothing once they answered or the survey closed)."""
    return feedback.invitation_email_send(invitation_id=invitation_id, reminder=reminder)


@shared_task
def feedback_surveys_open() -> int:
    """Beat (daily): open the learner survey of every edition that has ended. Returns how many were opened."""
    return len(feedback.learner_surveys_open_due())


@shared_task
def feedback_reminders_send() -> int:
    """Beat (daily): remind learners who have not answered (``FEEDBACK_REMINDERS_MAX``, ``…_INTERVAL_DAYS``)."""
    return feedback.reminders_send()


@shared_task
def feedback_surveys_close() -> int:
    """Beat (hourly): close the surveys past their closing time; restamp the responses of the open ones."""
    return feedback.surveys_close_due()


@shared_task(
    bind=True,
    ignore_result=True,  # the report row is the result
    acks_late=True,  # the render is idempotent, so a redelivery after a lost worker is safe
    reject_on_worker_lost=True,
    autoretry_for=(OSError, ConnectionError, TimeoutError),
    retry_backoff=True,
    retry_backoff_max=600,
    max_retries=5,
)
def review_report_render(self, report_id: str) -> str:
    """Render a quality review's PDF report (``quality.review.report_render``). Every failed attempt is recorded
    on the report; it stays queued while a retry is due, and is failed (the page then offers to prepare it again)
    only once the retries are used up or the error is not one a retry can cure. "" when the report is gone."""
    from . import review

    try:
        report = review.report_render(report_id)
    except Exception as exc:
        retrying = isinstance(exc, self.autoretry_for) and self.request.retries < self.max_retries
        note = f" (attempt {self.request.retries + 1}; retried automatically)" if retrying else ""
        review.report_failed(report_id, f"{exc.__class__.__name__}: {exc}{note}", retrying=retrying)
        raise
    return report.sha256 if report is not None else ""
