"""Bulk exchange of results (partner integration).

* ``results_import``: a file (CSV, read by ``forms.parse_grade_csv``) or JSON rows (``forms.grade_rows``) of grades
  for one result sheet, checked row by row and then, unless it is a dry run, saved all or nothing by
  ``services.grades_enter`` (which decides every rule: learner on the assessed track, not exempted, assessment of the
  course, grade on the provider's scale, sheet open). The browser's upload (``views.SheetUploadView``) and the API
  share it.
* ``partner_scale``: the reverse of a partner's conversion table, so an export can give each partner the results on
  its own national scale (``grading.to_national``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from admissions.api import Enrolment
from consortium import csv_import
from consortium.api import DomainError, ExternalIdKind, Institution, identifiers, policy
from programmes.api import Edition

from . import forms, selectors, services
from .grading import Scale, normalise, to_national
from .models import Assessment, ConversionTable, Grade, ResultSheet

CREATE, UPDATE, UNCHANGED, SKIPPED, ERROR = "create", "update", "unchanged", "skipped", "error"
OUTCOMES = (CREATE, UPDATE, UNCHANGED, SKIPPED, ERROR)


@dataclass
class ResultsImport:
    """Every row's outcome (``row.outcome``, ``row.error``, ``row.joint_grade``), and the problems that concern the
    whole file (``problems``). ``committed`` once saved."""

    sheet: ResultSheet
    dry_run: bool
    committed: bool
    rows: list[forms.UploadRow]
    problems: list[str] = field(default_factory=list)

    @property
    def counts(self) -> dict[str, int]:
        return csv_import.outcome_counts(self.rows, OUTCOMES)

    @property
    def failed(self) -> list[forms.UploadRow]:
        return [r for r in self.rows if r.error]

    @property
    def ready(self) -> list[forms.UploadRow]:
        return [r for r in self.rows if not r.skipped and not r.error]

    @property
    def ok(self) -> bool:
        return not self.failed and not self.problems


def external_ids(actor, enrolments: Sequence[Enrolment]) -> dict[str, Enrolment]:
    """The caller institution's own ids of these enrolments, and of their learners, → the enrolment (its own ids
    only: an institution never reads another's)."""
    by_value: dict[str, Enrolment] = {}
    learners = identifiers.values_for(actor, ExternalIdKind.LEARNER, [e.learner_id for e in enrolments])
    own = identifiers.values_for(actor, ExternalIdKind.ENROLMENT, [e.pk for e in enrolments])
    for enrolment in enrolments:
        for value in (own.get(str(enrolment.pk)), learners.get(str(enrolment.learner_id))):
            if value:
                by_value.setdefault(value, enrolment)
    return by_value


def results_import(
    *, actor, sheet: ResultSheet, rows: list[forms.UploadRow], dry_run: bool = True, source: str = "csv"
) -> ResultsImport:
    """Check ``rows`` against the sheet and, unless ``dry_run`` or a row is refused, save them in one transaction
    (``grades_enter``, whose audit event ``grades.entered`` counts the rows and names the import's format).

    Raises what ``grades_enter`` raises for the whole sheet (``PermissionDenied``; ``DomainError`` when the
    regulations or the provider's conversion table are missing; ``TransitionError`` when the sheet is locked).
    """
    policy.require(actor, "grades.enter", sheet)
    enrolments = list(selectors.edition_enrolments(sheet.edition))
    assessments = list(Assessment.objects.filter(edition=sheet.edition, course=sheet.course))
    by_external_id = external_ids(actor, enrolments) if any(
        r.external_id and not (r.enrolment_ref or r.email) for r in rows) else {}
    forms.resolve_upload(rows, enrolments, assessments, by_external_id)
    report = ResultsImport(sheet=sheet, dry_run=dry_run, committed=False, rows=rows)
    ready = report.ready
    current = {
        (str(g.enrolment_id), str(g.assessment_id)): g.national_grade
        for g in Grade.objects.filter(sheet=sheet, superseded=False)
    }

    def enter(batch: list[forms.UploadRow]) -> bool:
        """``grades_enter`` on ``batch``: the joint grades, or each refused row's reason (nothing saved then)."""
        try:
            grades = services.grades_enter(
                actor=actor,
                sheet=sheet,
                rows=[(r.enrolment.pk, r.assessment.pk, r.grade) for r in batch],
                source=f"{source} import",
            )
        except ValidationError as exc:
            by_row, report.problems = forms.row_errors(exc)
            for number, message in by_row.items():
                batch[number - 1].error = message
            return False
        joint = {(g.enrolment_id, g.assessment_id): g.joint_grade for g in grades}
        for row in batch:
            row.joint_grade = joint.get((row.enrolment.pk, row.assessment.pk), "")
        return True

    def preview(batch: list[forms.UploadRow]) -> None:
        """The service's verdict on the rows, then nothing kept; the rows it accepts get their joint grade."""
        with transaction.atomic():
            if not enter(batch) and (accepted := [r for r in batch if not r.error]):
                enter(accepted)
            transaction.set_rollback(True)

    if not ready:
        if not report.failed:
            report.problems.append(_("The file has no grades to save."))
    elif dry_run or report.failed:
        preview(ready)
    elif enter(ready):  # all or nothing: ``grades_enter`` saves every row in its transaction, or none
        report.committed = True
    elif accepted := [r for r in ready if not r.error]:
        preview(accepted)
    for row in rows:
        key = (str(getattr(row.enrolment, "pk", "")), str(getattr(row.assessment, "pk", "")))
        if row.error:
            row.outcome = ERROR
        elif row.skipped:
            row.outcome = SKIPPED
        elif key not in current:
            row.outcome = CREATE
        else:
            row.outcome = UNCHANGED if current[key] == normalise(row.grade) else UPDATE
    return report


# --- A partner's own scale ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class PartnerScale:
    """How one institution reads the edition's results: its national scale and the reverse of its conversion table,
    or ``problem`` saying why there is none (the grades are then on the joint scale only)."""

    institution: Institution
    joint_name: str = ""
    name: str = ""
    problem: str = ""
    national: Scale | None = None
    joint: Scale | None = None
    mapping: dict[str, str] = field(default_factory=dict)

    def grade(self, joint_grade: str, *, passed: bool | None = None) -> str:
        """``joint_grade`` (a grade of the joint scale or a weighted average) on this institution's scale; empty
        without a conversion table or a grade."""
        if self.national is None or not joint_grade:
            return ""
        try:
            return to_national(self.national, self.joint, self.mapping, joint_grade, passed=passed)
        except (KeyError, ValueError):
            return ""


def partner_scale(edition: Edition, institution: Institution) -> PartnerScale:
    try:
        regulation = services.regulation_for(edition)
    except DomainError as exc:
        return PartnerScale(institution=institution, problem=exc.message)
    table = (
        ConversionTable.objects.filter(regulation=regulation, institution=institution)
        .select_related("national_scale")
        .first()
    )
    joint = regulation.joint_scale
    if table is None:
        return PartnerScale(
            institution=institution,
            joint_name=joint.name,
            problem=_(
                "The regulations have no conversion table for %(name)s: the grades are on the joint scale (%(joint)s) "
                "only."
            )
            % {"name": institution.short_name, "joint": joint.name},
        )
    return PartnerScale(
        institution=institution,
        joint_name=joint.name,
        name=table.national_scale.name,
        national=table.national_scale.scale,
        joint=joint.scale,
        mapping=dict(table.mapping),
    )


def as_components(result: Any, scale: PartnerScale) -> list[dict[str, Any]]:
    """A course result's components with each grade also on the partner's scale (its own grade, as entered, for the
    courses the partner provides)."""
    own = result.course.provider_id == scale.institution.pk
    return [
        {
            **component,
            "grade": component["national"] if own else scale.grade(component["joint"]),
        }
        for component in result.components
    ]
