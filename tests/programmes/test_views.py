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
    post_redirects(client, url("board-appoint", programme.pk), {"email": board_member.email, "role": "programme_board"})
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


# --- 2. Refusals are shown, never a crash ----------------------------------------------------------------


def test_submitting_a_curriculum_whose_ects_do_not_add_up_shows_why_and_stays_draft(client, world):
    programme = make_programme(world)
    version = programme.curricula.get()
    add_course(world, version, "CD1", world.ua, 3)
    login(client, world, "UA_staff")
    body = get_ok(client, url("curriculum", version.pk), "does not match", "Before it can be submitted:")
    assert 'disabled aria-disabled="true"' in body

    response = client.post(url("curriculum-submit", version.pk), follow=True)

    assert response.redirect_chain == [(url("curriculum", version.pk), 302)]
    assert shows(response, "The curriculum cannot be submitted yet.")
    assert shows(
        response, "Mandatory ECTS (3.0) plus required elective ECTS (0.0) make 3.0; the programme has 5.0 ECTS."
    )
    version.refresh_from_db()
    assert version.status == CurriculumStatus.DRAFT
    assert version.submitted_at is None
    assert not AuditEvent.objects.filter(action="curriculum.submitted").exists()


def test_a_programme_whose_ects_do_not_fit_its_type_is_refused_on_the_ects_field(client, world):
    login(client, world, "UA_staff")

    response = client.post(url("programme-create"), create_post(world, ects="7"))

    assert response.status_code == 200
    errors = form_errors(response)
    assert list(errors) == ["ects"]
    assert "does not fit a cmf micro-credential programme" in errors["ects"][0]
    assert shows(response, errors["ects"][0])
    assert 'value="chip-design"' in page(response)  # what was typed is kept
    assert not Programme.objects.exists()
    assert not ProgrammeText.objects.exists()
    assert not AuditEvent.objects.filter(action="programme.created").exists()


def test_the_basics_section_refuses_ects_that_do_not_fit_the_type_and_keeps_the_programme(client, world):
    programme = make_programme(world)
    login(client, world, "UA_staff")
    data = {
        "code": programme.code,
        "agreement": "",
        "lead_institution": world.ua.pk,
        "issuing_institution": world.ua.pk,
        "ects": "7",
        "qualification_type": "cmf_micro_credential",
        "eqf_level": "6",
        "qf_ehea_cycle": "",
        "award_kind": "joint",
    }

    response = client.post(url("programme-section", programme.pk, "basics"), data)

    assert response.status_code == 200
    assert "does not fit" in form_errors(response)["ects"][0]
    programme.refresh_from_db()
    assert programme.ects == D("5.0")
    # The same volume with the type it fits is accepted.
    post_redirects(
        client, url("programme-section", programme.pk, "basics"), {**data, "qualification_type": "short_programme"}
    )
    programme.refresh_from_db()
    assert (programme.ects, programme.qualification_type) == (D("7.0"), "short_programme")


def edition_post(version: CurriculumVersion, **overrides) -> dict:
    now = timezone.now().astimezone(MADRID).replace(tzinfo=None, second=0, microsecond=0)
    data = {
        "intake_code": "2027-spring",
        "time_zone": "Europe/Madrid",
        "application_opens_at": local(now - dt.timedelta(days=1)),
        "application_closes_at": local(now + dt.timedelta(days=30)),
        "starts_on": (now + dt.timedelta(days=40)).date().isoformat(),
        "ends_on": (now + dt.timedelta(days=120)).date().isoformat(),
        "capacity": "25",
        "curriculum": version.pk,
        "fee_table_reference": "",
    }
    data.update(overrides)
    return data


def test_an_edition_needs_an_approved_curriculum(client, world):
    programme = make_programme(world)
    draft = programme.curricula.get()
    login(client, world, "UA_staff")

    response = client.post(url("edition-create", programme.pk), edition_post(draft))

    assert response.status_code == 200
    assert form_errors(response)["curriculum"] == ["An edition runs an approved curriculum; none is approved yet."]
    assert shows(response, "An edition runs an approved curriculum; none is approved yet.")
    assert not Edition.objects.exists()


def test_an_edition_cannot_run_a_draft_version_when_an_approved_one_exists(client, world):
    programme = make_programme(world)
    approved = approve_v1(world, programme)
    draft = services.curriculum_version_start(actor=fresh(world.people["UA_staff"]), programme=programme)
    login(client, world, "UA_staff")
    body = get_ok(client, url("edition-create", programme.pk))
    assert f'value="{approved.pk}"' in body
    assert f'value="{draft.pk}"' not in body  # only approved versions are offered

    response = client.post(url("edition-create", programme.pk), edition_post(draft))

    assert response.status_code == 200
    message = "An edition runs an approved curriculum version of its programme; choose one of the list."
    assert form_errors(response)["curriculum"] == [message]
    assert shows(response, message)
    assert not Edition.objects.exists()
    post_redirects(client, url("edition-create", programme.pk), edition_post(approved))
    assert Edition.objects.get().curriculum == approved


def test_an_edition_whose_applications_close_before_they_open_is_refused(client, world):
    programme = make_programme(world)
    version = approve_v1(world, programme)
    login(client, world, "UA_staff")
    data = edition_post(version, application_opens_at="2027-01-15T09:00", application_closes_at="2027-01-10T17:00")

    response = client.post(url("edition-create", programme.pk), data)

    assert response.status_code == 200
    assert form_errors(response)["application_closes_at"] == ["Applications must close after they open."]
    assert shows(response, "Applications must close after they open.")
    assert not Edition.objects.exists()


def test_an_edition_that_ends_before_it_starts_is_refused(client, world):
    programme = make_programme(world)
    version = approve_v1(world, programme)
    login(client, world, "UA_staff")
    data = edition_post(version, starts_on="2027-03-01", ends_on="2027-02-01")

    response = client.post(url("edition-create", programme.pk), data)

    assert response.status_code == 200
    assert "ends_on" in form_errors(response)
    assert not Edition.objects.exists()


@pytest.mark.parametrize("server_zone", ["UTC", "America/New_York", "Asia/Tokyo"])
def test_the_application_window_is_read_in_the_editions_time_zone_whatever_the_servers(
    client, world, settings, server_zone
):
    settings.TIME_ZONE = server_zone
    programme = make_programme(world)
    version = approve_v1(world, programme)
    login(client, world, "UA_staff")
    data = edition_post(
        version,
        application_opens_at="2026-01-10T09:00",
        application_closes_at="2026-02-20T18:30",
        starts_on="2026-03-02",
        ends_on="2026-05-29",
    )

    post_redirects(client, url("edition-create", programme.pk), data)

    edition = Edition.objects.get()
    assert edition.application_opens_at == dt.datetime(2026, 1, 10, 8, 0, tzinfo=dt.UTC)  # CET is UTC+1
    assert edition.application_closes_at == dt.datetime(2026, 2, 20, 17, 30, tzinfo=dt.UTC)
    # And the edit form shows them back as typed.
    body = get_ok(client, url("edition-edit", edition.pk))
    assert 'value="2026-01-10T09:00"' in body and 'value="2026-02-20T18:30"' in body


def submitted_v1(world, programme: Programme) -> CurriculumVersion:
    version = programme.curricula.get()
    add_course(world, version, "CD1", world.ua, 3)
    add_course(world, version, "CD2", world.ub, 2)
    return services.curriculum_submit(actor=fresh(world.people["UA_staff"]), version=version)


def test_a_board_member_returning_a_curriculum_without_comments_gets_an_error(client, world):
    programme = make_programme(world)
    version = submitted_v1(world, programme)
    appoint_board(world, programme)
    login(client, world, "UB_staff")

    response = client.post(url("curriculum-decide", version.pk), {"decision": "return", "comment": "  "})

    assert response.status_code == 200
    assert shows(response, "Say what must change: comments are required when returning a curriculum.")
    version.refresh_from_db()
    assert version.status == CurriculumStatus.SUBMITTED
    assert version.decided_at is None

    post_redirects(client, url("curriculum-decide", version.pk), {"decision": "return", "comment": "Add a lab."})
    version.refresh_from_db()
    assert (version.status, version.decision_comment) == (CurriculumStatus.RETURNED, "Add a lab.")
    login(client, world, "UA_staff")
    get_ok(client, url("curriculum", version.pk), "Board comments", "Add a lab.", "Add a course")


def test_a_decision_needs_a_choice(client, world):
    programme = make_programme(world)
    version = submitted_v1(world, programme)
    appoint_board(world, programme)
    login(client, world, "UB_staff")

    response = client.post(url("curriculum-decide", version.pk), {"comment": "Looks fine"})

    assert response.status_code == 200
    assert "decision" in form_errors(response)
    version.refresh_from_db()
    assert version.status == CurriculumStatus.SUBMITTED


def test_an_approved_version_is_frozen_in_the_pages(client, world):
    programme = make_programme(world)
    version = approve_v1(world, programme)
    course = version.courses.get(code="CD1")
    login(client, world, "UA_staff")

    body = get_ok(client, url("curriculum", version.pk), "Course CD1")
    assert url("course-add", version.pk) not in body
    assert url("course-edit", course.pk) not in body
    assert url("course-remove", course.pk) not in body
    assert "Submit to the programme board" not in body

    response = client.post(url("course-add", version.pk), course_post("CD3", world.ua, 1))
    assert response.status_code == 200
    assert shows(response, "Curriculum v1 is Approved and frozen; start a new version to change it.")
    assert not version.courses.filter(code="CD3").exists()

    response = client.post(url("course-edit", course.pk), course_post("CD1", world.ua, 4))
    assert response.status_code == 200
    assert shows(response, "start a new version to change it")

    response = client.post(url("course-remove", course.pk), follow=True)
    assert shows(response, "Curriculum v1 is Approved and frozen; start a new version to change it.")
    assert version.courses.count() == 2
    course.refresh_from_db()
    assert course.ects == D("3.0")


def test_starting_a_second_open_version_is_refused_with_a_message(client, world):
    programme = make_programme(world)
    login(client, world, "UA_staff")

    response = client.post(url("curriculum-start", programme.pk), follow=True)

    assert response.redirect_chain == [(url("programme-manage", programme.pk), 302)]
    assert shows(response, "Curriculum v1 is still Draft; finish it first.")
    assert programme.curricula.count() == 1


def test_publishing_an_incomplete_programme_shows_what_is_missing(client, world):
    programme = make_programme(world)
    login(client, world, "UA_staff")
    body = get_ok(client, url("programme-manage", programme.pk), "Before it can be published:")
    assert 'disabled aria-disabled="true"' in body

    response = client.post(url("programme-publish", programme.pk), follow=True)

    assert response.status_code == 200
    assert shows(response, "The programme cannot be published yet.")
    assert "Learning outcomes" in page(response) and "An approved curriculum" in page(response)
    programme.refresh_from_db()
    assert programme.status == ProgrammeStatus.DRAFT


GARBAGE_PAGES = [
    "/manage/programmes/{}/",
    "/manage/programmes/{}/section/basics/",
    "/manage/programmes/{}/texts/en/",
    "/manage/programmes/{}/partners/add/",
    "/manage/programmes/{}/stacking/",
    "/manage/programmes/{}/team/",
    "/manage/programmes/{}/clone/",
    "/manage/programmes/{}/editions/new/",
    "/manage/curricula/{}/",
    "/manage/curricula/{}/diff/",
    "/manage/curricula/{}/courses/add/",
    "/manage/courses/{}/edit/",
    "/manage/editions/{}/edit/",
    "/manage/editions/{}/clone/",
]
GARBAGE_ACTIONS = [
    "/manage/programmes/{}/publish/",
    "/manage/programmes/{}/curricula/new/",
    "/manage/curricula/{}/submit/",
    "/manage/curricula/{}/decide/",
    "/manage/courses/{}/remove/",
    "/manage/outcomes/{}/remove/",
    "/manage/programme-partners/{}/remove/",
    "/manage/team/{}/remove/",
    "/manage/tasks/{}/done/",
    "/manage/editions/{}/open/",
]


@pytest.mark.parametrize("pk", ["not-a-uuid", "12345", str(MISSING)])
def test_garbage_ids_give_404(client, world, pk):
    make_programme(world)
    login(client, world, "superuser")
    for path in GARBAGE_PAGES:
        assert client.get(path.format(pk)).status_code == 404, path
    for path in GARBAGE_ACTIONS:
        assert client.post(path.format(pk)).status_code == 404, path


def test_unknown_section_language_and_transition_give_404(client, world):
    programme = make_programme(world)
    version = approve_v1(world, programme)
    edition = EditionFactory(programme=programme, curriculum=version)
    login(client, world, "UA_staff")

    assert client.get(url("programme-section", programme.pk, "finances")).status_code == 404
    assert client.post(url("programme-section", programme.pk, "finances"), {"ects": "1"}).status_code == 404
    assert client.get(url("programme-texts", programme.pk, "fr")).status_code == 404  # not in its languages
    assert client.get(url("programme-texts", programme.pk, "klingon")).status_code == 404
    assert client.post(url("edition-transition", edition.pk, "reopen")).status_code == 404
    edition.refresh_from_db()
    assert edition.status == EditionStatus.PLANNED
    # The known ones answer.
    assert client.get(url("programme-section", programme.pk, "quality")).status_code == 200
    assert client.post(url("edition-transition", edition.pk, "close")).status_code == 302


def test_an_illegal_edition_transition_is_a_message(client, world):
    programme = make_programme(world)
    version = approve_v1(world, programme)
    edition = EditionFactory(programme=programme, curriculum=version)
    login(client, world, "UA_staff")

    response = client.post(url("edition-transition", edition.pk, "open"), follow=True)  # the programme is a draft

    assert shows(response, "Publish the programme before opening an edition for applications.")
    response = client.post(url("edition-transition", edition.pk, "start"), follow=True)
    assert shows(response, "The edition is Planned; it cannot become Running.")
    edition.refresh_from_db()
    assert edition.status == EditionStatus.PLANNED


# --- 3. Who may do what ----------------------------------------------------------------------------------


def test_staff_of_another_consortium_get_404_on_the_programmes_pages(client, world):
    programme = make_programme(world)
    version = approve_v1(world, programme)
    edition = EditionFactory(programme=programme, curriculum=version)
    course = version.courses.first()
    outcome = LearningOutcome.objects.create(programme=programme, category="knowledge", text="Explain")
    login(client, world, "UC_staff")

    pages = [
        url("programme-manage", programme.pk),
        url("programme-section", programme.pk, "basics"),
        url("programme-texts", programme.pk, "en"),
        url("programme-team", programme.pk),
        url("programme-stacking", programme.pk),
        url("curriculum", version.pk),
        url("curriculum-diff", version.pk),
        url("course-edit", course.pk),
        url("edition-edit", edition.pk),
    ]
    for path in pages:
        assert client.get(path).status_code == 404, path
    actions = [
        url("programme-publish", programme.pk),
        url("curriculum-start", programme.pk),
        url("outcome-remove", outcome.pk),
        url("course-remove", course.pk),
        url("edition-transition", edition.pk, "close"),
    ]
    for path in actions:
        assert client.post(path).status_code == 404, path
    assert LearningOutcome.objects.filter(pk=outcome.pk).exists()
    edition.refresh_from_db()
    assert edition.status == EditionStatus.PLANNED
    body = get_ok(client, url("programme-list"))
    assert programme.code not in body
    # Staff of a partner see the programme (read-only).
    login(client, world, "UB_staff")
    body = get_ok(client, url("programme-manage", programme.pk), "Chip design")
    assert url("programme-section", programme.pk, "basics") not in body
    assert client.get(url("programme-section", programme.pk, "basics")).status_code == 403


def test_a_team_member_edits_but_cannot_publish_or_manage_the_team(client, world):
    programme = make_programme(world)
    member = world.people["UB_staff"]
    login(client, world, "UA_staff")
    get_ok(client, url("team-add", programme.pk), "Add a team member")
    post_redirects(client, url("team-add", programme.pk), {"email": member.email, "role": "member"})
    assert TeamMember.objects.get(programme=programme, user=member).role == "member"
    leader_row = TeamMember.objects.get(programme=programme, role="leader")

    login(client, world, "UB_staff")
    body = get_ok(client, url("programme-manage", programme.pk))
    assert url("programme-publish", programme.pk) not in body
    get_ok(client, url("programme-section", programme.pk, "quality"))  # a member does edit
    assert client.post(url("programme-publish", programme.pk)).status_code == 403
    assert client.post(url("programme-archive", programme.pk)).status_code == 403
    assert client.get(url("team-add", programme.pk)).status_code == 403
    assert client.post(url("team-add", programme.pk), {"email": "x@example.org", "role": "member"}).status_code == 403
    assert client.post(url("team-remove", leader_row.pk)).status_code == 403
    assert client.post(url("curriculum-submit", programme.curricula.get().pk)).status_code == 403
    assert client.get(url("edition-create", programme.pk)).status_code == 403
    body = get_ok(client, url("programme-team", programme.pk))
    assert url("team-add", programme.pk) not in body
    assert TeamMember.objects.filter(pk=leader_row.pk).exists()
    programme.refresh_from_db()
    assert programme.status == ProgrammeStatus.DRAFT


def test_the_team_leader_cannot_approve_even_when_appointed_to_the_board(client, world):
    programme = make_programme(world)
    version = submitted_v1(world, programme)
    login(client, world, "UA_staff")
    body = get_ok(client, url("curriculum", version.pk))
    assert "Record the decision" not in body
    assert client.get(url("curriculum-decide", version.pk)).status_code == 403
    assert client.post(url("curriculum-decide", version.pk), {"decision": "approve"}).status_code == 403
    # UA is a participating institution, so its staff may sit on the board; the leader still does not decide.
    appoint_board(world, programme, who="UA_staff")
    assert client.post(url("curriculum-decide", version.pk), {"decision": "approve"}).status_code == 403
    version.refresh_from_db()
    assert version.status == CurriculumStatus.SUBMITTED


def test_only_the_consortium_admin_appoints_board_members(client, world):
    programme = make_programme(world)
    login(client, world, "UA_staff")
    assert client.get(url("board-appoint", programme.pk)).status_code == 403
    login(client, world, "CA_admin")
    response = client.post(
        url("board-appoint", programme.pk), {"email": world.people["UC_staff"].email, "role": "programme_board"}
    )
    assert response.status_code == 200
    assert shows(response, "Board members are staff of a participating institution.")
    assert not RoleAssignment.objects.filter(role="programme_board").exists()


def test_a_partners_staff_member_drafts_a_programme_naming_the_lead_universitys_leader(client, world):
    login(client, world, "UB_staff")
    get_ok(client, url("programme-create"), "Team leader")
    data = create_post(world, partners=[world.ub.pk])

    response = client.post(url("programme-create"), data)
    assert response.status_code == 200
    assert form_errors(response) == {
        "leader_email": ["You are not staff of UA: name the staff member of it who leads the team."]
    }
    response = client.post(url("programme-create"), {**data, "leader_email": "nobody@example.org"})
    assert form_errors(response) == {
        "leader_email": ["No account uses nobody@example.org; the person must have an account first."]
    }
    response = client.post(url("programme-create"), {**data, "leader_email": world.people["UC_staff"].email})
    assert shows(response, "The team leader must be a staff member of the lead institution.")
    assert not Programme.objects.exists()

    leader = world.people["UA_staff"]
    location = post_redirects(client, url("programme-create"), {**data, "leader_email": leader.email.upper()})

    programme = Programme.objects.get()
    assert location == url("programme-manage", programme.pk)
    assert [(m.user, m.role) for m in programme.team.all()] == [(leader, "leader")]
    assert set(programme.partners.values_list("institution__short_name", flat=True)) == {"UA", "UB"}
    get_ok(client, location, "Programme drafted.")  # UB takes part, so its author sees it
    assert client.get(url("programme-section", programme.pk, "basics")).status_code == 403  # … but does not edit


def test_a_learner_cannot_draft_a_programme(client, world):
    login(client, world, "learner")
    assert client.get(url("programme-create")).status_code == 403
    assert client.post(url("programme-create"), create_post(world)).status_code == 403
    assert not Programme.objects.exists()
    assert client.get(url("board-queue")).status_code == 403


def test_anonymous_visitors_are_sent_to_log_in(client, world):
    programme = make_programme(world)
    for path in [url("programme-list"), url("programme-create"), url("programme-manage", programme.pk)]:
        response = client.get(path)
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("account_login"))


def test_the_board_queue_leaves_out_curricula_the_member_may_not_decide(client, world):
    own = make_programme(world, code="own")
    other = make_programme(world, code="other")
    own_version, other_version = submitted_v1(world, own), submitted_v1(world, other)
    appoint_board(world, own, who="UA_staff")  # the leader of "own" also sits on its board …
    appoint_board(world, other, who="UA_staff")  # … and on the board of "other", which UA_staff does not lead
    TeamMember.objects.filter(programme=other).delete()
    RoleAssignment.objects.filter(role="team_leader", target_id=other.pk).delete()
    login(client, world, "UA_staff")

    body = get_ok(client, url("board-queue"))

    assert url("curriculum", other_version.pk) in body
    assert url("curriculum", own_version.pk) not in body


# --- 4. Curriculum versions compared -------------------------------------------------------------------


def test_the_diff_page_shows_added_removed_and_changed_courses(client, world):
    programme = make_programme(world)
    v1 = approve_v1(world, programme)
    login(client, world, "UA_staff")

    location = post_redirects(client, url("curriculum-start", programme.pk))
    v2 = programme.curricula.get(number=2)
    assert location == url("curriculum", v2.pk)
    assert v2.based_on == v1 and v2.status == CurriculumStatus.DRAFT
    assert sorted(v2.courses.values_list("code", flat=True)) == ["CD1", "CD2"]
    cd1, cd2 = v2.courses.get(code="CD1"), v2.courses.get(code="CD2")
    get_ok(client, url("course-edit", cd1.pk), "Edit CD1 Course CD1")
    post_redirects(client, url("course-edit", cd1.pk), course_post("CD1", world.ua, 2, title="Chip architecture"))
    post_redirects(client, url("course-add", v2.pk), course_post("CD3", world.ub, 1, title="Verification lab"))
    post_redirects(client, url("course-remove", cd2.pk))
    post_redirects(client, url("course-add", v2.pk), course_post("CD4", world.ua, 2))
    assert v1.courses.count() == 2  # the approved version did not move

    body = get_ok(client, url("curriculum-diff", v2.pk), "Changes in v2", "compared with v1")
    added = re.search(r"<h2>Added</h2><ul>(.*?)</ul>", body, re.S).group(1)
    removed = re.search(r"<h2>Removed</h2><ul>(.*?)</ul>", body, re.S).group(1)
    changed = re.search(r"<h2>Changed</h2>(.*?)</table>", body, re.S).group(1)
    assert "CD3" in added and "Verification lab" in added and "CD4" in added
    assert "CD2" in removed and "CD1" not in removed
    assert "CD1" in changed and "3.0" in changed and "2.0" in changed and "Chip architecture" in changed
    assert "CD3" not in changed and "CD2" not in changed
    # The curriculum page links to the comparison once there are two versions.
    get_ok(client, url("curriculum", v2.pk), "Compare versions")
    # v1 compared explicitly with v2 shows the reverse.
    body = get_ok(client, url("curriculum-diff", v1.pk) + f"?with={v2.pk}", "Changes in v1", "compared with v2")
    assert "CD2" in re.search(r"<h2>Added</h2><ul>(.*?)</ul>", body, re.S).group(1)
    # A malformed or foreign ``with`` falls back to the default comparison.
    other = make_programme(world, code="other")
    for value in ["garbage", str(other.curricula.get().pk)]:
        get_ok(client, url("curriculum-diff", v2.pk) + f"?with={value}", "compared with v1")


def test_the_diff_page_of_a_lone_version_says_there_is_nothing_to_compare(client, world):
    programme = make_programme(world)
    login(client, world, "UA_staff")
    get_ok(client, url("curriculum-diff", programme.curricula.get().pk), "There is no other version to compare with.")


# --- 5. Cloning ------------------------------------------------------------------------------------------


def test_clone_a_programme_through_its_page(client, world):
    programme = make_programme(world)
    approve_v1(world, programme)
    services.outcome_add(actor=fresh(world.people["UA_staff"]), programme=programme, category="skills", text="Lay out")
    login(client, world, "UA_staff")
    get_ok(client, url("programme-clone", programme.pk), "Copy this programme")

    response = client.post(url("programme-clone", programme.pk), {"code": programme.code})
    assert response.status_code == 200
    assert "code" in form_errors(response)  # the code is taken

    location = post_redirects(client, url("programme-clone", programme.pk), {"code": "chip-design-2"})
    clone = Programme.objects.get(code="chip-design-2")
    assert location == url("programme-manage", clone.pk)
    assert clone.status == ProgrammeStatus.DRAFT
    assert clone.texts.get().title == "Chip design"
    assert list(clone.outcomes.values_list("text", flat=True)) == ["Lay out"]
    assert set(clone.partners.values_list("institution__short_name", flat=True)) == {"UA", "UB"}
    version = clone.curricula.get()
    assert version.status == CurriculumStatus.DRAFT
    assert sorted(version.courses.values_list("code", flat=True)) == ["CD1", "CD2"]
    assert clone.team.get(role="leader").user == world.people["UA_staff"]
    get_ok(client, location, "Programme copied.")


def test_clone_an_edition_through_its_page(client, world):
    programme = make_programme(world)
    version = approve_v1(world, programme)
    edition = EditionFactory(programme=programme, curriculum=version, intake_code="2026-autumn")
    login(client, world, "UA_staff")
    get_ok(client, url("edition-clone", edition.pk), "Copy this edition for another intake")

    response = client.post(url("edition-clone", edition.pk), {"intake_code": "2026-autumn", "shift_days": "365"})
    assert response.status_code == 200
    assert shows(response, "Edition with this Programme and Intake code already exists.")
    assert programme.editions.count() == 1

    post_redirects(client, url("edition-clone", edition.pk), {"intake_code": "2027-autumn", "shift_days": "365"})
    copy = Edition.objects.get(intake_code="2027-autumn")
    assert copy.status == EditionStatus.PLANNED
    assert copy.curriculum == version
    assert copy.starts_on == edition.starts_on + dt.timedelta(days=365)
    assert copy.application_closes_at == edition.application_closes_at + dt.timedelta(days=365)
    assert copy.time_zone == edition.time_zone and copy.capacity == edition.capacity
    get_ok(client, url("programme-manage", programme.pk), "Edition copied with its dates shifted.", "2027-autumn")


# --- 6. Queries per page do not grow with the rows -----------------------------------------------------


def count_queries(client, path: str) -> int:
    client.get(path)  # warm up: session, caches
    with CaptureQueriesContext(connection) as queries:
        response = client.get(path)
    assert response.status_code == 200
    return len(queries)


def test_the_programme_list_uses_a_constant_number_of_queries(client, world, django_assert_max_num_queries):
    for _ in range(3):
        ProgrammeFactory(consortium=world.ca, lead_institution=world.ua)
    login(client, world, "UA_staff")
    few = count_queries(client, url("programme-list"))
    for _ in range(17):
        ProgrammeFactory(consortium=world.ca, lead_institution=world.ua)

    with django_assert_max_num_queries(few):
        response = client.get(url("programme-list"))

    assert page(response).count('<tr><td><a href="/manage/programmes/') == 20


def test_the_curriculum_page_uses_a_constant_number_of_queries(client, world, django_assert_max_num_queries):
    programme = make_programme(world)
    version = programme.curricula.get()
    for n in range(3):
        CourseFactory(version=version, provider=world.ua if n % 2 else world.ub)
    login(client, world, "UA_staff")
    few = count_queries(client, url("curriculum", version.pk))
    for n in range(22):
        CourseFactory(version=version, provider=world.ua if n % 2 else world.ub)

    with django_assert_max_num_queries(few):
        response = client.get(url("curriculum", version.pk))

    assert page(response).count("/edit/") == 25


def test_the_board_queue_uses_a_constant_number_of_queries(client, world, django_assert_max_num_queries):
    member = world.people["UB_staff"]

    def submitted_programme():
        programme = ProgrammeFactory(consortium=world.ca, lead_institution=world.ua)
        CurriculumVersionFactory(programme=programme, number=1, status="submitted", submitted_at=timezone.now())
        RoleAssignmentFactory(user=member, role="programme_board", institution=world.ub, target_id=programme.pk)

    for _ in range(2):
        submitted_programme()
    login(client, world, "UB_staff")
    few = count_queries(client, url("board-queue"))
    for _ in range(13):
        submitted_programme()

    with django_assert_max_num_queries(few):
        response = client.get(url("board-queue"))

    assert page(response).count('href="/manage/curricula/') == 15


# --- 7. The curriculum editor's live totals --------------------------------------------------------------


def test_the_curriculum_page_has_the_live_totals_hooks(client, world):
    programme = make_programme(world)
    version = programme.curricula.get()
    add_course(world, version, "CD1", world.ua, 3)
    add_course(world, version, "CD9", world.ub, 4, mandatory=False)
    login(client, world, "UA_staff")

    body = get_ok(client, url("curriculum", version.pk))

    totals = re.search(r'<section[^>]*id="totals"[^>]*>', body).group(0)
    assert 'data-mandatory="3.0"' in totals
    assert 'data-target="5.0"' in totals
    assert 'data-elective-required="0.0"' in totals
    assert "data-projection" in body
    assert re.search(r'<script src="/static/js/curriculum\.js[^"]*" defer>', body)
    assert 'name="ects"' in body and 'name="mandatory"' in body  # what the script listens to

    body = get_ok(client, url("course-edit", version.courses.get(code="CD1").pk))
    assert 'data-editing-ects="3.0"' in body and 'data-editing-mandatory="1"' in body
    assert "js/curriculum.js" in body and "data-projection" in body
