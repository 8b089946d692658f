"""Schemathesis fuzzes every operation of the partner API from its own OpenAPI schema (``/api/schema/``).

One test, one small world (the graded cohort of consortium CA with an issued credential, applications UA reviews,
an invoice with a payment, an agreement), every call in-process through the WSGI application on the pytest-django
database, authenticated with a token of UA that holds every scope. Per operation a bounded, derandomized number of
examples (valid and invalid input; path parameters and body fields name real objects about half the time) must never
answer 5xx, and every answer must be documented: its status code, content type, headers and body. Each bug found
here is fixed in the API and kept as a plain test in ``test_api_fuzz_regressions.py``.

The operations are iterated here rather than with ``schemathesis.pytest.from_fixture(...).parametrize()``, whose
lazy loader sets ``Function._nodeid``, which pytest 9.2 no longer has; iterating also reports every failing
operation at once.
"""

import time
from collections import Counter
from decimal import Decimal as D
from types import SimpleNamespace

import pytest
import schemathesis
from django.core.handlers.wsgi import WSGIHandler
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from django.utils import timezone
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from assessment import services as assessment_services
from certification import services as certification_services
from consortium import policy, webhooks
from consortium.rest.throttling import PerTokenRateThrottle
from consortium.services import apitoken_create

from ..certification.conftest import awardable, cohort  # noqa: F401  (fixtures)
from ..factories import (
    AdmissionFrameworkFactory,
    AgreementFactory,
    AgreementPartyFactory,
    AgreementVersionFactory,
    ApplicationFactory,
    CourseFactory,
    EditionFactory,
    ExternalIdFactory,
    InstitutionRegistrationFactory,
    InvoiceFactory,
    PaymentFactory,
    ProgrammeFactory,
    ProgrammePartnerFactory,
)

#: Examples per operation, valid and invalid input mixed: the whole run takes well under a minute on two cores.
MAX_EXAMPLES = 25
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]


def _config(token_key: str) -> schemathesis.Config:
    return schemathesis.Config.from_dict({
        "seed": 20260101,
        "headers": {"Authorization": f"Token {token_key}"},
        # The coverage phase would add hundreds of boundary cases per operation; fuzzing covers both modes.
        "phases": {"coverage": {"enabled": False}},
        "generation": {"mode": "all", "with-security-parameters": False},
    })


# Nothing is excluded: POST /api/v1/verify/ takes its uploads (multipart) and JSON like any other body, and the
# payment-provider webhooks (finance/webhooks) are not part of the schema anyway.
RUNS: Counter = Counter()


class Known:
    """Real objects the generated requests may name: path parameters by collection (the first segment after
    ``/api/v1/``), and values of the body fields that name objects."""

    def __init__(self, w, c, credential, x):
        ids = lambda *objects: [str(o.pk) for o in objects]  # noqa: E731
        paths = {
            "agreement-versions": ids(x.version),
            "agreements": ids(x.version.agreement),
            "applications": ids(*x.applications),
            "awards": ids(credential.award),
            "consortia": ids(w.ca, w.cb),
            "courses": ids(c.course_a, c.course_b, x.course),
            "curriculum-versions": ids(c.version),
            "editions": ids(c.edition, x.edition),
            "external-ids": ids(x.external_id),
            "institutions": ids(w.ua, w.ub, w.uc),
            "invoices": ids(x.invoice),
            "memberships": ids(*w.ca.memberships.order_by("institution__short_name")),
            "payments": ids(x.payment),
            "programmes": ids(c.programme, x.edition.programme),
            "results": ids(*c.enrolments[0].grades.order_by("sheet__course__code", "assessment__title")[:2]),
            "webhooks": ids(x.webhook),
        }
        self.paths = {collection: [{"id": pk} for pk in pks] for collection, pks in paths.items()}
        self.paths["credentials"] = self.paths["verify"] = [{"credential_id": credential.credential_id}]
        self.paths["enrolments"] = [
            {"id": str(e.pk), "institution_id": str(i.pk)} for e in c.enrolments for i in (w.ua, w.ub)
        ]
        self.fields = {
            "edition": ids(c.edition, x.edition),
            "course": ids(x.course, c.course_a),
            "sheet": ids(*c.edition.result_sheets.order_by("course__code")),
            "enrolment": ids(*c.enrolments),
            "assessment": ids(x.assessment, c.exam_a),
            "grade": ["1.0", "2.3", "4.0", "5.0", "6.0"],  # UA grades on the German scale
            "consortium": ids(w.ca, w.cb),
            "institution": ids(w.ua, w.ub, w.uc),
            "collecting_institution": ids(w.ua, w.ub),
            "programme": ids(c.programme, x.edition.programme),
            "object_id": ids(*c.enrolments, c.course_a, c.enrolments[0].learner),
        }

    def path_parameters(self, operation) -> list[dict]:
        return self.paths.get(operation.path.removeprefix("/api/v1/").split("/")[0], [])

    def body(self, value) -> st.SearchStrategy:
        """The generated body, each field that names an object either as generated or a real one."""
        if isinstance(value, dict):
            return st.fixed_dictionaries({
                key: st.one_of(st.just(item), st.sampled_from(self.fields[key]))
                if key in self.fields and not isinstance(item, dict | list) else self.body(item)
                for key, item in value.items()
            })
        if isinstance(value, list):
            return st.tuples(*(self.body(item) for item in value)).map(list)
        return st.just(value)


@pytest.fixture
def known(awardable, world):  # noqa: F811
    """The cohort with an issued credential and an open course UA examines, plus an edition whose applications UA
    reviews and invoices, and an agreement of consortium CA."""
    c = awardable
    credential = certification_services.award_decide(actor=c.board, enrolment=c.enrolments[0]).credentials.get()
    for enrolment in c.enrolments:
        for institution in (world.ua, world.ub):
            InstitutionRegistrationFactory(enrolment=enrolment, institution=institution)
    x = SimpleNamespace()
    x.course = CourseFactory(version=c.version, code="D", provider=world.ua, mandatory=False, ects=D("1.0"))
    x.assessment = assessment_services.assessment_save(
        actor=c.leader, edition=c.edition, course=x.course,
        data={"title": "Exam", "method": "online_exam", "weight": D("100"), "supervision": "supervised_online"},
    )
    programme = ProgrammeFactory(consortium=world.ca, lead_institution=world.ua, status="published")
    ProgrammePartnerFactory(programme=programme, institution=world.ub, role="partner")
    x.edition = EditionFactory(programme=programme, status="open")
    AdmissionFrameworkFactory(edition=x.edition, reviewing_institution=world.ua)
    x.applications = [ApplicationFactory(edition=x.edition, status=status, submitted_at=timezone.now())
                      for status in ("submitted", "under_review", "admitted", "waitlisted")]
    x.invoice = InvoiceFactory(application=ApplicationFactory(edition=x.edition, status="offer_accepted"))
    x.payment = PaymentFactory(invoice=x.invoice, amount=D("100.00"))
    x.version = AgreementVersionFactory(agreement=AgreementFactory(consortium=world.ca))
    x.webhook, _secret = webhooks.webhook_create(actor=world.people["UA_admin"], institution=world.ua,
                                                 url="https://sis.ua.example/hooks", event_types=["award.issued"])
    x.external_id = ExternalIdFactory(institution=world.ua, kind="course", object_id=c.course_a.pk, value="UA-COURSE-A")
    for institution in (world.ua, world.ub):
        AgreementPartyFactory(version=x.version, institution=institution)
    return Known(world, c, credential, x)


@pytest.fixture
def api_schema(known, world, monkeypatch, capsys):
    """The schema as the application serves it, bound to the in-process WSGI application."""
    # One token makes about a thousand calls in a minute; the throttles have their own tests.
    monkeypatch.setattr(PerTokenRateThrottle, "THROTTLE_RATES", {"api": None, "verify": "100000/minute"})
    _token, key = apitoken_create(actor=None, institution=world.ua, name="fuzz", scopes=policy.api_scopes(),
                                  check_policy=False)
    RUNS.clear()
    started = time.monotonic()
    # Django's test client does the same: closing the connection after a request would end the test transaction.
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    try:
        loaded = schemathesis.openapi.from_wsgi("/api/schema/?format=json", WSGIHandler(), config=_config(key))

        @loaded.hook
        def before_generate_path_parameters(context, strategy):
            real = known.path_parameters(context.operation)
            return st.one_of(strategy, st.sampled_from(real)) if real else strategy

        @loaded.hook
        def flatmap_body(context, body):
            return known.body(body)

        yield loaded
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)
        answers = Counter()
        for (_label, status), n in RUNS.items():
            answers[status] += n
        with capsys.disabled():
            print(f"\nAPI fuzzing: {len({label for label, _status in RUNS})} operations, {sum(RUNS.values())} "
                  f"examples in {time.monotonic() - started:.0f}s; answers {dict(sorted(answers.items()))}")


def _fuzz(operation) -> None:
    """A bounded, reproducible Hypothesis run of one operation; the first failing case is reported unshrunk."""
    label = operation.label

    @given(case=st.one_of(operation.as_strategy(mode) for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE)))
    @settings(
        max_examples=MAX_EXAMPLES,
        deadline=None,
        derandomize=True,
        database=None,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    def run(case):
        response = case.call_and_validate(checks=CHECKS)
        RUNS[label, response.status_code] += 1

    run()


def test_api_conforms_to_its_schema(api_schema):
    failures = {}
    for result in api_schema.get_all_operations():
        operation = result.ok()
        try:
            _fuzz(operation)
        except (Exception, BaseExceptionGroup) as exc:  # every operation runs; the failures are reported together
            failures[operation.label] = exc
    assert not failures, "\n\n".join(f"== {label}\n{exc}" for label, exc in failures.items())
