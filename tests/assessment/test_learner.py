"""Results pages (D5): the learner sees approved results only, the award status and appeals; staff who follow the
results open one learner's view. Driven through the Django test client on the ``cohort`` fixture."""

import datetime as dt
import html
import re

import pytest
from django.urls import reverse
from django.utils import timezone

from assessment import services as s
from assessment.models import Appeal, EditionRegulation, Grade, ResultSheet

from ..factories import StaffFactory


def url(name: str, *args) -> str:
    return reverse(name, args=args)


def text(response) -> str:
    return html.unescape(response.content.decode())


def shows(page: str, grade: str) -> bool:
    """The grade appears as a number of its own (not inside another number, a date or an id)."""
    return re.search(rf"(?<![\w.]){re.escape(grade)}(?![\w.])", page) is not None


def plain(page: str) -> str:
    """The page's words without markup, whitespace collapsed."""
    return " ".join(re.sub(r"<[^>]+>", " ", page).split())


def examiner(c, course):
    return c.examiner_ua if course == c.course_a else c.examiner_ub


def enter(c, course, grades=None, attempt=1):
    """Grades for the whole cohort (passing unless ``grades`` says otherwise: {enrolment: value(s)})."""
    grades = grades or {}
    rows = []
    for e in c.enrolments:
        if course == c.course_a:
            exam, project = grades.get(e, ("2.0", "2.0"))
            rows += [(e, c.exam_a, exam), (e, c.project_a, project)]
        elif course == c.course_b:
            rows.append((e, c.exam_b, grades.get(e, "7.0")))
        else:
            rows.append((e, c.exam_e, grades.get(e, "7.0")))
    sheet = s.sheet_for(edition=c.edition, course=course, attempt=attempt)
    s.grades_enter(actor=examiner(c, course), sheet=sheet, rows=rows)
    return sheet


def submit(c, sheet):
    return s.sheet_submit(actor=examiner(c, sheet.course), sheet=sheet)


def approve(c, sheet):
    submit(c, sheet)
    return s.sheet_approve(actor=c.board, sheet=sheet)


@pytest.fixture
def learner_client(client, cohort):
    client.force_login(cohort.enrolments[0].learner)
    return client


# --- The learner's own results ------------------------------------------------------------------------------


def test_my_results_needs_sign_in_and_lists_the_enrolments(client, cohort):
    response = client.get(url("my-results"))
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]
    client.force_login(cohort.enrolments[0].learner)
    page = text(client.get(url("my-results")))
    assert "Grading" in page and url("my-results-detail", cohort.enrolments[0].pk) in page
    assert url("my-results-detail", cohort.enrolments[1].pk) not in page


def test_learner_sees_approved_results_only_and_the_award_status(learner_client, cohort):
    c = cohort
    e0 = c.enrolments[0]
    approve(c, enter(c, c.course_a, {e0: ("1.0", "4.0")}))  # 20 and 10 → 16.0
    approve(c, enter(c, c.course_b, {e0: "7.5"}))
    elective = enter(c, c.course_e, {e0: "9.5"})  # a draft: private to the examiner
    detail = url("my-results-detail", e0.pk)

    page = text(learner_client.get(detail))
    assert "16.0" in page and "Germany 1.0–5.0" in page  # the joint grade; the provider's scale
    assert "Exam (60 %): 1.0 → 20" in page and "Project (40 %): 4.0 → 10" in page  # per component
    assert "7.5" in page and "Spain 0–10" in page
    assert "Essay" not in page and "9.5" not in page  # the draft grade is invisible
    assert "Not yet met" in page and "Elective ECTS: 0" in page
    assert page.count("Approved on ") == 2 and "Pending" in page

    submit(c, elective)  # submitted: awaiting the board, still invisible
    page = text(learner_client.get(detail))
    assert "Essay" not in page and "9.5" not in page and "Not yet met" in page

    s.sheet_approve(actor=c.board, sheet=elective)
    page = text(learner_client.get(detail))
    assert "Essay" in page and "9.5" in page
    assert "Award conditions: Met" in plain(page) and "ECTS earned: 6 of 6" in page
    assert "Pending" not in page


def test_a_failed_course_a_resit_and_an_exemption(learner_client, cohort):
    c = cohort
    e0 = c.enrolments[0]
    approve(c, enter(c, c.course_a, {e0: ("5.0", "1.0")}))  # exam 0, project 20 → 8.0: failed
    # Exemptions are decided in admissions (the demo data goes through its services); the record is what counts.
    e0.application.exemptions.create(course=c.course_b, basis="MSc", status="granted", ects_recognised=2)
    detail = url("my-results-detail", e0.pk)
    page = text(learner_client.get(detail))
    assert "Failed" in page and "8.0" in page and "Exempted" in page and "Mandatory course A" in page

    resit = s.resit_open(actor=c.leader, edition=c.edition, course=c.course_a)
    s.grades_enter(actor=c.examiner_ua, sheet=resit, rows=[(e0, c.exam_a, "3.0")])
    assert "Failed" in text(learner_client.get(detail))  # the resit is not approved yet
    approve(c, resit)
    page = text(learner_client.get(detail))
    assert "Passed" in page and "attempt 2" in page


def test_appeal_within_the_window_and_refused_after_it(learner_client, cohort):
    c = cohort
    e0 = c.enrolments[0]
    sheet_a = approve(c, enter(c, c.course_a))
    sheet_b = approve(c, enter(c, c.course_b))
    grade_b = Grade.objects.get(enrolment=e0, assessment=c.exam_b)
    detail, appeal_url = url("my-results-detail", e0.pk), url("my-results-appeal", e0.pk)
    assert appeal_url in text(learner_client.get(detail))  # the window is open: the form is offered

    response = learner_client.post(appeal_url, {"grade": grade_b.pk, "reason": "Question 4 was marked wrongly"})
    assert response.status_code == 302 and response["Location"].endswith("#appeals")
    appeal = Appeal.objects.get(grade=grade_b)
    page = text(learner_client.get(detail))
    assert "Appeal under way" in page and "Question 4 was marked wrongly" in page

    s.appeal_decide(actor=c.board, appeal=appeal, upheld=False, outcome="The marking follows the rubric.")
    assert "The marking follows the rubric." in text(learner_client.get(detail))

    # Fifteen days after the approval, the 14-day window is closed.
    ResultSheet.objects.filter(pk=sheet_a.pk).update(decided_at=timezone.now() - dt.timedelta(days=15))
    grade_a = Grade.objects.get(enrolment=e0, assessment=c.exam_a)
    response = learner_client.post(appeal_url, {"grade": grade_a.pk, "reason": "Too late"})
    assert response.status_code == 200 and "The appeals window closed on" in text(response)
    assert not Appeal.objects.filter(grade=grade_a).exists()
    page = text(learner_client.get(detail))
    assert "The appeals window is closed." in page
    assert sheet_b.pk  # B's window is still open


def test_another_learners_results_are_404(learner_client, cohort):
    c = cohort
    approve(c, enter(c, c.course_b))
    other = c.enrolments[1]
    assert learner_client.get(url("my-results-detail", other.pk)).status_code == 404
    other_grade = Grade.objects.get(enrolment=other, assessment=c.exam_b)
    assert (
        learner_client.post(url("my-results-appeal", other.pk), {"grade": other_grade.pk, "reason": "x"}).status_code
        == 404
    )
    # Someone else's grade through one's own enrolment is not a choice either.
    response = learner_client.post(
        url("my-results-appeal", c.enrolments[0].pk), {"grade": other_grade.pk, "reason": "x"}
    )
    assert response.status_code == 200 and not Appeal.objects.exists()
    # Nor do learners open the staff view, even of their own enrolment.
    assert learner_client.get(url("enrolment-results", c.enrolments[0].pk)).status_code == 403


# --- Staff: one learner's results ------------------------------------------------------------------------------


def test_staff_per_learner_view_follows_the_policy(client, cohort, world):
    c = cohort
    e0 = c.enrolments[0]
    approve(c, enter(c, c.course_a, {e0: ("1.7", "2.0")}))
    submit(c, enter(c, c.course_b, {e0: "8.5"}))
    enter(c, c.course_e, {e0: "6.5"})  # draft
    target = url("enrolment-results", e0.pk)

    assert client.get(target).status_code == 302  # sign in first

    client.force_login(c.board)
    page = plain(text(client.get(target)))
    assert "Results of Learner0 Test" in page
    assert "Submitted, awaiting the board" in page and shows(page, "8.5")  # the board sees the submitted sheet
    assert not shows(page, "6.5") and "Grades not visible to you" in page  # not the draft

    client.force_login(c.examiner_ub)  # examiner of B and E (drafts included), not of A
    page = plain(text(client.get(target)))
    assert shows(page, "8.5") and shows(page, "6.5")

    client.force_login(c.examiner_ua)
    page = plain(text(client.get(target)))
    assert shows(page, "1.7") and not shows(page, "6.5") and not shows(page, "8.5")

    client.force_login(c.leader)  # the team leader sees approved results
    page = plain(text(client.get(target)))
    assert shows(page, "1.7") and not shows(page, "8.5")

    outsider = StaffFactory(institution=world.uc).user
    client.force_login(outsider)
    assert client.get(target).status_code == 403
    client.force_login(world.people["UA_admin"])
    assert client.get(target).status_code == 403
    client.force_login(c.board)
    assert client.get(url("enrolment-results", c.programme.pk)).status_code == 404  # not an enrolment


def test_leader_without_approved_results_is_refused(client, cohort):
    c = cohort
    enter(c, c.course_a)
    client.force_login(c.leader)
    assert client.get(url("enrolment-results", c.enrolments[0].pk)).status_code == 403


def test_results_page_before_the_regulations_are_set(learner_client, cohort):
    EditionRegulation.objects.filter(edition=cohort.edition).delete()
    page = text(learner_client.get(url("my-results-detail", cohort.enrolments[0].pk)))
    assert "The edition has no examination regulations yet." in page
    assert page.count("Not approved by the examination board yet") == 3  # every course, pending
    assert learner_client.get(url("my-results")).status_code == 200


def test_an_upheld_appeal_shows_the_corrected_grade(learner_client, cohort):
    c = cohort
    e0 = c.enrolments[0]
    approve(c, enter(c, c.course_b, {e0: "6.0"}))
    old = Grade.objects.get(enrolment=e0, assessment=c.exam_b)
    learner_client.post(url("my-results-appeal", e0.pk), {"grade": old.pk, "reason": "Question 2 was not marked"})
    appeal = Appeal.objects.get(grade=old)
    s.appeal_decide(actor=c.board, appeal=appeal, upheld=True, outcome="Re-marked: +2", corrected_grade="8.0")
    page = text(learner_client.get(url("my-results-detail", e0.pk)))
    assert "8.0" in page and "(corrected)" in page and "Re-marked: +2" in page and "Upheld" in page
    # The superseded version is no longer a result one appeals against.
    response = learner_client.post(url("my-results-appeal", e0.pk), {"grade": old.pk, "reason": "again"})
    assert response.status_code == 200 and Appeal.objects.count() == 1
    with pytest.raises(s.TransitionError, match="corrected"):
        s.appeal_lodge(actor=e0.learner, grade=old, reason="again")
