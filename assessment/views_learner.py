"""Results pages (D5): the learner's own results, appeals, and the per-learner view of staff who follow results.

Learners see approved (locked) results only, through ``award_eligibility``/``course_result``; draft, submitted
and returned grades never reach their page. An enrolment is looked up among the signed-in learner's own, so
someone else's id is a 404. Staff who may view results of the edition (``grades.view`` on a sheet of one of its
courses, or the examination board through ``results.decide``) open the same table for one learner, with the
status of the sheets still in progress and the grades the policy lets them see on those sheets.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django import forms
from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from admissions.api import Enrolment, ExemptionRequest, ExemptionStatus
from consortium.api import DomainError, policy
from consortium.web import PolicyTemplateView, ServiceFormView
from programmes.api import Course

from . import services
from .models import Appeal, AppealStatus, Grade, GradingScale, ResultSheet, SheetStatus

#: The colour of a course status badge (the stylesheet's status-* classes).
TONES = {"passed": "ready", "exempted": "granted", "failed": "failed", "pending": "pending"}
STATUS_LABELS = {
    "passed": gettext_lazy("Passed"),
    "failed": gettext_lazy("Failed"),
    "exempted": gettext_lazy("Exempted"),
    "pending": gettext_lazy("Pending"),
}
APPEAL_TONES = {AppealStatus.LODGED: "pending", AppealStatus.UPHELD: "ready", AppealStatus.DISMISSED: "failed"}
SHEET_LABELS = {
    SheetStatus.DRAFT: gettext_lazy("Draft"),
    SheetStatus.SUBMITTED: gettext_lazy("Submitted, awaiting the board"),
    SheetStatus.RETURNED: gettext_lazy("Returned to the examiners"),
    SheetStatus.APPROVED: gettext_lazy("Approved"),
}
SHEET_TONES = {
    SheetStatus.DRAFT: "draft",
    SheetStatus.SUBMITTED: "pending",
    SheetStatus.RETURNED: "pending",
    SheetStatus.APPROVED: "ready",
}


@dataclass
class CourseRow:
    """One course of the curriculum as the results table shows it."""

    course: Course
    status: str
    status_label: str
    tone: str
    joint_grade: str = ""
    national_grade: str = ""
    scale: GradingScale | None = None
    ects: Decimal = Decimal("0")
    attempts: int = 0
    components: list[dict[str, Any]] = field(default_factory=list)
    approved_at: dt.datetime | None = None
    exemption: ExemptionRequest | None = None
    grades: list[Grade] = field(default_factory=list)  # approved, current: the appealable ones
    sheets: list[ResultSheet] = field(default_factory=list)  # staff view only: every attempt, with its status


def _own_enrolments(user):
    return (
        Enrolment.objects.filter(learner=user)
        .select_related("application", "edition__programme", "edition__curriculum")
        .prefetch_related("edition__programme__texts")
    )


def results_context(enrolment: Enrolment, *, viewer=None, learner: bool = True) -> dict[str, Any]:
    """Everything the results table shows for one enrolment.

    ``learner``: the page of the learner themself (approved results, appeal forms). Otherwise ``viewer`` is a
    staff member: the sheets of every attempt are listed with their status, and the grades of the ones the
    policy lets the viewer see (``grades.view``).
    """
    edition = enrolment.edition
    eligibility = services.award_eligibility(enrolment)
    try:
        regulation = services.regulation_for(edition)
    except DomainError:
        regulation = None
    scales = (
        {c.institution_id: c.national_scale for c in regulation.conversions.select_related("national_scale")}
        if regulation
        else {}
    )
    results = {r.course.pk: r for r in eligibility.courses}
    courses = list(edition.curriculum.courses.select_related("provider").order_by("position"))
    exemptions = {
        e.course_id: e
        for e in ExemptionRequest.objects.filter(application=enrolment.application, status=ExemptionStatus.GRANTED)
    }
    grades = list(
        Grade.objects.filter(enrolment=enrolment, superseded=False, sheet__status=SheetStatus.APPROVED)
        .select_related("sheet", "assessment", "national_scale")
        .order_by("sheet__attempt", "assessment__title")
    )
    appeals = list(
        Appeal.objects.filter(grade__enrolment=enrolment)
        .select_related("grade__assessment", "grade__sheet__course")
        .order_by("-created_at")
    )
    for appeal in appeals:
        appeal.tone = APPEAL_TONES.get(appeal.status, "pending")
    under_way = {a.grade_id for a in appeals if a.status == AppealStatus.LODGED}
    now = timezone.now()
    for grade in grades:
        grade.deadline = services.appeal_deadline(grade)
        grade.window_open = grade.deadline is not None and now <= grade.deadline
        grade.appeal_under_way = grade.pk in under_way
        grade.can_appeal = learner and grade.window_open and not grade.appeal_under_way
    sheets_by_course: dict[Any, list[ResultSheet]] = {}
    if not learner:
        sheets = list(ResultSheet.objects.filter(edition=edition).select_related("edition__programme", "course"))
        own = {}
        for grade in Grade.objects.filter(enrolment=enrolment, superseded=False, sheet__edition=edition).select_related(
            "assessment"
        ):
            own.setdefault(grade.sheet_id, []).append(grade)
        for sheet in sheets:
            sheet.tone = SHEET_TONES.get(sheet.status, "draft")
            sheet.label = SHEET_LABELS.get(sheet.status, sheet.get_status_display())
            sheet.visible = policy.can(viewer, "grades.view", sheet)
            sheet.learner_grades = sorted(own.get(sheet.pk, []), key=lambda g: g.assessment.title)
            sheets_by_course.setdefault(sheet.course_id, []).append(sheet)
    rows = []
    for course in courses:
        result = results.get(course.pk)
        status = result.status if result else "pending"
        course_grades = [g for g in grades if g.sheet.course_id == course.pk]
        decided = [g.sheet.decided_at for g in course_grades if g.sheet.decided_at]
        rows.append(
            CourseRow(
                course=course,
                status=status,
                status_label=STATUS_LABELS[status],
                tone=TONES[status],
                joint_grade=result.joint_grade if result else "",
                national_grade=result.national_grade if result else "",
                scale=scales.get(course.provider_id),
                ects=result.ects if result else Decimal("0"),
                attempts=result.attempts if result else 0,
                components=result.components if result else [],
                approved_at=max(decided) if decided else None,
                exemption=exemptions.get(course.pk),
                grades=course_grades,
                sheets=sorted(sheets_by_course.get(course.pk, []), key=lambda s: s.attempt),
            )
        )
    return {
        "enrolment": enrolment,
        "edition": edition,
        "programme": edition.programme,
        "regulation": regulation,
        "joint_scale": regulation.joint_scale if regulation else None,
        "eligibility": eligibility,
        "rows": rows,
        "graded": [g for row in rows for g in row.grades],
        "appeals": appeals,
        "any_window_open": any(g.can_appeal for g in grades),
        "learner_view": learner,
    }


# --- The learner's pages ---------------------------------------------------------------------------------


class MyResultsView(PolicyTemplateView):
    """The learner's enrolments, each with where the award stands."""

    policy_action = policy.AUTHENTICATED
    template_name = "assessment/learner/list.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        enrolments = list(_own_enrolments(self.request.user).order_by("-enrolled_at"))
        for enrolment in enrolments:
            enrolment.eligibility = services.award_eligibility(enrolment)
        context.update(enrolments=enrolments)
        return context


class OwnEnrolmentMixin:
    """The signed-in learner's enrolment named by the URL (404 for anyone else's, whoever asks)."""

    def get_policy_object(self):
        if getattr(self, "object", None) is None:
            self.object = get_object_or_404(_own_enrolments(self.request.user), pk=self.kwargs["enrolment_pk"])
        return self.object

    def results_url(self) -> str:
        return reverse("my-results-detail", args=[self.object.pk])


class MyEnrolmentResultsView(OwnEnrolmentMixin, PolicyTemplateView):
    """Every course of the edition's curriculum with its approved result, the award status, and appeals."""

    policy_action = "results.own"
    template_name = "assessment/learner/results.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context.update(results_context(self.object, learner=True))
        return context


class AppealForm(forms.Form):
    grade = forms.ChoiceField(label=gettext_lazy("Result"))
    reason = forms.CharField(
        label=gettext_lazy("Grounds of the appeal"),
        widget=forms.Textarea(attrs={"rows": 5}),
        max_length=5000,
        help_text=gettext_lazy("Say which part of the assessment you contest and why. The examination board decides."),
    )

    def __init__(self, *args, grades=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.grades = {str(g.pk): g for g in grades}
        self.fields["grade"].choices = [
            (
                str(g.pk),
                f"{g.sheet.course.code} {g.sheet.course.title} — {g.assessment.title} "
                f"({_('attempt')} {g.sheet.attempt}): {g.national_grade}",
            )
            for g in grades
        ]


class AppealLodgeView(OwnEnrolmentMixin, ServiceFormView):
    """Lodge an appeal on an approved grade. The results page posts here; the service decides on the window."""

    policy_action = "results.own"
    form_class = AppealForm
    title = gettext_lazy("Appeal against a result")
    intro = gettext_lazy(
        "You may appeal against an approved result within the appeals window of the examination regulations."
    )
    submit_label = gettext_lazy("Lodge the appeal")
    success_message = gettext_lazy("Your appeal is lodged. The examination board decides; the outcome appears here.")

    def grades(self):
        return (
            Grade.objects.filter(enrolment=self.object, superseded=False, sheet__status=SheetStatus.APPROVED)
            .select_related("sheet__course", "sheet__edition", "assessment", "enrolment")
            .order_by("sheet__course__position", "sheet__attempt", "assessment__title")
        )

    def get_initial(self):
        return {**super().get_initial(), "grade": self.request.GET.get("grade", "")}

    def get_form_kwargs(self):
        return {**super().get_form_kwargs(), "grades": list(self.grades())}

    def get_cancel_url(self) -> str:
        return self.results_url()

    def get_success_url_for(self, _result) -> str:
        return self.results_url() + "#appeals"

    def perform(self, form):
        grade = form.grades[form.cleaned_data["grade"]]
        return services.appeal_lodge(actor=self.request.user, grade=grade, reason=form.cleaned_data["reason"])


# --- Staff: one learner's results -----------------------------------------------------------------------------


def staff_may_view(user, enrolment: Enrolment) -> bool:
    """Whether ``user`` follows the results of the enrolment's edition: ``grades.view`` on a sheet of one of its
    courses (an existing one, or the first attempt's before it exists), or the board's ``results.decide``."""
    edition = enrolment.edition
    sheets = list(ResultSheet.objects.filter(edition=edition).select_related("edition__programme", "course"))
    have = {s.course_id for s in sheets}
    for course in edition.curriculum.courses.select_related("provider"):
        if course.pk not in have:
            sheets.append(ResultSheet(edition=edition, course=course, attempt=1))  # asked about, never saved
    return any(policy.can(user, "grades.view", s) or policy.can(user, "results.decide", s) for s in sheets)


class EnrolmentResultsView(PolicyTemplateView):
    """One learner's results for examiners, the examination board and the programme's leaders."""

    policy_action = "grades.view"
    template_name = "assessment/learner/enrolment_results.html"

    # The policy check without an object asks whether the user views grades at all; ``get`` then checks the
    # enrolment's edition.

    def get(self, request, *args, **kwargs):
        self.enrolment = get_object_or_404(
            Enrolment.objects.select_related("application", "learner", "edition__programme", "edition__curriculum"),
            pk=kwargs["pk"],
        )
        if not staff_may_view(request.user, self.enrolment):
            raise PermissionDenied
        return super().get(request, *args, **kwargs)

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context.update(results_context(self.enrolment, viewer=self.request.user, learner=False))
        return context
