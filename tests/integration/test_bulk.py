"""Bulk exchange (docs/integration.md, "Bulk exchange"): applicants and results imported from CSV or JSON with a
dry run first and an all-or-nothing commit, and the per-partner export of an edition on each partner's own scale."""

from __future__ import annotations

import codecs
import csv
import io
import itertools
import json
from decimal import Decimal as D

import pytest
from allauth.account.models import EmailAddress
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from hypothesis import given, settings
from hypothesis import strategies as st
from rest_framework.test import APIClient

from admissions import services as admissions_services
from admissions.models import Application, ApplicationMessage, ExemptionRequest
from assessment import services as assessment_services
from assessment.api import learner_results
from assessment.grading import Scale, convert, numeric_scale, proportional_mapping, to_national
from assessment.models import Grade, ResultSheet
from certification import services as certification_services
from consortium import policy
from consortium.models import AuditEvent, ExternalId, User
from consortium.services import apitoken_create

from ..admissions.test_services import fresh, make_admissions, submit, who
from ..assessment.conftest import cohort, enrol  # noqa: F401  (fixture)
from ..certification.conftest import awardable, third_university  # noqa: F401  (fixtures)

pytestmark = pytest.mark.django_db

API = "/api/v1"
HEADER = ["given_names", "family_names", "email", "date_of_birth", "nationality", "participant_profile", "track",
          "motivation"]


def applicant(n: int, **fields) -> dict:
    row = {"given_names": f"Ana{n}", "family_names": "García López", "email": f"ana{n}@example.org",
           "date_of_birth": "1994-03-02", "nationality": "ES", "participant_profile": "professional",
           "track": "assessed", "motivation": "To lead our chip design team."}
    return {**row, **fields}


def session(user) -> APIClient:
    client = APIClient()
    client.force_login(user)
    return client


def imports(a) -> str:
    return f"{API}/editions/{a.edition.pk}/applications/import/"


@pytest.fixture
def another_token():
    """``token_client`` for a second (third…) token of the same institution in one test."""
    names = itertools.count()

    def make(institution, scopes=None):
        _token, key = apitoken_create(actor=None, institution=institution, name=f"bulk-{next(names)}",
                                      scopes=scopes or policy.api_scopes(), check_policy=False)
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
        return client

    return make


@pytest.fixture
def adm(world):
    """An open edition of consortium CA's programme (lead UA, partner UB reviewing, associated EA)."""
    return make_admissions(world)


# --- Applicants: dry run, commit, all or nothing -------------------------------------------------------------


def test_dry_run_reports_every_row_and_saves_nothing(adm, world, token_client):
    existing = submit(adm)
    ua = token_client(world.ua, ["applications:write"])
    rows = [
        applicant(1),
        applicant(2, email="not an email"),
        applicant(3, family_names="", motivation=None),
        applicant(4, email=existing.email.upper()),
        applicant(5, date_of_birth="02/03/1994", nationality="Atlantis", highest_eqf_level="9"),
    ]
    before = (Application.objects.count(), User.objects.count(), AuditEvent.objects.count())
    response = ua.post(imports(adm), {"applicants": rows}, format="json")
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["dry_run"] is True and body["committed"] is False
    assert body["counts"] == {"rows": 5, "create": 1, "update": 0, "duplicate": 1, "error": 3}
    by_row = {r["row"]: r for r in body["rows"]}
    assert by_row[1]["outcome"] == "create" and by_row[1]["application"] is None
    assert by_row[2]["outcome"] == "error" and "email" in by_row[2]["errors"]
    assert set(by_row[3]["errors"]) == {"family_names", "motivation"}
    assert by_row[4]["outcome"] == "duplicate" and by_row[4]["application"] == str(existing.pk)
    assert "submitted by the applicant" in by_row[4]["message"]
    assert set(by_row[5]["errors"]) == {"date_of_birth", "nationality", "highest_eqf_level"}
    assert "YYYY-MM-DD" in " ".join(by_row[5]["errors"]["date_of_birth"])
    assert (Application.objects.count(), User.objects.count(), AuditEvent.objects.count()) == before


def test_commit_saves_every_row_in_one_go_submitted_on_behalf_of_the_applicants(adm, world, token_client):
    existing = submit(adm)
    learner = User.objects.create_user(email="known@example.org", full_name="Known Person")
    ua = token_client(world.ua, ["applications:write"])
    rows = [applicant(1), applicant(2, email="Known@Example.org"), applicant(3, email=existing.email)]
    response = ua.post(imports(adm) + "?dry_run=false", {"applicants": rows}, format="json")
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["committed"] is True and body["counts"]["create"] == 2 and body["counts"]["duplicate"] == 1
    created = Application.objects.get(pk=body["rows"][0]["application"])
    assert created.status == "submitted" and created.submitted_at is not None
    assert (created.utm_source, created.utm_medium) == ("UA", "import")
    account = created.applicant
    assert account.email == "ana1@example.org" and not account.has_usable_password()
    assert not EmailAddress.objects.get(user=account).verified  # unverified: "forgot password" claims it
    assert Application.objects.get(pk=body["rows"][1]["application"]).applicant == learner  # the existing account
    assert ApplicationMessage.objects.filter(application=created, kind="status").exists()  # "we received it"
    events = AuditEvent.objects.filter(object_id__in=[str(created.pk)]).values_list("action", flat=True)
    assert {"application.imported", "application.submitted"} <= set(events)
    summary = AuditEvent.objects.get(action="admissions.applicants_imported")
    assert summary.changes["create"] == 2 and summary.changes["duplicate"] == 1 and summary.changes["format"] == "json"
    assert summary.institution_id == world.ua.pk


def test_one_bad_row_in_commit_mode_saves_nothing(adm, world, token_client):
    ua = token_client(world.ua, ["applications:write"])
    rows = [applicant(1), applicant(2), applicant(3, date_of_birth="2020-01-01")]
    before = (Application.objects.count(), User.objects.count())
    response = ua.post(imports(adm) + "?dry_run=false", {"applicants": rows}, format="json")
    assert response.status_code == 422
    body = response.json()
    assert body["committed"] is False and body["rows"][2]["errors"]["date_of_birth"] == [
        "Applicants are at least 15 years old."]
    assert (Application.objects.count(), User.objects.count()) == before
    assert not AuditEvent.objects.filter(action="admissions.applicants_imported").exists()


def test_the_same_email_twice_in_a_file_is_an_error(adm, world, token_client):
    ua = token_client(world.ua, ["applications:write"])
    response = ua.post(imports(adm), {"applicants": [applicant(1), applicant(1, given_names="Other")]},
                       format="json")
    assert [r["outcome"] for r in response.json()["rows"]] == ["create", "error"]
    assert "row 1" in response.json()["rows"][1]["errors"]["email"][0]
    esi = "urn:schac:personalUniqueCode:int:esi:es:1"
    twice = ua.post(imports(adm), {"applicants": [applicant(1, esi=esi), applicant(2, esi=esi.upper()[:-1] + "1")]},
                    format="json").json()["rows"]
    assert twice[1]["outcome"] == "error" and "The same esi is on row 1" in twice[1]["errors"]["esi"][0]


def test_csv_with_byte_order_mark_semicolons_aliases_labels_and_extra_columns(adm, world, token_client):
    ua = token_client(world.ua, ["applications:write"])
    lines = ["First name;Surname;E-mail;DOB;Nationality;Profile;Track;Motivation;Notes",
             "Łukasz;Weiß;lukasz@example.org;1990-01-31;Poland;Professional;;Weiß why;=HYPERLINK(\"x\")",
             "'=cmd;Müller;mueller@example.org;1991-02-01;DEU;job_seeker;attendance;Curious;"]
    content = codecs.BOM_UTF8 + "\r\n".join(lines).encode("utf-8")
    response = ua.post(imports(adm) + "?dry_run=false", content, content_type="text/csv")
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["counts"]["create"] == 2 and body["ignored_columns"] == ["notes"]
    first, second = (Application.objects.get(pk=r["application"]) for r in body["rows"])
    assert (first.given_names, first.family_names, first.nationality.code, first.participant_profile, first.track,
            first.date_of_birth.isoformat()) == ("Łukasz", "Weiß", "PL", "professional", "assessed", "1990-01-31")
    assert (second.given_names, second.nationality.code, second.track) == ("=cmd", "DE", "attendance")
    assert [r["row"] for r in body["rows"]] == [2, 3]  # lines of the file (the header is line 1)


def test_utf16_csv_as_a_multipart_file_and_garbage_get_clear_answers(adm, world, token_client):
    ua = token_client(world.ua, ["applications:write"])
    text = "\t".join(HEADER) + "\r\n" + "\t".join(applicant(7).values()) + "\r\n"
    upload = SimpleUploadedFile("applicants.csv", codecs.BOM_UTF16_LE + text.encode("utf-16-le"), "text/csv")
    response = ua.post(imports(adm), {"file": upload}, format="multipart")
    assert response.status_code == 200 and response.json()["counts"]["create"] == 1, response.content
    for content, message in [(b"PK\x03\x04" + b"\x00" * 40, "This is not a CSV file"),
                             (b"email\nx@example.org\n", "given_names, family_names and email at least"),
                             (b"", "The file is empty.")]:
        refused = ua.post(imports(adm), content, content_type="text/csv")
        assert refused.status_code == 400 and message in refused.json()["file"][0], refused.content


def test_a_reimport_corrects_the_partners_own_applications_until_the_review_starts(adm, world, token_client):
    ua = token_client(world.ua, ["applications:write"])
    first = ua.post(imports(adm) + "?dry_run=false", {"applicants": [applicant(1)]}, format="json").json()
    application = Application.objects.get(pk=first["rows"][0]["application"])
    again = ua.post(imports(adm), {"applicants": [applicant(1)]}, format="json").json()["rows"][0]
    assert again["outcome"] == "duplicate" and "same answers" in again["message"]
    corrected = applicant(1, motivation="A better motivation.")
    row = ua.post(imports(adm) + "?dry_run=false", {"applicants": [corrected]}, format="json").json()["rows"][0]
    assert row["outcome"] == "update" and "motivation" in row["message"]
    application.refresh_from_db()
    assert application.motivation == "A better motivation." and application.status == "submitted"
    assert AuditEvent.objects.filter(action="application.import_updated", changes__fields=["motivation"]).exists()
    # Another partner's import of the same person, or once the review started: left as it is.
    ub = token_client(world.ub, ["applications:write"])
    assert ub.post(imports(adm), {"applicants": [corrected]}, format="json").json()["rows"][0]["outcome"] == (
        "duplicate")
    admissions_services.application_review_start(actor=who(world, "UB_students"), application=application)
    late = ua.post(imports(adm), {"applicants": [applicant(1, motivation="Late.")]}, format="json").json()["rows"][0]
    assert late["outcome"] == "duplicate" and "under review" in late["message"]


def test_esi_and_external_id_of_the_importing_institution(adm, world, token_client):
    ua = token_client(world.ua, ["applications:write", "applications:read", "external-ids:write"])
    esi = "urn:schac:personalUniqueCode:int:esi:es:12345678Z"
    taken = User.objects.create_user(email="other@example.org", esi="urn:schac:personalUniqueCode:int:esi:es:999")
    rows = [applicant(1, esi=esi.upper().replace("URN:SCHAC", "urn:schac"), external_id="SIS-1"),
            applicant(2, esi=taken.esi), applicant(3, esi="not an esi", external_id="has space")]
    body = ua.post(imports(adm) + "?dry_run=false", {"applicants": rows}, format="json").json()
    assert [r["outcome"] for r in body["rows"]] == ["create", "error", "error"]
    assert "Another account" in body["rows"][1]["errors"]["esi"][0]
    assert set(body["rows"][2]["errors"]) == {"esi", "external_id"}
    fine = ua.post(imports(adm) + "?dry_run=false", {"applicants": rows[:1]}, format="json").json()
    account = Application.objects.get(pk=fine["rows"][0]["application"]).applicant
    assert account.esi.lower() == esi.lower()
    assert ExternalId.objects.get(institution=world.ua, kind="learner", object_id=account.pk).value == "SIS-1"
    # Without the scopes to attach external ids, a row that carries one is refused before anything is saved.
    plain = token_client(world.ub, ["applications:write"])
    row = plain.post(imports(adm), {"applicants": [applicant(5, external_id="UB-5")]}, format="json").json()["rows"]
    assert row[0]["outcome"] == "error" and "external-ids:write" in row[0]["errors"]["external_id"][0]


def test_partner_isolation_and_the_edition_window(adm, world, token_client, another_token):
    assert token_client(world.uc).post(imports(adm), {"applicants": [applicant(1)]}, format="json").status_code == 404
    read_only = another_token(world.ua, ["applications:read"])
    assert read_only.post(imports(adm), {"applicants": [applicant(1)]}, format="json").status_code == 403
    assert session(who(world, "UC_students")).post(imports(adm), {"applicants": [applicant(1)]},
                                                   format="json").status_code == 404
    adm.edition.status = "closed"
    adm.edition.save()
    closed = token_client(world.ua, ["applications:write"]).post(imports(adm), {"applicants": [applicant(1)]},
                                                                 format="json")
    assert closed.status_code == 400 and "window" in closed.json()["detail"]


def test_browser_preview_then_confirm_by_a_student_administrator(adm, world, client):
    client.force_login(who(world, "UB_students"))
    url = reverse("applicants-import", args=[adm.edition.pk])
    queue = client.get(reverse("review-queue", args=[adm.edition.pk])).content.decode()
    assert url in queue and reverse("edition-export", args=[adm.edition.pk]) not in queue  # no grades for them
    content = (",".join(HEADER) + "\n" + ",".join(applicant(1).values()) + "\n").encode()
    preview = client.post(url, {"file": SimpleUploadedFile("a.csv", content, "text/csv")})
    assert preview.status_code == 200 and "1 application is ready to be saved." in preview.content.decode()
    assert not Application.objects.filter(email="ana1@example.org").exists()
    confirm = reverse("applicants-import-confirm", args=[adm.edition.pk])
    assert client.post(confirm, {"token": "forged"}).status_code == 302
    assert not Application.objects.filter(email="ana1@example.org").exists()
    preview = client.post(url, {"file": SimpleUploadedFile("a.csv", content, "text/csv")})
    saved = client.post(confirm, {"token": preview.context["token"]})
    assert saved.status_code == 302 and saved.url == reverse("review-queue", args=[adm.edition.pk])
    assert Application.objects.get(email="ana1@example.org").utm_source == "UB"
    bad = client.post(url, {"file": SimpleUploadedFile("a.json", b"[1, 2]", "application/json")})
    assert "A JSON file holds a list of applicants" in bad.content.decode()


# --- Results --------------------------------------------------------------------------------------------------


def results(c, course, **query) -> str:
    params = "&".join(f"{k}={v}" for k, v in {"course": course.pk, **query}.items())
    return f"{API}/editions/{c.edition.pk}/results/import/?{params}"


def test_results_dry_run_reports_every_row_and_saves_nothing(cohort, world, token_client):  # noqa: F811
    c = cohort
    ub = token_client(world.ub, ["results:write"])
    e0, e1, e2 = c.enrolments
    rows = [
        {"enrolment_id": str(e0.pk), "assessment": "Exam", "grade": "7.5"},
        {"email": e1.application.email.upper(), "assessment": str(c.exam_b.pk), "grade": "5.0"},
        {"enrolment_id": "00000000-0000-0000-0000-000000000000", "assessment": "Exam", "grade": "6.0"},
        {"email": e2.application.email, "assessment": "Exam", "grade": "11"},
        {"email": e2.application.email, "assessment": "Essay", "grade": "6.0"},
        {"email": e2.application.email, "assessment": "Exam", "grade": ""},
    ]
    response = ub.post(results(c, c.course_b), {"rows": rows}, format="json")
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["dry_run"] and not body["committed"] and body["sheet"] is None  # not even the sheet is kept
    assert [r["outcome"] for r in body["rows"]] == ["create", "create", "error", "error", "error", "skipped"]
    assert body["rows"][0]["joint_grade"] == "15" and body["rows"][1]["joint_grade"] == "10"
    assert "No learner of this edition has the enrolment id" in body["rows"][2]["error"]
    assert "11 is not a grade of Spain 0–10." in body["rows"][3]["error"]
    assert "No assessment titled “Essay”" in body["rows"][4]["error"]
    assert body["counts"] == {"rows": 6, "create": 2, "update": 0, "unchanged": 0, "skipped": 1, "error": 3}
    assert not Grade.objects.exists() and not ResultSheet.objects.exists()


def test_results_commit_all_or_nothing(cohort, world, token_client):  # noqa: F811
    c = cohort
    ub = token_client(world.ub, ["results:write"])
    good = [{"enrolment_id": str(e.pk), "assessment": "Exam", "grade": "6.5"} for e in c.enrolments]
    bad = [*good[:2], {"enrolment_id": str(c.enrolments[2].pk), "assessment": "Exam", "grade": "6.3"}]  # off-scale
    refused = ub.post(results(c, c.course_b, dry_run="false"), {"rows": bad}, format="json")
    assert refused.status_code == 422 and not refused.json()["committed"]
    assert not Grade.objects.exists()
    saved = ub.post(results(c, c.course_b, dry_run="false"), {"rows": good}, format="json")
    assert saved.status_code == 200 and saved.json()["committed"], saved.content
    assert Grade.objects.filter(sheet__course=c.course_b, national_grade="6.5", joint_grade="13").count() == 3
    event = AuditEvent.objects.get(action="grades.entered")
    assert event.changes == {"rows": 3, "source": "json import"}
    again = [{**good[0], "grade": "7.0"}, good[1]]
    body = ub.post(results(c, c.course_b, dry_run="false"), {"rows": again}, format="json").json()
    assert [r["outcome"] for r in body["rows"]] == ["update", "unchanged"]


def test_results_csv_with_bom_semicolons_extra_columns_and_external_ids(cohort, world, token_client):  # noqa: F811
    c = cohort
    e0, e1, e2 = c.enrolments
    ExternalId.objects.create(institution=world.ua, kind="enrolment", object_id=e0.pk, value="UA-E-0")
    ExternalId.objects.create(institution=world.ua, kind="learner", object_id=e1.learner_id, value="UA-L-1")
    ExternalId.objects.create(institution=world.ub, kind="learner", object_id=e2.learner_id, value="UB-L-2")
    text = "\r\n".join(["External ID;Assessment;Grade;Comment", "UA-E-0;exam;0,9;=1+1", "UA-E-0;Project;1.7;",
                        "UA-L-1;Exam;4.0;", "UB-L-2;Exam;3.0;"])  # UB's id is not UA's
    ua = token_client(world.ua, ["results:write"])
    body = ua.post(results(c, c.course_a), codecs.BOM_UTF8 + text.encode(), content_type="text/csv").json()
    assert [r["outcome"] for r in body["rows"]] == ["error", "create", "create", "error"]
    assert "0,9 is not a grade" in body["rows"][0]["error"]  # below 1.0 (a decimal comma itself is fine)
    assert "external id UB-L-2" in body["rows"][3]["error"]
    assert body["rows"][1]["learner"] == e0.application.full_name


def test_results_isolation_and_locked_sheets(awardable, world, token_client, another_token):  # noqa: F811
    c = awardable
    rows = {"rows": [{"enrolment_id": str(c.enrolments[0].pk), "assessment": "Exam", "grade": "7.0"}]}
    assert token_client(world.uc).post(results(c, c.course_b), rows, format="json").status_code == 404
    assert token_client(world.ua).post(results(c, c.course_b), rows, format="json").status_code == 403
    read_only = another_token(world.ub, ["results:read"])
    assert read_only.post(results(c, c.course_b), rows, format="json").status_code == 403
    ub = token_client(world.ub)
    locked = ub.post(results(c, c.course_b), rows, format="json")
    assert locked.status_code == 409 and "approved" in locked.json()["detail"]
    other = ub.post(f"{API}/editions/{c.edition.pk}/results/import/?course={world.ub.pk}", rows,
                                        format="json")
    assert other.status_code == 400 and "course" in other.json()


def test_browser_upload_shares_the_import(cohort, client):  # noqa: F811
    c = cohort
    sheet = assessment_services.sheet_for(edition=c.edition, course=c.course_b)
    client.force_login(c.examiner_ub)
    content = "email,assessment,grade\n" + "".join(f"{e.application.email},Exam,8.0\n" for e in c.enrolments)
    preview = client.post(reverse("sheet-upload", args=[sheet.pk]),
                          {"file": SimpleUploadedFile("g.csv", content.encode(), "text/csv")})
    assert "3 grades are ready to be saved." in preview.content.decode()
    client.post(reverse("sheet-upload-confirm", args=[sheet.pk]), {"token": preview.context["token"]})
    assert Grade.objects.filter(sheet=sheet, national_grade="8.0").count() == 3
    assert AuditEvent.objects.get(action="grades.entered").changes["source"] == "csv import"


# --- Export per partner ------------------------------------------------------------------------------------------


def export(client, c, **query):
    params = "&".join(f"{k}={v}" for k, v in query.items())
    return client.get(f"{API}/editions/{c.edition.pk}/export/?{params}")


def _results(body) -> dict:
    """{(learner index, course code): (grade, [component grades])} of the first learner."""
    first = next(e for e in body["enrolments"] if e["given_names"] == "Learner0")
    return {r["course_code"]: (r["grade"], [x["grade"] for x in r["components"]]) for r in first["results"]}


def test_grades_in_each_partners_scale_match_hand_computed_values(awardable, world, token_client):  # noqa: F811
    """Joint 0–20 from the proportional tables: German 2.0 → 17, 1.7 → 18 (course A, 60/40: 17.4); Spanish s → 2s
    (B 7.5 → 15, E 6.0 → 12). Backwards, the best grade whose joint grade does not exceed the result: Spanish 8.5
    (17) for 17.4, 9.0 for 18, 7.5 for 15, 6.0 for 12; German 1.9 (the best of 1.9–2.1 → 17) for 17.4, 2.5 (2.5,
    2.6 → 15) for 15, 3.3 (3.3–3.5 → 12) for 12. The provider's own components keep their grades."""
    c = awardable
    ub = export(token_client(world.ub), c).json()
    assert ub["institution"]["short_name"] == "UB" and ub["scale"] == {
        "joint": "Joint 0–20", "partner": "Spain 0–10", "problem": ""}
    assert _results(ub) == {"A": ("8.5", ["8.5", "9.0"]), "B": ("7.5", ["7.5"]), "E": ("6.0", ["6.0"])}
    ua = export(token_client(world.ua), c).json()
    assert _results(ua) == {"A": ("1.9", ["2.0", "1.7"]), "B": ("2.5", ["2.5"]), "E": ("3.3", ["3.3"])}
    first = next(r for r in ua["enrolments"][0]["results"] if r["course_code"] == "A")
    assert first["joint_grade"] == "17.4" and first["status"] == "passed" and first["ects_earned"] == "3.0"
    assert {x["title"]: x["provider_grade"] for x in first["components"]} == {"Exam": "2.0", "Project": "1.7"}


def test_a_partner_without_a_conversion_table_gets_the_joint_grades_and_the_reason(awardable, third_university,  # noqa: F811
                                                                                   world, token_client):
    body = export(token_client(third_university), awardable).json()
    assert body["scale"]["partner"] == "" and "no conversion table for UD" in body["scale"]["problem"]
    for enrolment in body["enrolments"]:
        for result in enrolment["results"]:
            assert result["grade"] == "" and result["joint_grade"]
            assert "no conversion table for UD" in result["grade_note"]


def test_json_and_csv_exports_agree_with_awards_and_neutralised_formulas(awardable, world, token_client):  # noqa: F811
    c = awardable
    trap = c.enrolments[1].application
    trap.given_names = '=HYPERLINK("http://evil.example","x")'
    trap.save()
    award = certification_services.award_decide(actor=c.board, enrolment=c.enrolments[0])
    ub = token_client(world.ub)
    body = export(ub, c).json()
    response = export(ub, c, **{"as": "csv"})
    assert response["Content-Type"].startswith("text/csv") and response["Cache-Control"] == "private, no-store"
    assert response.content.startswith(codecs.BOM_UTF8)
    rows = list(csv.DictReader(io.StringIO(response.content.decode("utf-8-sig"))))
    flat = []
    for e in body["enrolments"]:
        for r in e["results"]:
            flat.append({
                "enrolment_id": e["id"], "given_names": e["given_names"], "email": e["email"], "status": e["status"],
                "course_code": r["course_code"], "result_status": r["status"], "joint_grade": r["joint_grade"],
                "grade": r["grade"], "grade_note": r["grade_note"], "ects_earned": r["ects_earned"],
                "award_kind": (e["award"] or {}).get("kind", ""), "credential_id": e["credential_id"] or "",
                "verification_url": e["verification_url"]})
    trimmed = [{k: row[k] for k in flat[0]} for row in rows]
    for row in trimmed:
        if row["given_names"].startswith("'="):
            row["given_names"] = row["given_names"][1:]  # the CSV neutralises a formula; the JSON keeps the text
    assert trimmed == flat and len(rows) == 3 * 3
    assert any(r["given_names"].startswith("'=HYPERLINK") for r in rows)
    awarded = [r for r in rows if r["enrolment_id"] == str(c.enrolments[0].pk)]
    assert {r["credential_id"] for r in awarded} == {award.credentials.get().credential_id}
    assert AuditEvent.objects.filter(action="edition.exported", institution_id=world.ub.pk).count() == 2


def test_export_isolation_each_partner_gets_its_own_file(awardable, world, token_client, another_token):  # noqa: F811
    c = awardable
    assert export(token_client(world.uc), c).status_code == 404
    ub = token_client(world.ub)
    assert export(ub, c, institution=world.ua.pk).status_code == 403
    assert export(ub, c, institution=world.ub.pk).status_code == 200
    assert export(another_token(world.ub, ["enrolments:read", "results:read"]), c).status_code == 403
    assert export(token_client(world.ea), c).status_code == 404  # an associated partner reads no grades
    assert export(ub, c, **{"as": "xml"}).status_code == 400
    # Student administrators see enrolments and awards, not grades: no file (the partner's system gets it).
    assert export(session(who(world, "UB_students")), c).status_code == 404
    board = session(fresh(c.board))
    assert export(board, c, institution=world.ua.pk).json()["institution"]["short_name"] == "UA"
    assert export(board, c, institution=world.uc.pk).status_code == 400  # not a partner of the programme
    leader = session(fresh(c.leader))
    assert export(leader, c).status_code == 400  # two partners: say which
    assert export(leader, c, institution=world.ua.pk).json()["scale"]["partner"] == "Germany 1.0–5.0"


def test_browser_download_for_the_team_leader(awardable, world, client):  # noqa: F811
    c = awardable
    client.force_login(c.leader)
    page = reverse("edition-export", args=[c.edition.pk])
    assert page in client.get(reverse("edition-assessments", args=[c.edition.pk])).content.decode()
    form = client.get(page)
    assert form.status_code == 200 and "UB — " in form.content.decode()
    download = client.get(page, {"institution": world.ub.pk, "as": "csv"})
    assert download["Content-Type"].startswith("text/csv")
    assert f'export-{c.programme.code}-{c.edition.intake_code}-UB.csv' in download["Content-Disposition"]
    as_json = client.get(page, {"institution": world.ua.pk, "as": "json"})
    assert json.loads(as_json.content)["scale"]["partner"] == "Germany 1.0–5.0"
    client.force_login(who(world, "UC_students"))
    assert client.get(page).status_code == 404


def test_the_export_reads_a_cohort_in_a_fixed_number_of_queries(awardable, world, token_client,  # noqa: F811
                                                                django_assert_max_num_queries):
    c = awardable
    ExemptionRequest.objects.create(application=c.enrolments[2].application, course=c.course_e, basis="MSc",
                                    status="granted", ects_recognised=D("1.0"))
    for index in range(20):
        enrol(c.edition, 100 + index)
    ub = token_client(world.ub)
    with django_assert_max_num_queries(25):
        body = export(ub, c).json()
    assert len(body["enrolments"]) == 23
    # The bulk read gives what each learner's own results give (approved only; exemptions; pending).
    by_id = {e["id"]: e for e in body["enrolments"]}
    for enrolment in c.enrolments:
        expected = [(r.course.code, r.status, r.joint_grade, str(r.ects)) for r in learner_results(enrolment)]
        got = [(r["course_code"], r["status"], r["joint_grade"], r["ects_earned"]) for r in
               by_id[str(enrolment.pk)]["results"]]
        assert got == expected
    assert by_id[str(c.enrolments[2].pk)]["results"][2]["grade_note"].startswith("Exempted")


# --- The reverse conversion, for any valid table ---------------------------------------------------------------


@settings(max_examples=60, deadline=None)
@given(
    national_steps=st.integers(min_value=2, max_value=40),
    pass_at=st.floats(min_value=0.1, max_value=0.9),
    descending=st.booleans(),
    joint_steps=st.integers(min_value=2, max_value=30),
)
def test_a_joint_grade_converts_back_to_a_national_grade_on_the_same_side_of_the_pass_mark(
        national_steps, pass_at, descending, joint_steps):
    national = numeric_scale(D(0), D(national_steps), D(1), D(int(national_steps * pass_at) or 1),
                             descending=descending)
    joint = numeric_scale(D(0), D(joint_steps), D(1), D(int(joint_steps * pass_at) or 1))
    mapping = proportional_mapping(national, joint)
    for grade in national.grades:
        joint_grade = convert(national, joint, mapping, grade)
        back = to_national(national, joint, mapping, joint_grade)
        assert convert(national, joint, mapping, back) == joint_grade  # the same joint grade …
        assert national.rank(back) <= national.rank(grade)  # … by the best national grade that has it
    for joint_grade in joint.grades:
        back = to_national(national, joint, mapping, joint_grade)
        assert national.passes(back) == joint.passes(joint_grade)


def test_reverse_conversion_of_letters_and_averages():
    letters = Scale(grades=("A", "B", "C", "D", "F"), pass_grade="D")
    joint = numeric_scale(D(0), D(20), D(1), D(10))
    mapping = {"A": "18", "B": "15", "C": "12", "D": "10", "F": "5"}
    assert [to_national(letters, joint, mapping, g) for g in ("20", "17.9", "15", "10.5", "10", "9.9", "0")] == [
        "A", "B", "B", "D", "D", "F", "F"]
    assert to_national(letters, joint, mapping, "9.9", passed=True) == "D"  # the board's verdict decides the side
    with pytest.raises(KeyError):
        to_national(letters, joint, mapping, "excellent")
