"""Journey 5 — the board awards the cohort and watches the documents being rendered; the learner downloads the
certificate and shares its verification page, which says "valid", then "revoked" once the credential is revoked.

With PostgreSQL and Redis (CI) the documents are rendered by a real Celery worker process while the page polls
its progress; elsewhere by Celery's eager mode inside the award request.
"""

from __future__ import annotations

import io
import re

import pytest
from playwright.sync_api import expect
from pypdf import PdfReader

from certification.models import Credential, Document, DocumentStatus
from tests.factories import PASSWORD

from ..workers import unavailable_reason
from .forms import fill

pytestmark = pytest.mark.e2e


@pytest.fixture
def renderer(request):
    """A real worker on this test's queue when the environment has PostgreSQL and Redis, else eager tasks."""
    return None if unavailable_reason() else request.getfixturevalue("worker")


def test_board_awards_the_cohort_the_learner_downloads_and_verifies_and_revocation_shows(
        journey, awardable, renderer, tmp_path):
    c = awardable
    board = journey("board")
    page = board.page
    board.log_in(c.board.email, PASSWORD)
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Awards").click()
    board.check()
    page.get_by_role("row", name=re.compile(c.edition.intake_code)).get_by_role("link", name=c.programme.title).click()
    board.check()

    # Award everyone; the progress bar fills as the worker renders certificate and supplement per learner.
    with page.expect_navigation(timeout=120_000):  # eager mode renders inside this request
        page.get_by_role("button", name="Award all 3 eligible learners").click(timeout=120_000)
    bar = page.locator("#bulk-progress-bar")
    expect(bar).to_be_visible()
    seen = {int(bar.get_attribute("value"))}
    expect(page.locator("#bulk-progress-text")).to_contain_text("All documents are rendered.", timeout=120_000)
    seen.add(int(bar.get_attribute("value")))
    assert max(seen) == 100, seen
    board.check("complete")
    documents = Document.objects.filter(credential__award__enrolment__edition=c.edition)
    assert documents.count() >= 6 and set(documents.values_list("status", flat=True)) == {DocumentStatus.READY}
    board.screenshot("awarded")

    # The learner downloads the certificate and opens the verification page from "My credentials".
    enrolment = c.enrolments[0]
    credential = Credential.objects.get(award__enrolment=enrolment)
    learner = journey("learner")
    learner.log_in(enrolment.learner.email, PASSWORD)
    learner.go("/my/credentials/")
    certificate = learner.page.locator("li", has_text="Certificate").first
    with learner.page.expect_download() as download:
        certificate.get_by_role("link", name="Download (PDF)").click()
    saved = tmp_path / "certificate.pdf"
    download.value.save_as(saved)
    text = "".join(page.extract_text() for page in PdfReader(io.BytesIO(saved.read_bytes())).pages)
    assert enrolment.application.full_name in text and credential.credential_id in text

    learner.page.get_by_role("link", name="Open the verification page").click()
    learner.check()
    verify_path = learner.path()
    assert verify_path == f"/verify/{credential.credential_id}/"
    expect(learner.page.locator("main .badge.status-valid").first).to_have_text("Valid")

    # Anyone holding the link (no account) can check the very file they were sent.
    employer = journey("employer")
    employer.go(verify_path)
    expect(employer.page.locator("main .badge.status-valid").first).to_have_text("Valid")
    employer.page.locator("main form input[type='file']").set_input_files(str(saved))
    with employer.page.expect_navigation():
        employer.page.get_by_role("button", name="Check the file").click()
    expect(employer.page.locator("main")).to_contain_text("Authentic.")
    employer.check("checked")

    # The board revokes the credential; the same link now says so, with the reason.
    board.go(f"/awards/{credential.award.pk}/")
    fill(page, {"reason": "Issued in error: the exam of course B is being re-marked."},
         within="form:has(button.danger)")
    with page.expect_navigation():
        page.get_by_role("button", name="Revoke", exact=True).click()
    board.check("revoked")
    credential.refresh_from_db()
    assert credential.status == "revoked"
    employer.go(verify_path)
    expect(employer.page.locator("main .badge.status-revoked").first).to_have_text("Revoked")
    expect(employer.page.locator("main")).to_contain_text("Issued in error: the exam of course B is being re-marked.")
    employer.check("revoked")
    employer.screenshot()
