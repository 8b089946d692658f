"""Assessment: regulations and conversions, grade entry, board approval and locking, corrections, resits,
appeals, and the award-eligibility function certification calls.

Grade entry is all-or-nothing: every row is validated first (grade on the right scale, learner enrolled,
not exempted, sheet open) and the whole batch is saved in one transaction with bulk queries.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from admissions.api import ApplicationStatus, Enrolment, ExemptionRequest, ExemptionStatus, Track
from consortium.api import DomainError, Institution, TransitionError, User, audit, feed, policy, role_grant
from programmes.api import Course, Edition, Programme

from .grading import conversion_problems, normalise
from .models import (
    Appeal,
    AppealStatus,
    Assessment,
    ConversionTable,
    EditionRegulation,
    ExamRegulation,
    FinalResultRule,
    Grade,
    GradingScale,
    RegulationStatus,
    ResitScope,
    ResultSheet,
    SheetStatus,
)
from .policy_rules import RUNS_THE_PROGRAMME

REGULATION_FIELDS = (
    "joint_scale",
    "resits_allowed",
    "final_result",
    "resit_scope",
    "minimum_average",
    "appeals_days",
    "organisation",
)
ACTIVE = (ApplicationStatus.ENROLLED, ApplicationStatus.SUSPENDED, ApplicationStatus.COMPLETED)


def _record(
    actor, action: str, obj, programme: Programme, changes: Mapping[str, Any] | None = None, institution_id=None
) -> None:
    audit.record(actor, action, obj, changes, consortium_id=programme.consortium_id, institution_id=institution_id)


def _feed(event_type: str, obj, sheet: ResultSheet, /, *, resource_type: str, resource_id: str | None = None,
          **data) -> None:
    """An event for the partners' feed (``consortium.feed``), as the transaction's last write. Its audience is who
    reads the sheet's approved grades through the API: the course's provider and the institutions that run the
    programme (lead and partners; ``grades.view``)."""
    programme = sheet.edition.programme
    runs = programme.partners.filter(role__in=RUNS_THE_PROGRAMME).values_list("institution_id", flat=True)
    feed.record(event_type, obj, consortium_id=programme.consortium_id, resource_type=resource_type,
                resource_id=resource_id, institution_ids={sheet.course.provider_id, *runs}, data=data)


# --- Regulations and conversion tables --------------------------------------------------------------


@transaction.atomic
def regulation_create(*, actor, programme: Programme, data: Mapping[str, Any]) -> ExamRegulation:
    """A new draft version (copied from the latest one when it exists, with its conversion tables)."""
    policy.require(actor, "regulation.edit", programme)
    Programme.objects.select_for_update().get(pk=programme.pk)
    latest = programme.exam_regulations.order_by("-number").first()
    if latest and latest.status == RegulationStatus.DRAFT:
        raise TransitionError(_("Regulations v%(n)s are still a draft; finish them first.") % {"n": latest.number})
    regulation = ExamRegulation(programme=programme, number=(latest.number + 1) if latest else 1)
    for name in REGULATION_FIELDS:
        value = data.get(name, getattr(latest, name) if latest else None)
        if value is not None:
            setattr(regulation, name, value)
    regulation.full_clean()
    regulation.save()
    if latest:
        ConversionTable.objects.bulk_create(
            [
                ConversionTable(
                    regulation=regulation,
                    institution_id=c.institution_id,
                    national_scale_id=c.national_scale_id,
                    mapping=c.mapping,
                )
                for c in latest.conversions.all()
            ]
        )
    _record(actor, "regulation.created", regulation, programme, {"number": regulation.number})
    return regulation


def _require_draft(regulation: ExamRegulation) -> None:
    if regulation.status != RegulationStatus.DRAFT:
        raise TransitionError(_("Approved regulations are frozen; start a new version."))


@transaction.atomic
def regulation_update(*, actor, regulation: ExamRegulation, data: Mapping[str, Any]) -> ExamRegulation:
    policy.require(actor, "regulation.edit", regulation.programme)
    regulation = ExamRegulation.objects.select_for_update().get(pk=regulation.pk)
    _require_draft(regulation)
    before = audit.snapshot(regulation, REGULATION_FIELDS)
    for name in REGULATION_FIELDS:
        if name in data:
            setattr(regulation, name, data[name])
    regulation.full_clean()
    regulation.save()
    _record(
        actor,
        "regulation.updated",
        regulation,
        regulation.programme,
        audit.diff(before, audit.snapshot(regulation, REGULATION_FIELDS)),
    )
    return regulation


@transaction.atomic
def conversion_set(
    *,
    actor,
    regulation: ExamRegulation,
    institution: Institution,
    national_scale: GradingScale,
    mapping: Mapping[str, str],
) -> ConversionTable:
    policy.require(actor, "regulation.edit", regulation.programme)
    regulation = ExamRegulation.objects.select_for_update().select_related("joint_scale").get(pk=regulation.pk)
    _require_draft(regulation)
    if not regulation.programme.partners.filter(institution=institution).exists():
        raise DomainError(_("%(name)s does not participate in the programme.") % {"name": institution.short_name})
    problems = conversion_problems(national_scale.scale, regulation.joint_scale.scale, mapping)
    if problems:
        raise ValidationError({"mapping": problems})
    table, _created = ConversionTable.objects.update_or_create(
        regulation=regulation,
        institution=institution,
        defaults={
            "national_scale": national_scale,
            "mapping": {normalise(k): normalise(v) for k, v in mapping.items()},
        },
    )
    _record(
        actor,
        "regulation.conversion_set",
        regulation,
        regulation.programme,
        {"institution": institution.short_name, "scale": national_scale.name},
    )
    return table


def regulation_problems(regulation: ExamRegulation) -> list[str]:
    providers = set(
        Course.objects.filter(version__programme=regulation.programme).values_list("provider__short_name", flat=True)
    )
    covered = set(regulation.conversions.values_list("institution__short_name", flat=True))
    missing = sorted(providers - covered)
    return (
        [_("No conversion table for %(names)s, who provide courses.") % {"names": ", ".join(missing)}]
        if missing
        else []
    )


@transaction.atomic
def regulation_approve(*, actor, regulation: ExamRegulation) -> ExamRegulation:
    policy.require(actor, "regulation.approve", regulation.programme)
    regulation = ExamRegulation.objects.select_for_update().get(pk=regulation.pk)
    _require_draft(regulation)
    problems = regulation_problems(regulation)
    if problems:
        raise DomainError(_("The regulations are not complete."), details=problems)
    regulation.status = RegulationStatus.APPROVED
    regulation.save(update_fields=["status", "updated_at"])
    _record(actor, "regulation.approved", regulation, regulation.programme, {"number": regulation.number})
    return regulation


@transaction.atomic
def edition_regulation_set(*, actor, edition: Edition, regulation: ExamRegulation) -> EditionRegulation:
    policy.require(actor, "regulation.edit", edition.programme)
    regulation = ExamRegulation.objects.get(pk=regulation.pk)
    if regulation.programme_id != edition.programme_id or regulation.status != RegulationStatus.APPROVED:
        raise DomainError(_("An edition runs approved regulations of its own programme."))
    if Grade.objects.filter(sheet__edition=edition).exists():
        raise TransitionError(_("Grades were entered under the current regulations; they cannot change."))
    link, _created = EditionRegulation.objects.update_or_create(edition=edition, defaults={"regulation": regulation})
    _record(actor, "regulation.assigned", link, edition.programme, {"edition": str(edition), "v": regulation.number})
    return link


def regulation_for(edition: Edition) -> ExamRegulation:
    link = EditionRegulation.objects.filter(edition=edition).select_related("regulation__joint_scale").first()
    if link is None:
        raise DomainError(_("The edition has no examination regulations yet."))
    return link.regulation


# --- Assessments and examiners ----------------------------------------------------------------------


@transaction.atomic
def assessment_save(
    *, actor, edition: Edition, course: Course, data: Mapping[str, Any], assessment: Assessment | None = None
) -> Assessment:
    policy.require(actor, "assessment.configure", edition.programme)
    if course.version_id != edition.curriculum_id:
        raise DomainError(_("The course is not in this edition's curriculum."))
    assessment = assessment or Assessment(edition=edition, course=course)
    if (
        "weight" in data
        and assessment.pk
        and Decimal(data["weight"]) != assessment.weight
        and ResultSheet.objects.filter(edition=edition, course=course, status=SheetStatus.APPROVED).exists()
    ):
        raise TransitionError(
            _("Results of %(course)s are approved; its weights can no longer change.") % {"course": course.code}
        )
    for name in ("title", "method", "weight", "supervision", "opens_on", "closes_on", "learner_led"):
        if name in data:
            setattr(assessment, name, data[name])
    others = Assessment.objects.filter(edition=edition, course=course).exclude(pk=assessment.pk)
    total = sum((a.weight for a in others), Decimal("0")) + Decimal(assessment.weight)
    if total > 100:
        raise ValidationError(
            {
                "weight": [
                    _("The weights of %(course)s would add up to %(total)s %%; at most 100.")
                    % {"course": course.code, "total": total}
                ]
            }
        )
    assessment.full_clean()
    assessment.save()
    Grade.objects.filter(assessment=assessment).update(updated_at=assessment.updated_at)  # they show its title
    _record(
        actor,
        "assessment.saved",
        assessment,
        edition.programme,
        {"course": course.code, "weight": str(assessment.weight)},
    )
    return assessment


def weight_problems(edition: Edition) -> list[str]:
    problems = []
    for course in edition.curriculum.courses.all():
        total = sum((a.weight for a in Assessment.objects.filter(edition=edition, course=course)), Decimal("0"))
        if total != 100:
            problems.append(
                _("%(course)s: the weights add up to %(total)s %%, not 100 %%.")
                % {"course": course.code, "total": total}
            )
    return problems


@transaction.atomic
def examiner_appoint(*, actor, course: Course, user: User) -> None:
    """Examiners are staff of the institution that provides the course."""
    policy.require(actor, "assessment.configure", course.version.programme)
    profile = getattr(user, "staff_profile", None)
    if profile is None or profile.institution_id != course.provider_id:
        raise DomainError(
            _("Examiners of %(course)s are staff of %(provider)s.")
            % {"course": course.code, "provider": course.provider.short_name}
        )
    role_grant(
        actor=actor, user=user, role="examiner", institution=course.provider, target_id=course.id, check_policy=False
    )


# --- Grade entry -----------------------------------------------------------------------------------


@dataclass
class RowError:
    row: int
    message: str


@dataclass
class GradeRow:
    enrolment: Enrolment
    assessment: Assessment
    national_grade: str


def sheet_for(*, edition: Edition, course: Course, attempt: int = 1) -> ResultSheet:
    sheet, _created = ResultSheet.objects.get_or_create(edition=edition, course=course, attempt=attempt)
    return sheet


def exempted_enrolment_ids(edition: Edition, course: Course) -> set:
    return set(
        ExemptionRequest.objects.filter(
            course=course, status=ExemptionStatus.GRANTED, application__edition=edition
        ).values_list("application__enrolment__id", flat=True)
    )


def gradable_enrolments(edition: Edition, course: Course):
    """Enrolled learners on the assessed track, with exempted learners marked (not missing)."""
    return (
        Enrolment.objects.filter(edition=edition, application__status__in=ACTIVE, application__track=Track.ASSESSED)
        .select_related("application", "learner")
        .order_by("application__family_names", "application__given_names")
    )


def _conversion(regulation: ExamRegulation, course: Course) -> ConversionTable:
    table = (
        ConversionTable.objects.filter(regulation=regulation, institution_id=course.provider_id)
        .select_related("national_scale")
        .first()
    )
    if table is None:
        raise DomainError(
            _("The regulations have no conversion table for %(provider)s.") % {"provider": course.provider.short_name}
        )
    return table


@transaction.atomic
def grades_enter(
    *, actor, sheet: ResultSheet, rows: Sequence[tuple[Any, Any, str]], source: str = ""
) -> list[Grade]:
    """Enter grades in the provider's own scale. ``rows`` are (enrolment or its id, assessment or its id, grade);
    ``source`` names where they came from in the audit trail (e.g. "csv import"), when not the grade grid.

    Raises ``ValidationError({"rows": [...]})`` listing every bad row; nothing is saved unless all rows are valid.
    """
    policy.require(actor, "grades.enter", sheet)
    sheet = (
        ResultSheet.objects.select_for_update()
        .select_related("edition__programme", "course__provider")
        .get(pk=sheet.pk)
    )
    if sheet.status not in (SheetStatus.DRAFT, SheetStatus.RETURNED):
        raise TransitionError(
            _("The results of %(course)s are %(status)s; they cannot be edited.")
            % {"course": sheet.course.code, "status": sheet.get_status_display().lower()}
        )
    regulation = regulation_for(sheet.edition)
    table = _conversion(regulation, sheet.course)
    national = table.national_scale.scale
    enrolments = {str(e.pk): e for e in gradable_enrolments(sheet.edition, sheet.course)}
    assessments = {str(a.pk): a for a in Assessment.objects.filter(edition=sheet.edition, course=sheet.course)}
    exempted = {str(i) for i in exempted_enrolment_ids(sheet.edition, sheet.course)}
    eligible = _resit_eligible(sheet) if sheet.attempt > 1 else None
    errors, valid = [], []
    seen = set()
    for number, (enrolment, assessment, grade) in enumerate(rows, start=1):
        enrolment_id = str(getattr(enrolment, "pk", enrolment))
        assessment_id = str(getattr(assessment, "pk", assessment))
        typed = normalise(grade or "")
        grade = national.canonical(typed) or typed
        if enrolment_id not in enrolments:
            errors.append(RowError(number, _("Not a learner enrolled on the assessed track of this edition.")))
            continue
        if enrolment_id in exempted:
            errors.append(RowError(number, _("The learner is exempted from this course.")))
            continue
        if eligible is not None and enrolment_id not in eligible:
            errors.append(RowError(number, _("The learner is not eligible for this resit.")))
            continue
        if assessment_id not in assessments:
            errors.append(RowError(number, _("Not an assessment of %(course)s.") % {"course": sheet.course.code}))
            continue
        if (enrolment_id, assessment_id) in seen:
            errors.append(RowError(number, _("The same learner and assessment appear twice.")))
            continue
        if grade not in national:
            errors.append(
                RowError(
                    number,
                    _("%(grade)s is not a grade of %(scale)s.")
                    % {"grade": grade or "—", "scale": table.national_scale.name},
                )
            )
            continue
        seen.add((enrolment_id, assessment_id))
        valid.append(
            (
                enrolments[enrolment_id],
                assessments[assessment_id],
                grade,
                table.mapping[grade] if grade in table.mapping else table.mapping[normalise(grade)],
            )
        )
    if errors:
        raise ValidationError({"rows": [f"{_('Row')} {e.row}: {e.message}" for e in errors]})
    existing = {
        (str(g.enrolment_id), str(g.assessment_id)): g for g in Grade.objects.filter(sheet=sheet, superseded=False)
    }
    to_update, to_create = [], []
    user = actor if isinstance(actor, User) else None
    now = timezone.now()
    for enrolment, assessment, grade, joint_grade in valid:
        current = existing.get((str(enrolment.pk), str(assessment.pk)))
        if current:
            current.national_grade, current.joint_grade, current.entered_by = grade, joint_grade, user
            current.updated_at = now  # bulk_update writes the field as set: auto_now does not run
            to_update.append(current)
        else:
            to_create.append(
                Grade(
                    sheet=sheet,
                    assessment=assessment,
                    enrolment=enrolment,
                    national_grade=grade,
                    national_scale=table.national_scale,
                    joint_grade=joint_grade,
                    entered_by=user,
                )
            )
    Grade.objects.bulk_update(to_update, ["national_grade", "joint_grade", "entered_by", "updated_at"])
    Grade.objects.bulk_create(to_create)
    _record(
        actor,
        "grades.entered",
        sheet,
        sheet.edition.programme,
        {"rows": len(valid), **({"source": source} if source else {})},
        institution_id=sheet.course.provider_id,
    )
    return [*to_update, *to_create]


# --- Board workflow ---------------------------------------------------------------------------------

SHEET_TRANSITIONS: dict[str, set[str]] = {
    SheetStatus.DRAFT: {SheetStatus.SUBMITTED},
    SheetStatus.RETURNED: {SheetStatus.SUBMITTED},
    SheetStatus.SUBMITTED: {SheetStatus.APPROVED, SheetStatus.RETURNED},
    SheetStatus.APPROVED: set(),
}


def _move_sheet(actor, sheet: ResultSheet, target: str, changes: Mapping[str, Any] | None = None) -> None:
    source = sheet.status
    if target not in SHEET_TRANSITIONS[source]:
        raise TransitionError(
            _("The results are %(source)s; they cannot become %(target)s.")
            % {"source": SheetStatus(source).label.lower(), "target": SheetStatus(target).label.lower()}
        )
    sheet.status = target
    sheet.save()
    Grade.objects.filter(sheet=sheet).update(updated_at=sheet.updated_at)  # each grade shows the sheet's status
    _record(
        actor,
        f"results.{target}",
        sheet,
        sheet.edition.programme,
        {"status": [source, target], **(changes or {})},
        institution_id=sheet.course.provider_id,
    )


def sheet_missing(sheet: ResultSheet) -> list[str]:
    """Learners still without a grade for an assessment (exempted learners are not missing)."""
    assessments = list(Assessment.objects.filter(edition=sheet.edition, course=sheet.course))
    if not assessments:
        return [_("%(course)s has no assessments.") % {"course": sheet.course.code}]
    graded = set(Grade.objects.filter(sheet=sheet, superseded=False).values_list("enrolment_id", "assessment_id"))
    exempted = exempted_enrolment_ids(sheet.edition, sheet.course)
    learners = gradable_enrolments(sheet.edition, sheet.course)
    regulation = regulation_for(sheet.edition)
    component_resit = sheet.attempt > 1 and regulation.resit_scope == ResitScope.COMPONENT
    if sheet.attempt > 1:
        eligible = _resit_eligible(sheet)
        learners = [e for e in learners if str(e.pk) in eligible]
    missing = []
    for enrolment in learners:
        if enrolment.pk in exempted:
            continue
        required = assessments
        if component_resit:  # only the failed components are resat
            result = course_result(enrolment, sheet.course, regulation=regulation)
            failed = {
                c["assessment_id"] for c in result.components if not regulation.joint_scale.scale.passes(c["joint"])
            }
            required = [a for a in assessments if a.pk in failed] or assessments
        for assessment in required:
            if (enrolment.pk, assessment.pk) not in graded:
                missing.append(f"{enrolment.application.full_name}: {assessment.title}")
    return missing


@transaction.atomic
def sheet_submit(*, actor, sheet: ResultSheet) -> ResultSheet:
    policy.require(actor, "grades.enter", sheet)
    sheet = ResultSheet.objects.select_for_update().select_related("edition__programme", "course").get(pk=sheet.pk)
    if sheet.status in (SheetStatus.DRAFT, SheetStatus.RETURNED):
        missing = sheet_missing(sheet)
        if missing:
            raise DomainError(_("Grades are missing."), details=missing[:50])
    sheet.submitted_at = timezone.now()
    sheet.submitted_by = actor if isinstance(actor, User) else None
    _move_sheet(actor, sheet, SheetStatus.SUBMITTED)
    return sheet


@transaction.atomic
def sheet_approve(*, actor, sheet: ResultSheet, comment: str = "") -> ResultSheet:
    """The examination board approves: the results are locked and learners see them."""
    policy.require(actor, "results.decide", sheet)
    sheet = ResultSheet.objects.select_for_update().select_related("edition__programme", "course").get(pk=sheet.pk)
    if isinstance(actor, User) and sheet.submitted_by_id == actor.pk:
        raise DomainError(_("You submitted these results; another member of the board approves them."))
    sheet.decided_at = timezone.now()
    sheet.decided_by = actor if isinstance(actor, User) else None
    sheet.board_comment = comment
    _move_sheet(actor, sheet, SheetStatus.APPROVED)
    _feed("result.approved", sheet, sheet, resource_type="result_sheet", edition=sheet.edition_id,
          course=sheet.course_id, attempt=sheet.attempt,
          grades=Grade.objects.filter(sheet=sheet, superseded=False).count())
    return sheet


@transaction.atomic
def sheet_return(*, actor, sheet: ResultSheet, comment: str) -> ResultSheet:
    policy.require(actor, "results.decide", sheet)
    if not comment.strip():
        raise ValidationError({"comment": [_("Say what must be checked: comments are required.")]})
    sheet = ResultSheet.objects.select_for_update().select_related("edition__programme", "course").get(pk=sheet.pk)
    sheet.decided_at = timezone.now()
    sheet.decided_by = actor if isinstance(actor, User) else None
    sheet.board_comment = comment
    _move_sheet(actor, sheet, SheetStatus.RETURNED, {"comment": comment})
    return sheet


@transaction.atomic
def grade_correct(*, actor, grade: Grade, national_grade: str, reason: str) -> Grade:
    """A correction after locking: a new version with a reason; the old one stays visible, superseded."""
    policy.require(actor, "results.decide", grade.sheet)
    if not reason.strip():
        raise ValidationError({"reason": [_("A correction needs a reason.")]})
    grade = (
        Grade.objects.select_for_update()
        .select_related("sheet__edition__programme", "sheet__course", "national_scale")
        .get(pk=grade.pk)
    )
    if grade.superseded:
        raise TransitionError(_("This grade was already corrected; correct the current version."))
    if grade.sheet.status != SheetStatus.APPROVED:
        raise TransitionError(_("Grades are corrected this way only after the board has locked them."))
    regulation = regulation_for(grade.sheet.edition)
    table = _conversion(regulation, grade.sheet.course)
    national_grade = table.national_scale.scale.canonical(national_grade) or normalise(national_grade)
    if national_grade not in table.national_scale.scale:
        raise ValidationError(
            {
                "national_grade": [
                    _("%(g)s is not a grade of %(s)s.") % {"g": national_grade, "s": table.national_scale.name}
                ]
            }
        )
    grade.superseded = True
    grade.save(update_fields=["superseded", "updated_at"])
    corrected = Grade.objects.create(
        sheet=grade.sheet,
        assessment=grade.assessment,
        enrolment=grade.enrolment,
        national_grade=national_grade,
        national_scale=table.national_scale,
        joint_grade=table.mapping[national_grade],
        version=grade.version + 1,
        correction_reason=reason,
        entered_by=actor if isinstance(actor, User) else None,
    )
    _record(
        actor,
        "grades.corrected",
        corrected,
        grade.sheet.edition.programme,
        {"from": [grade.national_grade, national_grade], "reason": reason},
        institution_id=grade.sheet.course.provider_id,
    )
    # The corrected version replaces the old one in the results list: a tombstone for the old id, then the new one.
    _feed("result.deleted", None, grade.sheet, resource_type="result", resource_id=str(grade.pk),
          superseded_by=corrected.pk)
    _feed("result.corrected", corrected, grade.sheet, resource_type="result", enrolment=corrected.enrolment_id,
          version=corrected.version, supersedes=grade.pk)
    return corrected


# --- Results and resits -------------------------------------------------------------------------------


def _numeric(grade: str) -> Decimal | None:
    try:
        return Decimal(grade)
    except (InvalidOperation, TypeError):
        return None


@dataclass
class CourseResult:
    course: Course
    status: str  # passed / failed / exempted / pending
    joint_grade: str = ""
    national_grade: str = ""
    ects: Decimal = Decimal("0")
    attempts: int = 0
    components: list[dict[str, Any]] = field(default_factory=list)


def _combine(regulation: ExamRegulation, components: list[tuple[Assessment, Grade]]) -> tuple[str, bool]:
    """Weighted combination of components in the joint scale. Non-numeric scales need every component passed
    and report the worst component grade."""
    scale = regulation.joint_scale.scale
    numbers = [(_numeric(g.joint_grade), a.weight) for a, g in components]
    if all(n is not None for n, _w in numbers):
        total_weight = sum((w for _n, w in numbers), Decimal("0"))
        value = sum((n * w for n, w in numbers), Decimal("0")) / total_weight
        pass_value = _numeric(scale.pass_grade)
        ascending = _numeric(scale.grades[0]) > _numeric(scale.grades[-1])
        passed = value >= pass_value if ascending else value <= pass_value
        return f"{value.quantize(Decimal('0.1'))}", passed
    worst = max((g.joint_grade for _a, g in components), key=scale.rank)
    return worst, all(scale.passes(g.joint_grade) for _a, g in components)


def course_result(
    enrolment: Enrolment, course: Course, *, approved_only: bool = True, regulation: ExamRegulation | None = None
) -> CourseResult:
    """The final result of one course, following the regulation (last or best attempt; component or course)."""
    exemption = ExemptionRequest.objects.filter(
        application=enrolment.application, course=course, status=ExemptionStatus.GRANTED
    ).first()
    if exemption is not None:
        return _exempted(course, exemption)
    regulation = regulation or regulation_for(enrolment.edition)
    assessments = list(Assessment.objects.filter(edition=enrolment.edition, course=course))
    grades = Grade.objects.filter(enrolment=enrolment, sheet__course=course, superseded=False).select_related(
        "sheet", "assessment"
    )
    if approved_only:
        grades = grades.filter(sheet__status=SheetStatus.APPROVED)
    return _course_result(course, regulation, assessments, grades)


def edition_results(edition: Edition, enrolments: Sequence[Enrolment]) -> dict[Any, list[CourseResult]]:
    """{enrolment id: the approved result of every course of the curriculum} for many learners at once, in a fixed
    number of queries (``course_result`` for each, computed alike; empty lists without regulations)."""
    try:
        regulation = regulation_for(edition)
    except DomainError:
        return {e.pk: [] for e in enrolments}
    courses = list(edition.curriculum.courses.select_related("provider").order_by("position"))
    assessments: dict[Any, list[Assessment]] = {}
    for assessment in Assessment.objects.filter(edition=edition):
        assessments.setdefault(assessment.course_id, []).append(assessment)
    grades: dict[tuple[Any, Any], list[Grade]] = {}
    for grade in Grade.objects.filter(
        sheet__edition=edition, sheet__status=SheetStatus.APPROVED, superseded=False,
        enrolment__in=[e.pk for e in enrolments],
    ).select_related("sheet", "assessment"):
        grades.setdefault((grade.enrolment_id, grade.sheet.course_id), []).append(grade)
    exemptions = {
        (x.application_id, x.course_id): x
        for x in ExemptionRequest.objects.filter(
            application__in=[e.application_id for e in enrolments], status=ExemptionStatus.GRANTED
        )
    }
    results = {}
    for enrolment in enrolments:
        results[enrolment.pk] = [
            _exempted(course, exemptions[(enrolment.application_id, course.pk)])
            if (enrolment.application_id, course.pk) in exemptions
            else _course_result(
                course, regulation, assessments.get(course.pk, []), grades.get((enrolment.pk, course.pk), [])
            )
            for course in courses
        ]
    return results


def _exempted(course: Course, exemption: ExemptionRequest) -> CourseResult:
    return CourseResult(course=course, status="exempted", ects=exemption.ects_recognised or course.ects)


def _course_result(course: Course, regulation: ExamRegulation, assessments: list[Assessment], grades) -> CourseResult:
    by_attempt: dict[int, dict[Any, Grade]] = {}
    for grade in grades:
        by_attempt.setdefault(grade.sheet.attempt, {})[grade.assessment_id] = grade
    if not assessments or not by_attempt:
        return CourseResult(course=course, status="pending", attempts=len(by_attempt))
    scale = regulation.joint_scale.scale
    candidates: list[tuple[int, list[tuple[Assessment, Grade]]]] = []
    if regulation.resit_scope == ResitScope.COURSE:
        for attempt, found in sorted(by_attempt.items()):
            if all(a.pk in found for a in assessments):
                candidates.append((attempt, [(a, found[a.pk]) for a in assessments]))
    else:
        # Component scope: a resit grade replaces that component only; unresat components keep earlier grades.
        current: dict[Any, Grade] = {}
        for attempt, found in sorted(by_attempt.items()):
            for assessment_id, grade in found.items():
                previous = current.get(assessment_id)
                if (
                    previous is None
                    or regulation.final_result == FinalResultRule.LAST
                    or scale.rank(grade.joint_grade) < scale.rank(previous.joint_grade)
                ):
                    current[assessment_id] = grade
            if all(a.pk in current for a in assessments):
                candidates.append((attempt, [(a, current[a.pk]) for a in assessments]))
    if not candidates:
        return CourseResult(course=course, status="pending", attempts=len(by_attempt))
    if regulation.final_result == FinalResultRule.BEST and regulation.resit_scope == ResitScope.COURSE:
        chosen = min(
            candidates,
            key=lambda c: (not _combine(regulation, c[1])[1], -(_numeric(_combine(regulation, c[1])[0]) or 0)),
        )
    else:
        chosen = candidates[-1]
    joint_grade, passed = _combine(regulation, chosen[1])
    return CourseResult(
        course=course,
        status="passed" if passed else "failed",
        joint_grade=joint_grade,
        national_grade=", ".join(g.national_grade for _a, g in chosen[1]),
        ects=course.ects if passed else Decimal("0"),
        attempts=len(by_attempt),
        components=[
            {
                "assessment": a.title,
                "assessment_id": a.pk,
                "weight": a.weight,
                "national": g.national_grade,
                "joint": g.joint_grade,
                "attempt": g.sheet.attempt,
            }
            for a, g in chosen[1]
        ],
    )


def _resit_eligible(sheet: ResultSheet) -> set[str]:
    """Enrolments that failed the course on the previous attempts (string ids)."""
    regulation = regulation_for(sheet.edition)
    eligible = set()
    for enrolment in gradable_enrolments(sheet.edition, sheet.course):
        result = course_result(enrolment, sheet.course, regulation=regulation)
        if result.status == "failed":
            eligible.add(str(enrolment.pk))
    return eligible


@transaction.atomic
def resit_open(*, actor, edition: Edition, course: Course) -> ResultSheet:
    """Open the next attempt for learners who failed, when the regulations allow another resit."""
    if not policy.can(actor, "results.decide", ResultSheet(edition=edition, course=course)):
        policy.require(actor, "assessment.configure", edition.programme)
    regulation = regulation_for(edition)
    latest = ResultSheet.objects.filter(edition=edition, course=course).order_by("-attempt").first()
    if latest is None or latest.status != SheetStatus.APPROVED:
        raise TransitionError(_("The previous attempt's results must be approved first."))
    if latest.attempt >= 1 + regulation.resits_allowed:
        raise TransitionError(
            _("The regulations allow %(n)s resit(s); no further attempt.") % {"n": regulation.resits_allowed}
        )
    sheet = ResultSheet.objects.create(edition=edition, course=course, attempt=latest.attempt + 1)
    if not _resit_eligible(sheet):
        raise DomainError(_("Nobody failed %(course)s: no resit is needed.") % {"course": course.code})
    _record(actor, "results.resit_opened", sheet, edition.programme, {"attempt": sheet.attempt})
    return sheet


# --- Award eligibility (called by certification) -------------------------------------------------------


@dataclass
class Eligibility:
    met: bool
    reasons: list[str]
    ects_earned: Decimal
    ects_required: Decimal
    courses: list[CourseResult]


def award_eligibility(enrolment: Enrolment) -> Eligibility:
    """Whether the award conditions are met: all mandatory courses passed or exempted, the required elective
    ECTS reached, and the regulation's minimum average (numeric joint scales). Returns the reasons if not."""
    edition = enrolment.edition
    version = edition.curriculum
    reasons: list[str] = []
    try:
        regulation = regulation_for(edition)
    except DomainError as exc:
        return Eligibility(False, [exc.message], Decimal("0"), version.programme.ects, [])
    results = [
        course_result(enrolment, c, regulation=regulation)
        for c in version.courses.select_related("provider").order_by("position")
    ]
    if enrolment.application.track != Track.ASSESSED:
        reasons.append(_("The learner follows the attendance-only track (certificate of attendance, no ECTS)."))
    for result in results:
        if result.course.mandatory and result.status not in ("passed", "exempted"):
            reasons.append(
                _("Mandatory course %(code)s %(title)s is %(status)s.")
                % {"code": result.course.code, "title": result.course.title, "status": result.status}
            )
    mandatory = sum((r.ects for r in results if r.course.mandatory), Decimal("0"))
    elective = sum((r.ects for r in results if not r.course.mandatory), Decimal("0"))
    if elective < version.required_elective_ects:
        reasons.append(
            _("Elective ECTS: %(got)s of the %(need)s required.")
            % {"got": elective, "need": version.required_elective_ects}
        )
    earned = mandatory + min(elective, version.required_elective_ects) if version.required_elective_ects else mandatory
    if regulation.minimum_average is not None:
        numbers = [(_numeric(r.joint_grade), r.course.ects) for r in results if r.status == "passed"]
        if numbers and all(n is not None for n, _e in numbers):
            average = sum((n * e for n, e in numbers), Decimal("0")) / sum((e for _n, e in numbers), Decimal("0"))
            if average < regulation.minimum_average:
                reasons.append(
                    _("The weighted average %(avg)s is below the minimum %(min)s.")
                    % {"avg": average.quantize(Decimal("0.01")), "min": regulation.minimum_average}
                )
    return Eligibility(
        met=not reasons, reasons=reasons, ects_earned=earned, ects_required=version.programme.ects, courses=results
    )


# --- Appeals ---------------------------------------------------------------------------------------


def appeal_deadline(grade: Grade) -> dt.datetime | None:
    if grade.sheet.status != SheetStatus.APPROVED or grade.sheet.decided_at is None:
        return None
    days = regulation_for(grade.sheet.edition).appeals_days
    return grade.sheet.decided_at + dt.timedelta(days=days)


@transaction.atomic
def appeal_lodge(*, actor, grade: Grade, reason: str) -> Appeal:
    policy.require(actor, "results.own", grade.enrolment)
    if not reason.strip():
        raise ValidationError({"reason": [_("Give the grounds of the appeal.")]})
    if Grade.objects.filter(pk=grade.pk, superseded=True).exists():
        raise TransitionError(_("This grade was corrected; appeal against its current version."))
    deadline = appeal_deadline(grade)
    if deadline is None:
        raise TransitionError(_("Only approved results can be appealed."))
    if timezone.now() > deadline:
        raise TransitionError(_("The appeals window closed on %(date)s.") % {"date": deadline.date()})
    if grade.appeals.filter(status=AppealStatus.LODGED).exists():
        raise DomainError(_("An appeal on this grade is already under way."))
    appeal = Appeal.objects.create(grade=grade, reason=reason)
    _record(actor, "appeal.lodged", appeal, grade.sheet.edition.programme, {"grade": str(grade)})
    return appeal


@transaction.atomic
def appeal_decide(*, actor, appeal: Appeal, upheld: bool, outcome: str, corrected_grade: str = "") -> Appeal:
    policy.require(actor, "results.decide", appeal.grade.sheet)
    appeal = Appeal.objects.select_for_update().select_related("grade__sheet__edition__programme").get(pk=appeal.pk)
    if appeal.status != AppealStatus.LODGED:
        raise TransitionError(_("This appeal was already decided."))
    if not outcome.strip():
        raise ValidationError({"outcome": [_("Record the outcome.")]})
    if upheld and corrected_grade:
        grade_correct(
            actor=actor,
            grade=appeal.grade,
            national_grade=corrected_grade,
            reason=_("Appeal upheld: %(o)s") % {"o": outcome},
        )
    appeal.status = AppealStatus.UPHELD if upheld else AppealStatus.DISMISSED
    appeal.outcome = outcome
    appeal.decided_by = actor if isinstance(actor, User) else None
    appeal.decided_at = timezone.now()
    appeal.save()
    _record(actor, f"appeal.{appeal.status}", appeal, appeal.grade.sheet.edition.programme, {"outcome": outcome})
    return appeal


def learner_results(enrolment: Enrolment) -> list[CourseResult]:
    """What the learner sees: approved results only."""
    return award_eligibility(enrolment).courses
