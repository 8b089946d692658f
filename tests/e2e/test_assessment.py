"""Journey 4 — an examiner enters grades in the grid and submits, the board approves, the learner sees results.

Also the keyboard half of journey 6: the grade grid worked with the keyboard alone.
"""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from assessment.models import Grade, ResultSheet
from tests.factories import PASSWORD

from .forms import fill

pytestmark = pytest.mark.e2e


def _open_grid(examiner, c, course) -> None:
    """From the assessment home page to the course's result sheet, opening it when it does not exist yet."""
    page = examiner.page
    examiner.go("/assessment/")
    page.get_by_role("link", name=c.edition.intake_code, exact=True).first.click()
    examiner.check()
    section = page.locator(f"#course-{course.pk}")
    with page.expect_navigation():
        section.get_by_role("button", name="Open the result sheet").click()
    page.wait_for_url(re.compile(r"/assessment/sheets/[0-9a-f-]+/$"))
    examiner.check()


def test_examiner_enters_grades_the_board_approves_and_the_learner_sees_results(journey, cohort):
    c = cohort
    examiner = journey("examiner")
    page = examiner.page
    examiner.log_in(c.examiner_ub.email, PASSWORD)
    _open_grid(examiner, c, c.course_b)

    # Course B is graded on UB's Spanish 0–10 scale; the joint grade is converted on saving.
    grades = {"Learner0 Test": "7.5", "Learner1 Test": "4", "Learner2 Test": "9"}
    for name, grade in grades.items():
        page.get_by_label(f"{name}: Exam").fill(grade)
    with page.expect_navigation():
        page.get_by_role("button", name="Save grades").click()
    examiner.check("saved")
    expect(page.locator("main")).to_contain_text("Every learner has a grade for every component")
    sheet = ResultSheet.objects.get(edition=c.edition, course=c.course_b)
    saved = {g.enrolment.application.full_name: g.national_grade
             for g in Grade.objects.filter(sheet=sheet, superseded=False).select_related("enrolment__application")}
    assert saved == {"Learner0 Test": "7.5", "Learner1 Test": "4.0", "Learner2 Test": "9.0"}  # as the scale writes them
    with page.expect_navigation():
        page.get_by_role("button", name="Submit the results").click()
    expect(page.locator("main")).to_contain_text("Submitted")
    sheet.refresh_from_db()
    assert sheet.status == "submitted"

    # The examination board reviews the sheet from its queue and approves it.
    board = journey("board")
    board.log_in(c.board.email, PASSWORD)
    board.go("/assessment/")
    board.page.get_by_role("link", name="Open the board queue").click()
    board.check()
    board.page.get_by_role("link", name=re.compile("Course B")).click()
    board.check()
    fill(board.page, {"decision": "approve", "comment": "Checked against the exam scripts."},
         within="#decision form")
    with board.page.expect_navigation():
        board.page.get_by_role("button", name="Record the decision").click()
    board.check("decided")
    expect(board.page.locator("main")).to_contain_text("Approved")
    sheet.refresh_from_db()
    assert sheet.status == "approved"

    # The learner who failed sees the result of course B, with the joint grade.
    learner = journey("learner")
    learner.log_in(c.enrolments[1].learner.email, PASSWORD)
    learner.go("/my/results/")
    learner.page.get_by_role("link", name=c.programme.title).click()
    learner.check()
    row = learner.page.get_by_role("row", name=re.compile("Course B"))
    expect(row).to_contain_text("4")
    expect(row).to_contain_text(re.compile("Fail", re.I))
    learner.screenshot()


def test_the_grade_grid_works_with_the_keyboard_alone(journey, cohort):
    """Tab into the grid, type, Enter moves down, Shift+Enter up, arrows across, Tab to Save, Enter saves."""
    c = cohort
    examiner = journey("keyboard")
    page = examiner.page
    examiner.log_in(c.examiner_ua.email, PASSWORD)
    _open_grid(examiner, c, c.course_a)  # two components (Exam, Project) on UA's German 1.0–5.0 scale

    page.locator("body").focus()
    for _ in range(80):  # Tab from the top of the page until the first cell of the grid has the focus
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.dataset.row === '0' && document.activeElement.dataset.col === '0'"):
            break
    else:
        pytest.fail("Tab never reached the first cell of the grade grid")

    def focused() -> tuple[str, str]:
        return tuple(page.evaluate("[document.activeElement.dataset.row, document.activeElement.dataset.col]"))

    keyboard = page.keyboard
    keyboard.type("1.3")
    keyboard.press("Enter")  # down, not submit
    assert focused() == ("1", "0")
    keyboard.type("2.7")
    keyboard.press("Enter")
    keyboard.type("5.0")
    keyboard.press("Shift+Enter")  # back up to row 1: its text is selected, typing replaces it
    assert focused() == ("1", "0")
    keyboard.type("2.3")
    keyboard.press("ArrowRight")  # at the end of what is typed: next component
    assert focused() == ("1", "1")
    keyboard.type("1.7")
    keyboard.press("ArrowUp")
    assert focused() == ("0", "1")
    keyboard.type("1.0")
    keyboard.press("ArrowDown")
    keyboard.press("ArrowDown")
    assert focused() == ("2", "1")
    keyboard.type("4.0")
    assert page.url.endswith("/"), "no key so far may have submitted the grid"
    assert not Grade.objects.filter(sheet__course=c.course_a).exists()

    for _ in range(10):  # on to the Save button, and Enter on it
        keyboard.press("Tab")
        if page.evaluate("document.activeElement.textContent.trim() === 'Save grades'"):
            break
    else:
        pytest.fail("Tab never reached the Save grades button")
    with page.expect_navigation():
        keyboard.press("Enter")
    examiner.check("saved")

    saved = {(g.enrolment.application.given_names, g.assessment.title): g.national_grade
             for g in Grade.objects.filter(sheet__course=c.course_a, superseded=False)
             .select_related("enrolment__application", "assessment")}
    assert saved == {("Learner0", "Exam"): "1.3", ("Learner1", "Exam"): "2.3", ("Learner2", "Exam"): "5.0",
                     ("Learner0", "Project"): "1.0", ("Learner1", "Project"): "1.7", ("Learner2", "Project"): "4.0"}
    examiner.screenshot()
