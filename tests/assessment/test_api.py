"""The results API under ``/api/v1/results/``: bulk grade entry by the providing institution's system (all or
nothing, constant queries), refusals (400 rows, 403 other institution, 409 locked), scoped listing, schema."""

import itertools

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from assessment import services as s
from assessment.models import Grade, ResultSheet
from consortium.services import apitoken_create
from programmes.models import ProgrammePartner

from .conftest import enrol

RESULTS = "/api/v1/results/"
WRITE = ["results:read", "results:write"]


@pytest.fixture
def token_client(db):
    """``token_client(institution, scopes)``: a client with a fresh token (several per institution allowed)."""
    counter = itertools.count()

    def make(institution, scopes):
        _token, key = apitoken_create(
            actor=None, institution=institution, name=f"sis-{next(counter)}", scopes=scopes, check_policy=False
        )
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
        return client

    return make


def rows_for(enrolments, assessments, grade):
    return [{"enrolment": str(e.pk), "assessment": str(a.pk), "grade": grade} for e in enrolments for a in assessments]


def by_course(c, course):
    return {"edition": str(c.edition.pk), "course": str(course.pk), "attempt": 1}


def ids(response) -> set[str]:
    return {row["id"] for row in response.json()["results"]}


def enter_and_approve(c, course, examiner, rows):
    sheet = s.sheet_for(edition=c.edition, course=course)
    s.grades_enter(actor=examiner, sheet=sheet, rows=rows)
    s.sheet_submit(actor=examiner, sheet=sheet)
    return s.sheet_approve(actor=c.board, sheet=sheet)


# --- Bulk entry ----------------------------------------------------------------------------------------------


def test_provider_token_posts_500_grades_in_one_request_with_constant_queries(cohort, world, token_client):
    c = cohort
    client = token_client(world.ua, WRITE)  # UA provides course A (German scale)
    few = c.enrolments[:2]
    with CaptureQueriesContext(connection) as small:
        response = client.post(RESULTS, {**by_course(c, c.course_a), "grades": rows_for(few, [c.exam_a], "2.3")})
    assert response.status_code == 200, response.json()
    assert response.json()["created"] == 2

    learners = [enrol(c.edition, 100 + i) for i in range(250)]
    grades = rows_for(learners, [c.exam_a, c.project_a], "1.7")
    assert len(grades) == 500
    with CaptureQueriesContext(connection) as large:
        response = client.post(RESULTS, {**by_course(c, c.course_a), "grades": grades})
    assert response.status_code == 200, response.json()
    body = response.json()
    assert body["created"] == 500 and body["updated"] == 0 and len(body["grades"]) == 500
    assert body["sheet"]["status"] == "draft" and body["sheet"]["course_code"] == "A"
    assert {g["national_grade"] for g in body["grades"]} == {"1.7"} and body["grades"][0]["joint_grade"]
    assert Grade.objects.filter(sheet__course=c.course_a).count() == 502
    # No query per row: the same statements as for two rows, plus the database's insert batches.
    insert_batches = sum(1 for q in large.captured_queries if q["sql"].startswith('INSERT INTO "assessment_grade"'))
    assert len(large.captured_queries) <= len(small.captured_queries) + insert_batches + 2
    assert len(large.captured_queries) < 40

    # Sending a learner's grade again replaces it while the sheet is open.
    sheet_id = body["sheet"]["id"]
    response = client.post(RESULTS, {"sheet": sheet_id, "grades": rows_for(few, [c.exam_a], "1.0")})
    assert response.json()["updated"] == 2 and response.json()["created"] == 0
    assert Grade.objects.get(enrolment=few[0], assessment=c.exam_a).national_grade == "1.0"


def test_one_bad_row_saves_nothing_and_names_the_rows(cohort, world, token_client):
    c = cohort
    client = token_client(world.ub, WRITE)  # UB provides course B (Spanish scale)
    grades = rows_for(c.enrolments, [c.exam_b], "8.0")
    grades[2]["grade"] = "11"
    grades.append({"enrolment": "not-an-id", "assessment": str(c.exam_b.pk), "grade": "7.0"})
    response = client.post(RESULTS, {**by_course(c, c.course_b), "grades": grades})
    assert response.status_code == 400
    assert response.json()["rows"] == [
        "Row 3: 11 is not a grade of Spain 0–10.",
        "Row 4: Not a learner enrolled on the assessed track of this edition.",
    ]
    assert not Grade.objects.exists() and not ResultSheet.objects.exists()  # not even the sheet

    for body in (
        {"grades": grades},
        {**by_course(c, c.course_b), "grades": []},
        {"sheet": "00000000-0000-0000-0000-000000000000", "grades": grades[:1]},
        {**by_course(c, c.course_b), "course": str(c.programme.pk), "grades": grades[:1]},
    ):
        assert client.post(RESULTS, body).status_code == 400, body


def test_another_institutions_token_is_refused(cohort, world, token_client):
    c = cohort
    grades = rows_for(c.enrolments, [c.exam_a], "2.0")
    refused = (token_client(world.ub, WRITE), token_client(world.uc, WRITE), token_client(world.ua, ["results:read"]))
    for client in refused:
        assert client.post(RESULTS, {**by_course(c, c.course_a), "grades": grades}).status_code == 403
    sheet = s.sheet_for(edition=c.edition, course=c.course_a)
    response = token_client(world.ub, WRITE).post(RESULTS, {"sheet": str(sheet.pk), "grades": grades})
    assert response.status_code == 403
    assert not Grade.objects.exists() and ResultSheet.objects.count() == 1
    # Examiners signed in to the platform may use the API for their own courses only.
    examiner = APIClient()
    examiner.force_login(c.examiner_ub)
    assert examiner.post(RESULTS, {**by_course(c, c.course_a), "grades": grades}).status_code == 403
    assert (
        examiner.post(
            RESULTS, {**by_course(c, c.course_b), "grades": rows_for(c.enrolments, [c.exam_b], "6.0")}
        ).status_code
        == 200
    )


def test_locked_sheet_and_unopened_resit_are_409(cohort, world, token_client):
    c = cohort
    sheet = enter_and_approve(c, c.course_b, c.examiner_ub, [(e, c.exam_b, "4.0") for e in c.enrolments])
    client = token_client(world.ub, WRITE)
    grades = rows_for(c.enrolments[:1], [c.exam_b], "9.0")
    response = client.post(RESULTS, {"sheet": str(sheet.pk), "grades": grades})
    assert response.status_code == 409 and "cannot be edited" in response.json()["detail"]
    response = client.post(RESULTS, {**by_course(c, c.course_b), "attempt": 2, "grades": grades})
    assert response.status_code == 409 and "not open" in response.json()["detail"]
    assert Grade.objects.get(enrolment=c.enrolments[0]).national_grade == "4.0"
    # Once the programme opens the resit, the partner system enters it by attempt.
    s.resit_open(actor=c.leader, edition=c.edition, course=c.course_b)
    response = client.post(RESULTS, {**by_course(c, c.course_b), "attempt": 2, "grades": grades})
    assert response.status_code == 200 and response.json()["sheet"]["attempt"] == 2


# --- Listing -------------------------------------------------------------------------------------------------


def test_listing_is_scoped(cohort, world, token_client):
    c = cohort
    ProgrammePartner.objects.create(programme=c.programme, institution=world.ea, role="associated")
    s.grades_enter(
        actor=c.examiner_ua,
        sheet=s.sheet_for(edition=c.edition, course=c.course_a),
        rows=[(e, a, "2.0") for e in c.enrolments for a in (c.exam_a, c.project_a)],
    )  # draft (UA)
    approved_b = enter_and_approve(c, c.course_b, c.examiner_ub, [(e, c.exam_b, "7.0") for e in c.enrolments])
    a_grades = {str(g.pk) for g in Grade.objects.filter(sheet__course=c.course_a)}
    b_grades = {str(g.pk) for g in Grade.objects.filter(sheet=approved_b)}

    ua = token_client(world.ua, ["results:read"])
    assert ids(ua.get(RESULTS)) == a_grades | b_grades  # its own drafts, and B approved (UA runs the programme)
    ub = token_client(world.ub, ["results:read"])
    assert ids(ub.get(RESULTS)) == b_grades  # not UA's drafts
    assert ids(token_client(world.uc, ["results:read"]).get(RESULTS)) == set()  # not a partner
    assert ids(token_client(world.ea, ["results:read"]).get(RESULTS)) == set()  # associated: no grades
    assert token_client(world.ua, ["institutions:read"]).get(RESULTS).status_code == 403  # no results:read

    # Filters.
    assert ids(ua.get(RESULTS, {"course": str(c.course_b.pk)})) == b_grades
    assert ids(ua.get(RESULTS, {"status": "draft"})) == a_grades
    assert ids(ua.get(RESULTS, {"edition": str(c.edition.pk), "enrolment": str(c.enrolments[0].pk)})) == {
        str(g.pk) for g in Grade.objects.filter(enrolment=c.enrolments[0])
    }
    assert ua.get(RESULTS, {"status": "nonsense"}).status_code == 400

    # One grade: visible ones only.
    a_grade = next(iter(a_grades))
    assert ua.get(f"{RESULTS}{a_grade}/").status_code == 200
    assert ub.get(f"{RESULTS}{a_grade}/").status_code == 404

    # People: the board sees the submitted and approved sheets, not drafts; examiners their courses.
    board = APIClient()
    board.force_login(c.board)
    assert ids(board.get(RESULTS)) == b_grades
    examiner = APIClient()
    examiner.force_login(c.examiner_ua)
    assert ids(examiner.get(RESULTS)) == a_grades
    outsider = APIClient()
    outsider.force_login(world.people["UC_staff"])
    assert outsider.get(RESULTS).status_code == 403


def test_listing_keeps_constant_queries(cohort, world, token_client, django_assert_max_num_queries):
    c = cohort
    learners = [enrol(c.edition, 100 + i) for i in range(40)]
    enter_and_approve(c, c.course_b, c.examiner_ub, [(e, c.exam_b, "7.0") for e in [*c.enrolments, *learners]])
    client = token_client(world.ua, ["results:read"])
    with django_assert_max_num_queries(12):
        response = client.get(RESULTS)
    assert response.json()["count"] == 43


@pytest.mark.django_db
def test_schema_lists_the_results_api():
    schema = APIClient().get("/api/schema/?format=json").json()
    results = schema["paths"]["/api/v1/results/"]
    assert {"get", "post"} <= set(results)
    assert {"400", "403", "409"} <= set(results["post"]["responses"])
    assert {p["name"] for p in results["get"]["parameters"]} >= {"edition", "course", "enrolment", "status"}
    ref = results["post"]["requestBody"]["content"]["application/json"]["schema"]["$ref"]
    assert "grades" in schema["components"]["schemas"][ref.rsplit("/", 1)[-1]]["properties"]
    assert "/api/v1/results/{id}/" in schema["paths"]
