"""The quality review pages: a programme's reviews, a review with its evidence (tables and SVG charts with their
data), findings and plan, the buttons of its lifecycle, the PDF; who sees what (team member sees, cannot approve;
the programme board decides; another consortium gets a 404). Data set: ``year`` (tests/quality/test_evidence.py)."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from quality import review as services
from quality.models import (
    ActionStatus,
    ImprovementAction,
    QualityReview,
    ReportStatus,
    ReviewReport,
    ReviewStatus,
    academic_year_label,
)

from ..assessment.conftest import grant
from ..factories import ProgrammeFactory, RoleAssignmentFactory, StaffFactory
from .test_evidence import cohort, year  # noqa: F401  (fixtures)
from .test_review import pdf_text, team  # noqa: F401  (fixture)

pytestmark = pytest.mark.django_db


def client_for(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def text(response) -> str:
    return re.sub(r"\s+", " ", response.content.decode())


@pytest.fixture
def review(team):  # noqa: F811
    c = team
    c.review = services.review_create(actor=c.leader, programme=c.programme, year=c.year)
    c.finding = services.finding_add(actor=c.leader, review=c.review, data={
        "kind": "weakness", "theme": "assessment", "text": "Course A fails one learner in three"})
    c.late = services.action_add(actor=c.leader, review=c.review, data={
        "title": "Revise the A exam", "owner": "Course coordinator A", "finding": c.finding,
        "due_on": timezone.localdate() - dt.timedelta(days=1)})
    return c


def test_the_review_list_and_starting_a_review(team):  # noqa: F811
    c = team
    leader = client_for(c.leader)
    url = reverse("review-list", args=[c.programme.pk])
    page = leader.get(url)
    assert page.status_code == 200
    body = text(page)
    assert "No quality review yet." in body and 'name="year"' in body
    assert f'<option value="{c.year}">{academic_year_label(c.year)} (editions ending' in body
    response = leader.post(reverse("review-create", args=[c.programme.pk]), {"year": c.year})
    created = QualityReview.objects.get(programme=c.programme, year=c.year)
    assert response.status_code == 302 and response["Location"] == reverse("review-detail", args=[created.pk])
    again = leader.post(reverse("review-create", args=[c.programme.pk]), {"year": c.year})
    assert again.status_code == 200 and "Select a valid choice" in text(again)  # the year is no longer offered
    body = text(leader.get(url))
    assert academic_year_label(c.year) in body and "Draft" in body
    # A team member sees the list but cannot start a review; the board sees it too.
    member = client_for(c.member)
    assert 'name="year"' not in text(member.get(url))
    assert member.post(reverse("review-create", args=[c.programme.pk]), {"year": c.year - 1}).status_code == 403
    assert client_for(c.chair).get(url).status_code == 200


def test_the_review_page_shows_every_figure_and_the_plan(review):
    c = review
    page = client_for(c.member).get(reverse("review-detail", args=[c.review.pk]))
    assert page.status_code == 200
    body = text(page)
    for expected in ("Quality review " + academic_year_label(c.year), "Course A fails one learner in three",
                     "Revise the A exam", "Overdue", "1 action is overdue.", "75.0 %", "66.7 %", "83.3 %",
                     "80.0 %", "33.3 %", "22.2 %", "8.3", "-5.0", "60.0 %", "4.11", "3.00", "170.0", "72.7 %",
                     "81.8 %", "computed from the data as it is now", "too few responses"):
        assert expected in body, expected
    # Charts are SVG with a title, each with its data table; no inline script or style.
    assert body.count('<svg role="img"') >= 7 and 'aria-labelledby="chart-pass-course-title"' in body
    assert "Data of the chart: Pass rate per course" in body
    assert "<script>" not in body and "style=" not in body
    # The team member sees, but has no button to change anything.
    for action in ("review-submit", "review-finding-add", "review-action-add", "review-decide"):
        assert reverse(action, args=[c.review.pk]) not in body
    assert reverse("review-report", args=[c.review.pk]) in body  # anyone who sees the review may ask for a PDF


def test_empty_states(team):  # noqa: F811
    c = team
    leader = client_for(c.leader)
    empty = services.review_create(actor=c.leader, programme=c.programme, year=c.year - 1)
    body = text(leader.get(reverse("review-detail", args=[empty.pk])))
    assert f"No edition of the programme ends in {academic_year_label(c.year - 1)}" in body
    assert "No findings yet" in body and "No actions yet" in body and "No PDF yet." in body
    ahead = services.review_create(actor=c.leader, programme=c.programme, year=c.year + 1)  # only e3, no results
    body = text(leader.get(reverse("review-detail", args=[ahead.pk])))
    assert "No approved results yet" in body and "no examination regulations yet" in body
    assert "No learner survey yet" in body and "No awards yet" in body


def test_the_lifecycle_through_the_pages(review, django_capture_on_commit_callbacks):
    c = review
    leader, member, chair = client_for(c.leader), client_for(c.member), client_for(c.chair)
    detail = reverse("review-detail", args=[c.review.pk])
    assert member.post(reverse("review-submit", args=[c.review.pk])).status_code == 403
    response = leader.post(reverse("review-submit", args=[c.review.pk]), follow=True)
    assert "Submitted to the programme board" in text(response)
    assert "The evidence was frozen when the review was submitted" in text(response)
    again = leader.post(reverse("review-submit", args=[c.review.pk]), follow=True)
    assert "The review is with the programme board already." in text(again)
    # The team member cannot decide; nor can the team leader; the board member sees the decision form.
    assert member.post(reverse("review-decide", args=[c.review.pk]), {"decision": "approve"}).status_code == 403
    assert leader.get(reverse("review-decide", args=[c.review.pk])).status_code == 403
    board_page = text(chair.get(detail))
    assert reverse("review-decide", args=[c.review.pk]) in board_page and 'name="decision"' in board_page
    assert 'href="/quality/"' not in board_page  # the board sees its reviews, not the programme's quality pages
    refused = chair.post(reverse("review-decide", args=[c.review.pk]), {"decision": "return", "comment": ""})
    assert refused.status_code == 200 and "comments are required when returning" in text(refused)
    with django_capture_on_commit_callbacks(execute=True):
        response = chair.post(reverse("review-decide", args=[c.review.pk]), {"decision": "approve",
                                                                             "comment": "Agreed."})
    assert response.status_code == 302 and response["Location"] == detail
    assert QualityReview.objects.get(pk=c.review.pk).status == ReviewStatus.APPROVED
    pdf = member.get(reverse("review-pdf", args=[c.review.pk]))
    assert pdf.status_code == 200 and pdf["Content-Type"] == "application/pdf"
    assert pdf["Content-Disposition"].startswith("attachment;") and pdf["Cache-Control"] == "private, no-store"
    content = b"".join(pdf.streaming_content)
    assert "75.0 %" in pdf_text(content) and "DRAFT" not in pdf_text(content)
    assert "Download the approved report (PDF)" in text(member.get(detail))


def test_a_draft_pdf_is_being_prepared_until_ready(review):
    c = review
    leader = client_for(c.leader)
    pdf_url = reverse("review-pdf", args=[c.review.pk])
    first = leader.get(pdf_url, follow=True)
    assert "There is no PDF of this review yet" in text(first)
    leader.post(reverse("review-report", args=[c.review.pk]))  # in the test transaction: the task waits for commit
    page = text(leader.get(reverse("review-detail", args=[c.review.pk])))
    assert "The PDF is being prepared." in page
    assert "being prepared" in text(leader.get(pdf_url, follow=True))
    again = leader.post(reverse("review-report", args=[c.review.pk]), follow=True)
    assert "A PDF of this review is being prepared; it will be ready shortly." in text(again)


def test_findings_and_actions_through_the_forms(review, world):
    c = review
    leader = client_for(c.leader)
    add = reverse("review-finding-add", args=[c.review.pk])
    assert leader.get(add).status_code == 200
    empty = leader.post(add, {"kind": "risk", "theme": "general", "text": ""})
    assert empty.status_code == 200 and "This field is required." in text(empty)
    assert leader.post(add, {"kind": "risk", "theme": "support", "text": "Dropout of 22 %"}).status_code == 302
    assert c.review.findings.count() == 2
    edit = leader.post(reverse("review-finding-edit", args=[c.finding.pk]),
                       {"kind": "weakness", "theme": "assessment", "text": "Edited finding"})
    assert edit.status_code == 302 and c.review.findings.filter(text="Edited finding").exists()
    form = text(leader.get(reverse("review-action-add", args=[c.review.pk])))
    assert ">UA<" in form and ">UB<" in form and ">UC<" not in form  # the lead and the partners only
    response = leader.post(reverse("review-action-add", args=[c.review.pk]), {
        "title": "Mentoring", "owner": "Student office", "owner_institution": world.ub.pk,
        "due_on": "2099-12-31"})
    assert response.status_code == 302
    action = ImprovementAction.objects.get(title="Mentoring")
    assert (action.owner_institution, action.status) == (world.ub, ActionStatus.PLANNED)
    # Progress: start, a drop without a reason is refused with a message, an unknown step is a 404.
    start = leader.post(reverse("review-action-transition", args=[action.pk, "start"]), follow=True)
    assert "The action is in progress." in text(start)
    drop = leader.post(reverse("review-action-transition", args=[action.pk, "drop"]), {"reason": ""}, follow=True)
    assert "Say why the action is dropped." in text(drop)
    assert ImprovementAction.objects.get(pk=action.pk).status == ActionStatus.IN_PROGRESS
    assert leader.post(reverse("review-action-transition", args=[action.pk, "reopen"])).status_code == 404
    done = leader.post(reverse("review-action-transition", args=[action.pk, "complete"]), follow=True)
    assert "The action is done." in text(done)
    twice = leader.post(reverse("review-action-transition", args=[action.pk, "complete"]), follow=True)
    assert "This action is done already." in text(twice)
    remove = leader.post(reverse("review-finding-remove", args=[c.finding.pk]), follow=True)
    assert "The finding is removed." in text(remove)
    summary = leader.post(reverse("review-edit", args=[c.review.pk]), {"summary": "Stable results."})
    assert summary.status_code == 302 and QualityReview.objects.get(pk=c.review.pk).summary == "Stable results."
    member = client_for(c.member)
    assert member.post(reverse("review-action-transition", args=[action.pk, "start"])).status_code == 403
    assert member.get(reverse("review-finding-add", args=[c.review.pk])).status_code == 403


def test_submitting_without_findings_is_refused_with_a_message(team):  # noqa: F811
    c = team
    review = services.review_create(actor=c.leader, programme=c.programme, year=c.year)
    response = client_for(c.leader).post(reverse("review-submit", args=[review.pk]), follow=True)
    assert "Add at least one finding before submitting the review to the programme board." in text(response)
    assert QualityReview.objects.get(pk=review.pk).status == ReviewStatus.DRAFT


def test_another_consortium_gets_a_404(review, world):
    c = review
    stranger_programme = ProgrammeFactory(consortium=world.cb, lead_institution=world.uc)
    people = [world.people["UC_admin"], StaffFactory(institution=world.uc).user]
    officer = StaffFactory(institution=world.uc).user
    RoleAssignmentFactory(user=officer, role="quality_officer", institution=world.uc)
    board = StaffFactory(institution=world.uc).user
    grant(board, "programme_board", stranger_programme, world.uc)
    people += [officer, board]
    urls = [reverse(name, args=[c.review.pk]) for name in ("review-detail", "review-pdf", "review-edit",
                                                           "review-decide", "review-finding-add")]
    urls += [reverse("review-list", args=[c.programme.pk]), reverse("review-finding-edit", args=[c.finding.pk]),
             reverse("review-action-edit", args=[c.late.pk])]
    for person in people:
        client = client_for(person)
        for url in urls:
            assert client.get(url).status_code == 404, (person, url)
        assert client.post(reverse("review-action-transition", args=[c.late.pk, "start"])).status_code == 404
        assert client.post(reverse("review-submit", args=[c.review.pk])).status_code == 404
    assert Client().get(urls[0]).status_code == 302  # anonymous: to the sign-in page
    assert QualityReview.objects.get(pk=c.review.pk).status == ReviewStatus.DRAFT


def test_each_rows_buttons_name_their_row_for_screen_readers(review):
    c = review
    body = text(client_for(c.leader).get(reverse("review-detail", args=[c.review.pk])))
    finding, action = "Course A fails one learner in three", "Revise the A exam"
    for label, name in (("Edit", finding), ("Remove", finding), ("Edit", action), ("Start", action),
                        ("Mark done", action), ("Drop", action)):
        assert f'{label}<span class="sr-only"> — {name}</span>' in body, (label, name)
    assert f"Why is “{action}” dropped?" in body


def test_a_returned_review_shows_its_return_until_submitted_again(review, django_capture_on_commit_callbacks):
    c = review
    detail = reverse("review-detail", args=[c.review.pk])
    services.review_submit(actor=c.leader, review=c.review)
    chair = client_for(c.chair)
    chair.post(reverse("review-decide", args=[c.review.pk]), {"decision": "return", "comment": "Explain A."})
    today = timezone.localdate().isoformat()
    body = text(client_for(c.leader).get(detail))
    assert f"Returned to the team on {today} by {c.chair.full_name}." in body
    assert "Returned by the programme board with these comments:" in body and "Explain A." in body
    services.review_submit(actor=c.leader, review=QualityReview.objects.get(pk=c.review.pk))
    body = text(chair.get(detail))
    assert "Returned to the team on" not in body and "Explain A." not in body and "Decided on" not in body
    with django_capture_on_commit_callbacks(execute=True):
        chair.post(reverse("review-decide", args=[c.review.pk]), {"decision": "approve", "comment": "Agreed."})
    body = text(chair.get(detail))
    assert f"Approved on {today} by {c.chair.full_name}." in body and "Agreed." in body
    assert "Returned" not in body


def test_a_failed_report_is_explained_without_the_error(review):
    c = review
    report = ReviewReport.objects.create(review=c.review, final=False, content={}, status=ReportStatus.FAILED,
                                         error="OSError: [Errno 28] No space left on device: '/srv/media/x.pdf'")
    body = text(client_for(c.member).get(reverse("review-detail", args=[c.review.pk])))
    assert "The PDF could not be prepared, even after several attempts." in body
    assert "Errno" not in body and "/srv/media" not in body
    assert ReviewReport.objects.get(pk=report.pk).error.startswith("OSError")  # kept for the logs and staff
