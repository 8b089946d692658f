"""The permission matrix: every URL pattern, as every role of another institution, and anonymously.

The victim is consortium CA (universities UA and UB) with one joint programme carried all the way to an award:
agreements, curriculum, edition, applications with documents, enrolments, grades, an appeal, an award with its
credential and documents, invoices and payments. The attackers work for UC, a university of consortium CB, in
every role it can hold (and a learner of no programme, UC's partner-system token, an anonymous visitor).

For each URL pattern the test fills its parameters with the victim's objects (``PARAMETERS`` below; a pattern
this table cannot fill fails the test, so a new endpoint joins the matrix the day it appears) and sends each method
the pattern answers. It expects:

* a page or endpoint about one of the victim's objects: refused (403/404, 405 for a method the route lacks; the
  login page or 401 for the anonymous visitor); never a success, never a form to fill in;
* a list, a dashboard, a "new" form: answered, but without one trace of the victim's private records (its
  learners' names and emails, the ids of its applications, enrolments, grades, awards, invoices, agreements);
* a public page (catalogue, verification, issuer keys): anything but a server error.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import pytest
from django.test import Client
from django.urls import URLPattern, get_resolver
from rest_framework.test import APIClient

from certification import services as certification_services
from consortium import policy, webhooks
from consortium.models import ErasureRequest, RoleAssignment
from finance.models import Fee

from ..assessment.conftest import cohort, grant  # noqa: F401  (fixture)
from ..certification.conftest import awardable  # noqa: F401  (fixture)
from ..factories import (
    AddendumFactory,
    AgreementPartyFactory,
    AgreementSignatureFactory,
    AgreementVersionFactory,
    ApiTokenFactory,
    AppealFactory,
    ApplicationDocumentFactory,
    BudgetFactory,
    BulkIssueFactory,
    CampaignFactory,
    CommitmentFactory,
    ContactFactory,
    CostLineFactory,
    CriterionFactory,
    EditionFinanceFactory,
    ExemptionRequestFactory,
    ExternalIdFactory,
    FeeFactory,
    FindingFactory,
    ImprovementActionFactory,
    InstitutionRegistrationFactory,
    InvoiceFactory,
    LearningOutcomeFactory,
    PaymentFactory,
    PlanYearFactory,
    ProgrammeFactory,
    QualityReviewFactory,
    SegmentFactory,
    StaffFactory,
    TeamMemberFactory,
    TeamTaskFactory,
    UserFactory,
)
from ..url_walk import walk

pytestmark = pytest.mark.django_db

# Third-party routes outside the matrix, each with the reason (the same exemptions as the policy coverage test).
EXEMPT_PREFIXES = ("admin/", "accounts/", "i18n/")

# Parameters: (url name, parameter) → the victim's object (an attribute of ``Victim``) or a literal value.
# ``"*"`` stands for every url name; a more specific entry wins.
PARAMETERS: dict[tuple[str, str], str] = {
    ("*", "credential_id"): "credential.credential_id",
    ("*", "institution_id"): "ua.pk",
    ("*", "institution_pk"): "ua.pk",
    ("*", "edition_id"): "edition.pk",
    ("*", "enrolment_pk"): "enrolment.pk",
    ("*", "course_pk"): "course.pk",
    ("*", "code"): "programme.code",
    ("*", "provider_name"): "=fake",
    ("programme-section", "section"): "=basics",
    ("programme-texts", "language"): "=en",
    ("agreement-transition", "transition"): "=send",
    ("agreement-pdf", "kind"): "=signature",
    ("edition-transition", "target"): "=close",
    ("application-decision", "action"): "=admit",
    ("finance-setting", "kind"): "=fee",
    ("finance-setting-delete", "kind"): "=fee",
    ("finance-setting-delete", "item"): "fee.pk",
    ("review-action-transition", "transition"): "=start",
    ("quality-questions", "audience"): "=learner",
    ("feedback-token", "token"): "stakeholder_token",
}
# The object behind ``pk``, by url name.
PK = {
    "ua": "institution-detail institution-update contact-add institution-logo institution-signature",
    "contact": "contact-remove",
    "ca": "consortium-detail consortium-update membership-add agreement-create segment-list segment-create",
    "membership": "membership-detail membership-end",
    "agreement": "agreement-detail agreement-version-start",
    "version": "agreement-version-detail agreement-version-bring-into-force agreement-version-financial-model "
    "agreement-version-return-to-draft agreement-version-send-for-signature agreement-version-terminate "
    "agreement-version agreement-sections agreement-financial-model agreement-party-add agreement-sign "
    "agreement-transition addendum-create",
    "party": "agreement-party-remove",
    "addendum": "addendum-in-force",
    "signature": "agreement-pdf",
    "token": "token-revoke",
    "staff_profile": "role-grant",
    "role": "role-revoke",
    "programme": "programme-detail programme-manage programme-section programme-texts outcome-add "
    "programme-partner-add programme-stacking programme-publish programme-archive programme-clone programme-team "
    "team-add board-appoint task-add curriculum-start edition-create regulation-list regulation-create "
    "quality-surveys stakeholder-survey-open quality-questions "
    "finance-plan finance-plan-year quality-programme sustainability commitment-create review-list review-create "
    "campaign-list campaign-create recruitment-funnel recruitment-funnel-csv",
    "outcome": "outcome-remove",
    "partner": "programme-partner-remove",
    "team_member": "team-remove",
    "task": "task-done",
    "course": "course-detail course-edit course-remove",
    "curriculum": "curriculum-version-detail curriculum course-add curriculum-electives curriculum-submit "
    "curriculum-decide curriculum-diff",
    "edition": "edition-detail edition-edit edition-clone edition-transition admission-framework criterion-add "
    "review-queue review-queue-csv review-queue-bulk review-queue-message edition-regulation edition-assessments "
    "assessment-create examiner-appoint sheet-open award-edition award-edition-award finance-edition "
    "finance-settlement-pdf finance-settlement-csv finance-budget-start finance-setting finance-setting-delete "
    "api-edition-settlement api-edition-applications-import api-edition-results-import api-edition-export "
    "applicants-import applicants-import-confirm edition-export",
    "application": "api-application-detail api-application-admit api-application-reject api-application-request-info "
    "api-application-review api-application-waitlist api-application-withdraw application-status application-edit "
    "my-application-answer my-application-accept my-application-decline my-application-withdraw "
    "my-application-exemption application-detail application-assess application-decision",
    "enrolment": "api-enrolment-detail api-enrolment-registration enrolment-results transcript",
    "registration": "registration-update",
    "document_upload": "application-document",
    "criterion": "criterion-edit criterion-remove",
    "exemption": "exemption-decide exemption-evidence",
    "grade": "api-result-detail grade-detail grade-correct",
    "regulation": "regulation-detail regulation-update regulation-conversion regulation-approve",
    "component": "assessment-edit",
    "sheet": "sheet-grid sheet-submit sheet-upload sheet-upload-confirm sheet-class-list sheet-resit sheet-review "
    "sheet-decide",
    "appeal": "appeal-decide",
    "award": "api-award-detail award-detail",
    "credential": "credential-language credential-revoke credential-reissue credential-open-badge-json "
    "credential-open-badge-jwt credential-linkedin",
    "bulk": "award-bulk-progress",
    "document": "award-document-retry document-download",
    "invoice": "api-invoice-detail invoice-download invoice-demo-pay finance-invoice finance-payment-add "
    "finance-credit-add",
    "payment": "api-payment-detail payment-receipt",
    "budget": "finance-cost-add",
    "cost_line": "finance-cost-delete",
    "erasure": "erasure-detail erasure-carry-out erasure-refuse",
    "webhook": "webhook-detail webhook-update webhook-disable webhook-enable webhook-test webhook-delete "
    "webhook-rotate-secret "
    "api-webhook-detail",
    "external_id": "external-id-detail",
    "quality_review": "api-quality-review-detail review-detail review-edit review-submit review-decide review-report "
    "review-pdf review-finding-add review-action-add",
    "review_finding": "review-finding-edit review-finding-remove",
    "review_action": "review-action-edit review-action-transition",
    "survey": "my-feedback-survey survey-results survey-close survey-free-text",
    "stakeholder_survey": "stakeholder-invite stakeholder-invitations",
    "question": "question-edit question-remove question-move",
    "invitation": "stakeholder-invitation-renew",
    "commitment": "commitment-edit commitment-confirm commitment-withdraw",
    "segment": "segment-edit",
    "campaign": "campaign-edit",
}
PK_OWNER = {name: owner for owner, names in PK.items() for name in names.split()}

# Routes that answer every signed-in person by design, with the victim's object in the path, and why.
OPEN_TO_SIGNED_IN = {
    "application-start": "Applying to another consortium's open edition is what the catalogue is for.",
    "institution-logo": "Institution logos are public (catalogue, certificates).",
    "institution-detail": "The institution directory (names, codes, address) is shared by every member of the "
    "platform, so partnerships can be built; contacts and the signature image are private (checked as leaks).",
}

ACTORS = [
    "uc_institution_admin",
    "uc_student_admin",
    "uc_finance_officer",
    "uc_quality_officer",
    "uc_staff",
    "cb_consortium_admin",
    "uc_programme_roles",
    "learner",
    "uc_token",
    "anonymous",
]


class Victim:
    """Consortium CA's objects, from agreement to payment."""


@pytest.fixture
def victim(awardable, world):  # noqa: F811
    c, v = awardable, Victim()
    v.ua, v.ca = world.ua, world.ca
    v.programme, v.curriculum, v.edition, v.course = c.programme, c.version, c.edition, c.course_a
    v.regulation, v.component = c.regulation, c.exam_a
    v.enrolment = c.enrolments[0]
    v.application = v.enrolment.application
    v.membership = world.ca.memberships.get(institution=world.ua)
    v.contact = ContactFactory(institution=world.ua)
    v.version = AgreementVersionFactory(agreement__consortium=world.ca)
    v.agreement = v.version.agreement
    v.party = AgreementPartyFactory(version=v.version, institution=world.ua)
    v.addendum = AddendumFactory(version__agreement=v.agreement, version__number=2, institution=world.ub)
    v.signature = AgreementSignatureFactory(version__agreement=v.agreement, version__number=3, institution=world.ua)
    v.token = ApiTokenFactory(institution=world.ua)
    v.staff_profile = StaffFactory(institution=world.ua)
    v.role = RoleAssignment.objects.filter(institution=world.ua).first()
    v.outcome = LearningOutcomeFactory(programme=c.programme)
    v.partner = c.programme.partners.get(institution=world.ub)
    v.team_member = TeamMemberFactory(programme=c.programme)
    v.task = TeamTaskFactory(programme=c.programme)
    v.registration = InstitutionRegistrationFactory(enrolment=c.enrolments[1], institution=world.ub)
    v.document_upload = ApplicationDocumentFactory(application=v.application)
    v.criterion = CriterionFactory(framework=c.edition.admission_framework)
    v.exemption = ExemptionRequestFactory(application=c.enrolments[2].application, course=c.course_e)
    v.sheet = c.edition.result_sheets.get(course=c.course_a)
    v.grade = v.sheet.grades.filter(enrolment=v.enrolment).first()
    v.appeal = AppealFactory(grade=v.grade)
    v.award = certification_services.award_decide(actor=c.board, enrolment=v.enrolment)
    v.credential = v.award.credentials.get()
    v.document = v.credential.documents.first()
    v.bulk = BulkIssueFactory(edition_id=c.edition.pk, enrolment_ids=[str(v.enrolment.pk)])
    EditionFinanceFactory(edition=c.edition)
    v.budget = BudgetFactory(edition=c.edition)
    v.cost_line = CostLineFactory(budget=v.budget)
    v.invoice = InvoiceFactory(application=v.application, edition=c.edition, issuer=world.ua)
    v.payment = PaymentFactory(invoice=v.invoice)
    v.fee = Fee.objects.filter(edition=c.edition).first() or FeeFactory(edition=c.edition)
    PlanYearFactory(programme=c.programme)
    v.quality_review = QualityReviewFactory(programme=c.programme, summary="Victim review summary 5K2")
    v.review_finding = FindingFactory(review=v.quality_review, text="Victim finding: course 7Q4 is too hard")
    v.review_action = ImprovementActionFactory(review=v.quality_review, title="Victim action: revise 7Q4",
                                               owner="Victim owner 9Z1")
    _feedback_victim(v, c)
    v.commitment = CommitmentFactory(programme=c.programme, institution=world.ub,
                                     description="UB commitment: teaching of the chip lab 7Q4")
    v.segment = SegmentFactory(consortium=world.ca, name="Victim segment")
    v.campaign = CampaignFactory(programme=c.programme, segment=v.segment, code="victim-campaign-2026",
                                 name="Victim alumni campaign")
    v.erasure = ErasureRequest.objects.create(user=v.enrolment.learner, requested_by=v.enrolment.learner,
                                              reason="I left the programme.")
    v.external_id = ExternalIdFactory(institution=world.ua, kind="enrolment", object_id=v.enrolment.pk,
                                      value="UA-ENROLMENT-0001")
    # UA's webhook endpoint; the award above put UA's events in the feed.
    v.webhook, _secret = webhooks.webhook_create(actor=RoleAssignment.objects.filter(
        role="institution_admin", institution=world.ua).first().user, institution=world.ua,
        url="https://sis.ua.example/jointcred-hooks", event_types=["award.issued", "application.decided"])
    # What must never appear on another institution's pages.
    v.markers = [str(o.pk) for o in (v.application, v.enrolment, v.grade, v.award, v.invoice, v.agreement,
                                     v.appeal, v.exemption, v.document_upload, v.payment, v.erasure)]
    v.markers += [v.webhook.url, str(v.webhook.pk)]
    v.markers += [str(v.quality_review.pk), v.review_finding.text, v.review_action.title, v.review_action.owner]
    v.markers += [str(v.survey.pk), str(v.stakeholder_survey.pk), v.free_text, v.invitation.email]
    v.markers += [str(v.commitment.pk), v.commitment.description]
    v.markers += [v.campaign.code, v.campaign.name]
    v.markers += [v.credential.credential_id, v.invoice.number, v.contact.email, v.external_id.value,
                  str(v.external_id.pk)]
    for enrolment in c.enrolments:
        v.markers += [enrolment.learner.email, f"{enrolment.application.given_names} Test"]
    return v


def _feedback_victim(v: Victim, c) -> None:
    """The edition's learner survey (opened as the beat does once the edition has ended) with a written answer, and
    an open stakeholder survey with one invitation, whose link's token the public page gets."""
    import datetime as dt

    from django.core import mail
    from django.test import TestCase
    from django.utils import timezone

    from quality import feedback

    from ..factories import AnswerFactory, ResponseFactory

    after_the_end = timezone.make_aware(dt.datetime.combine(c.edition.ends_on + dt.timedelta(days=1), dt.time(9)))
    v.survey = feedback.learner_survey_open(edition=c.edition, now=after_the_end)
    v.free_text = "Victim written answer: the 7Q4 lab was too short"
    AnswerFactory(response=ResponseFactory(survey=v.survey), question=v.survey.questions.get(key="improve"),
                  rating=None, text=v.free_text)
    v.question = feedback.question_set_ensure(programme=c.programme).questions.first()
    v.stakeholder_survey = feedback.stakeholder_survey_open(actor=c.leader, programme=c.programme)
    with TestCase.captureOnCommitCallbacks(execute=True):
        feedback.stakeholders_invite(actor=c.leader, survey=v.stakeholder_survey, emails=["hr.victim@employer.example"])
    v.invitation = v.stakeholder_survey.invitations.get()
    v.stakeholder_token = re.search(r"/feedback/([\w-]+)/", mail.outbox[-1].body).group(1)


@pytest.fixture
def attacker(world, token_client):
    """``attacker(name)`` → (client, is_api_only) for one of ``ACTORS``, all of institution UC / consortium CB."""
    people = world.people

    def staff_with(role, **scope):
        user = StaffFactory(institution=world.uc).user
        scope_key = RoleAssignment.make_scope_key(**{f"{k}_id": v.pk for k, v in scope.items()})
        RoleAssignment.objects.create(user=user, role=role, scope_key=scope_key, **scope)
        return user

    def make(name):
        if name == "uc_token":
            return token_client(world.uc), True
        if name == "anonymous":
            return Client(), False
        user = {
            "uc_institution_admin": lambda: people["UC_admin"],
            "uc_student_admin": lambda: people["UC_students"],
            "uc_staff": lambda: people["UC_staff"],
            "uc_finance_officer": lambda: staff_with("finance_officer", institution=world.uc),
            "uc_quality_officer": lambda: staff_with("quality_officer", institution=world.uc),
            "cb_consortium_admin": lambda: staff_with("consortium_admin", consortium=world.cb),
            "learner": lambda: UserFactory(),
            "uc_programme_roles": lambda: _programme_roles(world),
        }[name]()
        client = Client()
        client.force_login(user)
        return client, False

    return make


def _programme_roles(world):
    """A UC member who leads, teaches, examines and sits on the boards of UC's own programme."""
    own = ProgrammeFactory(consortium=world.cb, lead_institution=world.uc, issuing_institution=world.uc)
    user = StaffFactory(institution=world.uc).user
    for role in ("team_leader", "team_member", "programme_board", "exam_board", "examiner"):
        grant(user, role, own, world.uc)
    return user


@dataclass
class Route:
    route: str
    name: str
    pattern: URLPattern
    callback: Any

    @property
    def is_api(self) -> bool:
        return self.route.startswith("api/")

    @property
    def parameters(self) -> list[str]:
        return sorted(self.pattern.pattern.regex.groupindex)

    @property
    def public(self) -> bool:
        return policy.PUBLIC in policy.declared(self.callback)

    def methods(self) -> list[str]:
        actions = getattr(self.callback, "actions", None)
        if actions:
            return sorted(actions)
        cls = getattr(self.callback, "view_class", None) or getattr(self.callback, "cls", None)
        allowed = getattr(cls, "http_method_names", None) if cls else None
        if cls is None or allowed is None:
            return ["get", "post"]
        return [m for m in ("get", "post", "put", "patch", "delete") if m in allowed and hasattr(cls, m)] or ["get"]


def _routes() -> list[Route]:
    routes = []
    for route, pattern in walk(get_resolver().url_patterns):
        if route.startswith(EXEMPT_PREFIXES):
            continue
        routes.append(Route(route, pattern.name or route, pattern, pattern.callback))  # unnamed: by its path
    return routes


def _value(victim: Victim, spec: str) -> str:
    if spec.startswith("="):
        return spec[1:]
    target: Any = victim
    for part in spec.split("."):
        target = getattr(target, part)
    return str(target)


def _kwargs(route: Route, victim: Victim) -> dict[str, str]:
    kwargs = {}
    for parameter in route.parameters:
        if parameter == "format":
            kwargs[parameter] = "json"
            continue
        spec = PARAMETERS.get((route.name, parameter)) or PARAMETERS.get(("*", parameter))
        if spec is None and parameter == "pk" and route.name in PK_OWNER:
            spec = f"{PK_OWNER[route.name]}.pk"
        if spec is None:
            raise LookupError(f"{route.route} ({route.name}): no victim object for <{parameter}>; add it to PARAMETERS")
        kwargs[parameter] = _value(victim, spec)
    return kwargs


def _path(route: Route, kwargs: dict[str, str]) -> str:
    """The concrete path: each ``<converter:name>`` or ``(?P<name>...)`` of the route replaced by its value."""
    path = route.route
    for name, value in kwargs.items():
        path = re.sub(rf"<(?:\w+:)?{name}>|\(\?P<{name}>[^)]*\)", value, path)
    return "/" + path.replace("^", "").replace("$", "").replace("\\.", ".").replace("/?", "/")


def _denied(status: int, response, *, anonymous: bool) -> bool:
    if status in (403, 404, 405):
        return True
    if anonymous and status == 401:
        return True
    return anonymous and status == 302 and "/accounts/login/" in response.get("Location", "")


def _leaks(response, markers: list[str]) -> list[str]:
    body = b"".join(response.streaming_content) if response.streaming else response.content
    text = body.decode("utf-8", "replace")
    return [m for m in markers if m and m in text]


def _send(client, method: str, path: str, api: bool):
    if api or isinstance(client, APIClient):
        kwargs = {"format": "json", "data": {}} if method in ("post", "put", "patch") else {}
        return getattr(client, method)(path, **kwargs)
    return getattr(client, method)(path, data={} if method != "get" else None)


def test_every_route_is_in_the_matrix(victim):
    """Each pattern's parameters can be filled with the victim's objects, and each filled path resolves."""
    from django.urls import resolve

    problems, count = [], 0
    for route in _routes():
        try:
            path = _path(route, _kwargs(route, victim))
        except LookupError as exc:
            problems.append(str(exc))
            continue
        match = resolve(path)
        if match.url_name != route.name:
            problems.append(f"{route.route}: {path} resolves to {match.url_name}")
        count += 1
    print(f"Permission matrix: {count} URL patterns covered.")
    assert not problems, "\n".join(problems)
    assert count > 200


@pytest.mark.parametrize("actor", ACTORS)
def test_another_institution_reaches_nothing_private(actor, victim, attacker):
    client, api_only = attacker(actor)
    anonymous = actor == "anonymous"
    failures, checked = [], 0
    for route in _routes():
        if api_only and not route.is_api:
            continue  # a token authenticates API calls only; on pages it is an anonymous visitor (row below)
        path = _path(route, _kwargs(route, victim))
        object_route = any(p not in ("format",) for p in route.parameters)
        for method in route.methods():
            response = _send(client, method, path, route.is_api)
            checked += 1
            status = response.status_code
            where = f"{actor}: {method.upper()} {path} ({route.name}) → {status}"
            if status >= 500:
                failures.append(where)
            elif route.public:
                continue
            elif object_route and route.name in OPEN_TO_SIGNED_IN and not anonymous:
                if status == 200 and (leaked := _leaks(response, victim.markers)):
                    failures.append(f"{where}: shows the victim's {leaked[:3]}")
            elif object_route:
                if not _denied(status, response, anonymous=anonymous):
                    failures.append(f"{where}: expected a refusal")
            elif anonymous:
                if not _denied(status, response, anonymous=True):
                    failures.append(f"{where}: expected the login page / 401")
            elif status == 200 and (leaked := _leaks(response, victim.markers)):
                failures.append(f"{where}: shows the victim's {leaked[:3]}")
    print(f"{actor}: {checked} requests checked.")
    assert checked > (80 if api_only else 300)
    assert not failures, f"{len(failures)} isolation failures:\n" + "\n".join(failures)


def test_the_matrix_can_fail(victim, world):
    """The same matrix run as the victim's own team leader finds its own records: the leak check is not blind."""
    client = Client()
    leader = RoleAssignment.objects.get(role="team_leader", target_id=victim.programme.pk).user
    client.force_login(leader)
    response = client.get(f"/admissions/editions/{victim.edition.pk}/queue/")
    assert response.status_code in (200, 403)
    admin = Client()
    admin.force_login(world.people["UA_students"])
    shown = admin.get(f"/admissions/applications/{victim.application.pk}/")
    assert shown.status_code == 200 and _leaks(shown, victim.markers)
    assert not _denied(shown.status_code, shown, anonymous=False)
