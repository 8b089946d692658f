"""Bad input gets a clear answer, never a server error, and saves nothing.

Every page and endpoint is sent garbage (as the platform administrator, who passes every policy, so the garbage
reaches the forms and filters); then the kinds of bad input the issue names one by one: CSV files in the wrong
shape, spreadsheet formulas, overlong strings, wrong types, dates out of range.
"""

import codecs
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.test import Client

from assessment.forms import parse_grade_csv
from consortium.csv_export import csv_bytes, safe_cell
from consortium.models import Institution
from programmes.models import Edition

from ..assessment.conftest import cohort  # noqa: F401  (fixture)
from ..certification.conftest import awardable  # noqa: F401  (fixture)
from .test_isolation_matrix import _kwargs, _path, _routes, victim  # noqa: F401  (fixture)

pytestmark = pytest.mark.django_db

GARBAGE = {
    "page": "-1",
    "q": "'\"<script>alert(1)</script>\\%_",
    "status": "no-such-status",
    "since": "99999-99-99",
    "reason": "x" * 20_000,
    "national_grade": "=1+1",
    "ects": "not a number",
    "email": "not an email",
    "starts_on": "0000-00-00",
    "institution": "not-a-uuid",
    "programme": "00000000-0000-0000-0000-000000000000",
}


def test_no_page_or_endpoint_answers_garbage_with_a_server_error(victim, world):  # noqa: F811
    client = Client(raise_request_exception=False)
    client.force_login(world.people["superuser"])
    failures, sent = [], 0
    for route in _routes():
        path = _path(route, _kwargs(route, victim))
        for method in route.methods():
            if method == "delete":
                continue  # a DELETE carries no input
            if route.is_api:
                response = getattr(client, method)(path, GARBAGE if method == "get" else dict(GARBAGE),
                                                   content_type=None if method == "get" else "application/json")
            else:
                response = getattr(client, method)(path, GARBAGE)
            sent += 1
            if response.status_code >= 500:
                failures.append(f"{method.upper()} {path} ({route.name}) → {response.status_code}")
        # PostgreSQL cannot compare text holding NUL: a search for one must not reach the database.
        nul = client.get(path, {"q": "a\x00b", "search": "\x00"})
        if nul.status_code >= 500:
            failures.append(f"GET {path}?q=NUL ({route.name}) → {nul.status_code}")
    print(f"Garbage sent to {sent} route × method pairs.")
    assert sent > 250
    assert not failures, "\n".join(failures)


def test_a_null_character_is_refused_with_a_message(client, world):
    client.force_login(world.people["superuser"])
    page = client.get("/institutions/", {"q": "Leu\x00ven"})
    assert page.status_code == 400 and "null character" in page.content.decode()
    api = client.get("/api/v1/institutions/", {"search": "\x00"})
    assert api.status_code == 400 and api.json()["code"] == "null_character"
    form = client.post("/institutions/new/", "legal_name=A%00B", content_type="application/x-www-form-urlencoded")
    assert form.status_code == 400
    assert client.get("/institutions/", {"q": "Leuven"}).status_code == 200


# --- Spreadsheets ---------------------------------------------------------------------------------------------


def test_export_cells_that_a_spreadsheet_would_run_are_neutralised_and_numbers_kept():
    assert safe_cell('=HYPERLINK("http://x")') == '\'=HYPERLINK("http://x")'
    assert [safe_cell(v) for v in ("+31 cmd", "-2+3", "@SUM(A1)", "\tx", "\rx")] == [
        "'+31 cmd", "'-2+3", "'@SUM(A1)", "'\tx", "'\rx"]
    assert [safe_cell(v) for v in (Decimal("-12.50"), -3, "-12.50", "+4", 0.5, None, True)] == [
        "-12.50", "-3", "-12.50", "+4", "0.5", "", "True"]
    data = csv_bytes([["Name", "Amount"], ["=cmd|' /C calc'!A0", Decimal("-10.00")], ["Łukasz Weiß", 5]])
    assert data.startswith(codecs.BOM_UTF8)
    assert data.decode("utf-8-sig").splitlines() == ["Name,Amount", "'=cmd|' /C calc'!A0,-10.00", "Łukasz Weiß,5"]


def test_grade_csv_in_utf16_with_extra_columns_and_formula_cells_is_read_as_text():
    text = "email\tassessment\tgrade\tcomment\tnotes\r\nanna@example.org\tExam\t=1+1\t@SUM(A1)\t\r\n"
    rows = parse_grade_csv(codecs.BOM_UTF16_LE + text.encode("utf-16-le"))
    assert [(r.email, r.assessment_title, r.grade) for r in rows] == [("anna@example.org", "Exam", "=1+1")]


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ("email,assessment,grade\nżółć@example.org,Exam,5\n".encode("cp1250"), "is not UTF-8 text"),
        (codecs.BOM_UTF16_LE + b"\x00\xd8", "cannot be read as such"),
        (b"PK\x03\x04" + b"\x00" * 40, "This is not a CSV file"),
        (b"\xef\xbb\xbf\xef\xbb\xbf", "The file is empty."),
        (b"email;assessment\nx@example.org;Exam\n", "The first row must name the columns"),
    ],
    ids=["windows-1250", "broken-utf16", "xlsx", "only-byte-order-marks", "missing-grade-column"],
)
def test_grade_csv_in_the_wrong_shape_gets_a_clear_message(data, message):
    with pytest.raises(ValidationError) as caught:
        parse_grade_csv(data)
    assert message in " ".join(caught.value.messages)


# --- API: overlong strings, wrong types, dates out of range -----------------------------------------------------


def test_api_refuses_overlong_and_wrongly_typed_fields_and_saves_nothing(world):
    from rest_framework.test import APIClient

    api = APIClient()
    api.force_login(world.people["superuser"])
    before = Institution.objects.count()
    response = api.post("/api/v1/institutions/", {
        "legal_name": "U" * 5000, "short_name": ["not", "a", "string"], "country": "Atlantis", "kind": 7,
    }, format="json")
    assert response.status_code == 400, response.content
    assert {"legal_name", "short_name", "country", "kind"} <= set(response.json())
    assert Institution.objects.count() == before
    patch = api.patch(f"/api/v1/institutions/{world.ua.pk}/", {"city": "C" * 5000}, format="json")
    assert patch.status_code == 400 and "city" in str(patch.json())
    world.ua.refresh_from_db()
    assert world.ua.city != "C" * 5000


@pytest.mark.parametrize("starts_on, ends_on", [("10000-01-01", "10000-02-01"), ("2026-13-40", "2027-01-01"),
                                                ("2027-06-01", "2027-01-01"), ("", "not a date")])
def test_api_refuses_dates_out_of_range_with_a_message(awardable, starts_on, ends_on):  # noqa: F811
    from rest_framework.test import APIClient

    api = APIClient()
    api.force_login(awardable.leader)
    before = Edition.objects.count()
    response = api.post("/api/v1/editions/", {
        "programme": str(awardable.programme.pk), "curriculum": str(awardable.version.pk), "intake_code": "2031",
        "starts_on": starts_on, "ends_on": ends_on,
        "application_opens_at": "2031-01-01T00:00:00Z", "application_closes_at": "2031-02-01T00:00:00Z",
        "capacity": 20,
    }, format="json")
    assert response.status_code == 400, response.content
    assert "starts_on" in str(response.json()) or "ends_on" in str(response.json())
    assert Edition.objects.count() == before
