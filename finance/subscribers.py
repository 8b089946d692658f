"""Finance's reactions to admissions events (settings.DOMAIN_EVENT_SUBSCRIBERS; run after the admissions
transaction commits). Each hands the work to a Celery task so the learner's request never waits on it."""

from .tasks import credit_withdrawal, issue_invoice


def on_offer_accepted(application_id: str) -> None:
    issue_invoice.delay(application_id)


def on_withdrawn(application_id: str) -> None:
    credit_withdrawal.delay(application_id)
