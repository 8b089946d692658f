"""The sweep (beat: ``certification.tasks.documents_sweep``) sends again the renders whose message was lost, and
sending a render never fails the request that issued the document (Celery eager; the locking test on PostgreSQL).

A real worker, a killed worker and a broker outage: tests/trust/test_faults.py.
"""

import logging
from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone
from kombu.exceptions import OperationalError

from certification import services
from certification.models import Document, DocumentStatus
from certification.tasks import documents_sweep, render_document

from ..concurrency import row_locked_elsewhere


def award(c, index=0):
    return services.award_decide(actor=c.board, enrolment=c.enrolments[index]).credentials.get()


def age(documents, *, seconds: int, status: str = DocumentStatus.QUEUED) -> None:
    Document.objects.filter(pk__in=[d.pk for d in documents]).update(
        status=status, updated_at=timezone.now() - timedelta(seconds=seconds))


def test_stale_queued_and_rendering_documents_are_rendered_again(awardable, settings,
                                                                 django_capture_on_commit_callbacks):
    c = awardable
    settings.DOCUMENT_SWEEP_AFTER = 600
    lost = award(c, 0)  # its messages were lost (broker down at commit), hours ago
    crashed = award(c, 1)  # its worker died mid-render (past the time limit, so no redelivery)
    fresh = award(c, 2)  # just issued: its messages are still on their way
    age(lost.documents.all(), seconds=7200)
    age(crashed.documents.all(), seconds=900, status=DocumentStatus.RENDERING)
    age(fresh.documents.all(), seconds=60)

    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        sent = documents_sweep.apply().get()
    stale = {str(d.pk) for d in [*lost.documents.all(), *crashed.documents.all()]}
    assert set(sent) == stale and len(callbacks) == len(stale)
    assert {d.status for d in Document.objects.filter(pk__in=stale)} == {DocumentStatus.READY}
    assert {d.status for d in fresh.documents.all()} == {DocumentStatus.QUEUED}
    assert all(d.attempts == 1 and len(d.sha256) == 64 for d in Document.objects.filter(pk__in=stale))


def test_a_document_sent_again_is_not_sent_again_before_the_threshold_has_passed_once_more(
    awardable, django_capture_on_commit_callbacks
):
    c = awardable
    credential = award(c)
    age(credential.documents.all(), seconds=900)
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        first = services.documents_requeue_stale(older_than=timedelta(seconds=600))
        second = services.documents_requeue_stale(older_than=timedelta(seconds=600))
    assert len(first) == credential.documents.count() and second == [] and len(callbacks) == len(first)
    assert all(d.status == DocumentStatus.QUEUED and timezone.now() - d.updated_at < timedelta(seconds=60)
               for d in credential.documents.all())


def test_ready_and_failed_documents_are_left_alone(awardable, django_capture_on_commit_callbacks):
    c = awardable
    credential = award(c)
    ready, failed = credential.documents.all()[:2]
    age([ready], seconds=7200, status=DocumentStatus.READY)
    age([failed], seconds=7200, status=DocumentStatus.FAILED)  # the board retries it (a button), not the sweep
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        assert services.documents_requeue_stale(older_than=timedelta(0)) == [
            str(d.pk) for d in credential.documents.exclude(pk__in=[ready.pk, failed.pk])]
    assert len(callbacks) == credential.documents.count() - 2


def test_an_unreachable_broker_leaves_the_document_queued_and_the_commit_stands(
    awardable, monkeypatch, caplog, django_capture_on_commit_callbacks
):
    c = awardable

    def broker_down(*args, **kwargs):
        raise OperationalError("Error 111 connecting to 127.0.0.1:6379. Connection refused.")

    monkeypatch.setattr(render_document.__class__, "apply_async", broker_down)
    with caplog.at_level(logging.ERROR, logger="certification.tasks"), django_capture_on_commit_callbacks(execute=True):
        credential = award(c)  # raises nothing
    assert {d.status for d in credential.documents.all()} == {DocumentStatus.QUEUED}
    assert sum("left queued for the sweep" in r.getMessage() for r in caplog.records) == credential.documents.count()


@pytest.mark.django_db(transaction=True)
def test_a_document_another_sweep_holds_is_skipped_not_waited_for(awardable, django_capture_on_commit_callbacks):
    if connection.vendor != "postgresql":
        pytest.skip("row locks (FOR UPDATE SKIP LOCKED) need PostgreSQL")
    c = awardable
    credential = award(c)
    held, free = credential.documents.all()[:2]
    age(credential.documents.all(), seconds=900)
    with row_locked_elsewhere(Document, held.pk), django_capture_on_commit_callbacks(execute=False):
        sent = services.documents_requeue_stale(older_than=timedelta(seconds=600))
    assert str(free.pk) in sent and str(held.pk) not in sent
