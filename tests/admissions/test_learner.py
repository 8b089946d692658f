"""The learner's side of admissions (D4), driven through the Django test client.

A published programme with an open edition and admission criteria (one needs a document, one only on the
alternative route) is built with the factories and the admissions services; the learner applies from the
public page, fills in the one form, uploads, submits, answers requests, responds to the offer, withdraws and
asks for exemptions. Staff act through the services, as their own pages would.
"""

import html
import re
from urllib.parse import parse_qs, urlsplit

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.template.defaultfilters import filesizeformat
from django.urls import reverse

from admissions import services
from admissions.models import (
    Application,
    ApplicationDocument,
    ApplicationMessage,
    Enrolment,
    ExemptionRequest,
    InstitutionRegistration,
    MessageKind,
)
from consortium.api import DomainError

from ..factories import (
    EditionFactory,
    RoleAssignmentFactory,
    UserFactory,
)
from .scenarios import PDF_BYTES, answers, open_edition

EXECUTABLE_BYTES = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00" + b"\x00" * 200


def url(name: str, *args) -> str:
    return reverse(name, args=args)


def text(response) -> str:
    return html.unescape(response.content.decode())


def pdf(name: str = "proof.pdf", data: bytes = PDF_BYTES) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, data, content_type="application/pdf")


@pytest.fixture
def setup(db):
    return open_edition()


def field(criterion) -> str:
    return f"document_{criterion.pk.hex}"


def service_answers() -> dict:
    import datetime as dt

    return {"given_names": "Maria", "family_names": "Kowalska", "date_of_birth": dt.date(1990, 4, 10),
            "nationality": "PL", "email": "maria@example.org", "participant_profile": "professional",
            "track": "assessed", "route": "standard", "motivation": "Chip design."}


def started(s, user=None) -> Application:
    return services.application_start(actor=user or s.learner, edition=s.edition)


def submitted(s, user=None) -> Application:
    """A complete application submitted through the services (email and proof of English)."""
    user = user or s.learner
    application = started(s, user)
    services.application_save(actor=user, application=application, data={**service_answers(), "email": user.email},
                              documents=[("Proof of English", pdf(), s.english)])
    return services.application_submit(actor=user, application=application)


def admitted(s, user=None) -> Application:
    application = submitted(s, user)
    return services.application_admit(actor=s.reviewer, application=application)


def enrolled(s, user=None) -> Application:
    application = admitted(s, user)
    return services.application_accept_offer(actor=user or s.learner, application=application)


# --- URLs, navigation -----------------------------------------------------------------------------------------


def test_urls():
    assert url("application-start", "5e1b7c52-0d4c-4c1e-9d7a-3a0c2b1d4e5f").startswith("/apply/")
    assert url("my-applications") == "/my/applications/"
    pk = "5e1b7c52-0d4c-4c1e-9d7a-3a0c2b1d4e5f"
    assert url("application-edit", pk) == f"/my/applications/{pk}/edit/"
    assert url("application-status", pk) == f"/my/applications/{pk}/"
    assert url("application-document", pk) == f"/applications/documents/{pk}/"


def test_nav_links_to_my_applications_for_signed_in_users(client, setup):
    assert 'href="/my/applications/"' not in text(client.get("/"))
    client.force_login(setup.learner)
    assert 'href="/my/applications/"' in text(client.get(url("catalogue")))


def test_my_applications_empty_state_links_to_the_catalogue(client, setup):
    client.force_login(setup.learner)
    page = text(client.get(url("my-applications")))
    assert "You have not applied to a programme yet." in page
    assert f'href="{url("catalogue")}"' in page


def test_my_applications_requires_login(client, setup):
    response = client.get(url("my-applications"))
    assert response.status_code == 302 and response["Location"].startswith(reverse("account_login"))


# --- The journey ------------------------------------------------------------------------------------------------


def test_full_learner_journey(client, setup, mailoutbox, django_capture_on_commit_callbacks):
    s = setup
    # The public page's Apply link carries the campaign parameters.
    public = text(client.get(url("programme-public", "chip-design") + "?utm_source=newsletter&utm_medium=email"
                             "&utm_campaign=spring"))
    apply_link = re.search(r'href="(/apply/[^"]+)"', public).group(1)
    assert urlsplit(apply_link).path == url("application-start", s.edition.pk)

    # Anonymous: sign in first, then come back to the same link (campaign included).
    response = client.get(apply_link)
    assert response.status_code == 302
    login = urlsplit(response["Location"])
    assert login.path == reverse("account_login")
    assert parse_qs(login.query)["next"] == [apply_link]

    client.force_login(s.learner)
    response = client.get(apply_link)
    application = Application.objects.get(applicant=s.learner, edition=s.edition)
    assert response.status_code == 302 and response["Location"] == url("application-edit", application.pk)
    assert (application.utm_source, application.utm_medium, application.utm_campaign) == (
        "newsletter", "email", "spring")
    assert (application.status, application.given_names, application.family_names) == ("draft", "Maria", "Kowalska")

    # One form: criteria with their proofs, the size limit, both buttons.
    form = text(client.get(url("application-edit", application.pk)))
    for expected in ("English at CEFR B2 or higher", "IELTS 6.0 or TOEFL iBT 80", "Proof of English", "Portfolio",
                     "Save draft", "Submit application", "Attendance only", "ECTS credits",
                     filesizeformat(10 * 1024 * 1024)):
        assert expected in form, expected
    assert f'name="{field(s.english)}"' in form and f'name="{field(s.experience)}"' not in form

    # Save a draft with a real PDF.
    response = client.post(url("application-edit", application.pk),
                           {**answers(), field(s.english): pdf("ielts.pdf"), "action": "save"})
    assert response.status_code == 302 and response["Location"] == url("application-edit", application.pk)
    application.refresh_from_db()
    assert application.status == "draft"
    assert (application.given_names, application.family_names, str(application.nationality)) == (
        "Maria Anna", "Kowalska-Nowak", "PL")
    assert application.highest_eqf_level == 6 and application.employer_sponsor == "EuroChip GmbH"
    document = ApplicationDocument.objects.get(application=application)
    assert (document.criterion, document.kind, document.label) == (s.english, "pdf", "Proof of English")
    assert url("application-document", document.pk) in text(client.get(url("application-edit", application.pk)))

    # Submit: the status page shows the message, and it is emailed after commit.
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(url("application-edit", application.pk), {**answers(), "action": "submit"})
    assert response.status_code == 302 and response["Location"] == url("application-status", application.pk)
    application.refresh_from_db()
    assert application.status == "submitted" and application.submitted_at is not None
    page = text(client.get(response["Location"]))
    assert "Submitted" in page and "We received your application" in page
    assert url("application-document", document.pk) in page
    assert [m.to for m in mailoutbox] == [["maria@example.org"]]
    assert "We received your application" in mailoutbox[0].body

    # The list shows it with its status and next step; the form is closed now.
    listing = text(client.get(url("my-applications")))
    assert s.programme.title in listing and "2026-autumn" in listing and "Submitted" in listing
    assert "the reviewing institution will look at your application" in listing
    response = client.get(url("application-edit", application.pk))
    assert response.status_code == 302 and response["Location"] == url("application-status", application.pk)
    assert "can no longer be changed" in text(client.get(response["Location"]))


def test_post_from_the_apply_button_works_too(client, setup):
    client.force_login(setup.learner)
    response = client.post(url("application-start", setup.edition.pk) + "?utm_source=partner-site")
    application = Application.objects.get(applicant=setup.learner)
    assert response["Location"] == url("application-edit", application.pk)
    assert application.utm_source == "partner-site"


def test_incomplete_submission_lists_what_is_missing_and_stays_draft(client, setup):
    s = setup
    application = started(s)
    client.force_login(s.learner)
    response = client.post(url("application-edit", application.pk),
                           {**answers(motivation="", nationality=""), "action": "submit"})
    assert response.status_code == 200
    page = text(response)
    assert "The application is not complete yet." in page
    assert "Upload: Proof of English." in page
    assert "nationality" in page and "motivation" in page
    assert "Upload: Portfolio" not in page  # only on the alternative route
    application.refresh_from_db()
    assert application.status == "draft"
    assert application.given_names == "Maria Anna"  # what was typed is saved as a draft
    assert 'value="Maria Anna"' in page


def test_alternative_route_needs_the_portfolio(client, setup):
    s = setup
    application = started(s)
    client.force_login(s.learner)
    response = client.post(url("application-edit", application.pk),
                           {**answers(route="alternative"), field(s.english): pdf(), "action": "submit"})
    assert response.status_code == 200 and "Upload: Portfolio." in text(response)
    response = client.post(url("application-edit", application.pk),
                           {**answers(route="alternative"), field(s.portfolio): pdf("portfolio.pdf"),
                            "action": "submit"})
    assert response.status_code == 302
    application.refresh_from_db()
    assert application.status == "submitted"


@pytest.mark.parametrize(
    ("upload", "message"),
    [
        (lambda: SimpleUploadedFile("cv.pdf", EXECUTABLE_BYTES, content_type="application/pdf"),
         "cv.pdf is not an accepted file type"),
        (lambda: pdf("big.pdf", PDF_BYTES + b"%" * 1000), "the limit is 1000\xa0bytes"),
        (lambda: SimpleUploadedFile("empty.pdf", b"", content_type="application/pdf"), "empty"),
        (lambda: pdf("script.pdf", b"%PDF-1.4\n1 0 obj<</Type/Catalog/OpenAction<</S/JavaScript/JS(app.alert(1))>>>>"
                                   b"endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n"),
         "script.pdf contains active content (JavaScript)"),
    ],
    ids=["renamed-executable", "oversized", "empty", "pdf-with-javascript"],
)
def test_refused_upload_saves_nothing(client, setup, settings, upload, message):
    s = setup
    settings.UPLOAD_MAX_BYTES = 1000
    application = started(s)
    client.force_login(s.learner)
    page = text(client.get(url("application-edit", application.pk)))
    assert "at most 1000\xa0bytes" in page  # the limit is shown in the help text
    response = client.post(url("application-edit", application.pk),
                           {**answers(given_names="Typed Name"), field(s.english): upload(), "action": "save"})
    assert response.status_code == 200
    page = text(response)
    # The message sits next to the file input (inside its error block), and the typed values are kept.
    error_block = re.search(rf'id="id_{field(s.english)}_error">(.*?)</div>', page, re.S)
    assert error_block and message in error_block.group(1)
    assert 'value="Typed Name"' in page
    assert not ApplicationDocument.objects.exists()
    application.refresh_from_db()
    assert (application.given_names, application.motivation) == ("Maria", "")


def test_one_refused_file_among_good_ones_saves_nothing(client, setup):
    s = setup
    application = started(s)
    client.force_login(s.learner)
    response = client.post(url("application-edit", application.pk), {
        **answers(), field(s.english): pdf(), "other_document": SimpleUploadedFile("cv.pdf", EXECUTABLE_BYTES),
        "other_label": "CV", "action": "submit"})
    assert response.status_code == 200
    error_block = re.search(r'id="id_other_document_error">(.*?)</div>', text(response), re.S)
    assert error_block and "not an accepted file type" in error_block.group(1)
    assert "Nothing was saved" in text(response)
    assert not ApplicationDocument.objects.exists()
    application.refresh_from_db()
    assert application.status == "draft" and application.motivation == ""


def test_one_application_per_learner_per_edition(client, setup):
    s = setup
    client.force_login(s.learner)
    first = client.get(url("application-start", s.edition.pk))
    second = client.get(url("application-start", s.edition.pk) + "?utm_source=other")
    assert first["Location"] == second["Location"]
    assert Application.objects.filter(applicant=s.learner, edition=s.edition).count() == 1
    assert Application.objects.get(applicant=s.learner).utm_source == ""  # the first start counts
    # Once submitted, Apply leads to the status page.
    submitted(s)
    response = client.get(url("application-start", s.edition.pk))
    application = Application.objects.get(applicant=s.learner)
    assert response["Location"] == url("application-status", application.pk)
    assert "You already applied" in text(client.get(response["Location"]))


def test_start_refused_when_not_open_or_without_criteria(client, setup):
    s = setup
    client.force_login(s.learner)
    planned = EditionFactory(programme=s.programme, status="planned", intake_code="2027-spring")
    response = client.get(url("application-start", planned.pk))
    assert response["Location"] == url("programme-public", "chip-design")
    assert "does not accept applications" in text(client.get(response["Location"]))
    unframed = EditionFactory(programme=s.programme, status="open", intake_code="2027-autumn")
    response = client.get(url("application-start", unframed.pk))
    assert response["Location"] == url("programme-public", "chip-design")
    assert "no admission criteria yet" in text(client.get(response["Location"]))
    assert not Application.objects.exists()


# --- Privacy: own applications only ----------------------------------------------------------------------------


def test_someone_elses_application_and_documents_are_404(client, setup):
    s = setup
    application = submitted(s)
    document = application.documents.get()
    other = UserFactory()
    client.force_login(other)
    for name in ("application-status", "application-edit", "my-application-withdraw"):
        assert client.get(url(name, application.pk)).status_code == 404, name
    for name in ("my-application-accept", "my-application-decline", "my-application-withdraw",
                 "my-application-answer"):
        assert client.post(url(name, application.pk)).status_code == 404, name
    assert client.get(url("application-document", document.pk)).status_code == 404
    assert s.programme.title not in text(client.get(url("my-applications")))
    # Staff who review see the document; staff of a partner see the application but not yet its documents.
    client.force_login(s.reviewer)
    assert client.get(url("application-status", application.pk)).status_code == 404  # not the learner's page
    assert client.get(url("application-document", document.pk)).status_code == 200
    client.force_login(s.partner_admin)
    assert client.get(url("application-document", document.pk)).status_code == 403
    client.logout()
    response = client.get(url("application-document", document.pk))
    assert response.status_code == 302 and response["Location"].startswith(reverse("account_login"))


def test_document_is_served_inline_with_its_type(client, setup):
    application = submitted(setup)
    document = application.documents.get()
    client.force_login(setup.learner)
    response = client.get(url("application-document", document.pk))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"].startswith("inline")
    assert response["X-Content-Type-Options"] == "nosniff"
    assert b"".join(response.streaming_content) == PDF_BYTES
    # An image named .pdf is served as the image it is (the type comes from the content, not the name).
    png = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32
    services.application_request_info(actor=setup.reviewer, application=application, message="A photo, please.")
    services.application_answer(actor=setup.learner, application=application, body="Here.",
                                documents=[("Photo", SimpleUploadedFile("photo.pdf", png), None)])
    photo = application.documents.get(label="Photo")
    response = client.get(url("application-document", photo.pk))
    assert response["Content-Type"] == "image/png" and response["Content-Disposition"].startswith("inline")


# --- After submission -----------------------------------------------------------------------------------------


def test_information_request_answered_with_a_document(client, setup, mailoutbox,
                                                      django_capture_on_commit_callbacks):
    s = setup
    application = submitted(s)
    services.application_review_start(actor=s.reviewer, application=application)
    with django_capture_on_commit_callbacks(execute=True):
        services.application_request_info(actor=s.reviewer, application=application,
                                          message="Please upload your IELTS score report.")
    assert [m.subject for m in mailoutbox] == ["More information needed for your application"]
    client.force_login(s.learner)
    page = text(client.get(url("application-status", application.pk)))
    assert "Please upload your IELTS score report." in page and "Answer the request" in page
    # The form stays open for changes, without a submit button (the answer sends it back).
    form = text(client.get(url("application-edit", application.pk)))
    assert "Save changes" in form and "Submit application" not in form

    response = client.post(url("my-application-answer", application.pk), {
        "body": "Here is the report.", "documents": [pdf("ielts-report.pdf")], "criterion": str(s.english.pk),
        "document_label": ""})
    assert response.status_code == 302 and response["Location"] == url("application-status", application.pk)
    application.refresh_from_db()
    assert application.status == "under_review"
    answer = ApplicationMessage.objects.get(application=application, kind=MessageKind.RESPONSE)
    assert answer.body == "Here is the report."
    assert application.documents.filter(criterion=s.english).count() == 2
    page = text(client.get(url("application-status", application.pk)))
    assert "Here is the report." in page and "Under review" in page


def test_answer_with_a_refused_file_changes_nothing(client, setup):
    s = setup
    application = submitted(s)
    services.application_request_info(actor=s.reviewer, application=application, message="Your CV, please.")
    client.force_login(s.learner)
    response = client.post(url("my-application-answer", application.pk), {
        "body": "Attached.", "documents": [SimpleUploadedFile("cv.pdf", EXECUTABLE_BYTES)]})
    assert response.status_code == 200 and "not an accepted file type" in text(response)
    application.refresh_from_db()
    assert application.status == "info_requested" and application.documents.count() == 1


def test_accepting_the_offer_enrols(client, setup, mailoutbox, django_capture_on_commit_callbacks):
    s = setup
    application = admitted(s)
    client.force_login(s.learner)
    page = text(client.get(url("application-status", application.pk)))
    assert "Accept the offer by" in page and "Accept the offer" in page and "Decline the offer" in page
    assert 'class="inline js-confirm"' in page
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(url("my-application-accept", application.pk))
    assert response["Location"] == url("application-status", application.pk)
    application.refresh_from_db()
    assert application.status == "enrolled"
    enrolment = Enrolment.objects.get(application=application)
    assert enrolment.learner == s.learner and enrolment.edition == s.edition
    assert list(InstitutionRegistration.objects.filter(enrolment=enrolment).values_list("institution", flat=True)) \
        == [s.programme.issuing_institution_id]
    assert [m.body.splitlines()[0] for m in mailoutbox] == ["You are enrolled. Welcome!"]
    page = text(client.get(url("application-status", application.pk)))
    assert "Enrolled" in page and s.programme.issuing_institution.legal_name in page
    assert 'id="offer"' not in page  # no more offer to respond to


def test_declining_admits_the_first_waitlisted_applicant(client, setup, mailoutbox,
                                                         django_capture_on_commit_callbacks):
    s = setup
    s.edition.capacity = 1
    s.edition.save()
    application = admitted(s)
    waiting = UserFactory(email="waiting@example.org")
    second = services.application_waitlist(actor=s.reviewer, application=submitted(s, waiting))
    later = UserFactory(email="later@example.org")
    services.application_waitlist(actor=s.reviewer, application=submitted(s, later))
    client.force_login(s.learner)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(url("my-application-decline", application.pk))
    assert response["Location"] == url("application-status", application.pk)
    application.refresh_from_db()
    second.refresh_from_db()
    assert application.status == "declined"
    assert second.status == "admitted" and second.offer_deadline is not None
    assert Application.objects.get(applicant=later).status == "waitlisted"
    to = {m.to[0]: m.body for m in mailoutbox}
    assert set(to) == {"maria@example.org", "waiting@example.org"}
    assert "you are admitted" in to["waiting@example.org"]
    assert "You declined the offer." in to["maria@example.org"]


def test_withdraw_with_a_reason(client, setup, mailoutbox, django_capture_on_commit_callbacks):
    s = setup
    application = submitted(s)
    client.force_login(s.learner)
    page = text(client.get(url("application-status", application.pk)))
    assert url("my-application-withdraw", application.pk) in page
    assert client.get(url("my-application-withdraw", application.pk)).status_code == 200  # confirmation page
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(url("my-application-withdraw", application.pk), {"reason": "Changed jobs."})
    assert response["Location"] == url("application-status", application.pk)
    application.refresh_from_db()
    assert application.status == "withdrawn"
    page = text(client.get(url("application-status", application.pk)))
    assert "The application was withdrawn. Changed jobs." in page
    assert url("my-application-withdraw", application.pk) not in page  # nothing left to withdraw
    assert "Changed jobs." in mailoutbox[-1].body


def test_timeline_lists_every_message_oldest_first(client, setup):
    s = setup
    application = submitted(s)
    services.messages_send(actor=s.reviewer, applications=[application], subject="Welcome session",
                           body="The session is on Monday.")
    services.application_reject(actor=s.reviewer, application=application, reason="No STEM degree.")
    client.force_login(s.learner)
    page = text(client.get(url("application-status", application.pk)))
    timeline = page[page.index('id="timeline"'):]
    positions = [timeline.index(t) for t in ("We received your application", "The session is on Monday.",
                                             "No STEM degree.")]
    assert positions == sorted(positions)
    assert "Rejected" in page


# --- Exemptions (recognition of prior learning) ------------------------------------------------------------------


def test_exemption_request_for_a_course_of_the_curriculum(client, setup):
    s = setup
    application = enrolled(s)
    client.force_login(s.learner)
    page = text(client.get(url("application-status", application.pk)))
    assert "Ask for an exemption" in page and "CD101 Digital design" in page and "QC101" not in page
    response = client.post(url("my-application-exemption", application.pk), {
        "course": str(s.course.pk), "basis": "BSc course on digital design (6 ECTS), 2012.",
        "evidence": pdf("transcript.pdf")})
    assert response["Location"] == url("application-status", application.pk)
    exemption = ExemptionRequest.objects.get(application=application)
    assert (exemption.course, exemption.status) == (s.course, "requested") and exemption.evidence
    page = text(client.get(url("application-status", application.pk)))
    assert "CD101" in page and "Requested" in page
    # Decided by the board: the decision shows.
    board = UserFactory()
    RoleAssignmentFactory(user=board, role="exam_board", institution=s.lead, target_id=s.programme.pk)
    services.exemption_decide(actor=board, exemption=exemption, granted=True, reason="Equivalent course.")
    page = text(client.get(url("application-status", application.pk)))
    assert "Granted" in page and "Equivalent course." in page


def test_exemption_for_another_programmes_course_is_refused(client, setup):
    s = setup
    application = enrolled(s)
    client.force_login(s.learner)
    response = client.post(url("my-application-exemption", application.pk), {
        "course": str(s.other_course.pk), "basis": "I know quantum circuits."})
    assert response.status_code == 200 and "Select a valid choice" in text(response)
    assert not ExemptionRequest.objects.exists()
    with pytest.raises(DomainError, match="not part of this edition's curriculum"):
        services.exemption_request(actor=s.learner, application=application, course=s.other_course,
                                   basis="I know quantum circuits.")


def test_exemption_with_a_refused_evidence_file(client, setup):
    s = setup
    application = enrolled(s)
    client.force_login(s.learner)
    response = client.post(url("my-application-exemption", application.pk), {
        "course": str(s.course.pk), "basis": "Earlier course.", "evidence": SimpleUploadedFile("t.pdf", b"MZ\x90")})
    assert response.status_code == 200
    error_block = re.search(r'id="id_evidence_error">(.*?)</div>', text(response), re.S)
    assert error_block and "not an accepted file type" in error_block.group(1)
    assert not ExemptionRequest.objects.exists()


def test_no_exemption_form_before_admission(client, setup):
    application = submitted(setup)
    client.force_login(setup.learner)
    assert "Ask for an exemption" not in text(client.get(url("application-status", application.pk)))
    response = client.post(url("my-application-exemption", application.pk),
                           {"course": str(setup.course.pk), "basis": "Earlier course."})
    assert response.status_code == 200 and "once you are admitted or enrolled" in text(response)
    assert not ExemptionRequest.objects.exists()


def test_apply_admit_accept_enrolled_end_to_end(client, setup, mailoutbox, django_capture_on_commit_callbacks):
    """The issue's journey through the pages: the learner applies from the public page, the reviewing
    institution's administrator admits, the learner accepts and is enrolled."""
    s = setup
    client.force_login(s.learner)
    client.get(url("application-start", s.edition.pk))
    application = Application.objects.get(applicant=s.learner, edition=s.edition)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(url("application-edit", application.pk),
                    {**answers(), field(s.english): pdf("ielts.pdf"), "action": "submit"})
    application.refresh_from_db()
    assert application.status == "submitted"

    client.force_login(s.reviewer)
    queue = text(client.get(url("review-queue", s.edition.pk)))
    assert "Kowalska" in queue
    detail = text(client.get(url("application-detail", application.pk)))
    assert "Proof of English" in detail
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(url("application-decision", application.pk, "admit"), {"reason": ""})
    assert response.status_code == 302
    application.refresh_from_db()
    assert application.status == "admitted" and application.offer_deadline is not None
    assert any("admitted" in m.body for m in mailoutbox)

    client.force_login(s.learner)
    assert "Accept" in text(client.get(url("application-status", application.pk)))
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(url("my-application-accept", application.pk))
    assert response.status_code == 302
    application.refresh_from_db()
    assert application.status == "enrolled"
    assert application.enrolment.registrations.filter(institution=s.programme.issuing_institution).exists()
    assert "Enrolled" in text(client.get(url("application-status", application.pk)))
