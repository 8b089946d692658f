"""Fixtures for the certification tests (fixtures only: test modules keep their own helpers).

``cohort`` is the assessment cohort (programme "grading" of UA + UB in consortium CA, three enrolled learners,
examiners, an examination board member at UB), re-exported so certification tests build on it.
"""

import pytest

from assessment import services as assessment_services
from consortium.models import Membership
from programmes.models import LearningOutcome, ProgrammePartner

from ..assessment.conftest import cohort  # noqa: F401  (re-exported fixture)
from ..factories import InstitutionFactory


@pytest.fixture
def awardable(cohort, world):  # noqa: F811
    """The cohort with every mandatory EU element filled in and every learner's grades entered, submitted and
    approved by the board (all pass): ``award_decide(actor=c.board, enrolment=...)`` issues a credential."""
    c = cohort
    p = c.programme
    p.qa_scheme = "Internal QA of the lead university under ESG 2015, with an annual programme review"
    p.participation_form = "Online, individual study with weekly live seminars"
    p.save()
    c.course_e.assessment_method = "assignment"
    c.course_e.save()
    c.outcomes = [
        LearningOutcome.objects.create(programme=p, category="knowledge", position=0,
                                       text="Explains grading systems across European countries"),
        LearningOutcome.objects.create(programme=p, category="skills", position=1,
                                       text="Converts national grades to a joint scale"),
    ]
    rows = {c.course_a: [], c.course_b: [], c.course_e: []}
    for enrolment in c.enrolments:
        rows[c.course_a] += [(enrolment, c.exam_a, "2.0"), (enrolment, c.project_a, "1.7")]
        rows[c.course_b].append((enrolment, c.exam_b, "7.5"))
        rows[c.course_e].append((enrolment, c.exam_e, "6.0"))
    for course, course_rows in rows.items():
        examiner = c.examiner_ua if course == c.course_a else c.examiner_ub
        sheet = assessment_services.sheet_for(edition=c.edition, course=course, attempt=1)
        assessment_services.grades_enter(actor=examiner, sheet=sheet, rows=course_rows)
        assessment_services.sheet_submit(actor=examiner, sheet=sheet)
        assessment_services.sheet_approve(actor=c.board, sheet=sheet)
    return c


@pytest.fixture
def third_university(awardable, world):
    """A third university (UD, Germany) joins consortium CA and the programme as a partner: three awarding
    bodies. Also available as ``world.ud`` and ``awardable.ud``."""
    ud = InstitutionFactory(short_name="UD", legal_name="Universität Dortmund-Süd", country="DE", city="Dortmund",
                            signatory_name="Prof. Dr. Hanne Vogt", signatory_title="Rektorin")
    Membership.objects.create(consortium=world.ca, institution=ud, role="partner", joined_on="2025-01-01")
    ProgrammePartner.objects.create(programme=awardable.programme, institution=ud, role="partner")
    world.ud = awardable.ud = ud
    return ud


@pytest.fixture
def render_all():
    """``render_all(credential)`` runs the render task once for each of its documents, as a worker would (in tests
    the on-commit enqueue never fires), and returns the documents, refreshed, ordered by kind and slot."""
    from certification.tasks import render_document

    def run(credential):
        for document in credential.documents.all():
            render_document.apply(args=[str(document.pk)], throw=False)  # a failed document stays failed
        return list(credential.documents.select_related("institution").order_by("kind", "slot"))

    return run
