"""Celery tasks of the consortium app: thin, take ids, call services."""

from celery import shared_task
from celery.signals import task_postrun, task_prerun
from django.conf import settings
from django.core.mail import send_mail
from django.utils.translation import gettext as _

from . import audit
from .celery import Task
from .models import AgreementVersion, InstitutionContact, Via

_tokens: dict[str, object] = {}


@task_prerun.connect
def _mark_task_via(task_id=None, **_kwargs):
    """Everything a task records in the audit trail is marked as coming from a task."""
    _tokens[task_id] = audit.set_via(Via.TASK)


@task_postrun.connect
def _unmark_task_via(task_id=None, **_kwargs):
    token = _tokens.pop(task_id, None)
    if token is not None:
        audit.reset_via(token)


@shared_task(bind=True, autoretry_for=(ConnectionError, TimeoutError), retry_backoff=True, max_retries=5)
def agreement_notify_signatories(self, version_id: str) -> int:
    """Tell each party's legal contact that a version awaits their signature. Returns emails sent."""
    version = AgreementVersion.objects.select_related("agreement").get(pk=version_id)
    party_ids = list(version.parties.values_list("institution_id", flat=True))
    contacts = InstitutionContact.objects.filter(institution_id__in=party_ids, service="legal")
    link = f"{settings.PUBLIC_BASE_URL}/agreements/versions/{version.pk}/"
    sent = 0
    for contact in contacts:
        sent += send_mail(
            _("Agreement awaiting signature: %(title)s") % {"title": version},
            _("Dear %(name)s,\n\n%(title)s is ready for signature. Record the signed PDF here:\n%(link)s\n")
            % {"name": contact.name, "title": version, "link": link},
            None,
            [contact.email],
        )
    audit.record(
        None, "agreement.signatories_notified", version, {"emails": sent}, consortium_id=version.agreement.consortium_id
    )
    return sent


@shared_task(acks_late=True, reject_on_worker_lost=True)
def apply_retention() -> dict[str, int]:
    """Periodic (Celery beat, daily): delete or pseudonymise personal data past its retention period
    (``settings.PERSONAL_DATA_RETENTION``; each app's rules in its personal-data handler). Idempotent."""
    from . import personal_data

    return personal_data.apply_retention()


@shared_task(acks_late=True, reject_on_worker_lost=True)
def idempotency_keys_purge() -> int:
    """Periodic (Celery beat, hourly): forget the API's idempotency keys and stored answers older than
    ``settings.IDEMPOTENCY_KEY_TTL``. Idempotent. Returns how many were deleted."""
    from .rest.idempotency import purge_expired

    return purge_expired()


class WebhookTask(Task):
    """Sent after commit, nobody waits for the result (the delivery row is the result). A lost send is found again by
    ``webhooks_dispatch``: the delivery stays pending and due."""

    send_options = {"ignore_result": True}
    when_not_sent = ", left pending for webhooks_dispatch"


@shared_task(base=WebhookTask, soft_time_limit=60, time_limit=90)
def webhook_deliver(delivery_id: str) -> str | None:
    """One attempt of one delivery (``webhooks.delivery_attempt``); a retry is scheduled on the delivery, not here."""
    from . import webhooks

    attempt = webhooks.delivery_attempt(delivery_id=delivery_id)
    return None if attempt is None else str(attempt.status_code or attempt.error)


@shared_task
def webhooks_dispatch() -> int:
    """Beat (every minute): send the deliveries whose attempt is due (retries, lost first attempts)."""
    from . import webhooks

    due = webhooks.deliveries_due()
    for delivery_id in due:
        webhook_deliver.send_or_log(delivery_id)
    return len(due)


@shared_task(autoretry_for=(ConnectionError, TimeoutError, OSError), retry_backoff=True, max_retries=5)
def webhook_notify_disabled(endpoint_id: str) -> int:
    """Tell the institution's administrators that an endpoint was disabled automatically. Returns emails sent."""
    from . import webhooks
    from .models import WebhookEndpoint

    endpoint = WebhookEndpoint.objects.select_related("institution").filter(pk=endpoint_id).first()
    if endpoint is None:
        return 0
    recipients = webhooks.administrators_emails(endpoint)
    if not recipients:
        return 0
    link = f"{settings.PUBLIC_BASE_URL}{endpoint.get_absolute_url()}"
    return send_mail(
        _("Webhook disabled: %(url)s") % {"url": endpoint.url},
        _("The webhook endpoint %(url)s of %(institution)s was disabled.\n\n%(reason)s\n\nEnable it again here "
          "once the receiver works:\n%(link)s\n")
        % {"url": endpoint.url, "institution": endpoint.institution, "reason": endpoint.disabled_reason, "link": link},
        None,
        recipients,
    )


@shared_task(autoretry_for=(ConnectionError, TimeoutError, OSError), retry_backoff=True, max_retries=5)
def erasure_notify(address: str, outcome: str, note: str = "") -> int:
    """Tell a person how their erasure request ended: carried out, or refused with the reason. The address is the
    one the person used before the erasure (it is no longer on the account). Returns emails sent."""
    if outcome == "completed":
        subject = _("Your data has been erased")
        body = _("Your request to erase your personal data on %(site)s has been carried out. Your account is closed "
                 "and you can no longer sign in. Academic records the institutions must keep by law (enrolments, "
                 "results, credentials, invoices) are kept without your name and contact details where the law "
                 "allows.\n") % {"site": settings.PUBLIC_BASE_URL}
    else:
        subject = _("Your erasure request was refused")
        body = _("Your request to erase your personal data on %(site)s was refused, for this reason:\n\n%(note)s\n\n"
                 "You can ask again, or contact the data protection officer of your institution or your data "
                 "protection authority.\n") % {"site": settings.PUBLIC_BASE_URL, "note": note}
    return send_mail(subject, body, None, [address])
