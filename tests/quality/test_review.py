"""The annual quality review (issue 12, D8): one per programme and academic year; draft → submitted (the team) →
approved or returned (the programme board, not the submitter, never the team leader); the evidence frozen when
submitted, so what the board signs off never changes; findings and an improvement plan whose actions are followed
up; the PDF report (a real WeasyPrint PDF whose text holds the figures computed by hand in test_evidence.py).

The data set is ``year`` of tests/quality/test_evidence.py."""

from __future__ import annotations

import datetime as dt
import hashlib
import io

import pypdf
import pytest
from django.core import mail
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import OperationalError, connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from admissions.models import Application
from consortium.api import DomainError, TransitionError
from consortium.models import AuditEvent
from quality import evidence as ev
from quality import review as services
from quality import tasks
from quality.models import (
    ActionStatus,
    Finding,
    ImprovementAction,
    QualityReview,
    ReportStatus,
    ReviewReport,
    ReviewStatus,
    academic_year_label,
    academic_year_of,
)

from ..assessment.conftest import grant
from ..concurrency import row_locked_elsewhere
from ..factories import InstitutionFactory, ProgrammeFactory, RoleAssignmentFactory, StaffFactory
from .test_evidence import cohort, year  # noqa: F401  (fixtures)

pytestmark = pytest.mark.django_db
DAY = dt.timedelta(days=1)


@pytest.fixture
def team(year, world):  # noqa: F811
    """The programme's people: the team leader (cohort), a team member, a QA officer of the lead institution, two
    programme board members (one also a QA officer), an examination board member (not the programme board)."""
    c = year
    c.member = StaffFactory(institution=world.ua).user
    grant(c.member, "team_member", c.programme, world.ua)
    c.officer = StaffFactory(institution=world.ua).user
    RoleAssignmentFactory(user=c.officer, role="quality_officer", institution=world.ua)
    c.chair = StaffFactory(institution=world.ub).user
    grant(c.chair, "programme_board", c.programme, world.ub)
    c.officer_on_board = StaffFactory(institution=world.ua).user
    RoleAssignmentFactory(user=c.officer_on_board, role="quality_officer", institution=world.ua)
    grant(c.officer_on_board, "programme_board", c.programme, world.ua)
    return c


def _review(c, **kwargs) -> QualityReview:
    return services.review_create(actor=c.leader, programme=c.programme, year=c.year, **kwargs)


def _with_finding(c) -> QualityReview:
    review = _review(c)
    services.finding_add(actor=c.leader, review=review, data={
        "kind": "weakness", "theme": "assessment", "text": "Course A has the lowest pass rate of the year"})
    return review


def pdf_text(content: bytes) -> str:
    reader = pypdf.PdfReader(io.BytesIO(content))
    return "\n".join(page.extract_text() for page in reader.pages)


# --- Reviews -------------------------------------------------------------------------------------------------------


def test_one_review_per_programme_and_academic_year(team):
    c = team
    review = _review(c)
    assert (review.status, review.year, review.year_label, review.evidence) == (
        ReviewStatus.DRAFT, c.year, academic_year_label(c.year), None)
    assert AuditEvent.objects.filter(action="review.created", object_id=str(review.pk)).exists()
    with pytest.raises(ValidationError) as again:
        _review(c)
    assert again.value.message_dict["year"] == [f"The programme already has a quality review for "
                                                f"{academic_year_label(c.year)}."]
    too_late = academic_year_of(timezone.localdate()) + 2
    for bad in (1999, too_late, "2026", None):
        with pytest.raises(ValidationError) as refused:
            services.review_create(actor=c.leader, programme=c.programme, year=bad)
        assert "Choose an academic year from 2000 to" in refused.value.message_dict["year"][0]
    # The next academic year may be started (planning ahead); the team member and the board may not start one.
    assert services.review_create(actor=c.officer, programme=c.programme, year=too_late - 1).year == too_late - 1
    for outsider in (c.member, c.chair):
        with pytest.raises(PermissionDenied):
            services.review_create(actor=outsider, programme=c.programme, year=c.year - 1)


def test_years_to_start_are_those_with_editions_and_the_current_one(team):
    c = team
    current = academic_year_of(timezone.localdate())
    years = services.years_to_start(c.programme)
    assert years == sorted({current, c.year, academic_year_of(c.e3.ends_on)}, reverse=True)
    _review(c)
    assert c.year not in services.years_to_start(c.programme)


def test_submit_freezes_the_evidence_and_tells_the_board(team, django_capture_on_commit_callbacks):
    c = team
    review = _review(c)
    with pytest.raises(TransitionError, match="at least one finding"):
        services.review_submit(actor=c.leader, review=review)
    services.finding_add(actor=c.leader, review=review, data={"kind": "strength", "text": "All E learners passed"})
    with pytest.raises(PermissionDenied):
        services.review_submit(actor=c.member, review=review)  # team members see, the leader submits
    live = ev.review_evidence(programme=c.programme, year=c.year)
    with django_capture_on_commit_callbacks(execute=True):
        review = services.review_submit(actor=c.leader, review=review)
    assert review.status == ReviewStatus.SUBMITTED and review.submitted_by == c.leader
    assert review.evidence_frozen_at is not None
    frozen = ev.from_json(QualityReview.objects.get(pk=review.pk).evidence)
    assert frozen.total == live.total and frozen.editions == live.editions
    [email] = mail.outbox
    assert sorted(email.to) == sorted([c.chair.email, c.officer_on_board.email])
    assert f"/quality/reviews/{review.pk}/" in email.body and academic_year_label(c.year) in email.subject
    with pytest.raises(TransitionError, match="with the programme board already"):
        services.review_submit(actor=c.leader, review=review)
    # The summary, findings and plan are locked while the board decides.
    refusals = [
        lambda: services.review_update(actor=c.leader, review=review, data={"summary": "x"}),
        lambda: services.finding_add(actor=c.leader, review=review, data={"kind": "risk", "text": "x"}),
        lambda: services.finding_update(actor=c.leader, finding=review.findings.get(), data={"text": "x"}),
        lambda: services.finding_remove(actor=c.leader, finding=review.findings.get()),
        lambda: services.action_add(actor=c.leader, review=review, data={
            "title": "x", "owner": "x", "due_on": timezone.localdate()}),
    ]
    for refused in refusals:
        with pytest.raises(TransitionError, match="no longer change"):
            refused()


def test_the_board_decides_and_never_the_submitter_or_the_team_leader(team, django_capture_on_commit_callbacks):
    c = team
    review = _with_finding(c)
    with pytest.raises(TransitionError, match="Only a review submitted"):
        services.review_approve(actor=c.chair, review=review)
    review = services.review_submit(actor=c.officer_on_board, review=review)
    with pytest.raises(PermissionDenied):
        services.review_approve(actor=c.leader, review=review)  # the team leader never signs off their review
    grant(c.leader, "programme_board", c.programme, c.programme.lead_institution)
    with pytest.raises(PermissionDenied):
        services.review_approve(actor=c.leader, review=review)  # not even when also on the board
    with pytest.raises(PermissionDenied):
        services.review_approve(actor=c.board, review=review)  # the examination board is another board
    with pytest.raises(DomainError, match="You submitted this review"):
        services.review_approve(actor=c.officer_on_board, review=review)
    with pytest.raises(ValidationError) as no_comment:
        services.review_return(actor=c.chair, review=review, comment="  ")
    assert no_comment.value.message_dict["comment"] == [
        "Say what the team should change: comments are required when returning a review."]
    review = services.review_return(actor=c.chair, review=review, comment="Explain the A failures.")
    assert (review.status, review.evidence, review.evidence_frozen_at, review.board_comment) == (
        ReviewStatus.RETURNED, None, None, "Explain the A failures.")
    assert review.decided_by == c.chair and review.decided_at is not None
    # Returned: the team edits again and submits again; the return is over (its comments stay in the audit trail),
    # so the re-submitted review shows no decision until the board makes one.
    services.review_update(actor=c.leader, review=review, data={"summary": "One learner failed A by 1.8 points."})
    review = services.review_submit(actor=c.leader, review=review)
    stored = QualityReview.objects.get(pk=review.pk)
    assert (stored.status, stored.decided_at, stored.decided_by, stored.board_comment) == (
        ReviewStatus.SUBMITTED, None, None, "")
    assert AuditEvent.objects.get(action="review.returned", object_id=str(review.pk)).changes["comment"] == (
        "Explain the A failures.")
    with django_capture_on_commit_callbacks(execute=True):
        review = services.review_approve(actor=c.officer_on_board, review=review, comment="Well argued.")
    assert (review.status, review.board_comment, review.decided_by) == (ReviewStatus.APPROVED, "Well argued.",
                                                                        c.officer_on_board)
    for move, message in ((lambda: services.review_approve(actor=c.chair, review=review), "approved already"),
                          (lambda: services.review_return(actor=c.chair, review=review, comment="Again"),
                           "can no longer be returned"),
                          (lambda: services.review_submit(actor=c.leader, review=review), "no longer changes")):
        with pytest.raises(TransitionError, match=message):
            move()
    actions = list(AuditEvent.objects.filter(object_id=str(review.pk)).order_by("at")
                   .values_list("action", flat=True))
    assert actions == ["review.created", "review.submitted", "review.returned", "review.updated",
                       "review.submitted", "review.approved"]


def test_what_the_board_approved_never_changes(team, django_capture_on_commit_callbacks):
    c = team
    review = services.review_submit(actor=c.leader, review=_with_finding(c))
    frozen_json = QualityReview.objects.get(pk=review.pk).evidence
    with django_capture_on_commit_callbacks(execute=True):
        services.review_approve(actor=c.chair, review=review)
    # The data changes after the approval: L3 withdraws, L2 passes A at the resit.
    Application.objects.filter(pk=c.l[3].application_id).update(status="withdrawn")
    from assessment import services as assessment

    resit = assessment.sheet_for(edition=c.e1, course=c.course_a, attempt=2)
    assessment.grades_enter(actor=c.examiner_ua, sheet=resit, rows=[(c.l[2], c.exam_a, "1.0")])
    assessment.sheet_submit(actor=c.examiner_ua, sheet=resit)
    assessment.sheet_approve(actor=c.board, sheet=resit)
    live = ev.review_evidence(programme=c.programme, year=c.year)
    assert live.total.completion.withdrawn == 3
    review = QualityReview.objects.get(pk=review.pk)
    assert review.evidence == frozen_json
    shown = services.review_evidence(review)
    assert shown.total.completion.withdrawn == 2 and shown.editions[0].figures.courses[0].pass_rate == 75
    assert live.editions[0].figures.courses[0].failed == 0
    final = ReviewReport.objects.get(review=review, final=True)
    assert ev.from_json(final.content["evidence"]) == shown


# --- Findings and the improvement plan -------------------------------------------------------------------------------


def test_findings_are_numbered_edited_and_removed(team):
    c = team
    review = _review(c)
    first = services.finding_add(actor=c.leader, review=review, data={"kind": "strength", "theme": "learning",
                                                                        "text": " Learners rate learning 4.11 "})
    second = services.finding_add(actor=c.officer, review=review, data={"kind": "risk", "text": "Dropout 22 %"})
    assert (first.position, second.position, first.text, second.theme) == (0, 1, "Learners rate learning 4.11",
                                                                           "general")
    with pytest.raises(ValidationError) as bad:
        services.finding_add(actor=c.leader, review=review, data={"kind": "opinion", "text": "a\x00b"})
    assert set(bad.value.message_dict) == {"kind", "text"}
    services.finding_update(actor=c.leader, finding=second, data={"theme": "support"})
    assert Finding.objects.get(pk=second.pk).theme == "support"
    action = services.action_add(actor=c.leader, review=review, data={
        "title": "Mentoring", "owner": "Team leader", "due_on": timezone.localdate(), "finding": second})
    services.finding_remove(actor=c.leader, finding=second)
    assert list(review.findings.all()) == [first]
    assert ImprovementAction.objects.get(pk=action.pk).finding is None  # the action stays, unlinked
    with pytest.raises(PermissionDenied):
        services.finding_add(actor=c.member, review=review, data={"kind": "risk", "text": "x"})


def test_improvement_actions_and_their_progress(team, world, django_capture_on_commit_callbacks):
    c = team
    review = _with_finding(c)
    other = services.review_create(actor=c.leader, programme=c.programme, year=c.year - 1)
    other_finding = services.finding_add(actor=c.leader, review=other, data={"kind": "risk", "text": "Elsewhere"})
    today = timezone.localdate()
    with pytest.raises(ValidationError) as bad:
        services.action_add(actor=c.leader, review=review, data={
            "title": "", "owner": "Someone", "due_on": today, "finding": other_finding,
            "owner_institution": world.uc})
    assert set(bad.value.message_dict) == {"title", "finding", "owner_institution"}
    assert bad.value.message_dict["owner_institution"] == ["Choose the lead or a partner institution of the programme."]
    late = services.action_add(actor=c.leader, review=review, data={
        "title": "Revise the A exam", "owner": "Course coordinator A", "owner_institution": world.ua,
        "due_on": today - DAY, "finding": review.findings.get()})
    soon = services.action_add(actor=c.leader, review=review, data={
        "title": "Mentor first-time learners", "owner": "UB student office", "owner_institution": world.ub,
        "due_on": today + 30 * DAY})
    assert (late.overdue, soon.overdue, late.position, soon.position) == (True, False, 0, 1)
    late = services.action_start(actor=c.leader, action=late)
    assert late.status == ActionStatus.IN_PROGRESS and late.started_at and late.overdue
    with pytest.raises(TransitionError, match="in progress already"):
        services.action_start(actor=c.leader, action=late)
    late = services.action_complete(actor=c.leader, action=late)
    assert late.status == ActionStatus.DONE and late.done_at and not late.overdue
    with pytest.raises(TransitionError, match="done already"):
        services.action_drop(actor=c.leader, action=late, reason="x")
    with pytest.raises(ValidationError) as no_reason:
        services.action_drop(actor=c.leader, action=soon, reason=" ")
    assert no_reason.value.message_dict["reason"] == ["Say why the action is dropped."]
    with pytest.raises(PermissionDenied):
        services.action_start(actor=c.member, action=soon)
    # The plan is followed up after the approval too; what the actions are no longer changes.
    review = services.review_submit(actor=c.leader, review=review)
    with django_capture_on_commit_callbacks(execute=True):
        review = services.review_approve(actor=c.chair, review=review)
    soon = services.action_drop(actor=c.officer, action=soon, reason="Replaced by the university's programme")
    assert (soon.status, soon.dropped_reason) == (ActionStatus.DROPPED, "Replaced by the university's programme")
    with pytest.raises(TransitionError, match="was dropped"):
        services.action_start(actor=c.leader, action=soon)
    with pytest.raises(TransitionError, match="no longer change"):
        services.action_update(actor=c.leader, action=soon, data={"title": "Renamed"})
    # The approved report keeps the plan as it was approved.
    final = ReviewReport.objects.get(review=review, final=True)
    assert [(a["title"], a["status"], a["overdue"], a["finding"]) for a in final.content["actions"]] == [
        ("Revise the A exam", "done", False, 1), ("Mentor first-time learners", "planned", False, None)]
    with pytest.raises(DomainError, match="Unknown step"):
        services.action_transition(actor=c.leader, action=soon, move="reopen")


def test_review_rows_count_findings_and_overdue_actions(team):
    c = team
    review = _with_finding(c)
    today = timezone.localdate()
    for title, due in (("Overdue", today - DAY), ("Due later", today + DAY)):
        services.action_add(actor=c.leader, review=review, data={"title": title, "owner": "Leader", "due_on": due})
    done = services.action_add(actor=c.leader, review=review, data={"title": "Past but done", "owner": "Leader",
                                                                    "due_on": today - 2 * DAY})
    services.action_complete(actor=c.leader, action=done)
    [row] = services.review_rows(c.programme)
    assert (row.finding_count, row.action_count, row.open_count, row.overdue_count) == (1, 3, 2, 1)


# --- The PDF report ----------------------------------------------------------------------------------------------


def test_the_approved_report_is_a_pdf_with_the_figures(team, django_capture_on_commit_callbacks):
    c = team
    review = _with_finding(c)
    services.action_add(actor=c.leader, review=review, data={
        "title": "Revise the A exam", "owner": "Course coordinator A", "due_on": timezone.localdate() + DAY})
    review = services.review_submit(actor=c.leader, review=review)
    with django_capture_on_commit_callbacks(execute=True):
        review = services.review_approve(actor=c.chair, review=review, comment="Approved as submitted.")
    report = services.current_report(review)
    assert (report.final, report.status, report.attempts) == (True, ReportStatus.READY, 1)
    content = report.file.open("rb").read()
    assert content.startswith(b"%PDF") and hashlib.sha256(content).hexdigest() == report.sha256
    text = pdf_text(content)
    assert "DRAFT" not in text
    for expected in ("Grading", f"Quality review {academic_year_label(c.year)}", "Approved by the programme board",
                     "Course A has the lowest pass rate of the year", "Revise the A exam", "Approved as submitted.",
                     # pass rates per course (E1, E2, year) and per partner, completion, dropout, time to award
                     "75.0 %", "66.7 %", "100.0 %", "50.0 %", "60.0 %", "83.3 %", "80.0 %", "33.3 %", "16.7 %",
                     "22.2 %", "8.3", "-5.0",
                     # feedback: response rate, theme means, workload; applications
                     "4.11", "3.00", "170.0", "150 to 180 hours", "72.7 %", "81.8 %", "73.3 %",
                     "too few responses"):
        assert expected in text, expected
    # Rendering again changes nothing (idempotent task).
    assert tasks.review_report_render.apply(args=[str(report.pk)]).get() == report.sha256
    assert ReviewReport.objects.get(pk=report.pk).attempts == 1
    with pytest.raises(TransitionError, match="final report is ready"):
        services.report_request(actor=c.chair, review=review)


def test_a_draft_report_on_request_is_marked_draft_and_replaced(team, django_capture_on_commit_callbacks):
    c = team
    review = _with_finding(c)
    with django_capture_on_commit_callbacks(execute=False):
        queued = services.report_request(actor=c.member, review=review)  # whoever sees the review
    assert queued.status == ReportStatus.QUEUED
    with pytest.raises(TransitionError, match="being prepared"):
        services.report_request(actor=c.member, review=review)
    ReviewReport.objects.filter(pk=queued.pk).update(updated_at=timezone.now() - dt.timedelta(hours=1))
    with django_capture_on_commit_callbacks(execute=True):
        first = services.report_request(actor=c.member, review=review)  # a lost message: asked again
    first.refresh_from_db()
    assert first.status == ReportStatus.READY and not first.final
    text = pdf_text(first.file.open("rb").read())
    assert "DRAFT" in text and "not approved by the programme board" in text and "75.0 %" in text
    name = first.file.name
    with django_capture_on_commit_callbacks(execute=True):
        second = services.report_request(actor=c.leader, review=review)
    second.refresh_from_db()
    assert list(ReviewReport.objects.filter(review=review)) == [second]
    assert second.file.storage.exists(second.file.name)
    assert not first.file.storage.exists(name)  # the older draft's file went with it
    with pytest.raises(PermissionDenied):
        services.report_request(actor=StaffFactory(institution=InstitutionFactory()).user, review=review)


def test_a_failed_render_is_recorded_and_can_be_asked_again(team, monkeypatch, django_capture_on_commit_callbacks):
    c = team
    review = services.review_submit(actor=c.leader, review=_with_finding(c))
    from quality import rendering

    def broken(content):
        raise ValueError("No installed font has a glyph for: ☃")

    monkeypatch.setattr(rendering, "render_report_pdf", broken)
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        review = services.review_approve(actor=c.chair, review=review)
    assert len(callbacks) == 1
    report = services.current_report(review)
    tasks.review_report_render.apply(args=[str(report.pk)], throw=False)
    report.refresh_from_db()
    assert report.status == ReportStatus.FAILED and "glyph" in report.error and not report.file
    monkeypatch.undo()
    with django_capture_on_commit_callbacks(execute=True):
        again = services.report_request(actor=c.chair, review=review)
    again.refresh_from_db()
    assert (again.pk, again.status, again.final, again.error) == (report.pk, ReportStatus.READY, True, "")


def test_another_programmes_people_cannot_act(team, world):
    c = team
    review = _with_finding(c)
    stranger_programme = ProgrammeFactory(consortium=world.cb, lead_institution=world.uc)
    stranger = StaffFactory(institution=world.uc).user
    grant(stranger, "team_leader", stranger_programme, world.uc)
    grant(stranger, "programme_board", stranger_programme, world.uc)
    for act in (lambda: services.finding_add(actor=stranger, review=review, data={"kind": "risk", "text": "x"}),
                lambda: services.review_submit(actor=stranger, review=review),
                lambda: services.review_update(actor=stranger, review=review, data={"summary": "x"})):
        with pytest.raises(PermissionDenied):
            act()
    review = services.review_submit(actor=c.leader, review=review)
    with pytest.raises(PermissionDenied):
        services.review_approve(actor=stranger, review=review)


# --- Concurrent changes to an action ---------------------------------------------------------------------------------


def _update_sql(queries) -> str:
    [update] = [q["sql"] for q in queries if q["sql"].startswith('UPDATE "quality_improvementaction"')]
    return update


def test_editing_and_moving_an_action_write_only_their_own_fields(team):
    """What an action is (``action_update``) and its progress (the transitions) are saved apart, so neither
    overwrites the other's change when both happen at once."""
    c = team
    review = _with_finding(c)
    action = services.action_add(actor=c.leader, review=review, data={
        "title": "Revise the A exam", "owner": "Course coordinator A", "due_on": timezone.localdate() + DAY})
    with CaptureQueriesContext(connection) as edit:
        services.action_update(actor=c.leader, action=action, data={"title": "Revise the A exam and its key"})
    edit_sql = _update_sql(edit.captured_queries)
    assert '"title"' in edit_sql and '"status"' not in edit_sql and '"done_at"' not in edit_sql
    with CaptureQueriesContext(connection) as move:
        services.action_transition(actor=c.leader, action=action, move="start")
    move_sql = _update_sql(move.captured_queries)
    assert '"status"' in move_sql and '"title"' not in move_sql and '"owner"' not in move_sql
    # Both lock the review first, then the action (one order: no deadlock, no lost update).
    for queries in (edit.captured_queries, move.captured_queries):
        locks = [q["sql"] for q in queries if "FOR UPDATE" in q["sql"]]
        assert [sql.split(" FROM ")[1].split()[0] for sql in locks] == [
            '"quality_qualityreview"', '"quality_improvementaction"']
    stored = ImprovementAction.objects.get(pk=action.pk)
    assert (stored.title, stored.status) == ("Revise the A exam and its key", ActionStatus.IN_PROGRESS)


@pytest.mark.django_db(transaction=True)
def test_a_transition_waits_for_the_review_being_edited(world):
    """While another transaction holds the review (an edit of the plan), moving one of its actions waits for it:
    here it gives up after 300 ms instead of writing past the edit."""
    if connection.vendor != "postgresql":
        pytest.skip("Lock tests need PostgreSQL.")
    programme = ProgrammeFactory(consortium=world.ca, lead_institution=world.ua)
    leader = StaffFactory(institution=world.ua).user
    grant(leader, "team_leader", programme, world.ua)
    review = services.review_create(actor=leader, programme=programme, year=academic_year_of(timezone.localdate()))
    action = services.action_add(actor=leader, review=review, data={
        "title": "Mentoring", "owner": "Student office", "due_on": timezone.localdate() + DAY})
    for model, pk in ((QualityReview, review.pk), (ImprovementAction, action.pk)):
        with row_locked_elsewhere(model, pk), pytest.raises(OperationalError), transaction.atomic():
            with connection.cursor() as cursor:
                cursor.execute("SET LOCAL lock_timeout = '300ms'")
            services.action_start(actor=leader, action=action)
    assert services.action_start(actor=leader, action=action).status == ActionStatus.IN_PROGRESS


# --- Rendering retries -------------------------------------------------------------------------------------------


def test_a_render_that_will_be_retried_stays_queued(team, monkeypatch, django_capture_on_commit_callbacks):
    """A passing failure (the storage briefly unreachable: an ``OSError``) is retried by the task: meanwhile the
    report stays queued, so the page says it is being prepared and nobody can ask again and delete the draft the
    retry needs. Only when the retries are used up is it failed."""
    c = team
    review = _with_finding(c)
    with django_capture_on_commit_callbacks(execute=False):
        report = services.report_request(actor=c.member, review=review)
    from quality import rendering

    real, seen = rendering.render_report_pdf, []

    def flaky(content):
        seen.append(ReviewReport.objects.get(pk=report.pk).status)
        if len(seen) == 1:
            raise OSError("Storage not reachable")
        return real(content)

    monkeypatch.setattr(rendering, "render_report_pdf", flaky)
    tasks.review_report_render.apply(args=[str(report.pk)], throw=False)
    report.refresh_from_db()
    assert seen == [ReportStatus.QUEUED, ReportStatus.QUEUED]  # the retry found it queued, not failed
    assert (report.status, report.attempts, report.error) == (ReportStatus.READY, 2, "")

    def down(content):
        raise OSError("Storage not reachable")

    monkeypatch.setattr(rendering, "render_report_pdf", down)
    with django_capture_on_commit_callbacks(execute=False):
        again = services.report_request(actor=c.member, review=review)
    last = tasks.review_report_render.max_retries  # the last attempt (the retries are used up)
    tasks.review_report_render.apply(args=[str(again.pk)], retries=last, throw=False)
    again.refresh_from_db()
    assert (again.status, again.attempts) == (ReportStatus.FAILED, 1)
    assert again.error == "OSError: Storage not reachable"  # for the logs and staff; the page says it generally


def test_a_retry_of_a_replaced_draft_does_nothing(team, django_capture_on_commit_callbacks):
    c = team
    review = _with_finding(c)
    with django_capture_on_commit_callbacks(execute=False):
        report = services.report_request(actor=c.member, review=review)
    ReviewReport.objects.filter(pk=report.pk).delete()  # replaced by a newer draft meanwhile
    assert tasks.review_report_render.apply(args=[str(report.pk)]).get() == ""
    assert services.report_render(report.pk) is None
