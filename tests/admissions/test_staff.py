"""The staff pages of admissions (D4), driven through the Django test client.

The edition belongs to consortium CA: lead UA, partner UB reviews every application (its student
administrator decides), UA's student administrator follows without deciding, UC (consortium CB) sees nothing.
"""

import csv
import datetime as dt
import io
import uuid
from decimal import Decimal

import pytest
from django.core import mail
from django.http import QueryDict
from django.urls import reverse
from django.utils import timezone

from admissions import services
from admissions.models import (
    Application,
    ApplicationMessage,
    ApplicationStatus,
    Criterion,
    CriterionAssessment,
    ExemptionRequest,
    InstitutionRegistration,
)
from consortium.models import AuditEvent, User

from ..factories import (
    AdmissionFrameworkFactory,
    ApplicationDocumentFactory,
    ApplicationFactory,
    CourseFactory,
    CriterionFactory,
    EditionFactory,
    EnrolmentFactory,
    ExemptionRequestFactory,
    InstitutionRegistrationFactory,
    ProgrammeFactory,
    ProgrammePartnerFactory,
    RoleAssignmentFactory,
    StaffFactory,
    UserFactory,
)

S = ApplicationStatus
MISSING = uuid.UUID(int=0)
PNG_BYTES = (  # a 1×1 PNG
    b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00\x1f\x15\xc4\x89"
    b"\x00\x00\x00\rIDATx\x9cc\xf8\xcf\xc0\xf0\x1f\x00\x05\x00\x01\xff\x89\x99=\x1d\x00\x00\x00\x00IEND\xaeB`\x82"
)


def url(name: str, *args) -> str:
    return reverse(name, args=args)


def text(response) -> str:
    return response.content.decode()


def status_of(application: Application) -> str:
    return Application.objects.values_list("status", flat=True).get(pk=application.pk)


def flashed(response) -> list[str]:
    return [str(m) for m in response.context["messages"]] if response.context else []


class Admissions:
    pass


def make_admissions(w, *, capacity=30) -> Admissions:
    a = Admissions()
    a.w = w
    a.programme = ProgrammeFactory(consortium=w.ca, lead_institution=w.ua, status="published")
    ProgrammePartnerFactory(programme=a.programme, institution=w.ub, role="partner", registration_required=True)
    a.edition = EditionFactory(programme=a.programme, status="open", capacity=capacity)
    a.framework = AdmissionFrameworkFactory(edition=a.edition, reviewing_institution=w.ub)
    a.language = CriterionFactory(framework=a.framework, kind="language", document_label="Proof of English (B2)")
    a.degree = CriterionFactory(framework=a.framework, kind="prior_degree", description="A bachelor's degree",
                                language="", min_cefr="", min_eqf_level=6)
    return a


_seq = iter(range(10**6))


def applicant(a: Admissions, status=S.SUBMITTED, **fields) -> Application:
    """An application in ``status`` (set directly: the services' transitions are tested in test_services)."""
    n = next(_seq)
    defaults = {"given_names": f"Given{n}", "family_names": f"Family{n}", "date_of_birth": dt.date(1980, 1, 1)
                + dt.timedelta(days=n), "submitted_at": None if status == S.DRAFT
                else timezone.now() - dt.timedelta(hours=1000 - n)}
    defaults.update(fields)
    return ApplicationFactory(edition=a.edition, status=status, **defaults)


@pytest.fixture
def adm(world) -> Admissions:
    return make_admissions(world)


@pytest.fixture
def ub(client, world):
    """The reviewing institution's student administrator, signed in."""
    client.force_login(world.people["UB_students"])
    return client


def login(client, world, who: str) -> User:
    client.force_login(world.people[who])
    return world.people[who]


# --- Editions ------------------------------------------------------------------------------------------


def test_editions_list_counts_per_status_and_places(ub, adm):
    applicant(adm, S.SUBMITTED)
    applicant(adm, S.SUBMITTED)
    applicant(adm, S.UNDER_REVIEW)
    applicant(adm, S.ADMITTED)
    applicant(adm, S.ENROLLED)
    page = ub.get(url("admissions-editions"))
    assert page.status_code == 200
    row = next(r for r in page.context["rows"] if r["edition"].pk == adm.edition.pk)
    assert row["figures"].get("submitted") == 2 and row["figures"].get("under_review") == 1
    assert row["figures"].taken == 2 and row["can_review"] is True
    assert "2 / 30" in text(page)
    assert url("review-queue", adm.edition.pk) in text(page)


def test_editions_list_and_nav_only_for_those_who_follow(client, world, adm):
    login(client, world, "UC_students")
    page = client.get(url("admissions-editions"))
    assert page.status_code == 200 and not page.context["rows"]
    login(client, world, "UC_staff")
    assert client.get(url("admissions-editions")).status_code == 403
    assert url("admissions-editions") not in text(client.get(url("dashboard")))
    login(client, world, "UA_students")
    assert url("admissions-editions") in text(client.get(url("dashboard")))


# --- Admission criteria (framework) ------------------------------------------------------------------------


def test_consortium_admin_configures_the_framework_and_criteria(client, world):
    programme = ProgrammeFactory(consortium=world.ca, lead_institution=world.ua)
    ProgrammePartnerFactory(programme=programme, institution=world.ub, role="partner")
    edition = EditionFactory(programme=programme)
    login(client, world, "CA_admin")
    page = client.get(url("admission-framework", edition.pk))
    assert page.status_code == 200
    assert set(page.context["form"].fields["reviewing_institution"].queryset) == {world.ua, world.ub}
    # A criterion before the procedure is saved: refused with an explanation.
    refused = client.post(url("criterion-add", edition.pk), {"kind": "language", "description": "English B2"})
    assert refused.status_code == 200 and "save the settings first" in text(refused)
    saved = client.post(url("admission-framework", edition.pk),
                        {"reviewing_institution": world.ub.pk, "offer_valid_days": 10, "payment_required": "on"})
    assert saved.status_code == 302
    framework = edition.admission_framework.__class__.objects.get(edition=edition)
    assert framework.reviewing_institution == world.ub and framework.offer_valid_days == 10
    assert framework.payment_required
    added = client.post(url("criterion-add", edition.pk), {
        "kind": "language", "description": "English at B2", "language": "en", "min_cefr": "B2",
        "accepted_proofs": "IELTS 6.0", "document_label": "Proof of English"})
    assert added.status_code == 302
    client.post(url("criterion-add", edition.pk), {"kind": "prior_degree", "description": "Bachelor",
                                                  "min_eqf_level": 6})
    client.post(url("criterion-add", edition.pk), {"kind": "experience", "description": "Two years",
                                                  "min_years": 2, "field": "Electronics"})
    client.post(url("criterion-add", edition.pk), {"kind": "alternative", "description": "Portfolio",
                                                  "document_label": "Portfolio"})
    criteria = list(framework.criteria.all())
    assert [c.kind for c in criteria] == ["language", "prior_degree", "experience", "alternative"]
    assert criteria[0].min_cefr == "B2" and criteria[1].min_eqf_level == 6 and criteria[2].min_years == 2
    invalid = client.post(url("criterion-add", edition.pk), {"kind": "prior_degree", "description": "x",
                                                            "min_eqf_level": 9})
    assert invalid.status_code == 200 and invalid.context["form"].errors["min_eqf_level"]
    edited = client.post(url("criterion-edit", criteria[0].pk), {"kind": "language", "description": "English C1",
                                                                 "language": "en", "min_cefr": "C1"})
    assert edited.status_code == 302
    assert Criterion.objects.get(pk=criteria[0].pk).min_cefr == "C1"
    assert client.post(url("criterion-remove", criteria[3].pk)).status_code == 302
    assert framework.criteria.count() == 3
    page = client.get(url("admission-framework", edition.pk))
    assert "English C1" in text(page) and "Electronics" in text(page)
    assert AuditEvent.objects.filter(action="admissions.criterion_removed").exists()


def test_reviewing_institution_must_participate(client, world):
    programme = ProgrammeFactory(consortium=world.ca, lead_institution=world.ua)
    edition = EditionFactory(programme=programme)
    login(client, world, "CA_admin")
    refused = client.post(url("admission-framework", edition.pk),
                          {"reviewing_institution": world.uc.pk, "offer_valid_days": 14})
    assert refused.status_code == 200 and refused.context["form"].errors["reviewing_institution"]


def test_student_admins_cannot_configure_and_other_consortia_get_404(client, world, adm):
    login(client, world, "UB_students")
    assert client.get(url("admission-framework", adm.edition.pk)).status_code == 403
    assert client.post(url("criterion-remove", adm.language.pk)).status_code == 403
    login(client, world, "UC_students")
    assert client.get(url("admission-framework", adm.edition.pk)).status_code == 404
    assert client.get(url("criterion-edit", adm.language.pk)).status_code == 404


# --- Review queue ------------------------------------------------------------------------------------------


def test_reviewing_student_admin_sees_the_queue(ub, adm):
    submitted = applicant(adm, S.SUBMITTED, given_names="Lucía", family_names="García")
    applicant(adm, S.DRAFT, given_names="Drafty", family_names="McDraft")
    applicant(adm, S.ADMITTED)
    page = ub.get(url("review-queue", adm.edition.pk))
    assert page.status_code == 200
    body = text(page)
    assert "García, Lucía" in body and "McDraft" not in body  # drafts are the learner's until submitted
    assert "1 / 30" in body  # places taken / capacity
    assert page.context["can_review"] and 'name="ids"' in body
    assert url("application-detail", submitted.pk) in body


def _names(page) -> list[str]:
    return [a.family_names for a in page.context["rows"]]


def test_filters_and_search_narrow_the_queue(ub, adm):
    maria = applicant(adm, S.SUBMITTED, given_names="Maria", family_names="Kowalska", nationality="PL",
                      email="maria@example.org")
    jan = applicant(adm, S.UNDER_REVIEW, given_names="Jan", family_names="Janssens", nationality="BE",
                    route="alternative")
    applicant(adm, S.UNDER_REVIEW, given_names="Eva", family_names="Novak", nationality="PL",
                    possible_duplicate=True)
    applicant(adm, S.DRAFT, family_names="Draft")
    CriterionAssessment.objects.create(application=maria, criterion=adm.language, result="met")
    CriterionAssessment.objects.create(application=maria, criterion=adm.degree, result="met")
    CriterionAssessment.objects.create(application=jan, criterion=adm.language, result="not_met")
    queue = url("review-queue", adm.edition.pk)

    assert sorted(_names(ub.get(queue))) == ["Janssens", "Kowalska", "Novak"]
    assert sorted(_names(ub.get(queue, {"status": "under_review"}))) == ["Janssens", "Novak"]
    assert _names(ub.get(queue, {"status": "draft"})) == ["Draft"]
    assert _names(ub.get(queue, {"q": "kowal"})) == ["Kowalska"]
    assert _names(ub.get(queue, {"q": "maria@example"})) == ["Kowalska"]
    assert _names(ub.get(queue, {"q": "eva novak"})) == ["Novak"]
    assert sorted(_names(ub.get(queue, {"nationality": "PL"}))) == ["Kowalska", "Novak"]
    assert _names(ub.get(queue, {"route": "alternative"})) == ["Janssens"]
    assert _names(ub.get(queue, {"duplicate": "on"})) == ["Novak"]
    # Criterion met / not met / not assessed, for one criterion …
    assert _names(ub.get(queue, {"criterion": adm.language.pk, "assessment": "met"})) == ["Kowalska"]
    assert _names(ub.get(queue, {"criterion": adm.language.pk, "assessment": "not_met"})) == ["Janssens"]
    assert _names(ub.get(queue, {"criterion": adm.language.pk, "assessment": "unknown"})) == ["Novak"]
    # … or across all criteria: all met, any not met, some not assessed.
    assert _names(ub.get(queue, {"assessment": "met"})) == ["Kowalska"]
    assert _names(ub.get(queue, {"assessment": "not_met"})) == ["Janssens"]
    assert sorted(_names(ub.get(queue, {"assessment": "unknown"}))) == ["Janssens", "Novak"]
    # Filters combine; invalid values are ignored rather than crash.
    assert _names(ub.get(queue, {"nationality": "PL", "status": "under_review"})) == ["Novak"]
    assert len(_names(ub.get(queue, {"status": "bogus", "criterion": "not-a-uuid", "sort": "x"}))) == 3
    # The row shows the per-criterion results.
    page = ub.get(queue, {"q": "Kowalska"})
    assert page.context["rows"][0].results == ["met", "met"]
    assert page.context["rows"][0].n_met == 2
    # The duplicate is flagged in the list.
    assert "possible duplicate" in text(ub.get(queue, {"duplicate": "on"}))


def test_sorting(ub, adm):
    now = timezone.now()
    applicant(adm, S.UNDER_REVIEW, family_names="Beta", submitted_at=now - dt.timedelta(days=1))
    applicant(adm, S.SUBMITTED, family_names="Alpha", submitted_at=now - dt.timedelta(days=2))
    applicant(adm, S.REJECTED, family_names="Gamma", submitted_at=now - dt.timedelta(days=3))
    queue = url("review-queue", adm.edition.pk)
    assert _names(ub.get(queue)) == ["Gamma", "Alpha", "Beta"]  # oldest submission first
    assert _names(ub.get(queue, {"sort": "-submitted"})) == ["Beta", "Alpha", "Gamma"]
    assert _names(ub.get(queue, {"sort": "name"})) == ["Alpha", "Beta", "Gamma"]
    assert _names(ub.get(queue, {"sort": "-name"})) == ["Gamma", "Beta", "Alpha"]
    assert _names(ub.get(queue, {"sort": "status"})) == ["Alpha", "Beta", "Gamma"]  # lifecycle order
    assert _names(ub.get(queue, {"sort": "-status"})) == ["Gamma", "Beta", "Alpha"]
    page = ub.get(queue, {"sort": "name", "status": "submitted"})
    assert dict(QueryDict(page.context["sort_links"]["name"]).lists()) == {"sort": ["-name"], "status": ["submitted"]}


def test_queue_is_paginated_by_50(ub, adm):
    for _ in range(51):
        applicant(adm)
    queue = url("review-queue", adm.edition.pk)
    assert len(ub.get(queue).context["rows"]) == 50
    assert len(ub.get(queue, {"page": 2}).context["rows"]) == 1


def _csv_rows(response) -> list[list[str]]:
    raw = b"".join(response.streaming_content) if response.streaming else response.content
    assert raw.startswith(b"\xef\xbb\xbf")  # UTF-8 byte order mark, for Excel
    return list(csv.reader(io.StringIO(raw.decode("utf-8-sig"))))


def test_csv_export_has_the_filtered_rows_and_neutralises_formulas(ub, adm):
    evil = applicant(adm, S.SUBMITTED, given_names="=HYPERLINK(\"http://x\")", family_names="+Ŝmith",
                     employer_sponsor="-2+3", email="at@example.org", education="@SUM(A1)")
    CriterionAssessment.objects.create(application=evil, criterion=adm.language, result="met")
    applicant(adm, S.UNDER_REVIEW, family_names="Müller", employer_sponsor="@risky")
    applicant(adm, S.DRAFT, family_names="Draft")
    response = ub.get(url("review-queue-csv", adm.edition.pk))
    assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
    assert "attachment" in response["Content-Disposition"]
    rows = _csv_rows(response)
    header, data = rows[0], rows[1:]
    assert len(data) == 2 and "Given names" in header
    by_family = {r[header.index("Family names")]: r for r in data}
    assert set(by_family) == {"'+Ŝmith", "Müller"}
    row = by_family["'+Ŝmith"]
    assert row[header.index("Given names")] == "'=HYPERLINK(\"http://x\")"
    assert row[header.index("Employer sponsor")] == "'-2+3"
    assert by_family["Müller"][header.index("Employer sponsor")] == "'@risky"
    assert "Met" in row and "Not assessed" in row
    # Filters apply to the export too.
    filtered = _csv_rows(ub.get(url("review-queue-csv", adm.edition.pk), {"q": "Müller"}))
    assert len(filtered) == 2
    assert AuditEvent.objects.filter(action="admissions.queue_exported").count() == 2


def test_the_queue_renders_with_a_constant_number_of_queries(ub, adm, django_assert_max_num_queries):
    """20 or 2,000 applications (with assessments): the same number of queries."""

    def fill(count: int, start: int) -> None:
        users = User.objects.bulk_create(
            [User(email=f"bulk{start + i}@example.org", full_name=f"Bulk {i}") for i in range(count)])
        now = timezone.now()
        apps = Application.objects.bulk_create([
            Application(edition=adm.edition, applicant=u, status=S.SUBMITTED if i % 3 else S.UNDER_REVIEW,
                        given_names=f"Given{i}", family_names=f"Family{start + i}", email=u.email,
                        nationality="BE" if i % 2 else "ES", submitted_at=now - dt.timedelta(minutes=i),
                        possible_duplicate=i % 10 == 0)
            for i, u in enumerate(users)])
        CriterionAssessment.objects.bulk_create(
            [CriterionAssessment(application=a, criterion=adm.language, result="met" if i % 2 else "not_met")
             for i, a in enumerate(apps)])

    queue = url("review-queue", adm.edition.pk)
    fill(20, 0)
    ub.get(queue)  # warm up (session, content types)
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as few:
        assert ub.get(queue).status_code == 200
    fill(1980, 20)
    with django_assert_max_num_queries(len(few.captured_queries)):
        page = ub.get(queue, {"sort": "name"})
    assert page.status_code == 200 and page.context["page_obj"].paginator.count == 2000
    with django_assert_max_num_queries(len(few.captured_queries)):
        page = ub.get(queue, {"criterion": adm.language.pk, "assessment": "met", "nationality": "BE", "page": 3})
    assert page.status_code == 200 and len(page.context["rows"]) == 50


# --- Who sees and decides what -------------------------------------------------------------------------------


def test_participating_student_admin_follows_but_does_not_decide(client, world, adm):
    application = applicant(adm, S.SUBMITTED)
    document = ApplicationDocumentFactory(application=application, criterion=adm.language, label="Proof")
    login(client, world, "UA_students")
    queue = client.get(url("review-queue", adm.edition.pk))
    assert queue.status_code == 200 and not queue.context["can_review"] and 'name="ids"' not in text(queue)
    detail = client.get(url("application-detail", application.pk))
    assert detail.status_code == 200
    assert url("application-document", document.pk) not in text(detail)
    assert "until a decision is made" in text(detail)
    assert client.post(url("application-decision", application.pk, "admit")).status_code == 403
    assert client.post(url("application-decision", application.pk, "review")).status_code == 403
    assert client.post(url("application-assess", application.pk),
                       {"criterion": adm.language.pk, "result": "met"}).status_code == 403
    assert client.post(url("review-queue-bulk", adm.edition.pk),
                       {"action": "admit", "ids": [application.pk]}).status_code == 403
    assert client.post(url("review-queue-message", adm.edition.pk),
                       {"subject": "Hi", "body": "Hello"}).status_code == 403
    assert client.get(url("application-document", document.pk)).status_code == 403
    assert status_of(application) == S.SUBMITTED

    services.application_admit(actor=world.people["UB_students"], application=application)
    assert client.get(url("application-document", document.pk)).status_code == 200
    assert url("application-document", document.pk) in text(client.get(url("application-detail", application.pk)))


def test_other_consortium_gets_404(client, world, adm):
    application = applicant(adm, S.SUBMITTED)
    for who in ("UC_staff", "UC_students", "UC_admin"):
        login(client, world, who)
        assert client.get(url("review-queue", adm.edition.pk)).status_code == 404
        assert client.get(url("review-queue-csv", adm.edition.pk)).status_code == 404
        assert client.get(url("application-detail", application.pk)).status_code == 404
        assert client.post(url("application-decision", application.pk, "admit")).status_code == 404
        assert client.get(url("review-queue", MISSING)).status_code == 404
    assert status_of(application) == S.SUBMITTED


def test_anonymous_visitors_are_sent_to_sign_in(client, adm):
    response = client.get(url("review-queue", adm.edition.pk))
    assert response.status_code == 302 and "login" in response["Location"]


# --- Bulk actions ------------------------------------------------------------------------------------------


def test_bulk_admit_beyond_capacity_is_refused_row_by_row(ub, world):
    adm = make_admissions(world, capacity=2)
    first, second, third = (applicant(adm, S.UNDER_REVIEW) for _ in range(3))
    response = ub.post(url("review-queue-bulk", adm.edition.pk),
                       {"action": "admit", "ids": [third.pk, first.pk, second.pk], "query": "status=under_review"},
                       follow=True)
    assert response.redirect_chain[-1][0].endswith("?status=under_review#bulk-results")
    results = response.context["bulk_results"]
    assert results["done"] == 2 and results["refused"] == 1
    refused = [r for r in results["rows"] if not r["ok"]]
    assert refused[0]["id"] == str(third.pk)  # the latest submission loses
    assert "The edition is full (2 places)" in refused[0]["message"]
    assert "The edition is full (2 places)" in text(response)
    assert [status_of(a) for a in (first, second, third)] == [S.ADMITTED, S.ADMITTED, S.UNDER_REVIEW]
    # The results are shown once.
    assert ub.get(url("review-queue", adm.edition.pk)).context["bulk_results"] is None


def test_bulk_reject_needs_a_reason_and_refused_rows_keep_their_reason(ub, adm):
    drafted = applicant(adm, S.DRAFT)
    submitted = applicant(adm, S.SUBMITTED)
    response = ub.post(url("review-queue-bulk", adm.edition.pk),
                       {"action": "reject", "ids": [drafted.pk, submitted.pk]}, follow=True)
    rows = {r["id"]: r for r in response.context["bulk_results"]["rows"]}
    assert "needs a reason" in rows[str(submitted.pk)]["message"]
    response = ub.post(url("review-queue-bulk", adm.edition.pk),
                       {"action": "reject", "reason": "Not eligible.", "ids": [drafted.pk, submitted.pk]},
                       follow=True)
    rows = {r["id"]: r for r in response.context["bulk_results"]["rows"]}
    assert rows[str(submitted.pk)]["ok"] and status_of(submitted) == S.REJECTED
    assert not rows[str(drafted.pk)]["ok"] and "cannot become rejected" in rows[str(drafted.pk)]["message"]
    assert status_of(drafted) == S.DRAFT


def test_bulk_review_and_waitlist(ub, adm):
    a, b = applicant(adm, S.SUBMITTED), applicant(adm, S.SUBMITTED)
    ub.post(url("review-queue-bulk", adm.edition.pk), {"action": "review", "ids": [a.pk, b.pk]})
    assert status_of(a) == status_of(b) == S.UNDER_REVIEW
    ub.post(url("review-queue-bulk", adm.edition.pk), {"action": "waitlist", "ids": [a.pk]})
    assert status_of(a) == S.WAITLISTED


def test_bulk_ignores_applications_of_other_editions_and_needs_a_selection(ub, world, adm):
    other = make_admissions(world)
    foreign = applicant(other, S.SUBMITTED)
    response = ub.post(url("review-queue-bulk", adm.edition.pk), {"action": "review", "ids": [foreign.pk]},
                       follow=True)
    assert response.context["bulk_results"]["missing"] == 1 and status_of(foreign) == S.SUBMITTED
    response = ub.post(url("review-queue-bulk", adm.edition.pk), {"action": "review"}, follow=True)
    assert "Select at least one application." in flashed(response)
    response = ub.post(url("review-queue-bulk", adm.edition.pk), {"action": "review", "ids": ["nope"]}, follow=True)
    assert response.status_code == 200 and flashed(response)


# --- Messages ------------------------------------------------------------------------------------------------


def test_templated_message_to_the_filtered_applicants(ub, adm, django_capture_on_commit_callbacks):
    ana = applicant(adm, S.UNDER_REVIEW, given_names="Ana", email="ana@example.org")
    luc = applicant(adm, S.UNDER_REVIEW, given_names="Luc", email="luc@example.org")
    other = applicant(adm, S.SUBMITTED, given_names="Other")
    query = "status=under_review"
    form = ub.get(url("review-queue-message", adm.edition.pk) + f"?{query}")
    assert form.status_code == 200 and form.context["recipients"] == 2
    with django_capture_on_commit_callbacks(execute=True):
        response = ub.post(url("review-queue-message", adm.edition.pk) + f"?{query}", {
            "subject": "Welcome session",
            "body": "Dear {{ given_names }}, about {{programme}}: your application is {{ status }}. {% debug %}",
        })
    assert response.status_code == 302 and response["Location"].endswith(f"?{query}")
    title = adm.programme.title
    for person in (ana, luc):
        message = ApplicationMessage.objects.get(application=person, kind="notice")
        assert message.body == (f"Dear {person.given_names}, about {title}: your application is Under review. "
                                "{% debug %}")  # placeholders only: no template code runs
    assert not ApplicationMessage.objects.filter(application=other).exists()
    assert {m.to[0] for m in mail.outbox} == {"ana@example.org", "luc@example.org"}
    assert "Dear Ana" in next(m.body for m in mail.outbox if m.to == ["ana@example.org"])
    assert AuditEvent.objects.filter(action="application.message_sent").count() == 2


def test_message_with_an_unknown_placeholder_is_refused(ub, adm):
    applicant(adm, S.SUBMITTED)
    response = ub.post(url("review-queue-message", adm.edition.pk), {"subject": "Hi", "body": "Dear {{ name }}"})
    assert response.status_code == 200 and "Unknown placeholder" in text(response)
    assert not ApplicationMessage.objects.exists()


# --- One application ----------------------------------------------------------------------------------------


def test_detail_shows_answers_documents_checklist_and_duplicates(ub, adm):
    application = applicant(adm, S.SUBMITTED, given_names="Hana", family_names="Tanaka", email="hana@example.org",
                            motivation="I design chips.", employer_sponsor="EuroChip", possible_duplicate=True)
    twin = applicant(adm, S.SUBMITTED, email="HANA@example.org", possible_duplicate=True)
    unrelated = applicant(adm, S.SUBMITTED)
    pdf = ApplicationDocumentFactory(application=application, criterion=adm.language, label="Proof of English")
    png = ApplicationDocumentFactory(application=application, label="Passport photo", kind="png",
                                     size=len(PNG_BYTES), file__filename="photo.png", file__data=PNG_BYTES)
    CriterionAssessment.objects.create(application=application, criterion=adm.language, result="met",
                                       note="IELTS 7.5 seen")
    page = ub.get(url("application-detail", application.pk))
    assert page.status_code == 200
    body = text(page)
    for value in ("Tanaka", "I design chips.", "EuroChip", "hana@example.org", "IELTS 7.5 seen"):
        assert value in body
    assert f'href="{url("application-document", pdf.pk)}"' in body and "Open PDF" in body
    assert f'<img class="doc-preview" src="{url("application-document", png.pk)}"' in body
    assert url("application-detail", twin.pk) in body and url("application-detail", unrelated.pk) not in body
    assert [c["criterion"] for c in page.context["checklist"]] == [adm.language, adm.degree]
    assert [d["action"] for d in page.context["decisions"]] == [
        "review", "request-info", "admit", "waitlist", "reject", "withdraw"]


def test_reviewer_assesses_criteria(ub, adm):
    application = applicant(adm, S.UNDER_REVIEW)
    response = ub.post(url("application-assess", application.pk),
                       {"criterion": adm.degree.pk, "result": "not_met", "note": "EQF 5 only"})
    assert response.status_code == 302 and response["Location"].endswith("#criteria")
    assessment = CriterionAssessment.objects.get(application=application, criterion=adm.degree)
    assert assessment.result == "not_met" and assessment.note == "EQF 5 only"
    assert assessment.reviewer == User.objects.get(email=ub.get(url("dashboard")).context["user"].email)
    ub.post(url("application-assess", application.pk), {"criterion": adm.degree.pk, "result": "met"})
    assessment.refresh_from_db()
    assert assessment.result == "met"
    other_criterion = CriterionFactory()
    assert ub.post(url("application-assess", application.pk),
                   {"criterion": other_criterion.pk, "result": "met"}).status_code == 404
    bad = ub.post(url("application-assess", application.pk), {"criterion": adm.degree.pk, "result": "maybe"},
                  follow=True)
    assert "Choose met, not met or not assessed." in flashed(bad)


def test_decisions_through_the_page(ub, adm, world):
    application = applicant(adm, S.SUBMITTED)
    detail = url("application-detail", application.pk)
    response = ub.post(url("application-decision", application.pk, "review"), follow=True)
    assert response.redirect_chain[-1][0] == detail and status_of(application) == S.UNDER_REVIEW
    assert "Review started." in flashed(response)
    response = ub.post(url("application-decision", application.pk, "admit"), {"reason": "Strong profile"},
                       follow=True)
    application.refresh_from_db()
    assert application.status == S.ADMITTED and application.decision_reason == "Strong profile"
    assert application.offer_deadline is not None
    assert application.offer_deadline.strftime("%Y-%m-%d") in text(response)
    # The messages history shows the offer.
    assert "you are admitted" in text(response)


def test_reject_without_reason_is_refused_and_nothing_changes(ub, adm):
    application = applicant(adm, S.UNDER_REVIEW)
    response = ub.post(url("application-decision", application.pk, "reject"), {"reason": "  "}, follow=True)
    assert response.status_code == 200
    assert "A rejection needs a reason; the applicant will read it." in flashed(response)
    assert status_of(application) == S.UNDER_REVIEW
    ub.post(url("application-decision", application.pk, "reject"), {"reason": "No STEM degree."})
    assert status_of(application) == S.REJECTED


@pytest.mark.parametrize(("status", "action"), [
    (S.DRAFT, "admit"),
    (S.DRAFT, "review"),
    (S.DRAFT, "waitlist"),
    (S.SUBMITTED, "complete"),
    (S.SUBMITTED, "resume"),
    (S.SUBMITTED, "suspend"),
    (S.UNDER_REVIEW, "review"),
    (S.INFO_REQUESTED, "admit"),
    (S.ADMITTED, "reject"),
    (S.REJECTED, "admit"),
    (S.REJECTED, "request-info"),
    (S.ENROLLED, "admit"),
    (S.COMPLETED, "resume"),
    (S.OFFER_ACCEPTED, "resume"),
    (S.WITHDRAWN, "review"),
])
def test_illegal_transitions_through_the_page_are_refused(ub, adm, status, action):
    application = applicant(adm, status)
    response = ub.post(url("application-decision", application.pk, action), {"reason": "Because."}, follow=True)
    assert response.status_code == 200
    errors = [str(m) for m in response.context["messages"] if m.level_tag == "error"]
    assert errors and ("cannot become" in errors[0] or "can be resumed" in errors[0]), errors
    assert status_of(application) == status


def test_unknown_decision_is_404(ub, adm):
    application = applicant(adm, S.SUBMITTED)
    assert ub.post(url("application-decision", application.pk, "explode")).status_code == 404
    assert ub.get(url("application-decision", application.pk, "admit")).status_code == 405


def test_request_information_emails_the_learner(ub, adm, django_capture_on_commit_callbacks):
    application = applicant(adm, S.UNDER_REVIEW, email="learner@example.org")
    refused = ub.post(url("application-decision", application.pk, "request-info"), {"reason": ""}, follow=True)
    assert "Say what information is needed." in flashed(refused) and not mail.outbox
    with django_capture_on_commit_callbacks(execute=True):
        ub.post(url("application-decision", application.pk, "request-info"),
                {"reason": "Please upload your transcript."})
    assert status_of(application) == S.INFO_REQUESTED
    assert len(mail.outbox) == 1 and mail.outbox[0].to == ["learner@example.org"]
    assert "Please upload your transcript." in mail.outbox[0].body


def test_suspend_resume_complete_an_enrolment(ub, adm):
    application = applicant(adm, S.ENROLLED)
    EnrolmentFactory(application=application)
    page = ub.get(url("application-detail", application.pk))
    assert [d["action"] for d in page.context["decisions"]] == ["withdraw", "suspend", "complete"]
    refused = ub.post(url("application-decision", application.pk, "suspend"), {"reason": ""}, follow=True)
    assert "Give the reason for the suspension." in flashed(refused) and status_of(application) == S.ENROLLED
    ub.post(url("application-decision", application.pk, "suspend"), {"reason": "Medical leave"})
    assert status_of(application) == S.SUSPENDED
    ub.post(url("application-decision", application.pk, "resume"))
    assert status_of(application) == S.ENROLLED
    ub.post(url("application-decision", application.pk, "complete"))
    assert status_of(application) == S.COMPLETED


# --- Enrolment: registrations ---------------------------------------------------------------------------------


def test_registration_update_requires_a_student_number(ub, client, world, adm):
    application = applicant(adm, S.ENROLLED)
    enrolment = EnrolmentFactory(application=application)
    at_ub = InstitutionRegistrationFactory(enrolment=enrolment, institution=world.ub)
    at_ua = InstitutionRegistrationFactory(enrolment=enrolment, institution=world.ua)
    page = ub.get(url("application-detail", application.pk))
    updatable = {r["registration"].pk: r["can_update"] for r in page.context["registrations"]}
    assert updatable == {at_ub.pk: True, at_ua.pk: False}
    refused = ub.post(url("registration-update", at_ub.pk), {"status": "registered", "external_student_number": ""})
    assert refused.status_code == 200
    assert "A registered learner has a student number." in text(refused)
    assert InstitutionRegistration.objects.get(pk=at_ub.pk).status == "pending"
    saved = ub.post(url("registration-update", at_ub.pk), {"status": "registered",
                                                          "external_student_number": "UB-2026-001"})
    assert saved.status_code == 302 and saved["Location"].endswith("#enrolment")
    at_ub.refresh_from_db()
    assert at_ub.status == "registered" and at_ub.external_student_number == "UB-2026-001"
    assert ub.post(url("registration-update", at_ua.pk), {"status": "failed"}).status_code == 403
    login(client, world, "UC_students")
    assert client.get(url("registration-update", at_ub.pk)).status_code == 404


# --- Exemptions (recognition of prior learning) ------------------------------------------------------------


@pytest.fixture
def exemption(adm):
    application = applicant(adm, S.ADMITTED)
    course = CourseFactory(version=adm.edition.curriculum, ects=Decimal("5.0"))
    return ExemptionRequestFactory(application=application, course=course)


@pytest.fixture
def board_member(world, adm):
    member = StaffFactory(institution=world.ua).user
    RoleAssignmentFactory(user=member, role="exam_board", institution=None, target_id=adm.programme.pk)
    return member


def test_exam_board_member_decides_an_exemption(client, world, adm, exemption, board_member):
    client.force_login(board_member)
    dashboard = client.get(url("dashboard"))
    assert url("exemption-decide", exemption.pk) in text(dashboard)
    form = client.get(url("exemption-decide", exemption.pk))
    assert form.status_code == 200 and exemption.basis in text(form)
    refused = client.post(url("exemption-decide", exemption.pk), {"decision": "refuse", "reason": ""})
    assert refused.status_code == 200 and "A refusal needs a reason." in text(refused)
    too_much = client.post(url("exemption-decide", exemption.pk), {"decision": "grant", "ects_recognised": "6"})
    assert too_much.status_code == 200 and too_much.context["form"].errors["ects_recognised"]
    granted = client.post(url("exemption-decide", exemption.pk), {"decision": "grant", "ects_recognised": "4.5"})
    assert granted.status_code == 302
    exemption.refresh_from_db()
    assert exemption.status == "granted" and exemption.ects_recognised == Decimal("4.5")
    assert exemption.decided_by == board_member
    again = client.post(url("exemption-decide", exemption.pk), {"decision": "refuse", "reason": "Changed my mind"})
    assert again.status_code == 200 and "already decided" in text(again)


def test_reviewing_student_admin_cannot_decide_exemptions(ub, client, world, adm, exemption):
    page = ub.get(url("application-detail", exemption.application.pk))
    assert page.status_code == 200 and exemption.basis in text(page)
    assert page.context["exemptions"][0]["can_decide"] is False
    assert ub.post(url("exemption-decide", exemption.pk), {"decision": "grant"}).status_code == 403
    assert ub.get(url("exemption-evidence", exemption.pk)).status_code == 403
    login(client, world, "UC_staff")
    assert client.get(url("exemption-decide", exemption.pk)).status_code == 404
    exemption.refresh_from_db()
    assert exemption.status == "requested"


def test_exemption_evidence_for_the_board(client, adm, exemption, board_member):
    from django.core.files.base import ContentFile

    exemption.evidence.save("evidence.pdf", ContentFile(b"%PDF-1.4\n%%EOF\n"), save=True)
    client.force_login(board_member)
    response = client.get(url("exemption-evidence", exemption.pk))
    assert response.status_code == 200 and "attachment" in response["Content-Disposition"]
    assert b"".join(response.streaming_content).startswith(b"%PDF")


# --- Dashboard and admin ------------------------------------------------------------------------------------


def test_dashboard_card_lists_the_editions_to_review(ub, client, world, adm):
    applicant(adm, S.SUBMITTED)
    applicant(adm, S.SUBMITTED)
    applicant(adm, S.UNDER_REVIEW)
    body = text(ub.get(url("dashboard")))
    assert "Applications to review" in body and "2 submitted, 1 under review" in body
    assert url("review-queue", adm.edition.pk) in body
    login(client, world, "UA_students")  # a student admin of a non-reviewing institution
    body = text(client.get(url("dashboard")))
    assert url("review-queue", adm.edition.pk) not in body
    client.force_login(UserFactory())  # a learner
    assert "Applications to review" not in text(client.get(url("dashboard")))


def test_admin_lists_every_admissions_model_for_superusers(client, world, adm, exemption):
    enrolment = EnrolmentFactory(application=applicant(adm, S.ENROLLED))
    InstitutionRegistrationFactory(enrolment=enrolment, institution=world.ub)
    ApplicationDocumentFactory(application=exemption.application)
    CriterionAssessment.objects.create(application=exemption.application, criterion=adm.language)
    ApplicationMessage.objects.create(application=exemption.application, kind="notice", subject="S", body="B")
    models = ["admissionframework", "criterion", "application", "applicationdocument", "criterionassessment",
              "applicationmessage", "enrolment", "institutionregistration", "exemptionrequest"]
    client.force_login(world.people["superuser"])
    for model in models:
        assert client.get(f"/admin/admissions/{model}/").status_code == 200, model
    assert client.get(f"/admin/admissions/application/{exemption.application.pk}/change/").status_code == 200
    login(client, world, "UB_students")
    assert client.get("/admin/admissions/application/").status_code == 302
    assert ExemptionRequest.objects.count() == 1
