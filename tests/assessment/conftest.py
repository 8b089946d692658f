"""A cohort ready for grading: programme (3 courses), edition, regulations with conversions, enrolled learners."""

import datetime as dt
from decimal import Decimal as D

import pytest
from django.utils import timezone

from admissions.models import AdmissionFramework, Application, Enrolment
from assessment import services as s
from assessment.grading import numeric_scale, proportional_mapping
from assessment.models import GradingScale
from consortium.models import RoleAssignment
from programmes.models import Course, CurriculumVersion, Edition, Programme, ProgrammePartner, ProgrammeText

from ..factories import StaffFactory, UserFactory


def _scale(name, scale, country=""):
    return GradingScale.objects.create(
        name=name, country=country, grades=list(scale.grades), pass_grade=scale.pass_grade
    )


def grant(user, role, target, institution=None):
    RoleAssignment.objects.create(
        user=user,
        role=role,
        target_id=target.id,
        institution=institution,
        scope_key=RoleAssignment.make_scope_key(institution_id=institution and institution.id, target_id=target.id),
    )


class Cohort:
    pass


@pytest.fixture
def cohort(world):
    w = world
    c = Cohort()
    c.joint = _scale("Joint 0–20", numeric_scale(D("0"), D("20"), D("1"), D("10")))
    c.spain = _scale("Spain 0–10", numeric_scale(D("0"), D("10"), D("0.5"), D("5")), "ES")
    c.germany = _scale("Germany 1.0–5.0", numeric_scale(D("1.0"), D("5.0"), D("0.1"), D("4.0"), descending=True))
    c.programme = Programme.objects.create(
        consortium=w.ca,
        code="grading",
        primary_language="en",
        languages=["en"],
        ects=D("6.0"),
        qualification_type="cmf_micro_credential",
        eqf_level=6,
        delivery_mode="online",
        synchronicity="mixed",
        pacing="cohort",
        duration_weeks=10,
        lead_institution=w.ua,
        issuing_institution=w.ua,
        qa_scheme="ESG",
    )
    ProgrammeText.objects.create(programme=c.programme, language="en", title="Grading", qualification_name="Q")
    ProgrammePartner.objects.create(programme=c.programme, institution=w.ua, role="lead")
    ProgrammePartner.objects.create(programme=c.programme, institution=w.ub, role="partner")
    c.version = CurriculumVersion.objects.create(
        programme=c.programme, number=1, status="approved", required_elective_ects=D("1.0")
    )
    common = {"version": c.version, "assessment_method": "online_exam", "supervision": "supervised_online"}
    c.course_a = Course.objects.create(
        code="A", title="Course A", provider=w.ua, ects=D("3.0"), mandatory=True, position=0, **common
    )
    c.course_b = Course.objects.create(
        code="B", title="Course B", provider=w.ub, ects=D("2.0"), mandatory=True, position=1, **common
    )
    c.course_e = Course.objects.create(
        code="E", title="Elective E", provider=w.ub, ects=D("1.0"), mandatory=False, position=2, **common
    )
    now = timezone.now()
    c.edition = Edition.objects.create(
        programme=c.programme,
        intake_code="2026",
        application_opens_at=now,
        application_closes_at=now + dt.timedelta(days=1),
        starts_on=dt.date(2026, 9, 1),
        ends_on=dt.date(2027, 1, 31),
        curriculum=c.version,
        status="running",
    )
    AdmissionFramework.objects.create(edition=c.edition, reviewing_institution=w.ub)
    # People: team leader (UA), examiners (UA for A; UB for B and E), exam board member (UB).
    c.leader = StaffFactory(institution=w.ua).user
    grant(c.leader, "team_leader", c.programme, w.ua)
    c.examiner_ua = StaffFactory(institution=w.ua).user
    grant(c.examiner_ua, "examiner", c.course_a, w.ua)
    c.examiner_ub = StaffFactory(institution=w.ub).user
    for course in (c.course_b, c.course_e):
        grant(c.examiner_ub, "examiner", course, w.ub)
    c.board = StaffFactory(institution=w.ub).user
    grant(c.board, "exam_board", c.programme, w.ub)
    # Regulations: joint 0–20, UA grades on the German scale, UB on the Spanish scale.
    c.regulation = s.regulation_create(actor=c.leader, programme=c.programme, data={"joint_scale": c.joint})
    s.conversion_set(
        actor=c.leader,
        regulation=c.regulation,
        institution=w.ua,
        national_scale=c.germany,
        mapping=proportional_mapping(c.germany.scale, c.joint.scale),
    )
    s.conversion_set(
        actor=c.leader,
        regulation=c.regulation,
        institution=w.ub,
        national_scale=c.spain,
        mapping=proportional_mapping(c.spain.scale, c.joint.scale),
    )
    c.regulation = s.regulation_approve(actor=c.board, regulation=c.regulation)
    s.edition_regulation_set(actor=c.leader, edition=c.edition, regulation=c.regulation)
    c.exam_a = s.assessment_save(
        actor=c.leader,
        edition=c.edition,
        course=c.course_a,
        data={"title": "Exam", "method": "online_exam", "weight": D("60"), "supervision": "supervised_online"},
    )
    c.project_a = s.assessment_save(
        actor=c.leader,
        edition=c.edition,
        course=c.course_a,
        data={"title": "Project", "method": "assignment", "weight": D("40"), "supervision": "unsupervised"},
    )
    c.exam_b = s.assessment_save(
        actor=c.leader,
        edition=c.edition,
        course=c.course_b,
        data={"title": "Exam", "method": "online_exam", "weight": D("100"), "supervision": "supervised_online"},
    )
    c.exam_e = s.assessment_save(
        actor=c.leader,
        edition=c.edition,
        course=c.course_e,
        data={"title": "Essay", "method": "assignment", "weight": D("100"), "supervision": "unsupervised"},
    )
    c.enrolments = [enrol(c.edition, i) for i in range(3)]
    return c


def enrol(edition, index, track="assessed"):
    learner = UserFactory()
    application = Application.objects.create(
        edition=edition,
        applicant=learner,
        status="enrolled",
        given_names=f"Learner{index}",
        family_names="Test",
        email=learner.email,
        track=track,
    )
    return Enrolment.objects.create(
        application=application, edition=edition, learner=learner, enrolled_at=timezone.now()
    )
