"""The certification pages (D6), driven through the Django test client with the assessment ``cohort`` fixture.

Learners 0 and 1 pass everything and are eligible; learner 2 fails course A. Celery runs eagerly: the render
tasks run when the awarding transaction's on-commit callbacks are executed.
"""

import hashlib
import io
import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils.html import escape
from pypdf import PdfReader

from certification import rendering, services
from certification.models import Award, BulkIssue, Credential, Document
from certification.snapshot import ELEMENTS
from certification.tasks import render_document
from programmes.models import LearningOutcome
from tests.assessment.conftest import cohort  # noqa: F401
from tests.assessment.test_services import grade_cohort_and_approve
from tests.factories import StaffFactory, UserFactory


@pytest.fixture
def graded(cohort):  # noqa: F811
    c = cohort
    LearningOutcome.objects.create(
        programme=c.programme, category="knowledge", text="Explains joint grading",
        esco_uri="http://data.europa.eu/esco/skill/abc",
    )
    grade_cohort_and_approve(c, {c.enrolments[2]: ("5.0", "5.0", "7.0", "7.0")})  # learner 2 fails course A
    return c


@pytest.fixture
def awarded(graded, client, django_capture_on_commit_callbacks):
    """The board awarded every eligible learner through the page; documents rendered."""
    c = graded
    client.force_login(c.board)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("award-edition-award", args=[c.edition.pk]))
    assert response.status_code == 302
    client.logout()
    c.award = Award.objects.get(enrolment=c.enrolments[0])
    c.credential = c.award.credentials.get()
    c.certificate = c.credential.documents.get(kind="certificate")
    return c


def text_of(response) -> str:
    return response.content.decode()


def messages_of(response) -> list[str]:
    return [str(m) for m in response.context["messages"]] if response.context else []


def pdf_text(content: bytes) -> str:
    text = " ".join(page.extract_text() or "" for page in PdfReader(io.BytesIO(content)).pages)
    return " ".join(text.split())


def upload(client, credential, content: bytes, name="document.pdf", content_type="application/pdf"):
    file = SimpleUploadedFile(name, content, content_type=content_type)
    return client.post(reverse("verify", args=[credential.credential_id]), {"file": file})


def no_inline_script(html: str) -> bool:
    return not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", html)


# --- The examination board ----------------------------------------------------------------------------------


def test_board_sees_who_is_eligible_and_why_not(graded, client):
    c = graded
    client.force_login(c.board)
    response = client.get(reverse("award-edition", args=[c.edition.pk]))
    html = text_of(response)
    assert response.status_code == 200
    assert html.count(">Eligible<") == 2 and html.count(">Not eligible<") == 1
    assert "Mandatory course A Course A is failed." in html
    assert "Award all 2 eligible learners" in html
    assert 'id="progress"' not in html  # no bulk issue yet
    assert no_inline_script(html)
    home = client.get(reverse("awards-home"))
    assert home.status_code == 200 and reverse("award-edition", args=[c.edition.pk]) in text_of(home)


def test_awarding_all_eligible_issues_documents_and_progress_reaches_100(
    graded, client, django_capture_on_commit_callbacks
):
    c = graded
    client.force_login(c.board)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("award-edition-award", args=[c.edition.pk]), follow=True)
    assert "2 learners awarded; the documents are being rendered." in messages_of(response)
    assert set(Award.objects.values_list("enrolment", flat=True)) == {c.enrolments[0].pk, c.enrolments[1].pk}
    documents = Document.objects.all()
    assert documents.count() == 4  # a joint certificate and a supplement each
    assert set(documents.values_list("status", flat=True)) == {"ready"}
    assert all(len(d.sha256) == 64 for d in documents)

    bulk = BulkIssue.objects.get()
    progress = client.get(reverse("award-bulk-progress", args=[bulk.pk]))
    assert progress.status_code == 200 and progress["Content-Type"] == "application/json"
    data = progress.json()
    assert data["percent"] == 100 and data["complete"] is True
    assert (data["done"], data["total"], data["ready"], data["failed"], data["awards"]) == (4, 4, 4, 0, 2)
    assert data["failures"] == []

    html = text_of(client.get(reverse("award-edition", args=[c.edition.pk])))
    assert f'data-progress-url="{reverse("award-bulk-progress", args=[bulk.pk])}"' in html
    assert '<progress id="bulk-progress-bar" max="100" value="100">' in html
    assert "4 of 4 documents done: 4 ready, 0 failed (100 %)." in html
    assert "js/bulk_progress.js" in html and no_inline_script(html)
    assert html.count(">Awarded<") == 2


def test_awarding_twice_creates_one_award(graded, client, django_capture_on_commit_callbacks):
    c = graded
    client.force_login(c.board)
    target = c.enrolments[0]
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("award-edition-award", args=[c.edition.pk]), {"enrolment": str(target.pk)})
    again = client.post(reverse("award-edition-award", args=[c.edition.pk]), {"enrolment": str(target.pk)},
                        follow=True)
    assert Award.objects.filter(enrolment=target).count() == 1
    assert Credential.objects.filter(award__enrolment=target).count() == 1
    assert any("cannot be awarded" in m and "Already awarded." in m for m in messages_of(again))
    # The service itself is idempotent too.
    assert services.award_decide(actor=c.board, enrolment=target) == Award.objects.get(enrolment=target)
    # Awarding "all" now awards only the other eligible learner; the failing one is refused with reasons.
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("award-edition-award", args=[c.edition.pk]))
    assert Award.objects.count() == 2
    refused = client.post(reverse("award-edition-award", args=[c.edition.pk]),
                          {"enrolment": str(c.enrolments[2].pk)}, follow=True)
    assert any("Mandatory course A" in m for m in messages_of(refused))
    assert not Award.objects.filter(enrolment=c.enrolments[2]).exists()


def test_non_board_users_get_403(awarded, client, world):
    c = awarded
    bulk = BulkIssue.objects.get()
    urls = [
        ("get", reverse("award-edition", args=[c.edition.pk])),
        ("post", reverse("award-edition-award", args=[c.edition.pk])),
        ("get", reverse("award-bulk-progress", args=[bulk.pk])),
        ("post", reverse("award-document-retry", args=[c.certificate.pk])),
        ("post", reverse("credential-revoke", args=[c.credential.pk])),
        ("post", reverse("credential-reissue", args=[c.credential.pk])),
    ]
    for user in (c.leader, c.examiner_ua, c.enrolments[0].learner, world.people["UA_admin"]):
        client.force_login(user)
        for method, url in urls:
            assert getattr(client, method)(url, {"reason": "x"}).status_code == 403, (user, url)
    client.logout()
    assert client.get(urls[0][1]).status_code == 302  # to the sign-in page
    assert Award.objects.count() == 2 and Credential.objects.filter(status="valid").count() == 2


# --- Staff: the award page ------------------------------------------------------------------------------------


def test_award_detail_for_staff(awarded, client, world):
    c = awarded
    url = reverse("award-detail", args=[c.award.pk])
    client.force_login(c.board)
    html = text_of(client.get(url))
    assert "Version 1" in html and ">Valid<" in html
    assert reverse("document-download", args=[c.certificate.pk]) in html
    assert reverse("credential-revoke", args=[c.credential.pk]) in html
    assert reverse("credential-reissue", args=[c.credential.pk]) in html
    assert html.count('id="revoke_reason"') == 1 and html.count('id="reissue_reason"') == 1
    client.force_login(c.leader)  # views the award, does not decide
    html = text_of(client.get(url))
    assert ">Valid<" in html and reverse("credential-revoke", args=[c.credential.pk]) not in html
    client.force_login(world.people["UC_staff"])
    assert client.get(url).status_code == 403


def test_revoke_needs_a_reason(awarded, client):
    c = awarded
    client.force_login(c.board)
    response = client.post(reverse("credential-revoke", args=[c.credential.pk]), {"reason": "  "})
    assert response.status_code == 200 and "This field is required." in text_of(response)
    c.credential.refresh_from_db()
    assert c.credential.status == "valid"


def test_failed_documents_are_listed_and_retried(awarded, client, django_capture_on_commit_callbacks, monkeypatch):
    c = awarded
    Document.objects.filter(pk=c.certificate.pk).update(status="queued", file="", sha256="")

    def broken(*args, **kwargs):
        raise ValueError("the font cache is gone")

    monkeypatch.setattr(rendering, "render_pdf", broken)
    with pytest.raises(ValueError):
        render_document.delay(str(c.certificate.pk))  # eager: a non-retryable error marks the document failed
    monkeypatch.undo()
    bulk = BulkIssue.objects.get()
    client.force_login(c.board)
    data = client.get(reverse("award-bulk-progress", args=[bulk.pk])).json()
    assert (data["ready"], data["failed"], data["percent"]) == (3, 1, 100)
    assert data["failures"][0]["error"] == "ValueError: the font cache is gone"
    assert data["failures"][0]["retry_url"] == reverse("award-document-retry", args=[c.certificate.pk])
    html = text_of(client.get(reverse("award-edition", args=[c.edition.pk])))
    assert "ValueError: the font cache is gone" in html and ">Retry<" in html

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("award-document-retry", args=[c.certificate.pk]),
                               {"next": reverse("award-edition", args=[c.edition.pk])})
    assert response.url == reverse("award-edition", args=[c.edition.pk])
    c.certificate.refresh_from_db()
    assert c.certificate.status == "ready" and c.certificate.sha256
    again = client.post(reverse("award-document-retry", args=[c.certificate.pk]), follow=True)
    assert "Only a failed document is rendered again." in messages_of(again)


# --- The learner ------------------------------------------------------------------------------------------------


def test_learner_sees_and_downloads_their_credentials(awarded, client):
    c = awarded
    learner = c.enrolments[0].learner
    client.force_login(learner)
    page = client.get(reverse("my-credentials"))
    html = text_of(page)
    assert page.status_code == 200
    assert html.count(">Download (PDF)<") == 2
    assert f"/verify/{c.credential.credential_id}/" in html and "js-copy" in html
    assert reverse("transcript", args=[c.enrolments[0].pk]) in html
    assert 'href="/my/credentials/"' in html and 'href="/my/results/"' in html  # the navigation
    other = Credential.objects.get(award__enrolment=c.enrolments[1])
    assert other.credential_id not in html  # only the learner's own awards
    assert no_inline_script(html)

    response = client.get(reverse("document-download", args=[c.certificate.pk]))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"].startswith("attachment;")
    content = b"".join(response.streaming_content)
    assert content.startswith(b"%PDF") and hashlib.sha256(content).hexdigest() == c.certificate.sha256
    assert "/media/" not in html


def test_documents_being_prepared_are_marked(graded, client):
    c = graded
    client.force_login(c.board)
    client.post(reverse("award-edition-award", args=[c.edition.pk]))  # on-commit callbacks never run here
    assert set(Document.objects.values_list("status", flat=True)) == {"queued"}
    client.force_login(c.enrolments[0].learner)
    html = text_of(client.get(reverse("my-credentials")))
    assert html.count(">Being prepared<") == 2 and "Download (PDF)" not in html
    document = Document.objects.filter(credential__award__enrolment=c.enrolments[0]).first()
    assert client.get(reverse("document-download", args=[document.pk])).status_code == 404
    client.force_login(c.board)
    progress = client.get(reverse("award-bulk-progress", args=[BulkIssue.objects.get().pk])).json()
    assert progress["percent"] == 0 and progress["complete"] is False


def test_another_learner_gets_404_on_the_download(awarded, client, world):
    c = awarded
    url = reverse("document-download", args=[c.certificate.pk])
    for user in (c.enrolments[1].learner, UserFactory(), StaffFactory(institution=world.uc).user):
        client.force_login(user)
        assert client.get(url).status_code == 404
    client.force_login(c.leader)  # staff who may view the award
    assert client.get(url).status_code == 200
    client.logout()
    assert client.get(url).status_code == 302


def test_transcript_is_provisional_before_the_award(graded, client, django_capture_on_commit_callbacks):
    c = graded
    enrolment = c.enrolments[0]
    client.force_login(enrolment.learner)
    html = text_of(client.get(reverse("my-credentials")))
    assert "Not awarded yet" in html and reverse("transcript", args=[enrolment.pk]) in html
    response = client.get(reverse("transcript", args=[enrolment.pk]))
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    assert "provisional" in response["Content-Disposition"]
    text = pdf_text(response.content)
    assert "PROVISIONAL" in text and "Transcript of Records" in text
    assert "Course A" in text and "Elective E" in text and "Learner0" in text

    client.force_login(c.enrolments[1].learner)
    assert client.get(reverse("transcript", args=[enrolment.pk])).status_code == 404

    client.force_login(c.board)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("award-edition-award", args=[c.edition.pk]), {"enrolment": str(enrolment.pk)})
    client.force_login(enrolment.learner)
    final = client.get(reverse("transcript", args=[enrolment.pk]))
    text = pdf_text(final.content)
    credential_id = Credential.objects.get(award__enrolment=enrolment).credential_id
    assert "PROVISIONAL" not in text and credential_id in text.replace(" ", "")  # the id may wrap at a hyphen


# --- Public verification --------------------------------------------------------------------------------------


def test_verification_page_shows_a_valid_credential_with_the_11_elements(awarded, client):
    c = awarded
    response = client.get(reverse("verify", args=[c.credential.credential_id]))
    html = text_of(response)
    assert response.status_code == 200
    assert ">Valid<" in html and "has not been revoked" in html
    for number, (_key, label) in enumerate(ELEMENTS, start=1):
        assert f"({number}) {label}" in html
    assert "Learner0 Test" in html and "Grading" in html and "Explains joint grading" in html
    for body in (c.programme.lead_institution, c.course_b.provider):  # UA and UB, the awarding universities
        assert escape(body.legal_name) in html
    assert 'rel="noopener noreferrer"' in html  # the ESCO link
    assert no_inline_script(html) and 'enctype="multipart/form-data"' in html


def test_revoked_credential_shows_date_and_reason(awarded, client):
    c = awarded
    client.force_login(c.board)
    response = client.post(reverse("credential-revoke", args=[c.credential.pk]),
                           {"reason": "Plagiarism established by the board"}, follow=True)
    assert "The credential is revoked." in messages_of(response)
    client.logout()
    html = text_of(client.get(reverse("verify", args=[c.credential.credential_id])))
    assert ">Revoked<" in html and "Plagiarism established by the board" in html
    assert "This credential was revoked on" in html and ">Valid<" not in html


def test_uploaded_pdf_is_checked_against_the_issued_documents(awarded, client, settings):
    c = awarded
    with c.certificate.file.open("rb") as handle:
        issued = handle.read()
    authentic = text_of(upload(client, c.credential, issued))
    assert "Authentic." in authentic and "This file is the certificate issued on" in authentic

    tampered = bytearray(issued)
    tampered[len(tampered) // 2] ^= 0x01
    html = text_of(upload(client, c.credential, bytes(tampered)))
    assert "does not match any document we issued" in html and "Authentic." not in html

    # A document of another learner's credential is not one of this credential's.
    other = Document.objects.filter(credential__award__enrolment=c.enrolments[1], kind="certificate").get()
    with other.file.open("rb") as handle:
        assert "does not match any document we issued" in text_of(upload(client, c.credential, handle.read()))

    not_pdf = upload(client, c.credential, b"hello, this is text", name="note.pdf", content_type="application/pdf")
    assert not_pdf.status_code == 200
    assert "is not an accepted file type. Accepted: PDF" in text_of(not_pdf)
    empty = client.post(reverse("verify", args=[c.credential.credential_id]), {})
    assert "This field is required." in text_of(empty)
    settings.UPLOAD_MAX_BYTES = 1000
    too_big = text_of(upload(client, c.credential, issued))
    assert "the limit is" in too_big and "Authentic." not in too_big


def test_unknown_or_garbage_credential_ids_are_404_never_500(db, client):
    for credential_id in ("does-not-exist-123", "x", "a" * 500, "%00", "ü%C3", "'; drop table--", "..%2F..%2F"):
        response = client.get(f"/verify/{credential_id}/")
        assert response.status_code == 404, credential_id
    response = client.get("/verify/does-not-exist-123/")
    assert "Unknown credential" in text_of(response) and "does-not-exist-123" in text_of(response)
    assert client.post("/verify/does-not-exist-123/", {}).status_code == 404


def test_garbage_uploads_are_a_400_not_a_500(awarded, client):
    c = awarded
    response = client.generic(
        "POST", reverse("verify", args=[c.credential.credential_id]), b"--xx\r\nnonsense",
        content_type="multipart/form-data; boundary=xx",
    )
    assert response.status_code in (200, 400)


def test_reissue_creates_v2_and_v1_says_superseded(awarded, client, django_capture_on_commit_callbacks):
    c = awarded
    client.force_login(c.board)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("credential-reissue", args=[c.credential.pk]),
                               {"reason": "Corrected the spelling of the name"})
    assert response.url == reverse("award-detail", args=[c.award.pk])
    v1, v2 = Credential.objects.filter(award=c.award).order_by("version")
    assert (v1.status, v2.status, v2.version, v1.superseded_by_id) == ("superseded", "valid", 2, v2.pk)
    assert set(v2.documents.values_list("status", flat=True)) == {"ready"}

    client.logout()
    html = text_of(client.get(reverse("verify", args=[v1.credential_id])))
    assert ">Superseded<" in html and reverse("verify", args=[v2.credential_id]) in html
    assert ">Valid<" not in html
    assert ">Valid<" in text_of(client.get(reverse("verify", args=[v2.credential_id])))

    client.force_login(c.enrolments[0].learner)
    html = text_of(client.get(reverse("my-credentials")))
    assert f"/verify/{v2.credential_id}/" in html and "Earlier versions" in html
