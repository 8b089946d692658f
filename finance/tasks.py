"""Finance tasks: thin, idempotent, take ids."""

from celery import shared_task

from . import services


@shared_task(bind=True, autoretry_for=(OSError, ConnectionError, TimeoutError), retry_backoff=True, max_retries=8)
def issue_invoice(self, application_id: str) -> str:
    from admissions.api import Application

    invoice = services.invoice_issue(actor=None, application=Application.objects.get(pk=application_id))
    return invoice.number if invoice else ""


@shared_task(bind=True, autoretry_for=(OSError, ConnectionError, TimeoutError), retry_backoff=True, max_retries=8)
def credit_withdrawal(self, application_id: str) -> str:
    note = services.withdrawal_credit(application_id=application_id)
    return note.number if note else ""


@shared_task(bind=True, acks_late=True, reject_on_worker_lost=True, autoretry_for=(OSError,), retry_backoff=True,
             max_retries=5)
def render_invoice(self, invoice_id: str) -> str:
    return services.invoice_render(invoice_id).pdf_sha256
