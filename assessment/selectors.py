"""Read-only queries for the assessment pages, each a fixed number of queries whatever the cohort size
(except on resit sheets, where eligibility needs each learner's earlier result)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.core.paginator import Page, Paginator
from django.db.models import Prefetch, Q

from admissions.api import Enrolment
from consortium.api import DomainError, Role, RoleAssignment, policy
from programmes.api import Course, Edition, Programme

from . import services
from .models import Appeal, AppealStatus, Assessment, ConversionTable, Grade, ResultSheet, SheetStatus

#: At most this many cells per grid page: a browser posts one field per cell, and Django refuses a request
#: with more than DATA_UPLOAD_MAX_NUMBER_FIELDS (1,000) fields.
GRID_CELLS_PER_PAGE = 600


def visible_programmes(user):
    return policy.filter(user, "programme.view", Programme.objects.all())


# --- Home, regulations, editions ------------------------------------------------------------------------


def assessment_programmes(user):
    """Programmes in which the user has an assessment role (examiner, team leader, exam board, consortium
    administrator), with their editions."""
    actor = policy.actor_for(user)
    programmes = visible_programmes(user)
    if not actor.is_superuser:
        examined = Course.objects.filter(id__in=actor.targets_with_role(Role.EXAMINER)).values("version__programme")
        programmes = programmes.filter(
            Q(id__in=actor.targets_with_role(Role.TEAM_LEADER, Role.EXAM_BOARD))
            | Q(consortium_id__in=actor.consortia_with_role(Role.CONSORTIUM_ADMIN))
            | Q(id__in=examined)
        )
    return programmes.prefetch_related("texts", Prefetch("editions", Edition.objects.order_by("-starts_on"))).order_by(
        "code"
    )


def regulation_editions(programme: Programme):
    return programme.editions.select_related("exam_regulation__regulation", "curriculum").order_by("-starts_on")


def examiners_by_course(courses) -> dict[Any, list]:
    found: dict[Any, list] = {}
    for assignment in RoleAssignment.objects.filter(
        role=Role.EXAMINER, target_id__in=[c.pk for c in courses]
    ).select_related("user"):
        found.setdefault(assignment.target_id, []).append(assignment.user)
    return found


@dataclass
class CoursePlan:
    course: Course
    assessments: list[Assessment]
    sheets: list[ResultSheet]
    examiners: list
    total_weight: Any


def edition_plan(edition: Edition) -> list[CoursePlan]:
    courses = list(edition.curriculum.courses.select_related("provider").order_by("position"))
    assessments: dict[Any, list[Assessment]] = {}
    for a in Assessment.objects.filter(edition=edition):
        assessments.setdefault(a.course_id, []).append(a)
    sheets: dict[Any, list[ResultSheet]] = {}
    for s in ResultSheet.objects.filter(edition=edition).order_by("attempt"):
        sheets.setdefault(s.course_id, []).append(s)
    examiners = examiners_by_course(courses)
    return [
        CoursePlan(
            course=c,
            assessments=assessments.get(c.pk, []),
            sheets=sheets.get(c.pk, []),
            examiners=examiners.get(c.pk, []),
            total_weight=sum(a.weight for a in assessments.get(c.pk, [])),
        )
        for c in courses
    ]


# --- The grade grid ------------------------------------------------------------------------------------


@dataclass
class GridCell:
    assessment: Assessment
    name: str
    grade: Grade | None
    value: str
    error: str = ""


@dataclass
class GridRow:
    enrolment: Enrolment
    exempted: bool
    cells: list[GridCell] = field(default_factory=list)

    @property
    def errors(self) -> list[str]:
        return [f"{c.assessment.title}: {c.error}" for c in self.cells if c.error]


@dataclass
class Grid:
    sheet: ResultSheet
    assessments: list[Assessment]
    rows: list[GridRow]
    page: Page | None
    table: ConversionTable | None
    problem: str = ""

    @property
    def grades(self) -> tuple[str, ...]:
        return self.table.national_scale.scale.grades if self.table else ()


def _learners(sheet: ResultSheet):
    learners = services.gradable_enrolments(sheet.edition, sheet.course)
    if sheet.attempt > 1:
        learners = learners.filter(pk__in=list(services._resit_eligible(sheet)))
    return learners


def sheet_grid(sheet: ResultSheet, page_number=None) -> Grid:
    """Learners (one page) × the course's assessments, with the current grade of each cell."""
    assessments = list(Assessment.objects.filter(edition=sheet.edition, course=sheet.course))
    table, problem = None, ""
    try:
        table = services._conversion(services.regulation_for(sheet.edition), sheet.course)
    except DomainError as exc:
        problem = exc.message
    per_page = max(10, GRID_CELLS_PER_PAGE // max(1, len(assessments)))
    page = Paginator(_learners(sheet), per_page).get_page(page_number)
    enrolments = list(page.object_list)
    exempted = services.exempted_enrolment_ids(sheet.edition, sheet.course)
    grades = {
        (g.enrolment_id, g.assessment_id): g
        for g in Grade.objects.filter(sheet=sheet, superseded=False, enrolment__in=[e.pk for e in enrolments])
    }
    rows = []
    for enrolment in enrolments:
        row = GridRow(enrolment=enrolment, exempted=enrolment.pk in exempted)
        if not row.exempted:
            for a in assessments:
                grade = grades.get((enrolment.pk, a.pk))
                row.cells.append(
                    GridCell(
                        assessment=a,
                        name=f"g-{enrolment.pk}-{a.pk}",
                        grade=grade,
                        value=grade.national_grade if grade else "",
                    )
                )
        rows.append(row)
    return Grid(sheet=sheet, assessments=assessments, rows=rows, page=page, table=table, problem=problem)


# --- Board ---------------------------------------------------------------------------------------------


def _board_programme_ids(user):
    actor = policy.actor_for(user)
    if actor.is_superuser:
        return Programme.objects.values("id")
    return list(actor.targets_with_role(Role.EXAM_BOARD))


def board_queue(user):
    """Submitted result sheets of the programmes on whose examination board the user sits."""
    return (
        ResultSheet.objects.filter(status=SheetStatus.SUBMITTED, edition__programme_id__in=_board_programme_ids(user))
        .select_related("edition__programme", "course__provider", "submitted_by")
        .prefetch_related("edition__programme__texts")
        .order_by("submitted_at")
    )


def board_appeals(user):
    return (
        Appeal.objects.filter(
            status=AppealStatus.LODGED, grade__sheet__edition__programme_id__in=_board_programme_ids(user)
        )
        .select_related(
            "grade__enrolment__application",
            "grade__assessment",
            "grade__sheet__course",
            "grade__sheet__edition__programme",
        )
        .order_by("created_at")
    )


@dataclass
class ReviewRow:
    enrolment: Enrolment
    exempted: bool
    cells: list[tuple[Assessment, Grade | None]]


def sheet_review(sheet: ResultSheet) -> tuple[list[Assessment], list[ReviewRow], list[Grade]]:
    """Every learner graded on the sheet (all gradable learners on a first attempt), the current grade per
    assessment, and the superseded versions (corrections) newest first."""
    assessments = list(Assessment.objects.filter(edition=sheet.edition, course=sheet.course))
    all_grades = list(
        Grade.objects.filter(sheet=sheet)
        .select_related("entered_by", "assessment", "enrolment__application")
        .order_by("-version")
    )
    current = {(g.enrolment_id, g.assessment_id): g for g in all_grades if not g.superseded}
    graded = {g.enrolment_id for g in all_grades}
    learners = services.gradable_enrolments(sheet.edition, sheet.course)
    if sheet.attempt > 1:
        learners = learners.filter(pk__in=graded)
    exempted = services.exempted_enrolment_ids(sheet.edition, sheet.course)
    rows = [
        ReviewRow(
            enrolment=e,
            exempted=e.pk in exempted,
            cells=[(a, current.get((e.pk, a.pk))) for a in assessments],
        )
        for e in learners
    ]
    history = [g for g in all_grades if g.superseded]
    return assessments, rows, history


def grade_versions(grade: Grade) -> list[Grade]:
    return list(
        Grade.objects.filter(sheet=grade.sheet_id, enrolment=grade.enrolment_id, assessment=grade.assessment_id)
        .select_related("entered_by", "national_scale")
        .order_by("-version")
    )


def class_list(sheet: ResultSheet):
    """Every active learner of the edition (both tracks), for the examiners' class list."""
    return (
        Enrolment.objects.filter(edition=sheet.edition, application__status__in=services.ACTIVE)
        .select_related("application", "learner")
        .order_by("application__family_names", "application__given_names")
    )


def edition_enrolments(edition: Edition):
    """All learners of the edition, to find the learners an uploaded file names (by id or email)."""
    return Enrolment.objects.filter(edition=edition).select_related("application", "learner")
