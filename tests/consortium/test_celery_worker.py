"""A real Celery worker process, fed through Redis, working on the test database."""

import time

import pytest

from consortium.models import AuditEvent, Via
from consortium.tasks import agreement_notify_signatories

from ..factories import AgreementPartyFactory, ContactFactory

pytestmark = [pytest.mark.celery_worker, pytest.mark.django_db(transaction=True)]


def test_worker_runs_a_task_through_redis(worker):
    party = AgreementPartyFactory()
    ContactFactory(institution=party.institution, service="legal")
    ContactFactory(institution=party.institution, service="marketing")  # not a signatory contact

    result = agreement_notify_signatories.apply_async(args=[str(party.version_id)], queue=worker)
    assert result.get(timeout=90) == 1  # the result travelled back through Redis

    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        event = AuditEvent.objects.filter(
            action="agreement.signatories_notified", object_id=str(party.version_id)
        ).first()
        if event:
            break
        time.sleep(0.5)
    assert event is not None, "the worker did not record its work in the test database"
    assert event.via == Via.TASK
    assert event.changes == {"emails": 1}
