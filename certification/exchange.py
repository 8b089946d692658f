"""Bulk exchange (partner integration): one file per partner institution with an edition's enrolments, their
approved results and their awards, the grades expressed on that partner's own national scale.

Each partner's regulations table converts its national grades to the joint scale; the export runs it backwards
(``assessment.api.partner_scale``, ``grading.to_national``): the best national grade whose joint grade does not
exceed the result, on the same side of the pass mark. The components of the courses the partner provides keep the
grades it entered. Where the regulations have no table for the partner, each result says so (``grade_note``) and
carries the joint grade only. Results are the approved (locked) ones, as learners and partners see them.

``partner_export`` builds the export once; ``as_rows`` flattens it for CSV (one row per enrolment and course), and
the API's serializer nests it for JSON, so the two always agree. Every export is audited (``edition.exported``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.core.exceptions import PermissionDenied
from django.db.models import Prefetch
from django.utils import timezone
from django.utils.translation import gettext as _

from admissions.api import Enrolment
from assessment.api import PartnerScale, as_components, edition_results, partner_scale
from consortium.api import Institution, audit, policy
from programmes.api import Edition

from .models import Award, Credential, CredentialStatus
from .policy_rules import export_institution_ids
from .rendering import verification_url

FORMATS = ("json", "csv")


@dataclass
class ExportResult:
    course: Any
    status: str
    joint_grade: str
    grade: str
    grade_note: str
    ects: Any
    components: list[dict[str, Any]] = field(default_factory=list)


@dataclass
class ExportEnrolment:
    enrolment: Enrolment
    student_number: str
    results: list[ExportResult]
    award: Award | None
    credential: Credential | None

    @property
    def application(self):
        return self.enrolment.application

    @property
    def verification_url(self) -> str:
        return verification_url(self.credential.credential_id) if self.credential else ""


@dataclass
class PartnerExport:
    edition: Edition
    institution: Institution
    scale: PartnerScale
    generated_at: Any
    enrolments: list[ExportEnrolment]


def export_institutions(user, edition: Edition) -> list[Institution]:
    """The partner institutions whose export ``user`` may download, by short name."""
    ids = export_institution_ids(policy.actor_for(user), edition)
    return list(Institution.objects.filter(pk__in=ids).order_by("short_name"))


def _note(scale: PartnerScale, status: str) -> str:
    if status == "exempted":
        return _("Exempted (recognition of prior learning): no grade.")
    if status == "pending":
        return _("No approved result yet.")
    return scale.problem


def _result(result, scale: PartnerScale) -> ExportResult:
    graded = result.status in ("passed", "failed")
    return ExportResult(
        course=result.course,
        status=result.status,
        joint_grade=result.joint_grade,
        grade=scale.grade(result.joint_grade, passed=result.status == "passed") if graded else "",
        grade_note=_note(scale, result.status),
        ects=result.ects,
        components=as_components(result, scale),
    )


def _award(enrolment: Enrolment) -> tuple[Award | None, Credential | None]:
    try:
        award = enrolment.award
    except Award.DoesNotExist:
        return None, None
    valid = [c for c in award.credentials.all() if c.status == CredentialStatus.VALID]
    return award, (valid[0] if valid else None)


def partner_export(*, actor, edition: Edition, institution: Institution, file_format: str = "json") -> PartnerExport:
    """The export of ``edition`` for ``institution`` (one the actor may export for; else ``PermissionDenied``)."""
    policy.require(actor, "edition.export", edition)
    if institution.pk not in export_institution_ids(policy.actor_for(actor), edition):
        raise PermissionDenied(_("You may not export %(name)s's file of this edition.") % {"name": institution})
    scale = partner_scale(edition, institution)
    enrolments = list(
        Enrolment.objects.filter(edition=edition)
        .select_related("application", "learner", "edition__curriculum", "award__issuing_institution")
        .prefetch_related("registrations", Prefetch("award__credentials", Credential.objects.order_by("-version")))
        .order_by("application__family_names", "application__given_names", "enrolled_at")
    )
    results = edition_results(edition, enrolments)
    rows = []
    for enrolment in enrolments:
        registration = next((r for r in enrolment.registrations.all() if r.institution_id == institution.pk), None)
        award, credential = _award(enrolment)
        rows.append(ExportEnrolment(
            enrolment=enrolment,
            student_number=registration.external_student_number if registration else "",
            results=[_result(r, scale) for r in results[enrolment.pk]],
            award=award,
            credential=credential,
        ))
    audit.record(actor, "edition.exported", edition, {
        "institution": institution.short_name, "enrolments": len(rows), "format": file_format},
        consortium_id=edition.programme.consortium_id, institution_id=institution.pk)
    return PartnerExport(edition=edition, institution=institution, scale=scale, generated_at=timezone.now(),
                         enrolments=rows)


#: The CSV's columns: one row per enrolment and course of the curriculum.
CSV_HEADER = [
    "enrolment_id", "student_number", "given_names", "family_names", "email", "date_of_birth", "nationality",
    "track", "status", "enrolled_at", "course_code", "course_title", "course_provider", "course_ects",
    "result_status", "joint_grade", "grade", "grade_scale", "grade_note", "ects_earned", "award_kind",
    "award_decided_at", "credential_id", "credential_status", "verification_url",
]


def _ects(value) -> str:
    """One decimal, as the JSON gives it ("3.0", "0.0")."""
    return f"{Decimal(value):.1f}"


def as_rows(export: PartnerExport) -> list[list[Any]]:
    """The export as CSV rows, the header first (``consortium.web.csv_download`` neutralises formulas)."""
    rows: list[list[Any]] = [CSV_HEADER]
    for item in export.enrolments:
        a, e, award, credential = item.application, item.enrolment, item.award, item.credential
        learner = [e.pk, item.student_number, a.given_names, a.family_names, a.email,
                   a.date_of_birth.isoformat() if a.date_of_birth else "", a.nationality.code or "", a.track,
                   a.status, e.enrolled_at.isoformat()]
        awarded = [award.kind if award else "", award.decided_at.isoformat() if award else "",
                   credential.credential_id if credential else "", credential.status if credential else "",
                   item.verification_url]
        for result in item.results:
            course = result.course
            rows.append([*learner, course.code, course.title, course.provider.short_name, _ects(course.ects),
                         result.status, result.joint_grade, result.grade, export.scale.name, result.grade_note,
                         _ects(result.ects), *awarded])
        if not item.results:  # no regulations yet: the learner still has a row
            rows.append([*learner, "", "", "", "", "", "", "", export.scale.name, export.scale.problem, "", *awarded])
    return rows
