"""The assessment staff pages (D5), driven through the Django test client with the ``cohort`` fixture.

The first test is the examiners' journey: grades typed into the grid, submitted, approved by the examination
board, then locked. The others check who may open what (403 / 404), that refusals are shown and save nothing,
the CSV upload (preview, all-or-nothing confirm, encodings, garbage), the class list, the regulation pages,
the board's decisions, corrections, resits, appeals, and the number of queries per grid.
"""

import csv
import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from admissions.models import ExemptionRequest
from assessment import services as s
from assessment.models import Appeal, ConversionTable, EditionRegulation, ExamRegulation, Grade, ResultSheet

from .conftest import enrol


def cell(enrolment, assessment) -> str:
    return f"g-{enrolment.pk}-{assessment.pk}"


def sheet_b(c):
    return s.sheet_for(edition=c.edition, course=c.course_b)


def messages_of(response) -> list[str]:
    return [str(m) for m in response.context["messages"]] if response.context else []


def upload(client, sheet, content: bytes, name="grades.csv"):
    file = SimpleUploadedFile(name, content, content_type="text/csv")
    return client.post(reverse("sheet-upload", args=[sheet.pk]), {"file": file})


def approved_sheet_b(c, grades=("8.0", "4.0", "6.0")):
    target = sheet_b(c)
    s.grades_enter(
        actor=c.examiner_ub, sheet=target, rows=[(e, c.exam_b, g) for e, g in zip(c.enrolments, grades, strict=True)]
    )
    s.sheet_submit(actor=c.examiner_ub, sheet=target)
    return s.sheet_approve(actor=c.board, sheet=target)


# --- The examiners' grid ----------------------------------------------------------------------------


def test_examiner_grid_journey(cohort, client):
    c = cohort
    client.force_login(c.examiner_ub)
    edition_page = client.get(reverse("edition-assessments", args=[c.edition.pk]))
    assert edition_page.status_code == 200
    opened = client.post(reverse("sheet-open", args=[c.edition.pk, c.course_b.pk]))
    target = ResultSheet.objects.get(edition=c.edition, course=c.course_b, attempt=1)
    assert opened.url == reverse("sheet-grid", args=[target.pk])

    page = client.get(opened.url)
    html = page.content.decode()
    assert page.status_code == 200
    assert html.count('list="scale-grades"') == 3  # one input per learner (one component)
    assert '<datalist id="scale-grades">' in html and '<option value="7.5">' in html
    assert "js/grades.js" in html and "<script>" not in html

    grades = ["8.0", "4.5", "6.5"]
    saved = client.post(opened.url, {cell(e, c.exam_b): g for e, g in zip(c.enrolments, grades, strict=True)})
    assert saved.status_code == 302
    assert sorted(Grade.objects.filter(sheet=target).values_list("national_grade", flat=True)) == sorted(grades)
    refilled = client.get(opened.url).content.decode()
    assert 'value="4.5"' in refilled

    submitted = client.post(reverse("sheet-submit", args=[target.pk]), follow=True)
    assert "Submitted to the examination board." in messages_of(submitted)
    target.refresh_from_db()
    assert target.status == "submitted"

    client.force_login(c.board)
    queue = client.get(reverse("assessment-board"))
    assert reverse("sheet-review", args=[target.pk]) in queue.content.decode()
    decided = client.post(reverse("sheet-decide", args=[target.pk]), {"decision": "approve", "comment": ""})
    assert decided.status_code == 302
    target.refresh_from_db()
    assert target.status == "approved"

    client.force_login(c.examiner_ub)
    locked = client.get(reverse("sheet-grid", args=[target.pk])).content.decode()
    assert 'list="scale-grades"' not in locked and "cannot be edited" in locked
    refused = client.post(
        reverse("sheet-grid", args=[target.pk]), {cell(c.enrolments[0], c.exam_b): "2.0"}, follow=True
    )
    assert refused.status_code == 200
    assert any("cannot be edited" in m for m in messages_of(refused))
    assert Grade.objects.get(sheet=target, enrolment=c.enrolments[0]).national_grade == "8.0"


def test_examiners_of_other_partners_get_403_and_outsiders_404(cohort, client, world):
    c = cohort
    target = sheet_b(c)
    client.force_login(c.examiner_ua)
    assert client.get(reverse("sheet-grid", args=[target.pk])).status_code == 403
    assert client.post(reverse("sheet-grid", args=[target.pk]), {}).status_code == 403
    assert client.get(reverse("sheet-upload", args=[target.pk])).status_code == 403
    client.force_login(world.people["UC_staff"])
    for name in ("sheet-grid", "sheet-upload", "sheet-class-list", "sheet-review"):
        assert client.get(reverse(name, args=[target.pk])).status_code == 404
    assert client.get(reverse("edition-assessments", args=[c.edition.pk])).status_code == 404
    assert client.get(reverse("regulation-detail", args=[c.regulation.pk])).status_code == 404
    # The board sees a draft sheet of the examiners neither in the grid nor in the review.
    client.force_login(c.board)
    assert client.get(reverse("sheet-review", args=[target.pk])).status_code == 403


def test_one_bad_cell_saves_nothing_and_is_shown_next_to_the_cell(cohort, client):
    c = cohort
    target = sheet_b(c)
    client.force_login(c.examiner_ub)
    data = {cell(c.enrolments[0], c.exam_b): "8.0", cell(c.enrolments[1], c.exam_b): "7.5"}
    data[cell(c.enrolments[2], c.exam_b)] = "11"
    response = client.post(reverse("sheet-grid", args=[target.pk]), data)
    html = response.content.decode()
    assert response.status_code == 200
    assert "Nothing was saved" in html
    assert html.count("11 is not a grade of Spain 0–10.") == 2  # at the top and next to the cell
    assert f'id="err-{cell(c.enrolments[2], c.exam_b)}"' in html
    assert 'value="11"' in html and 'value="7.5"' in html  # shown as typed
    assert not Grade.objects.exists()


def test_clearing_a_saved_grade_is_refused(cohort, client):
    c = cohort
    target = sheet_b(c)
    s.grades_enter(actor=c.examiner_ub, sheet=target, rows=[(c.enrolments[0], c.exam_b, "8.0")])
    client.force_login(c.examiner_ub)
    response = client.post(reverse("sheet-grid", args=[target.pk]), {cell(c.enrolments[0], c.exam_b): ""})
    assert "cannot be removed" in response.content.decode()
    assert Grade.objects.get(sheet=target).national_grade == "8.0"


def test_submit_lists_missing_grades(cohort, client):
    c = cohort
    target = sheet_b(c)
    s.grades_enter(actor=c.examiner_ub, sheet=target, rows=[(c.enrolments[0], c.exam_b, "8.0")])
    client.force_login(c.examiner_ub)
    page = client.get(reverse("sheet-grid", args=[target.pk])).content.decode()
    assert "2 grades are still missing" in page
    refused = client.post(reverse("sheet-submit", args=[target.pk]), follow=True)
    text = " ".join(messages_of(refused))
    assert "Grades are missing." in text and "Learner1 Test: Exam" in text
    target.refresh_from_db()
    assert target.status == "draft"


def test_exempted_learners_are_marked_and_attendance_learners_not_listed(cohort, client):
    c = cohort
    ExemptionRequest.objects.create(
        application=c.enrolments[0].application, course=c.course_b, basis="MSc", status="granted", ects_recognised=2
    )
    enrol(c.edition, 7, track="attendance")
    client.force_login(c.examiner_ub)
    html = client.get(reverse("sheet-grid", args=[sheet_b(c).pk])).content.decode()
    assert "exempted" in html and "Learner7" not in html
    assert html.count('list="scale-grades"') == 2
    assert f'name="{cell(c.enrolments[0], c.exam_b)}"' not in html


def test_grid_queries_do_not_grow_with_the_cohort(cohort, client):
    c = cohort
    target = s.sheet_for(edition=c.edition, course=c.course_a)
    ExemptionRequest.objects.create(
        application=c.enrolments[0].application, course=c.course_a, basis="MSc", status="granted", ects_recognised=3
    )
    client.force_login(c.examiner_ua)
    url = reverse("sheet-grid", args=[target.pk])

    def measure(count):
        learners = [enrol(c.edition, 200 + count + i) for i in range(count - len(c.enrolments))]
        c.enrolments += learners
        s.grades_enter(actor=c.examiner_ua, sheet=target, rows=[(e, c.exam_a, "2.0") for e in learners])
        with CaptureQueriesContext(connection) as queries:
            response = client.get(url)
        assert response.status_code == 200
        assert response.content.decode().count('list="scale-grades"') == 2 * (count - 1)
        return len(queries)

    assert measure(5) == measure(50)


# --- CSV upload -------------------------------------------------------------------------------------


def _csv(rows, header=("email", "assessment", "grade", "comment"), delimiter=","):
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=delimiter)
    writer.writerow(header)
    writer.writerows(rows)
    return buffer.getvalue().encode("utf-8")


def test_csv_upload_of_500_rows_is_previewed_then_saved_in_one_go(cohort, client, django_assert_max_num_queries):
    c = cohort
    learners = [enrol(c.edition, 100 + i) for i in range(250)]
    target = s.sheet_for(edition=c.edition, course=c.course_a)
    rows = [(e.application.email, title, "2.3", "=1+1") for e in learners for title in ("Exam", "project")]
    assert len(rows) == 500
    client.force_login(c.examiner_ua)
    preview = upload(client, target, _csv(rows))
    html = preview.content.decode()
    assert preview.status_code == 200
    assert "500 grades are ready to be saved." in html
    assert html.count("ok → joint grade") == 500
    assert not Grade.objects.exists()  # nothing before the confirmation
    token = preview.context["token"]
    with django_assert_max_num_queries(30):
        saved = client.post(reverse("sheet-upload-confirm", args=[target.pk]), {"token": token})
    assert saved.status_code == 302 and saved.url == reverse("sheet-grid", args=[target.pk])
    assert Grade.objects.filter(sheet=target).count() == 500
    again = client.post(reverse("sheet-upload-confirm", args=[target.pk]), {"token": token}, follow=True)
    assert any("upload it again" in m for m in messages_of(again))  # the preview is used once


def test_csv_with_one_bad_row_shows_it_and_saves_nothing(cohort, client):
    c = cohort
    target = sheet_b(c)
    rows = [(e.application.email, "Exam", "7.0", "") for e in c.enrolments[:2]]
    rows.append((c.enrolments[2].application.email, "Exam", "12", ""))
    rows.append(("nobody@example.org", "Exam", "5.0", ""))
    client.force_login(c.examiner_ub)
    preview = upload(client, target, _csv(rows))
    html = preview.content.decode()
    assert "Nothing was saved" in html
    assert "Line 4: 12 is not a grade of Spain 0–10." in html
    assert "Line 5: No learner of this edition has the email nobody@example.org." in html
    assert "Confirm" not in html and not preview.context["token"]
    confirm = client.post(reverse("sheet-upload-confirm", args=[target.pk]), {"token": "forged"})
    assert confirm.status_code == 302
    assert not Grade.objects.exists()


def test_csv_with_byte_order_mark_semicolons_and_enrolment_ids_works(cohort, client):
    c = cohort
    target = sheet_b(c)
    rows = [(str(e.pk), "EXAM ", "6.0") for e in c.enrolments]
    content = b"\xef\xbb\xbf" + _csv(rows, header=("Enrolment_ID", "Assessment", "Grade"), delimiter=";")
    client.force_login(c.examiner_ub)
    preview = upload(client, target, content)
    assert "3 grades are ready to be saved." in preview.content.decode()
    client.post(reverse("sheet-upload-confirm", args=[target.pk]), {"token": preview.context["token"]})
    assert Grade.objects.filter(sheet=target, national_grade="6.0").count() == 3


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (b"\x89PNG\r\n\x1a\n" + bytes(range(256)), "This is not a CSV file"),
        (bytes(range(128, 256)) * 4, "not UTF-8"),
        (b"email,grade\nx@example.org,5\n", "The first row must name the columns"),
        (b"\x00\x01\x02garbage", "binary data"),
        (b"", "empty"),
    ],
)
def test_garbage_files_get_a_clear_error(cohort, client, content, expected):
    c = cohort
    client.force_login(c.examiner_ub)
    response = upload(client, sheet_b(c), content)
    assert response.status_code == 200
    assert expected in response.content.decode()
    assert not Grade.objects.exists()


def test_class_list_marks_exemptions_and_neutralises_formulas(cohort, client):
    c = cohort
    ExemptionRequest.objects.create(
        application=c.enrolments[1].application, course=c.course_b, basis="MSc", status="granted", ects_recognised=2
    )
    trap = c.enrolments[0].application
    trap.given_names = '=HYPERLINK("http://evil.example","click")'
    trap.save()
    attendance = enrol(c.edition, 8, track="attendance")
    client.force_login(c.examiner_ub)
    response = client.get(reverse("sheet-class-list", args=[sheet_b(c).pk]))
    assert response["Content-Type"].startswith("text/csv")
    text = response.content.decode("utf-8-sig")
    rows = list(csv.DictReader(io.StringIO(text)))
    assert len(rows) == 4
    by_email = {r["email"]: r for r in rows}
    assert by_email[trap.email]["given_names"] == '\'=HYPERLINK("http://evil.example","click")'
    assert by_email[c.enrolments[1].application.email]["exempted"] == "exempted"
    assert by_email[attendance.application.email]["track"] == "attendance"
    assert by_email[c.enrolments[2].application.email]["enrolment_id"] == str(c.enrolments[2].pk)
    assert not any(v.startswith(("=", "+", "-", "@")) for r in rows for v in r.values())


# --- Regulations --------------------------------------------------------------------------------------


def test_regulation_pages_and_an_invalid_conversion_table(cohort, client, world):
    c = cohort
    client.force_login(c.leader)
    assert client.get(reverse("regulation-list", args=[c.programme.pk])).status_code == 200
    created = client.post(
        reverse("regulation-create", args=[c.programme.pk]),
        {
            "joint_scale": c.joint.pk,
            "resits_allowed": 2,
            "final_result": "best",
            "resit_scope": "course",
            "appeals_days": 20,
            "organisation": "Two exam periods.",
        },
    )
    draft = ExamRegulation.objects.get(programme=c.programme, number=2)
    assert created.url == reverse("regulation-detail", args=[draft.pk])
    assert draft.resits_allowed == 2 and draft.conversions.count() == 2
    page = client.get(created.url).content.decode()
    assert "a resit replaces only the failed component" in page and "every component is graded again" in page

    url = reverse("regulation-conversion", args=[draft.pk, world.ub.pk])
    prefilled = client.get(url, {"scale": c.spain.pk, "prefill": "1"})
    assert prefilled.status_code == 200
    before = ConversionTable.objects.get(regulation=draft, institution=world.ub).mapping
    grades = c.spain.scale.grades
    data = {"national_scale": c.spain.pk, **{f"g{i}": "20" for i in range(len(grades))}}  # every grade passes
    refused = client.post(url, data)
    html = refused.content.decode()
    assert refused.status_code == 200
    assert "The table was not saved" in html and "fails nationally but converts to 20" in html
    assert ConversionTable.objects.get(regulation=draft, institution=world.ub).mapping == before

    valid = {"national_scale": c.spain.pk}
    mapping = prefilled.context["form"].initial
    valid.update(mapping)
    valid["g0"] = "19"  # 10 → 19 instead of 20 is still monotonic and pass-preserving
    saved = client.post(url, valid)
    assert saved.status_code == 302
    assert ConversionTable.objects.get(regulation=draft, institution=world.ub).mapping["10.0"] == "19"
    # Institutions that do not take part in the programme have no table.
    assert client.get(reverse("regulation-conversion", args=[draft.pk, world.uc.pk])).status_code == 404


def test_exam_board_approves_the_regulations(cohort, client):
    c = cohort
    draft = s.regulation_create(actor=c.leader, programme=c.programme, data={})
    client.force_login(c.leader)
    refused = client.post(reverse("regulation-approve", args=[draft.pk]))
    assert refused.status_code == 403  # the team leader does not approve
    client.force_login(c.board)
    page = client.get(reverse("regulation-detail", args=[draft.pk])).content.decode()
    assert "Approve the regulations" in page
    approved = client.post(reverse("regulation-approve", args=[draft.pk]), follow=True)
    assert any("approved" in m for m in messages_of(approved))
    draft.refresh_from_db()
    assert draft.status == "approved"


def test_approval_lists_the_problems(cohort, client, world):
    c = cohort
    draft = s.regulation_create(actor=c.leader, programme=c.programme, data={})
    ConversionTable.objects.filter(regulation=draft, institution=world.ub).delete()
    client.force_login(c.board)
    page = client.get(reverse("regulation-detail", args=[draft.pk])).content.decode()
    assert "No conversion table for UB" in page
    refused = client.post(reverse("regulation-approve", args=[draft.pk]), follow=True)
    assert any("not complete" in m and "UB" in m for m in messages_of(refused))
    draft.refresh_from_db()
    assert draft.status == "draft"


def test_edition_regulation_assignment_is_refused_once_grades_exist(cohort, client):
    c = cohort
    draft = s.regulation_create(actor=c.leader, programme=c.programme, data={})
    v2 = s.regulation_approve(actor=c.board, regulation=draft)
    s.grades_enter(actor=c.examiner_ub, sheet=sheet_b(c), rows=[(c.enrolments[0], c.exam_b, "8.0")])
    client.force_login(c.leader)
    response = client.post(reverse("edition-regulation", args=[c.edition.pk]), {"regulation": v2.pk})
    assert response.status_code == 200
    assert "cannot change" in response.content.decode()
    assert EditionRegulation.objects.get(edition=c.edition).regulation == c.regulation


# --- Edition page: components and examiners ------------------------------------------------------------


def test_components_and_examiners(cohort, client, world):
    c = cohort
    client.force_login(c.leader)
    too_heavy = client.post(
        reverse("assessment-create", args=[c.edition.pk, c.course_b.pk]),
        {"title": "Quiz", "method": "online_exam", "weight": "10", "supervision": "unsupervised"},
    )
    assert "would add up to 110" in too_heavy.content.decode()
    client.post(
        reverse("assessment-edit", args=[c.exam_b.pk]),
        {"title": "Exam", "method": "online_exam", "weight": "70", "supervision": "supervised_online"},
    )
    page = client.get(reverse("edition-assessments", args=[c.edition.pk])).content.decode()
    assert "the weights add up to 70.00 %, not 100 %" in page
    wrong = client.post(
        reverse("examiner-appoint", args=[c.edition.pk, c.course_b.pk]), {"email": world.people["UA_staff"].email}
    )
    assert "Examiners of B are staff of UB." in wrong.content.decode()
    staff = world.people["UB_staff"]
    right = client.post(reverse("examiner-appoint", args=[c.edition.pk, c.course_b.pk]), {"email": staff.email})
    assert right.status_code == 302
    assert staff.email in client.get(reverse("edition-assessments", args=[c.edition.pk])).content.decode()


# --- Board ----------------------------------------------------------------------------------------------


def test_board_returns_only_with_comments(cohort, client):
    c = cohort
    target = sheet_b(c)
    s.grades_enter(actor=c.examiner_ub, sheet=target, rows=[(e, c.exam_b, "7.0") for e in c.enrolments])
    s.sheet_submit(actor=c.examiner_ub, sheet=target)
    client.force_login(c.board)
    refused = client.post(reverse("sheet-decide", args=[target.pk]), {"decision": "return", "comment": " "})
    assert refused.status_code == 200
    assert "comments are required" in refused.content.decode()
    target.refresh_from_db()
    assert target.status == "submitted"
    returned = client.post(
        reverse("sheet-decide", args=[target.pk]), {"decision": "return", "comment": "Check learner 2."}
    )
    assert returned.status_code == 302
    target.refresh_from_db()
    assert target.status == "returned"
    client.force_login(c.examiner_ub)
    grid = client.get(reverse("sheet-grid", args=[target.pk])).content.decode()
    assert "Check learner 2." in grid and 'list="scale-grades"' in grid  # open again for the examiners


def test_correction_keeps_the_old_version_visible(cohort, client):
    c = cohort
    target = approved_sheet_b(c)
    grade = Grade.objects.get(sheet=target, enrolment=c.enrolments[1])
    client.force_login(c.board)
    review = client.get(reverse("sheet-review", args=[target.pk])).content.decode()
    assert reverse("grade-detail", args=[grade.pk]) in review
    no_reason = client.post(reverse("grade-correct", args=[grade.pk]), {"national_grade": "5.0", "reason": ""})
    assert "needs a reason" in no_reason.content.decode()
    corrected = client.post(
        reverse("grade-correct", args=[grade.pk]), {"national_grade": "5.0", "reason": "Marking error in Q3."}
    )
    new = Grade.objects.get(sheet=target, enrolment=c.enrolments[1], superseded=False)
    assert corrected.url == reverse("grade-detail", args=[new.pk])
    assert new.version == 2 and new.national_grade == "5.0"
    page = client.get(corrected.url).content.decode()
    assert "Marking error in Q3." in page and "4.0" in page and "superseded" in page
    review = client.get(reverse("sheet-review", args=[target.pk])).content.decode()
    assert "Corrections (earlier versions)" in review and "v2, corrected" in review
    # The examiner cannot correct locked grades.
    client.force_login(c.examiner_ub)
    assert (
        client.post(reverse("grade-correct", args=[new.pk]), {"national_grade": "9.0", "reason": "x"}).status_code
        == 403
    )


def test_resit_opening(cohort, client):
    c = cohort
    target = approved_sheet_b(c)  # Learner1 failed with 4.0
    client.force_login(c.leader)
    review = client.get(reverse("sheet-review", args=[target.pk])).content.decode()
    assert "Open a resit" in review
    opened = client.post(reverse("sheet-resit", args=[target.pk]), follow=True)
    assert any("Attempt 2 of B opened" in m for m in messages_of(opened))
    resit = ResultSheet.objects.get(edition=c.edition, course=c.course_b, attempt=2)
    client.force_login(c.examiner_ub)
    grid = client.get(reverse("sheet-grid", args=[resit.pk])).content.decode()
    assert grid.count('list="scale-grades"') == 1 and "Learner1" in grid  # only who failed
    client.force_login(c.leader)
    again = client.post(reverse("sheet-resit", args=[target.pk]), follow=True)
    assert any("must be approved first" in m for m in messages_of(again))
    assert ResultSheet.objects.filter(course=c.course_b).count() == 2


def test_appeal_is_decided_by_the_board(cohort, client):
    c = cohort
    target = approved_sheet_b(c)
    grade = Grade.objects.get(sheet=target, enrolment=c.enrolments[1])
    appeal = s.appeal_lodge(actor=c.enrolments[1].learner, grade=grade, reason="Question 3 was marked wrongly.")
    client.force_login(c.board)
    board = client.get(reverse("assessment-board")).content.decode()
    assert reverse("appeal-decide", args=[appeal.pk]) in board
    missing_outcome = client.post(reverse("appeal-decide", args=[appeal.pk]), {"upheld": "1", "outcome": ""})
    assert "Record the outcome." in missing_outcome.content.decode()
    decided = client.post(
        reverse("appeal-decide", args=[appeal.pk]),
        {"upheld": "1", "outcome": "Q3 re-marked.", "corrected_grade": "5.5"},
    )
    assert decided.status_code == 302
    appeal.refresh_from_db()
    assert appeal.status == "upheld"
    assert Grade.objects.get(sheet=target, enrolment=c.enrolments[1], superseded=False).national_grade == "5.5"
    assert Appeal.objects.get(pk=appeal.pk).outcome == "Q3 re-marked."


def test_pages_render_for_their_users_and_nav_link(cohort, client, world):
    c = cohort
    target = approved_sheet_b(c)
    pages = {
        c.leader: [
            reverse("assessment-home"),
            reverse("regulation-list", args=[c.programme.pk]),
            reverse("regulation-detail", args=[c.regulation.pk]),
            reverse("edition-assessments", args=[c.edition.pk]),
            reverse("sheet-review", args=[target.pk]),
            reverse("assessment-create", args=[c.edition.pk, c.course_a.pk]),
            reverse("assessment-edit", args=[c.exam_a.pk]),
            reverse("examiner-appoint", args=[c.edition.pk, c.course_a.pk]),
            reverse("edition-regulation", args=[c.edition.pk]),
            reverse("regulation-create", args=[c.programme.pk]),
        ],
        c.board: [reverse("assessment-board"), reverse("sheet-review", args=[target.pk])],
        c.examiner_ub: [reverse("sheet-grid", args=[target.pk]), reverse("sheet-upload", args=[target.pk])],
    }
    for user, urls in pages.items():
        client.force_login(user)
        for url in urls:
            response = client.get(url)
            assert response.status_code == 200, url
            assert 'href="/assessment/"' in response.content.decode(), url  # the nav link
    client.force_login(world.people["UA_staff"])
    home = client.get(reverse("dashboard")).content.decode()
    assert 'href="/assessment/"' not in home
    assert client.get(reverse("assessment-board")).status_code == 403
