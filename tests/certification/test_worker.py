"""A real Celery worker renders a certificate and a supplement end to end, through Redis (runs in CI)."""

import hashlib
import time
from unittest import mock

import pytest

from certification import services
from certification.models import Document, DocumentStatus
from certification.tasks import render_document
from certification.vc import seal, verifier
from tests.benchmarks.certificates import _cohort

pytestmark = [pytest.mark.celery_worker, pytest.mark.django_db(transaction=True)]


def test_worker_renders_the_documents_of_an_award(worker):
    _edition, board, enrolments = _cohort(1)
    with mock.patch.object(render_document, "delay_on_commit"):  # sent below, to this test's own queue
        award = services.award_decide(actor=board, enrolment=enrolments[0])
    documents = list(Document.objects.filter(credential__award=award))
    assert {d.kind for d in documents} == {"certificate", "supplement"}

    results = [render_document.apply_async(args=[str(d.pk)], queue=worker) for d in documents]
    hashes = [r.get(timeout=120) for r in results]

    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        rendered = list(Document.objects.filter(credential__award=award))
        if all(d.status == DocumentStatus.READY for d in rendered):
            break
        time.sleep(0.5)
    assert all(d.status == DocumentStatus.READY for d in rendered), [(d.kind, d.status, d.error) for d in rendered]
    for document in rendered:
        content = document.file.open("rb").read()
        assert content.startswith(b"%PDF-")
        assert hashlib.sha256(content).hexdigest() == document.sha256 and document.sha256 in hashes
        # Sealed by the issuing institution, with the signed credential embedded (the worker signed it).
        check = seal.check_pdf(content)
        assert check["sealed"] and check["intact"] and check["trusted"], check["message"]
        assert check["fingerprint"] == document.seal_fingerprint
        assert verifier.is_valid(verifier.verify(check["credential"]))
