"""Regulations, grade entry, board approval and locking, corrections, resits, appeals, award eligibility."""

from decimal import Decimal as D

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from admissions.models import ExemptionRequest
from assessment import services as s
from assessment.models import Grade
from consortium.errors import DomainError, TransitionError
from consortium.models import AuditEvent

from .conftest import enrol


def sheet(c, course, attempt=1):
    return s.sheet_for(edition=c.edition, course=course, attempt=attempt)


def grade_all(c, course, examiner, grades, attempt=1):
    """grades: list of (enrolment, assessment, grade)."""
    target = sheet(c, course, attempt)
    s.grades_enter(actor=examiner, sheet=target, rows=grades)
    return target


def approve(c, target):
    s.sheet_submit(actor=target.course.provider_id and _examiner(c, target.course), sheet=target)
    return s.sheet_approve(actor=c.board, sheet=target)


def _examiner(c, course):
    return c.examiner_ua if course == c.course_a else c.examiner_ub


def pass_everything(c, enrolment, a=("1.7", "2.0"), b="7.5", e="6.0"):
    for course, rows in (
        (c.course_a, [(enrolment, c.exam_a, a[0]), (enrolment, c.project_a, a[1])]),
        (c.course_b, [(enrolment, c.exam_b, b)]),
        (c.course_e, [(enrolment, c.exam_e, e)]),
    ):
        target = sheet(c, course)
        s.grades_enter(actor=_examiner(c, course), sheet=target, rows=rows)


def grade_cohort_and_approve(c, per_learner):
    """per_learner: {enrolment: (a_exam, a_project, b, e)}; everyone else in the cohort gets passing grades."""
    for course in (c.course_a, c.course_b, c.course_e):
        rows = []
        for enrolment in c.enrolments:
            a_exam, a_project, b, e = per_learner.get(enrolment, ("2.0", "2.0", "7.0", "7.0"))
            if course == c.course_a:
                rows += [(enrolment, c.exam_a, a_exam), (enrolment, c.project_a, a_project)]
            elif course == c.course_b:
                rows.append((enrolment, c.exam_b, b))
            else:
                rows.append((enrolment, c.exam_e, e))
        target = sheet(c, course)
        s.grades_enter(actor=_examiner(c, course), sheet=target, rows=rows)
        s.sheet_submit(actor=_examiner(c, course), sheet=target)
        s.sheet_approve(actor=c.board, sheet=target)


# --- Regulations ------------------------------------------------------------------------------------


def test_conversion_is_validated(cohort, world):
    c = cohort
    draft = s.regulation_create(actor=c.leader, programme=c.programme, data={})
    assert draft.number == 2 and draft.conversions.count() == 2  # copied from v1
    bad = {g: "20" for g in c.spain.scale.grades}  # everything converts to a pass
    with pytest.raises(ValidationError) as refused:
        s.conversion_set(actor=c.leader, regulation=draft, institution=world.ub, national_scale=c.spain, mapping=bad)
    assert any("fails nationally" in m for m in refused.value.message_dict["mapping"])


def test_regulation_approval_needs_conversions_and_the_exam_board(cohort, world):
    c = cohort
    draft = s.regulation_create(actor=c.leader, programme=c.programme, data={})
    draft.conversions.filter(institution=world.ub).delete()
    with pytest.raises(PermissionDenied):
        s.regulation_approve(actor=c.leader, regulation=draft)
    with pytest.raises(DomainError) as refused:
        s.regulation_approve(actor=c.board, regulation=draft)
    assert "UB" in refused.value.details[0]
    with pytest.raises(TransitionError):
        s.regulation_update(actor=c.leader, regulation=c.regulation, data={"resits_allowed": 2})


# --- Grade entry ------------------------------------------------------------------------------------


def test_grades_are_converted_and_both_stored(cohort):
    c = cohort
    e0 = c.enrolments[0]
    grade_all(c, c.course_b, c.examiner_ub, [(e0, c.exam_b, "7.5")])
    grade = Grade.objects.get(enrolment=e0, assessment=c.exam_b)
    assert grade.national_grade == "7.5" and grade.national_scale == c.spain
    assert D(grade.joint_grade) > 10  # a Spanish 7.5 is a pass in the joint scale


def test_one_bad_row_saves_nothing(cohort):
    c = cohort
    rows = [(e, c.exam_b, "8.0") for e in c.enrolments[:2]] + [(c.enrolments[2], c.exam_b, "11")]
    with pytest.raises(ValidationError) as refused:
        grade_all(c, c.course_b, c.examiner_ub, rows)
    assert refused.value.message_dict["rows"] == ["Row 3: 11 is not a grade of Spain 0–10."]
    assert not Grade.objects.exists()


def test_examiners_enter_only_their_own_courses(cohort):
    c = cohort
    with pytest.raises(PermissionDenied):
        grade_all(c, c.course_b, c.examiner_ua, [(c.enrolments[0], c.exam_b, "8.0")])


def test_exempted_and_attendance_learners_are_not_graded(cohort):
    c = cohort
    ExemptionRequest.objects.create(
        application=c.enrolments[0].application,
        course=c.course_b,
        basis="MSc",
        status="granted",
        ects_recognised=D("2.0"),
    )
    attendance = enrol(c.edition, 9, track="attendance")
    with pytest.raises(ValidationError) as refused:
        grade_all(c, c.course_b, c.examiner_ub, [(c.enrolments[0], c.exam_b, "8.0"), (attendance, c.exam_b, "8.0")])
    messages = refused.value.message_dict["rows"]
    assert "exempted" in messages[0] and "assessed track" in messages[1]
    # Exempted learners are not missing when the sheet is submitted.
    target = grade_all(c, c.course_b, c.examiner_ub, [(e, c.exam_b, "6.0") for e in c.enrolments[1:]])
    assert s.sheet_missing(target) == []


def test_500_rows_in_one_transaction_with_constant_queries(cohort, django_assert_max_num_queries):
    c = cohort
    learners = [enrol(c.edition, 100 + i) for i in range(250)]
    rows = [(e, a, "2.3") for e in learners for a in (c.exam_a, c.project_a)]
    assert len(rows) == 500
    target = sheet(c, c.course_a)
    with django_assert_max_num_queries(20):
        s.grades_enter(actor=c.examiner_ua, sheet=target, rows=rows)
    assert Grade.objects.filter(sheet=target).count() == 500


# --- Board workflow, locking, corrections ------------------------------------------------------------


def test_submit_needs_every_grade_then_the_board_locks(cohort):
    c = cohort
    target = grade_all(c, c.course_b, c.examiner_ub, [(c.enrolments[0], c.exam_b, "8.0")])
    with pytest.raises(DomainError) as refused:
        s.sheet_submit(actor=c.examiner_ub, sheet=target)
    assert len(refused.value.details) == 2
    grade_all(c, c.course_b, c.examiner_ub, [(e, c.exam_b, "8.0") for e in c.enrolments])
    s.sheet_submit(actor=c.examiner_ub, sheet=target)
    with pytest.raises(PermissionDenied):
        s.sheet_approve(actor=c.examiner_ub, sheet=target)
    with pytest.raises(ValidationError):
        s.sheet_return(actor=c.board, sheet=target, comment="")
    s.sheet_approve(actor=c.board, sheet=target)
    with pytest.raises(TransitionError, match="cannot be edited"):
        grade_all(c, c.course_b, c.examiner_ub, [(c.enrolments[0], c.exam_b, "9.0")])


def test_correction_keeps_the_old_version(cohort):
    c = cohort
    grade_cohort_and_approve(c, {})
    old = Grade.objects.get(enrolment=c.enrolments[0], assessment=c.exam_b)
    with pytest.raises(ValidationError):
        s.grade_correct(actor=c.board, grade=old, national_grade="9.0", reason="")
    new = s.grade_correct(actor=c.board, grade=old, national_grade="9.0", reason="Marking error in question 3")
    old.refresh_from_db()
    assert old.superseded and not new.superseded and new.version == 2
    assert Grade.objects.filter(enrolment=c.enrolments[0], assessment=c.exam_b).count() == 2
    assert AuditEvent.objects.filter(action="grades.corrected").exists()


# --- Results, resits, eligibility ---------------------------------------------------------------------


def test_weighted_course_grade(cohort):
    c = cohort
    e0 = c.enrolments[0]
    grade_cohort_and_approve(c, {e0: ("1.0", "4.0", "7.0", "7.0")})  # 20 and 10 in the joint scale
    result = s.course_result(e0, c.course_a)
    assert result.status == "passed" and result.joint_grade == str(D("16.0"))  # 0.6 × 20 + 0.4 × 10


@pytest.mark.parametrize(
    ("rule", "resit", "expected"),
    [("last", "5.5", "11.0"), ("best", "5.5", "11.0"), ("last", "2.0", "4.0"), ("best", "2.0", "8.0")],
)
def test_resit_final_result_follows_the_regulation(cohort, rule, resit, expected):
    c = cohort
    type(c.regulation).objects.filter(pk=c.regulation.pk).update(final_result=rule)
    e0 = c.enrolments[0]
    grade_cohort_and_approve(c, {e0: ("2.0", "2.0", "4.0", "7.0")})  # B failed (4.0 → 8)
    assert s.course_result(e0, c.course_b).status == "failed"
    resit_sheet = s.resit_open(actor=c.leader, edition=c.edition, course=c.course_b)
    assert resit_sheet.attempt == 2
    with pytest.raises(ValidationError, match="not eligible"):
        s.grades_enter(actor=c.examiner_ub, sheet=resit_sheet, rows=[(c.enrolments[1], c.exam_b, "9.0")])
    s.grades_enter(actor=c.examiner_ub, sheet=resit_sheet, rows=[(e0, c.exam_b, resit)])
    s.sheet_submit(actor=c.examiner_ub, sheet=resit_sheet)
    s.sheet_approve(actor=c.board, sheet=resit_sheet)
    result = s.course_result(e0, c.course_b)
    assert result.joint_grade == expected and result.attempts == 2
    with pytest.raises(TransitionError, match="allow 1 resit"):
        s.resit_open(actor=c.leader, edition=c.edition, course=c.course_b)


def test_component_resit_keeps_the_other_component(cohort):
    c = cohort
    e0 = c.enrolments[0]
    grade_cohort_and_approve(c, {e0: ("5.0", "1.0", "7.0", "7.0")})  # exam 0, project 20 → 8 fail
    assert s.course_result(e0, c.course_a).status == "failed"
    resit_sheet = s.resit_open(actor=c.leader, edition=c.edition, course=c.course_a)
    s.grades_enter(actor=c.examiner_ua, sheet=resit_sheet, rows=[(e0, c.exam_a, "3.0")])
    s.sheet_submit(actor=c.examiner_ua, sheet=resit_sheet)
    s.sheet_approve(actor=c.board, sheet=resit_sheet)
    result = s.course_result(e0, c.course_a)
    assert result.status == "passed"
    assert {(x["assessment"], x["attempt"]) for x in result.components} == {("Exam", 2), ("Project", 1)}


def test_eligibility_boundaries(cohort):
    c = cohort
    e0, e1, _e2 = c.enrolments
    grade_cohort_and_approve(c, {e1: ("2.0", "2.0", "3.0", "7.0")})  # e1 fails mandatory B
    met = s.award_eligibility(e0)
    assert met.met and met.ects_earned == D("6.0") == met.ects_required  # exactly the required ECTS
    missing = s.award_eligibility(e1)
    assert not missing.met and any("Mandatory course B" in r for r in missing.reasons)
    # An exemption covering the failed mandatory course makes the learner eligible.
    ExemptionRequest.objects.create(
        application=e1.application, course=c.course_b, basis="Prior MSc", status="granted", ects_recognised=D("2.0")
    )
    assert s.award_eligibility(e1).met


def test_eligibility_needs_the_elective_ects(cohort):
    c = cohort
    e0 = c.enrolments[0]
    grade_cohort_and_approve(c, {e0: ("2.0", "2.0", "7.0", "2.0")})  # elective failed
    result = s.award_eligibility(e0)
    assert not result.met and any("Elective ECTS: 0" in r for r in result.reasons)


def test_eligibility_only_counts_approved_results(cohort):
    c = cohort
    pass_everything(c, c.enrolments[0])  # entered, not approved
    result = s.award_eligibility(c.enrolments[0])
    assert not result.met and all(r.status == "pending" for r in result.courses)


def test_appeals(cohort):
    c = cohort
    e0 = c.enrolments[0]
    grade_cohort_and_approve(c, {})
    grade = Grade.objects.get(enrolment=e0, assessment=c.exam_b)
    with pytest.raises(PermissionDenied):
        s.appeal_lodge(actor=c.enrolments[1].learner, grade=grade, reason="Unfair")
    appeal = s.appeal_lodge(actor=e0.learner, grade=grade, reason="Question 4 was marked wrongly")
    with pytest.raises(DomainError):
        s.appeal_lodge(actor=e0.learner, grade=grade, reason="again")
    s.appeal_decide(actor=c.board, appeal=appeal, upheld=True, outcome="Re-marked", corrected_grade="8.5")
    assert Grade.objects.get(enrolment=e0, assessment=c.exam_b, superseded=False).national_grade == "8.5"


def test_grades_typed_without_the_scales_decimals_are_stored_as_the_scales_grades(cohort):
    """UB's Spanish scale counts in half points ("4.0", "7.5"): "4" and "7,5" as typed are those grades."""
    c = cohort
    sheet = s.sheet_for(edition=c.edition, course=c.course_b, attempt=1)
    s.grades_enter(actor=c.examiner_ub, sheet=sheet, rows=[
        (c.enrolments[0], c.exam_b, "4"), (c.enrolments[1], c.exam_b, "7,5"), (c.enrolments[2], c.exam_b, "10")])
    stored = {g.enrolment_id: (g.national_grade, g.joint_grade) for g in sheet.grades.filter(superseded=False)}
    assert stored == {c.enrolments[0].pk: ("4.0", "8"), c.enrolments[1].pk: ("7.5", "15"),
                      c.enrolments[2].pk: ("10.0", "20")}
