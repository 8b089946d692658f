"""Celery tasks of the consortium app: thin, take ids, call services."""

from celery import shared_task
from celery.signals import task_postrun, task_prerun
from django.conf import settings
from django.core.mail import send_mail
from django.utils.translation import gettext as _

from . import audit
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
