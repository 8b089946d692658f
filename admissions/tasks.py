"""Admissions tasks: thin, take ids, call services."""

from celery import shared_task
from django.core.mail import send_mail

from .models import ApplicationMessage


@shared_task(bind=True, autoretry_for=(ConnectionError, TimeoutError, OSError), retry_backoff=True, max_retries=8)
def deliver_message(self, message_id: str) -> int:
    """Email a message kept on an application to the applicant (status changes, requests, notices)."""
    message = ApplicationMessage.objects.select_related("application__edition__programme").get(pk=message_id)
    application = message.application
    body = f"{message.body}\n\n— {application.edition.programme.title} ({application.edition.intake_code})"
    return send_mail(message.subject, body, None, [application.email])


@shared_task
def lapse_overdue_offers() -> int:
    """Periodic (Celery beat): offers not accepted by their deadline lapse; waitlisted learners move up."""
    from .services import applications_lapse_overdue

    return applications_lapse_overdue()
