"""Query counts of every list page and list endpoint at two sizes: the code shared by the bench and the test.

``list_pages()`` finds the lists in the URL conf: every API route of a ViewSet's ``list`` action (and any other API
route named ``*-list``), and every browser page that paginates (a ``PaginatedListView``, or a view whose code pages
its rows) or whose name ends in ``list``/``queue``. ``ROWS`` holds, for each of them, a row builder: who asks
(a partner-system token, a staff member in the right role, a superuser, an anonymous visitor), which path, and how
to add ``n`` more rows of the list's objects visible to that actor (factories and services, as the tests build
them). ``measure()`` builds ``SMALL`` rows, asks once to warm up (session, token use, caches), counts the queries of
the next request with ``CaptureQueriesContext``, adds rows up to ``LARGE`` (or the list's cap) and counts again:
the two counts must be equal, or the list has an N+1.

API lists are asked for a page of 200 (``page_size``), so all rows are on it. Browser pages keep their own page
size: with a page of 25, 10 rows are compared with a full page (the table says so).

Used by ``tests/test_query_counts.py`` (one test per list, in pytest-django's database) and by
``python -m tests.benchmarks.queries`` (the table, in a throw-away test database).
"""

from __future__ import annotations

import datetime as dt
import inspect
import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal as D
from typing import Any

SMALL, LARGE = 10, 100
API_PAGE_SIZE = 200  # consortium.rest.pagination.Pagination.max_page_size
# Below these counts the discovery has lost lists (a refactoring that hides views from it): the test fails.
EXPECTED_MINIMUM = {"api": 17, "page": 17}
PAGE_SLACK = 10
EXEMPT_PREFIXES = ("admin/", "accounts/", "i18n/")
APPS = ("consortium", "programmes", "admissions", "assessment", "certification", "finance", "quality")
# A view pages its rows itself (a Paginator, or the page number handed to a selector that pages).
PAGINATES = re.compile(r"Paginator\(|paginate_by|GET\.get\(\"page\"\)")


@dataclass(frozen=True)
class ListPage:
    kind: str  # "api" or "page"
    name: str  # the URL name
    route: str

    @property
    def key(self) -> str:
        return f"{self.kind} {self.name}"


def _own_source(cls) -> str:
    """The source of the project's own classes in ``cls``'s MRO (not Django's, not the generic list base)."""
    from consortium.web import PaginatedListView

    parts = []
    for klass in cls.__mro__:
        if klass.__module__.split(".")[0] in APPS and klass is not PaginatedListView:
            try:
                parts.append(inspect.getsource(klass))
            except (OSError, TypeError):
                continue
    return "\n".join(parts)


def list_pages() -> list[ListPage]:
    """Every list endpoint and list page of the URL conf (one entry per URL name and kind)."""
    from django.urls import get_resolver

    from consortium.web import PaginatedListView

    from ..url_walk import walk

    found: dict[str, ListPage] = {}
    for route, pattern in walk(get_resolver().url_patterns):
        if route.startswith(EXEMPT_PREFIXES) or not pattern.name:
            continue
        callback = pattern.callback
        if route.startswith("api/"):
            actions = getattr(callback, "actions", None) or {}
            is_list = actions.get("get") == "list" or pattern.name.endswith("-list")
            page = ListPage("api", pattern.name, route)
        else:
            view = getattr(callback, "view_class", None)
            source = _own_source(view) if view else inspect.getsource(callback)
            is_list = (
                (view is not None and issubclass(view, PaginatedListView))
                or bool(PAGINATES.search(source))
                or pattern.name.endswith(("list", "queue"))
            )
            page = ListPage("page", pattern.name, route)
        if is_list and page.key not in found:  # format-suffix twins of a route share its name
            found[page.key] = page
    return sorted(found.values(), key=lambda p: p.key)


# --- The base: one consortium, one joint programme with a running edition, and the people who work on it --------


class Base:
    """Consortium CA (lead UA, partners UB and UC), programme P (approved curriculum, courses at UA and UB, approved
    exam regulations with conversion tables), edition E (running, UA reviews the applications), and its people."""

    def __init__(self) -> None:
        from django.utils import timezone

        from admissions.models import AdmissionFramework
        from assessment import services as assessment_services
        from assessment.grading import numeric_scale, proportional_mapping
        from assessment.models import GradingScale
        from consortium import policy
        from consortium.services import apitoken_create
        from programmes.models import Course, CurriculumVersion, Edition, ProgrammePartner

        from ..factories import (
            ConsortiumFactory,
            InstitutionFactory,
            MembershipFactory,
            ProgrammeFactory,
            StaffFactory,
            UserFactory,
        )

        self.now = timezone.now()
        self.ua = InstitutionFactory(short_name="QUA", country="BE")
        self.ub = InstitutionFactory(short_name="QUB", country="ES")
        self.uc = InstitutionFactory(short_name="QUC", country="NL")
        self.ca = ConsortiumFactory(acronym="QCA")
        for institution, role in ((self.ua, "lead"), (self.ub, "partner"), (self.uc, "partner")):
            MembershipFactory(consortium=self.ca, institution=institution, role=role)
        self.programme = ProgrammeFactory(consortium=self.ca, lead_institution=self.ua, code="qc-base",
                                          status="published")
        for institution in (self.ub, self.uc):
            ProgrammePartner.objects.create(programme=self.programme, institution=institution, role="partner")
        self.curriculum = CurriculumVersion.objects.create(programme=self.programme, number=1, status="approved")
        common = {"version": self.curriculum, "assessment_method": "online_exam", "supervision": "supervised_online",
                  "ects": D("2.5"), "mandatory": True}
        self.course_ua = Course.objects.create(code="QA", title="Course QA", provider=self.ua, position=0, **common)
        self.course_ub = Course.objects.create(code="QB", title="Course QB", provider=self.ub, position=1, **common)
        self.edition = Edition.objects.create(
            programme=self.programme, intake_code="qc-2026", application_opens_at=self.now - dt.timedelta(days=5),
            application_closes_at=self.now + dt.timedelta(days=20), starts_on=dt.date(2026, 9, 1),
            ends_on=dt.date(2027, 1, 31), curriculum=self.curriculum, status="running", capacity=500)
        AdmissionFramework.objects.create(edition=self.edition, reviewing_institution=self.ua)

        def staff(works_at, role=None, **scope):
            user = StaffFactory(institution=works_at).user
            if role:
                self.grant(user, role, **scope)
            return user

        self.ua_admin = staff(self.ua, "institution_admin", institution=self.ua)
        self.ua_students = staff(self.ua, "student_admin", institution=self.ua)
        self.ua_staff = staff(self.ua)
        self.ca_admin = staff(self.ua, "consortium_admin", consortium=self.ca)
        self.leader = staff(self.ua, "team_leader", institution=self.ua, target_id=self.programme.pk)
        self.examiner = staff(self.ua, "examiner", institution=self.ua, target_id=self.course_ua.pk)
        self.board = staff(self.ub, "exam_board", institution=self.ub, target_id=self.programme.pk)
        self.programme_board = staff(self.ub)
        self.superuser = UserFactory(is_superuser=True, is_staff=True)

        scale = numeric_scale(D("0"), D("20"), D("1"), D("10"))
        self.joint = GradingScale.objects.create(name="QC joint 0–20", grades=list(scale.grades),
                                                 pass_grade=scale.pass_grade)
        self.regulation = assessment_services.regulation_create(actor=self.leader, programme=self.programme,
                                                                data={"joint_scale": self.joint})
        for institution in (self.ua, self.ub, self.uc):
            assessment_services.conversion_set(actor=self.leader, regulation=self.regulation, institution=institution,
                                               national_scale=self.joint,
                                               mapping=proportional_mapping(self.joint.scale, self.joint.scale))
        self.regulation = assessment_services.regulation_approve(actor=self.board, regulation=self.regulation)
        assessment_services.edition_regulation_set(actor=self.leader, edition=self.edition,
                                                   regulation=self.regulation)
        self.exam_ua = assessment_services.assessment_save(
            actor=self.leader, edition=self.edition, course=self.course_ua,
            data={"title": "Exam", "method": "online_exam", "weight": D("100"), "supervision": "supervised_online"})

        self.token, self.token_key = apitoken_create(actor=None, institution=self.ua, name="query-counts",
                                                     scopes=policy.api_scopes(), check_policy=False)
        self._serial = 0

    def grant(self, user, role: str, *, institution=None, consortium=None, target_id=None) -> None:
        from consortium.models import RoleAssignment

        RoleAssignment.objects.create(
            user=user, role=role, institution=institution, consortium=consortium, target_id=target_id,
            scope_key=RoleAssignment.make_scope_key(institution_id=institution and institution.id,
                                                    consortium_id=consortium and consortium.id, target_id=target_id))

    def serial(self) -> int:
        self._serial += 1
        return self._serial

    # Clients ----------------------------------------------------------------------------------------------

    def api(self):
        from rest_framework.test import APIClient

        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Token {self.token_key}")
        return client

    def browser(self, user=None):
        from django.test import Client

        client = Client()
        if user is not None:
            client.force_login(user)
        return client

    # Rows that several builders need ----------------------------------------------------------------------

    def application(self, status: str = "submitted", edition=None):
        from ..factories import ApplicationFactory

        i = self.serial()
        return ApplicationFactory(edition=edition or self.edition, status=status, submitted_at=self.now,
                                  given_names=f"Given{i}", family_names=f"Family{i:04d}")

    def enrolment(self, edition=None):
        from admissions.models import Enrolment

        application = self.application("enrolled", edition)
        return Enrolment.objects.create(application=application, edition=application.edition,
                                        learner=application.applicant, enrolled_at=self.now)


# --- Row builders ------------------------------------------------------------------------------------------------


@dataclass
class Rows:
    """One list ready to be measured: who asks what, and how to add rows to it."""

    client: Any
    path: str
    add: Callable[[int], list[str]]  # adds n rows; returns strings that show them on a browser page
    cap: int | None = None  # the most rows the domain allows (e.g. webhook endpoints per institution)
    per_page: int | None = None  # the page size of a browser page (None: every row on one page)
    note: str = ""


ROWS: dict[str, Callable[[Base], Rows]] = {}


def rows(key: str):
    def register(builder: Callable[[Base], Rows]) -> Callable[[Base], Rows]:
        ROWS[key] = builder
        return builder

    return register


def _repeat(make: Callable[[int], str]) -> Callable[[int], list[str]]:
    def add(n: int) -> list[str]:
        return [make(i) for i in range(n)]

    return add


def _api(base: Base, path: str, add, **kwargs) -> Rows:
    separator = "&" if "?" in path else "?"
    return Rows(base.api(), f"{path}{separator}page_size={API_PAGE_SIZE}", add, **kwargs)


# API: consortium ----------------------------------------------------------------------------------------------------


@rows("api institution-list")
def _api_institutions(base: Base) -> Rows:
    from ..factories import ContactFactory, InstitutionFactory

    def one(_i):
        institution = InstitutionFactory()
        ContactFactory(institution=institution)
        return institution.short_name

    return _api(base, "/api/v1/institutions/", _repeat(one))


@rows("api consortium-list")
def _api_consortia(base: Base) -> Rows:
    from ..factories import MembershipFactory

    return _api(base, "/api/v1/consortia/", _repeat(
        lambda _i: MembershipFactory(institution=base.ua, role="partner").consortium.acronym))


@rows("api membership-list")
def _api_memberships(base: Base) -> Rows:
    from ..factories import MembershipFactory

    return _api(base, "/api/v1/memberships/", _repeat(
        lambda _i: MembershipFactory(consortium=base.ca).institution.short_name))


@rows("api agreement-list")
def _api_agreements(base: Base) -> Rows:
    from ..factories import AgreementPartyFactory, AgreementVersionFactory

    def one(_i):
        version = AgreementVersionFactory(agreement__consortium=base.ca)
        AgreementPartyFactory(version=version, institution=base.ua)
        return version.agreement.title

    return _api(base, "/api/v1/agreements/", _repeat(one))


@rows("api external-id-list")
def _api_external_ids(base: Base) -> Rows:
    from ..factories import ExternalIdFactory

    return _api(base, "/api/v1/external-ids/", _repeat(
        lambda _i: ExternalIdFactory(institution=base.ua, kind="enrolment", object_id=base.enrolment().pk).value))


@rows("api api-event-list")
def _api_events(base: Base) -> Rows:
    from ..factories import FeedEventFactory

    return Rows(base.api(), "/api/v1/events/?limit=500", _repeat(
        lambda _i: str(FeedEventFactory(institution_ids=[base.ua.pk], consortium_id=base.ca.pk).pk)))


@rows("api api-webhook-list")
def _api_webhooks(base: Base) -> Rows:
    from consortium.webhooks import MAX_ENDPOINTS_PER_INSTITUTION

    from ..factories import WebhookEndpointFactory

    return _api(base, "/api/v1/webhooks/", _repeat(lambda _i: WebhookEndpointFactory(institution=base.ua).url),
                cap=MAX_ENDPOINTS_PER_INSTITUTION, note="at most 20 endpoints per institution")


# API: programmes ----------------------------------------------------------------------------------------------------


def _programme(base: Base, **kwargs):
    from programmes.models import ProgrammePartner

    from ..factories import LearningOutcomeFactory, ProgrammeFactory, ProgrammeTextFactory

    programme = ProgrammeFactory(consortium=base.ca, lead_institution=base.ua, **kwargs)
    ProgrammePartner.objects.create(programme=programme, institution=base.ub, role="partner")
    ProgrammeTextFactory(programme=programme, language="fr")
    LearningOutcomeFactory(programme=programme)
    return programme


@rows("api programme-list")
def _api_programmes(base: Base) -> Rows:
    return _api(base, "/api/v1/programmes/", _repeat(lambda _i: _programme(base).code))


@rows("api course-list")
def _api_courses(base: Base) -> Rows:
    from ..factories import CourseFactory

    return _api(base, "/api/v1/courses/", _repeat(
        lambda i: CourseFactory(version=base.curriculum, provider=(base.ua, base.ub)[i % 2]).code))


@rows("api curriculum-version-list")
def _api_curricula(base: Base) -> Rows:
    from ..factories import CourseFactory, CurriculumVersionFactory

    def one(_i):
        version = CurriculumVersionFactory(programme=base.programme, number=base.serial() + 1, status="approved")
        CourseFactory(version=version, provider=base.ub)
        return str(version.pk)

    return _api(base, "/api/v1/curriculum-versions/", _repeat(one))


@rows("api edition-list")
def _api_editions(base: Base) -> Rows:
    from ..factories import EditionFactory

    return _api(base, "/api/v1/editions/", _repeat(
        lambda _i: EditionFactory(programme=base.programme, curriculum=base.curriculum).intake_code))


# API: admissions, assessment, certification, finance ----------------------------------------------------------------


def _application_with_document(base: Base, _i: int) -> str:
    """A submitted application with one document (the lists show documents): its family name, as the list shows."""
    from ..factories import ApplicationDocumentFactory

    application = base.application()
    ApplicationDocumentFactory(application=application)
    return application.family_names


@rows("api api-application-list")
def _api_applications(base: Base) -> Rows:
    return _api(base, "/api/v1/applications/", _repeat(lambda i: _application_with_document(base, i)))


@rows("api api-enrolment-list")
def _api_enrolments(base: Base) -> Rows:
    from ..factories import InstitutionRegistrationFactory

    def one(_i):
        enrolment = base.enrolment()
        InstitutionRegistrationFactory(enrolment=enrolment, institution=base.ua)
        InstitutionRegistrationFactory(enrolment=enrolment, institution=base.ub)
        return enrolment.application.family_names

    return _api(base, "/api/v1/enrolments/", _repeat(one))


def _grades(base: Base) -> Callable[[int], list[str]]:
    """Grades entered by the examiner through the service, on the sheet of the course UA provides."""
    from assessment import services as assessment_services

    sheet = assessment_services.sheet_for(edition=base.edition, course=base.course_ua, attempt=1)

    def add(n: int) -> list[str]:
        enrolments = [base.enrolment() for _ in range(n)]
        assessment_services.grades_enter(actor=base.examiner, sheet=sheet,
                                         rows=[(e, base.exam_ua, "14") for e in enrolments])
        return [e.application.family_names for e in enrolments]

    return add


@rows("api api-result-list")
def _api_results(base: Base) -> Rows:
    return _api(base, "/api/v1/results/", _grades(base), note="draft grades of UA's course")


@rows("api api-award-list")
def _api_awards(base: Base) -> Rows:
    from ..factories import AwardFactory, CredentialFactory

    def one(_i):
        award = AwardFactory(enrolment=base.enrolment(), issuing_institution=base.ua)
        CredentialFactory(award=award)
        return str(award.pk)

    return _api(base, "/api/v1/awards/", _repeat(one))


def _invoices(base: Base) -> Callable[[], Any]:
    from finance import services as finance_services

    from ..factories import FeeFactory

    FeeFactory(edition=base.edition, track="assessed")

    def one():
        return finance_services.invoice_issue(actor=None, application=base.application("offer_accepted"))

    return one


@rows("api api-invoice-list")
def _api_invoices(base: Base) -> Rows:
    issue = _invoices(base)
    return _api(base, "/api/v1/invoices/", _repeat(lambda _i: issue().number))


@rows("api api-quality-review-list")
def _api_quality_reviews(base: Base) -> Rows:
    from ..factories import FindingFactory, ImprovementActionFactory, QualityReviewFactory

    def one(_i):
        review = QualityReviewFactory(programme=_programme(base), approved=True)
        FindingFactory(review=review)
        ImprovementActionFactory(review=review, owner_institution=base.ua)
        return review.programme.code

    return _api(base, "/api/v1/quality-reviews/", _repeat(one))


@rows("api api-payment-list")
def _api_payments(base: Base) -> Rows:
    from ..factories import PaymentFactory

    invoice = _invoices(base)()
    return _api(base, "/api/v1/payments/", _repeat(
        lambda i: PaymentFactory(invoice=invoice, amount=D("1.00"), reference=f"BANK-{i}").reference))


# Browser pages: consortium ----------------------------------------------------------------------------------------


@rows("page institution-list")
def _page_institutions(base: Base) -> Rows:
    from ..factories import InstitutionFactory

    return Rows(base.browser(base.ua_staff), "/institutions/", _repeat(
        lambda _i: f"University {InstitutionFactory(short_name=f'QI{base.serial():04d}').short_name}"), per_page=25)


@rows("page consortium-list")
def _page_consortia(base: Base) -> Rows:
    from ..factories import MembershipFactory

    return Rows(base.browser(base.ua_staff), "/consortia/", _repeat(
        lambda _i: MembershipFactory(institution=base.ua, consortium__acronym=f"QC{base.serial():04d}")
        .consortium.acronym), per_page=25)


@rows("page token-list")
def _page_tokens(base: Base) -> Rows:
    from ..factories import ApiTokenFactory

    return Rows(base.browser(base.ua_admin), "/tokens/", _repeat(
        lambda _i: ApiTokenFactory(institution=base.ua, created_by=base.ua_admin).name), per_page=25)


@rows("page staff-list")
def _page_staff(base: Base) -> Rows:
    from ..factories import StaffFactory

    def one(_i):
        profile = StaffFactory(institution=base.ua)
        base.grant(profile.user, "student_admin", institution=base.ua)
        return profile.user.email

    return Rows(base.browser(base.ua_admin), "/staff/", _repeat(one), per_page=25)


@rows("page audit-list")
def _page_audit(base: Base) -> Rows:
    from ..factories import AuditEventFactory

    return Rows(base.browser(base.ua_admin), "/audit/", _repeat(
        lambda _i: AuditEventFactory(institution_id=base.ua.pk, object_repr=f"Audited {base.serial():04d}")
        .object_repr), per_page=50)


@rows("page erasure-list")
def _page_erasures(base: Base) -> Rows:
    from ..factories import ErasureRequestFactory

    return Rows(base.browser(base.superuser), "/privacy/erasure/", _repeat(
        lambda _i: ErasureRequestFactory().user.email), per_page=25)


@rows("page webhook-list")
def _page_webhooks(base: Base) -> Rows:
    from consortium.webhooks import MAX_ENDPOINTS_PER_INSTITUTION

    from ..factories import WebhookEndpointFactory

    return Rows(base.browser(base.ua_admin), "/integration/webhooks/", _repeat(
        lambda _i: WebhookEndpointFactory(institution=base.ua).url), per_page=25, cap=MAX_ENDPOINTS_PER_INSTITUTION,
        note="at most 20 endpoints per institution")


@rows("page webhook-detail")
def _page_webhook_attempts(base: Base) -> Rows:
    from ..factories import WebhookAttemptFactory, WebhookDeliveryFactory, WebhookEndpointFactory

    endpoint = WebhookEndpointFactory(institution=base.ua)

    def one(_i):
        attempt = WebhookAttemptFactory(delivery=WebhookDeliveryFactory(endpoint=endpoint),
                                        error=f"Timed out {base.serial():04d}")
        return attempt.error

    return Rows(base.browser(base.ua_admin), f"/integration/webhooks/{endpoint.pk}/", _repeat(one), per_page=50,
                note="its delivery attempts")


# Browser pages: programmes ----------------------------------------------------------------------------------------


@rows("page programme-list")
def _page_programmes(base: Base) -> Rows:
    return Rows(base.browser(base.ua_staff), "/manage/programmes/", _repeat(lambda _i: _programme(base).code),
                per_page=25)


@rows("page catalogue")
def _page_catalogue(base: Base) -> Rows:
    from ..factories import EditionFactory

    def one(_i):
        programme = _programme(base, status="published")
        EditionFactory(programme=programme, status="open")
        return programme.code

    return Rows(base.browser(), "/programmes/", _repeat(one), per_page=24, note="anonymous visitor")


@rows("page board-queue")
def _page_curriculum_board(base: Base) -> Rows:
    from ..factories import CurriculumVersionFactory

    def one(_i):
        programme = _programme(base)
        base.grant(base.programme_board, "programme_board", institution=base.ub, target_id=programme.pk)
        CurriculumVersionFactory(programme=programme, number=1, status="submitted", submitted_at=base.now)
        return programme.code

    return Rows(base.browser(base.programme_board), "/manage/board/queue/", _repeat(one), per_page=25)


# Browser pages: admissions ----------------------------------------------------------------------------------------


@rows("page admissions-editions")
def _page_editions(base: Base) -> Rows:
    from ..factories import AdmissionFrameworkFactory, EditionFactory

    def one(_i):
        edition = EditionFactory(programme=base.programme, curriculum=base.curriculum, status="open",
                                 intake_code=f"qe-{base.serial():04d}")
        AdmissionFrameworkFactory(edition=edition, reviewing_institution=base.ua)
        base.application(edition=edition)
        return edition.intake_code

    return Rows(base.browser(base.ua_students), "/admissions/", _repeat(one), per_page=25)


@rows("page review-queue")
def _page_review_queue(base: Base) -> Rows:
    one = lambda i: _application_with_document(base, i)  # noqa: E731
    return Rows(base.browser(base.ua_students), f"/admissions/editions/{base.edition.pk}/queue/", _repeat(one),
                per_page=50)


# Browser pages: assessment ----------------------------------------------------------------------------------------


@rows("page regulation-list")
def _page_regulations(base: Base) -> Rows:
    from assessment.models import EditionRegulation

    from ..factories import EditionFactory

    def one(_i):
        edition = EditionFactory(programme=base.programme, curriculum=base.curriculum,
                                 intake_code=f"qr-{base.serial():04d}")
        EditionRegulation.objects.create(edition=edition, regulation=base.regulation)
        return edition.intake_code

    return Rows(base.browser(base.leader), f"/assessment/programmes/{base.programme.pk}/regulations/",
                _repeat(one), note="the programme's editions")


@rows("page sheet-class-list")
def _page_class_list(base: Base) -> Rows:
    from assessment import services as assessment_services

    sheet = assessment_services.sheet_for(edition=base.edition, course=base.course_ua, attempt=1)
    return Rows(base.browser(base.examiner), f"/assessment/sheets/{sheet.pk}/class-list.csv", _repeat(
        lambda _i: base.enrolment().application.family_names), note="CSV")


@rows("page sheet-grid")
def _page_sheet_grid(base: Base) -> Rows:
    from assessment import services as assessment_services
    from assessment.selectors import GRID_CELLS_PER_PAGE

    add = _grades(base)
    sheet = assessment_services.sheet_for(edition=base.edition, course=base.course_ua, attempt=1)
    return Rows(base.browser(base.examiner), f"/assessment/sheets/{sheet.pk}/", add,
                per_page=GRID_CELLS_PER_PAGE, note="learners × 1 assessment")


@rows("page assessment-board")
def _page_exam_board(base: Base) -> Rows:
    from assessment import services as assessment_services

    from ..factories import AppealFactory, CourseFactory, GradeFactory

    def one(_i):
        course = CourseFactory(version=base.curriculum, provider=base.ub, code=f"QS{base.serial():04d}")
        sheet = assessment_services.sheet_for(edition=base.edition, course=course, attempt=1)
        type(sheet).objects.filter(pk=sheet.pk).update(status="submitted", submitted_at=base.now,
                                                       submitted_by=base.examiner)
        grade = GradeFactory(sheet=sheet, enrolment=base.enrolment(), national_scale=base.joint)
        AppealFactory(grade=grade)
        return course.code

    return Rows(base.browser(base.board), "/assessment/board/", _repeat(one), per_page=25,
                note="submitted sheets + appeals")


# Pages: quality ------------------------------------------------------------------------------------------------------


@rows("page quality-home")
def _page_quality_home(base: Base) -> Rows:
    return Rows(base.browser(base.ca_admin), "/quality/", _repeat(lambda _i: _programme(base).code), per_page=25,
                note="consortium administrator")


@rows("page review-list")
def _page_review_list(base: Base) -> Rows:
    from ..factories import FindingFactory, ImprovementActionFactory, QualityReviewFactory

    def one(_i):
        review = QualityReviewFactory(programme=base.programme, year=2000 + base.serial())
        FindingFactory(review=review)
        ImprovementActionFactory(review=review, due_on=dt.date(2001, 1, 1))  # overdue
        ImprovementActionFactory(review=review, status="done", done_at=base.now)
        return f"/quality/reviews/{review.pk}/"

    # One review per academic year, from 2000 to the next one: about 27 years, more than a page of 25.
    return Rows(base.browser(base.leader), f"/quality/programmes/{base.programme.pk}/reviews/", _repeat(one),
                cap=26, per_page=25, note="team leader; reviews with a finding, an overdue and a done action")


@rows("page segment-list")
def _page_segments(base: Base) -> Rows:
    from ..factories import SegmentFactory

    return Rows(base.browser(base.ca_admin), f"/quality/consortia/{base.ca.pk}/segments/", _repeat(
        lambda _i: SegmentFactory(consortium=base.ca, name=f"QC segment {base.serial():04d}").name),
        note="every segment of the consortium, with its campaign count")


@rows("page campaign-list")
def _page_campaigns(base: Base) -> Rows:
    from ..factories import ApplicationFactory, CampaignFactory, PageVisitFactory, SegmentFactory

    segment = SegmentFactory(consortium=base.ca)

    def one(_i):
        campaign = CampaignFactory(programme=base.programme, segment=segment, code=f"qc-campaign-{base.serial():04d}")
        PageVisitFactory(programme=base.programme, campaign=campaign, count=3)
        ApplicationFactory(edition=base.edition, utm_campaign=campaign.code, status="submitted",
                           submitted_at=base.now)
        return campaign.code

    return Rows(base.browser(base.leader), f"/quality/programmes/{base.programme.pk}/campaigns/", _repeat(one),
                per_page=25, note="team leader; each campaign with a visit and an application")


@rows("page quality-surveys")
def _page_feedback_surveys(base: Base) -> Rows:
    from quality.models import Survey

    from ..factories import InvitationFactory

    def one(i):
        opened = base.now - dt.timedelta(days=400 + i)
        survey = Survey.objects.create(programme=base.programme, audience="stakeholder", status="closed",
                                       opened_at=opened, closes_at=opened + dt.timedelta(days=21),
                                       closed_at=opened + dt.timedelta(days=21))
        InvitationFactory(survey=survey, learner=None, email=f"qc-fb-{base.serial():04d}@firm.example", answered=True,
                          answered_on=opened.date())
        return f"/quality/surveys/{survey.pk}/"

    return Rows(base.browser(base.leader), f"/quality/programmes/{base.programme.pk}/surveys/", _repeat(one),
                per_page=20, note="team leader; closed stakeholder surveys, each with an answered invitation")


@rows("page stakeholder-invitations")
def _page_stakeholder_invitations(base: Base) -> Rows:
    from quality import feedback

    from ..factories import InvitationFactory

    survey = feedback.stakeholder_survey_open(actor=base.leader, programme=base.programme)

    def one(_i):
        return InvitationFactory(survey=survey, learner=None, email=f"qc-invited-{base.serial():04d}@firm.example",
                                 token_hash=f"{base.serial():064d}").email

    return Rows(base.browser(base.leader), f"/quality/surveys/{survey.pk}/invitations/", _repeat(one), per_page=25,
                note="team leader; one open stakeholder survey")


# --- Measuring -------------------------------------------------------------------------------------------------------


@dataclass
class Count:
    page: ListPage
    small_rows: int
    large_rows: int
    small: int
    large: int
    per_page: int | None
    note: str = ""
    problems: list[str] = field(default_factory=list)

    @property
    def equal(self) -> bool:
        return self.small == self.large


def _body(response) -> str:
    content = b"".join(response.streaming_content) if response.streaming else response.content
    return content.decode("utf-8", "replace")


def _shown(response, markers: list[str], kind: str) -> int:
    """How many of the built rows the answer shows."""
    text = _body(response)
    if kind == "api":
        data = json.loads(text)
        return len(data["results"]) if isinstance(data, dict) else len(data)
    return sum(1 for m in markers if m in text)


def _queries(client, path: str):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as captured:
        response = client.get(path)
    return response, len(captured)


def measure(page: ListPage, base: Base, small: int = SMALL, large: int = LARGE) -> Count:
    """Count the queries of ``page`` with ``small`` and then ``large`` rows (fewer when the domain caps them)."""
    spec = ROWS[page.key](base)
    large = min(large, spec.cap or large)
    markers = spec.add(small)
    problems = []
    warm = spec.client.get(spec.path)  # session, the token's last use, per-process caches
    if warm.status_code != 200:
        problems.append(f"{spec.path} answered {warm.status_code}")
    response, few = _queries(spec.client, spec.path)
    expected = min(small, spec.per_page or small)
    if _shown(response, markers, page.kind) < expected:
        problems.append(f"with {small} rows the answer shows {_shown(response, markers, page.kind)}: the rows are "
                        "not visible to the actor, so the count proves nothing")
    markers += spec.add(large - small)
    response, many = _queries(spec.client, spec.path)
    expected = min(large, spec.per_page or large)
    if spec.per_page and spec.per_page < large:
        expected -= PAGE_SLACK  # the base's own rows (its staff, its token) may sort onto a full page
    if response.status_code != 200:
        problems.append(f"{spec.path} answered {response.status_code} with {large} rows")
    elif _shown(response, markers, page.kind) < expected:
        problems.append(f"with {large} rows the answer shows {_shown(response, markers, page.kind)} "
                        f"(expected {expected})")
    return Count(page, small, large, few, many, spec.per_page, spec.note, problems)


def table(counts: list[Count]) -> str:
    lines = [f"{'list':<64} {'page size':>9} {'rows':>7} {'queries':>7}  equal  note"]
    for c in counts:
        size = "200 (api)" if c.page.kind == "api" else (str(c.per_page) if c.per_page else "all")
        rows_ = f"{c.small_rows}/{c.large_rows}"
        queries = f"{c.small}/{c.large}"
        note = c.note
        if c.per_page and c.per_page < c.large_rows:
            note = "; ".join(filter(None, [f"{c.small_rows} rows vs a full page of {c.per_page}", note]))
        if c.problems:
            note = "; ".join(filter(None, [note, *c.problems]))
        route = "/" + c.page.route.replace("^", "").replace("$", "").replace("(?P<pk>[0-9a-fA-F-]{36})", "<pk>")
        lines.append(f"{c.page.key + ' ' + route:<64.64} {size:>9} {rows_:>7} {queries:>7}  "
                     f"{'yes' if c.equal else 'NO':<5}  {note}")
    return "\n".join(lines)
