"""The programme management pages (D2, D3), driven through the Django test client.

The first test is the issue's "done when": a team leader goes from nothing to a published programme with an
open edition using only the pages, a board member approves the curriculum, and an anonymous visitor finds it
in the catalogue. The others check that refusals are shown (never a crash), who may do what, the curriculum
diff, cloning, the number of queries per page and the live-totals hooks of the curriculum editor.
"""

import datetime as dt
import re
import uuid
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from django.utils.html import escape

from consortium.models import AuditEvent, RoleAssignment, User
from programmes import services
from programmes.models import (
    Course,
    CurriculumStatus,
    CurriculumVersion,
    Edition,
    EditionStatus,
    LearningOutcome,
    Programme,
    ProgrammePartner,
    ProgrammeStatus,
    ProgrammeText,
    TeamMember,
)

from ..factories import (
    CourseFactory,
    CurriculumVersionFactory,
    EditionFactory,
    ProgrammeFactory,
    RoleAssignmentFactory,
    StaffFactory,
)

MISSING = uuid.UUID(int=0)  # a well-formed id that matches nothing
MADRID = ZoneInfo("Europe/Madrid")
D = Decimal

#: The headings of the public page, one per item of the communication checklist (D3).
PUBLIC_HEADINGS = [
    "Target group and objectives",
    "Learning outcomes",
    "Prerequisites",
    "Mode of delivery",
    "Duration and pacing",
    "Language",
    "Curriculum",
    "Assessment",
    "Enrolment procedure and deadlines",
    "Fees and discounts",
    "Partners",
    "Contact",
    "Success requirements and workload",
    "Industry relevance",
    "Complementary micro-credentials / stackability",
    "Credit transfer",
    "Terms and conditions",
    "Resources available",
    "Quality assurance",
]


# --- Helpers ---------------------------------------------------------------------------------------------


def url(name: str, *args) -> str:
    return reverse(name, args=args)


def page(response) -> str:
    return response.content.decode()


def shows(response, message: str) -> bool:
    """Whether the page shows ``message`` (as the template escapes it)."""
    return escape(message) in page(response)


def login(client, world, who: str) -> User:
    user = world.people[who]
    client.force_login(user)
    return user


def get_ok(client, path: str, *expected: str) -> str:
    response = client.get(path)
    assert response.status_code == 200, (path, response.status_code)
    for text in expected:
        assert shows(response, text), (path, text)
    return page(response)


def post_redirects(client, path: str, data: dict | None = None) -> str:
    """POST a form that must succeed: the answer is a redirect (a re-rendered form shows its errors)."""
    response = client.post(path, data or {})
    assert response.status_code == 302, (path, response.status_code, form_errors(response))
    return response["Location"]


def form_errors(response) -> dict:
    context = getattr(response, "context", None)
    form = context.get("form") if context else None
    return dict(form.errors) if form is not None else {}


def local(value: dt.datetime) -> str:
    """A datetime as a ``datetime-local`` input sends it."""
    return value.strftime("%Y-%m-%dT%H:%M")


def course_post(code: str, provider, ects, mandatory: bool = True, **overrides) -> dict:
    data = {
        "code": code,
        "title": f"Course {code}",
        "provider": provider.pk,
        "ects": str(ects),
        "assessment_method": "online_exam",
        "supervision": "supervised_online",
        "learning_outcomes": "Explain the design flow\nApply timing analysis",
    }
    if mandatory:
        data["mandatory"] = "on"
    data.update(overrides)
    return data


def create_post(world, **overrides) -> dict:
    """The "new programme" form as the browser sends it: a 5-ECTS CMF micro-credential of CA led by UA."""
    data = {
        "consortium": world.ca.pk,
        "title": "Chip design fundamentals",
        "qualification_name": "Expert certificate in chip design",
        "code": "chip-design",
        "lead_institution": world.ua.pk,
        "issuing_institution": world.ua.pk,
        "ects": "5",
        "qualification_type": "cmf_micro_credential",
        "eqf_level": "6",
        "qf_ehea_cycle": "",
        "award_kind": "joint",
        "primary_language": "en",
        "delivery_mode": "online",
        "synchronicity": "asynchronous",
        "pacing": "cohort",
        "participation_form": "",
        "duration_weeks": "10",
    }
    data.update(overrides)
    return data


TEXTS = {
    "title": "Chip design fundamentals",
    "qualification_name": "Expert certificate in chip design",
    "objectives": "Design a simple digital chip from specification to layout.",
    "target_group": "Engineers in the semiconductor industry.",
    "prerequisites": "A bachelor in electrical engineering.",
    "assessment": "An online exam per course and a final design project.",
    "enrolment_procedure": "Apply online before the deadline; places are given in order of application.",
    "fees_and_discounts": "EUR 750; employees of partner companies pay half.",
    "success_requirements": "Pass every course with at least 50%.",
    "industry_relevance": "Co-designed with three European chip makers.",
    "credit_transfer": "The ECTS are recognised by every university of the alliance.",
    "terms_and_conditions": "Full refund until the start of the edition.",
    "resources": "A cloud licence of the design tools for the whole duration.",
}


# --- Arrange through the services (for the tests that do not walk the whole journey) ---------------------


def fresh(user: User) -> User:
    return User.objects.get(pk=user.pk)


def make_programme(world, code: str = "chip-design", partners=None) -> Programme:
    """A 5-ECTS CMF micro-credential of CA led by UA (team leader UA_staff), with partner UB."""
    return services.programme_create(
        actor=fresh(world.people["UA_staff"]),
        consortium=world.ca,
        data={
            "code": code,
            "primary_language": "en",
            "ects": D("5"),
            "qualification_type": "cmf_micro_credential",
            "eqf_level": 6,
            "delivery_mode": "online",
            "synchronicity": "asynchronous",
            "pacing": "cohort",
            "duration_weeks": 10,
            "lead_institution": world.ua,
            "issuing_institution": world.ua,
            "qa_scheme": "Internal QA of the lead university (ESG)",
            "contact_email": "chip@example.org",
        },
        title="Chip design",
        qualification_name="Certificate",
        partners=[world.ub] if partners is None else partners,
    )


def appoint_board(world, programme: Programme, who: str = "UB_staff") -> User:
    services.board_member_appoint(
        actor=fresh(world.people["CA_admin"]),
        programme=programme,
        email=world.people[who].email,
        role="programme_board",
    )
    return world.people[who]


def add_course(world, version: CurriculumVersion, code: str, provider, ects, mandatory: bool = True) -> Course:
    data = {
        "code": code,
        "title": f"Course {code}",
        "provider": provider,
        "ects": D(str(ects)),
        "mandatory": mandatory,
        "assessment_method": "online_exam",
        "supervision": "supervised_online",
    }
    return services.course_save(actor=fresh(world.people["UA_staff"]), version=version, data=data)


def approve_v1(world, programme: Programme) -> CurriculumVersion:
    """v1 with CD1 (3 ECTS, UA) and CD2 (2 ECTS, UB), submitted and approved by a UB board member."""
    version = programme.curricula.get(number=1)
    add_course(world, version, "CD1", world.ua, 3)
    add_course(world, version, "CD2", world.ub, 2)
    services.curriculum_submit(actor=fresh(world.people["UA_staff"]), version=version)
    board = appoint_board(world, programme)
    return services.curriculum_approve(actor=fresh(board), version=version, comment="Fine.")


# --- 1. The journey: from nothing to a published programme with an open edition --------------------------


def test_journey_from_nothing_to_a_published_programme_with_an_open_edition(client, world):
    leader = login(client, world, "UA_staff")

    # The leader drafts the programme.
    get_ok(client, url("programme-list"), "New programme")
    get_ok(client, url("programme-create"), "New joint programme")
    location = post_redirects(client, url("programme-create"), create_post(world))
    programme = Programme.objects.get(code="chip-design")
    assert location == url("programme-manage", programme.pk)
    assert TeamMember.objects.get(programme=programme).user == leader
    assert programme.status == ProgrammeStatus.DRAFT
    get_ok(client, location, "Chip design fundamentals", "Programme drafted.")

    # Each section of the editor.
    sections = {
        "basics": {
            "code": "chip-design",
            "agreement": "",
            "lead_institution": world.ua.pk,
            "issuing_institution": world.ua.pk,
            "ects": "5",
            "qualification_type": "cmf_micro_credential",
            "eqf_level": "7",
            "qf_ehea_cycle": "second",
            "award_kind": "joint",
        },
        "languages": {"primary_language": "en", "languages": ["en", "es"]},
        "delivery": {
            "delivery_mode": "blended",
            "synchronicity": "mixed",
            "pacing": "cohort",
            "participation_form": "Online study with two on-site lab weeks",
            "duration_weeks": "12",
            "lifespan": "recurring",
            "recurring_until": "2030-12-31",
        },
        "quality": {
            "qa_scheme": "Accredited by the Flemish QA agency (ESG)",
            "mobility_scheme": "Lab weeks at UB, funded by Erasmus+ blended mobility",
            "professional_body": "European Chip Design Council",
            "professional_recognition": "Counts as 40 hours of continuing education",
            "contact_name": "Programme office",
            "contact_email": "chip@ua.example",
        },
        "timeline": {
            "design_starts_on": "2025-01-06",
            "development_starts_on": "2025-04-07",
            "implementation_starts_on": "2025-10-06",
            "design_started_on": "2025-01-06",
            "development_started_on": "",
            "implementation_started_on": "",
        },
    }
    for section, data in sections.items():
        get_ok(client, url("programme-section", programme.pk, section))
        post_redirects(client, url("programme-section", programme.pk, section), data)
    programme.refresh_from_db()
    assert programme.eqf_level == 7
    assert programme.qf_ehea_cycle == "second"
    assert programme.languages == ["en", "es"]
    assert programme.delivery_mode == "blended"
    assert programme.duration_weeks == 12
    assert programme.recurring_until == dt.date(2030, 12, 31)
    assert programme.contact_email == "chip@ua.example"
    assert programme.development_starts_on == dt.date(2025, 4, 7)
    get_ok(client, url("programme-manage", programme.pk), "Accredited by the Flemish QA agency (ESG)", "Blended")

    # Texts in English, every checklist field.
    get_ok(client, url("programme-texts", programme.pk, "en"), "Texts of chip-design in en")
    post_redirects(client, url("programme-texts", programme.pk, "en"), TEXTS)
    text = ProgrammeText.objects.get(programme=programme, language="en")
    assert {field: getattr(text, field) for field in TEXTS} == TEXTS

    # Learning outcomes.
    for category, outcome in [
        ("knowledge", "Explain the digital design flow"),
        ("skills", "Run a static timing analysis"),
        ("responsibility", "Sign off a design as a team"),
    ]:
        post_redirects(client, url("outcome-add", programme.pk), {"category": category, "text": outcome})
    assert list(programme.outcomes.values_list("category", flat=True)) == ["knowledge", "skills", "responsibility"]

    # UB joins as a partner.
    get_ok(client, url("programme-partner-add", programme.pk), "UB")
    post_redirects(client, url("programme-partner-add", programme.pk), {"institution": world.ub.pk})
    assert ProgrammePartner.objects.get(programme=programme, institution=world.ub).role == "partner"

    # Stackability.
    get_ok(client, url("programme-stacking", programme.pk), "Stackability")
    post_redirects(client, url("programme-stacking", programme.pk), {"stand_alone": "on", "external": ""})
    programme.refresh_from_db()
    assert programme.stand_alone is True

    # Courses in curriculum v1 whose ECTS add up to the programme's 5.
    version = programme.curricula.get()
    assert version.number == 1 and version.status == CurriculumStatus.DRAFT
    get_ok(client, url("curriculum", version.pk), "Curriculum", "No courses yet.", "Add at least one course.")
    post_redirects(client, url("course-add", version.pk), course_post("CD1", world.ua, 3))
    post_redirects(client, url("course-add", version.pk), course_post("CD2", world.ub, 2))
    body = get_ok(client, url("curriculum", version.pk), "Course CD1", "Course CD2", "matches")
    assert "Before it can be submitted" not in body

    # Submitted to the board.
    post_redirects(client, url("curriculum-submit", version.pk))
    version.refresh_from_db()
    assert version.status == CurriculumStatus.SUBMITTED
    get_ok(client, url("curriculum", version.pk), "Submitted to the programme board.")

    # The consortium administrator appoints a UB staff member to the programme board.
    board_member = world.people["UB_staff"]
    login(client, world, "CA_admin")
    get_ok(client, url("programme-team", programme.pk), "Appoint a board member")
    get_ok(client, url("board-appoint", programme.pk), "Appoint a board member")
    post_redirects(
        client, url("board-appoint", programme.pk), {"email": board_member.email, "role": "programme_board"}
    )
    assert RoleAssignment.objects.filter(user=board_member, role="programme_board", target_id=programme.pk).exists()
    get_ok(client, url("programme-team", programme.pk), "Board member appointed.")

    # The board member finds the version in the queue and approves it.
    login(client, world, "UB_staff")
    body = get_ok(client, url("board-queue"), "Chip design fundamentals")
    assert url("curriculum", version.pk) in body
    get_ok(client, url("curriculum", version.pk), "Board decision", "Record the decision")
    post_redirects(
        client, url("curriculum-decide", version.pk), {"decision": "approve", "comment": "Coherent and complete."}
    )
    version.refresh_from_db()
    assert version.status == CurriculumStatus.APPROVED
    assert version.decided_by == board_member
    get_ok(client, url("board-queue"), "Nothing awaits your decision.")

    # The leader publishes.
    login(client, world, "UA_staff")
    body = get_ok(client, url("programme-manage", programme.pk), "Publish in the catalogue")
    assert "Before it can be published" not in body
    post_redirects(client, url("programme-publish", programme.pk))
    programme.refresh_from_db()
    assert programme.status == ProgrammeStatus.PUBLISHED

    # An edition on the approved curriculum, with its application window typed in Madrid time.
    now = timezone.now().astimezone(MADRID).replace(tzinfo=None, second=0, microsecond=0)
    opens, closes = now - dt.timedelta(days=2, hours=3), now + dt.timedelta(days=20, hours=5)
    starts_on = (closes + dt.timedelta(days=10)).date()
    get_ok(client, url("edition-create", programme.pk), "New edition")
    post_redirects(
        client,
        url("edition-create", programme.pk),
        {
            "intake_code": "2026-autumn",
            "time_zone": "Europe/Madrid",
            "application_opens_at": local(opens),
            "application_closes_at": local(closes),
            "starts_on": starts_on.isoformat(),
            "ends_on": (starts_on + dt.timedelta(days=84)).isoformat(),
            "capacity": "30",
            "curriculum": version.pk,
            "fee_table_reference": "Fee table 2026 of the alliance",
        },
    )
    edition = Edition.objects.get(programme=programme)
    assert edition.curriculum == version
    assert edition.status == EditionStatus.PLANNED
    assert edition.application_opens_at == opens.replace(tzinfo=MADRID)
    assert edition.application_closes_at == closes.replace(tzinfo=MADRID)
    # Stored in UTC: the wall-clock time in UTC is the Madrid time minus its offset (1 or 2 hours).
    stored_opens = edition.application_opens_at.astimezone(dt.UTC).replace(tzinfo=None)
    assert stored_opens == opens - opens.replace(tzinfo=MADRID).utcoffset()
    assert stored_opens != opens

    # The edit page shows the window back in Madrid time.
    body = get_ok(client, url("edition-edit", edition.pk))
    assert f'value="{local(opens)}"' in body

    # Opened for applications.
    post_redirects(client, url("edition-transition", edition.pk, "open"))
    edition.refresh_from_db()
    assert edition.status == EditionStatus.OPEN
    get_ok(client, url("programme-manage", programme.pk), "The edition is now Open for applications.")

    # An anonymous visitor finds it in the catalogue, with every checklist heading and the open edition.
    client.logout()
    body = get_ok(client, url("catalogue"), "Chip design fundamentals")
    assert url("programme-public", "chip-design") in body
    body = get_ok(client, url("programme-public", "chip-design"), "Chip design fundamentals", *PUBLIC_HEADINGS)
    assert "2026-autumn" in body
    assert "Applications open until" in body
    assert "Course CD1" in body and "Course CD2" in body
    assert "Europe/Madrid" in body
