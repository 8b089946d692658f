"""Quality reviews (D8, D10 "annual institutional review and improvement plan"): one per programme and academic
year, with the evidence computed from the other apps (``quality.evidence``), the team's findings and the
improvement plan.

* ``year`` is an academic year, named by its first calendar year: 2026 is 2026/27, and covers the editions whose
  last day (``Edition.ends_on``) falls from 1 September 2026 to 31 August 2027 (``academic_year_bounds``).
* Lifecycle (``quality.review.REVIEW_TRANSITIONS``): draft → submitted (the team, ``quality.manage``) → approved
  or returned (the programme board, ``review.decide``); a returned review is edited and submitted again. While a
  review is a draft (or returned) its evidence is computed live; submitting freezes it as JSON in ``evidence``,
  so what the board approves and the report it signs off never change. A return drops the freeze.
* Findings and the actions of the improvement plan are edited while the review is a draft (or returned); the
  actions' progress (planned → in progress → done / dropped) is followed up at any time, also after approval.
* ``ReviewReport`` is the PDF of a review: a draft on request (marked DRAFT), the final one when the board
  approves. Its ``content`` is everything the PDF shows, frozen when it is asked for; a task renders it once.
"""

import datetime as dt

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from consortium.api import Institution, UUIDModel, private_storage
from programmes.api import Programme

from .feedback import Theme

__all__ = [
    "ACADEMIC_YEAR_START_MONTH",
    "REVIEW_YEAR_MAX",
    "REVIEW_YEAR_MIN",
    "ActionStatus",
    "Finding",
    "FindingKind",
    "ImprovementAction",
    "QualityReview",
    "ReportStatus",
    "ReviewReport",
    "ReviewStatus",
    "academic_year_bounds",
    "academic_year_label",
    "academic_year_of",
]

#: The month an academic year starts in (1 September).
ACADEMIC_YEAR_START_MONTH = 9
REVIEW_YEAR_MIN, REVIEW_YEAR_MAX = 2000, 2100
TEXT_MAX = 2000


def academic_year_of(day: dt.date) -> int:
    """The academic year ``day`` falls in, by its first calendar year (2027-04-25 → 2026)."""
    return day.year if day.month >= ACADEMIC_YEAR_START_MONTH else day.year - 1


def academic_year_bounds(year: int) -> tuple[dt.date, dt.date]:
    """The first and last day of academic year ``year`` (2026 → 2026-09-01, 2027-08-31)."""
    first = dt.date(year, ACADEMIC_YEAR_START_MONTH, 1)
    return first, dt.date(year + 1, ACADEMIC_YEAR_START_MONTH, 1) - dt.timedelta(days=1)


def academic_year_label(year: int) -> str:
    """2026 → "2026/27"."""
    return f"{year}/{(year + 1) % 100:02d}"


class ReviewStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    SUBMITTED = "submitted", _("Submitted to the programme board")
    APPROVED = "approved", _("Approved by the programme board")
    RETURNED = "returned", _("Returned with comments")


class QualityReview(UUIDModel):
    """The annual quality review of one programme for one academic year."""

    programme = models.ForeignKey(Programme, on_delete=models.PROTECT, related_name="quality_reviews")
    year = models.PositiveSmallIntegerField(
        _("academic year"), validators=[MinValueValidator(REVIEW_YEAR_MIN), MaxValueValidator(REVIEW_YEAR_MAX)],
        help_text=_("Its first calendar year: 2026 is 2026/27, the editions that end from 1 September 2026 to 31 "
                    "August 2027."))
    status = models.CharField(_("status"), max_length=12, choices=ReviewStatus.choices, default=ReviewStatus.DRAFT)
    summary = models.TextField(
        _("summary and conclusions"), blank=True, max_length=5000,
        help_text=_("The team's reading of the evidence, for the programme board."))
    #: The evidence as submitted (``quality.evidence.to_json``); None while the review is a draft or returned.
    evidence = models.JSONField(null=True, blank=True, editable=False)
    evidence_frozen_at = models.DateTimeField(null=True, blank=True, editable=False)
    submitted_at = models.DateTimeField(null=True, blank=True)
    submitted_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                     related_name="+")
    decided_at = models.DateTimeField(null=True, blank=True)
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="+")
    board_comment = models.TextField(_("board comments"), blank=True, max_length=TEXT_MAX)

    class Meta:
        ordering = ["programme", "-year"]
        constraints = [
            models.UniqueConstraint(
                fields=["programme", "year"], name="quality_review_one_per_programme_and_year",
                violation_error_message=_("This programme already has a quality review for this academic year.")),
            models.CheckConstraint(
                condition=Q(status__in=["draft", "returned"], evidence__isnull=True)
                | Q(status__in=["submitted", "approved"], evidence__isnull=False, evidence_frozen_at__isnull=False),
                name="quality_review_evidence_frozen_when_submitted"),
            models.CheckConstraint(condition=Q(year__gte=REVIEW_YEAR_MIN, year__lte=REVIEW_YEAR_MAX),
                                   name="quality_review_year_range"),
        ]

    def __str__(self) -> str:
        return f"Quality review {self.year_label} of {self.programme}"

    def get_absolute_url(self) -> str:
        from django.urls import reverse

        return reverse("review-detail", args=[self.pk])

    @property
    def year_label(self) -> str:
        return academic_year_label(self.year)

    @property
    def period(self) -> tuple[dt.date, dt.date]:
        return academic_year_bounds(self.year)

    @property
    def editable(self) -> bool:
        """Findings, the plan and the summary change only while the team holds the review."""
        return self.status in (ReviewStatus.DRAFT, ReviewStatus.RETURNED)

    @property
    def frozen(self) -> bool:
        return self.evidence is not None


class FindingKind(models.TextChoices):
    STRENGTH = "strength", _("Strength")
    WEAKNESS = "weakness", _("Weakness")
    RISK = "risk", _("Risk")


class Finding(UUIDModel):
    """What the team concludes from the evidence: a strength, a weakness or a risk, about one ESG theme."""

    review = models.ForeignKey(QualityReview, on_delete=models.CASCADE, related_name="findings")
    kind = models.CharField(_("kind"), max_length=12, choices=FindingKind.choices)
    theme = models.CharField(_("theme"), max_length=16, choices=Theme.choices, default=Theme.GENERAL)
    text = models.TextField(_("finding"), max_length=TEXT_MAX)
    position = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["review", "position", "created_at"]

    def __str__(self) -> str:
        return self.text[:80]


class ActionStatus(models.TextChoices):
    PLANNED = "planned", _("Planned")
    IN_PROGRESS = "in_progress", _("In progress")
    DONE = "done", _("Done")
    DROPPED = "dropped", _("Dropped")


#: Statuses of an action still to be carried out (the ones that can be overdue).
OPEN_ACTION_STATUSES = (ActionStatus.PLANNED, ActionStatus.IN_PROGRESS)


class ImprovementAction(UUIDModel):
    """One action of the review's improvement plan, with who carries it out and by when."""

    review = models.ForeignKey(QualityReview, on_delete=models.CASCADE, related_name="actions")
    finding = models.ForeignKey(Finding, null=True, blank=True, on_delete=models.SET_NULL, related_name="actions",
                                verbose_name=_("finding it answers"))
    title = models.CharField(_("action"), max_length=255)
    description = models.TextField(_("description"), blank=True, max_length=TEXT_MAX)
    owner = models.CharField(
        _("owner"), max_length=200,
        help_text=_("Who carries it out: a role or a person, e.g. 'Course coordinator CDF2'."))
    owner_institution = models.ForeignKey(
        Institution, null=True, blank=True, on_delete=models.PROTECT, related_name="+",
        verbose_name=_("owner's institution"), help_text=_("The lead or a partner of the programme."))
    due_on = models.DateField(_("due on"))
    status = models.CharField(_("status"), max_length=12, choices=ActionStatus.choices,
                              default=ActionStatus.PLANNED)
    started_at = models.DateTimeField(null=True, blank=True)
    done_at = models.DateTimeField(null=True, blank=True)
    dropped_at = models.DateTimeField(null=True, blank=True)
    dropped_reason = models.TextField(_("why it was dropped"), blank=True, max_length=TEXT_MAX)
    position = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["review", "position", "created_at"]
        constraints = [
            models.CheckConstraint(
                condition=Q(status="planned", done_at__isnull=True, dropped_at__isnull=True)
                | Q(status="in_progress", done_at__isnull=True, dropped_at__isnull=True)
                | Q(status="done", done_at__isnull=False, dropped_at__isnull=True)
                | (Q(status="dropped", done_at__isnull=True, dropped_at__isnull=False) & ~Q(dropped_reason="")),
                name="improvement_action_status_dates"),
        ]
        indexes = [models.Index(fields=["status", "due_on"], name="improvement_action_due")]

    def __str__(self) -> str:
        return self.title

    def is_overdue(self, today: dt.date | None = None) -> bool:
        """Still to do (planned or in progress) and its due date has passed."""
        return self.status in OPEN_ACTION_STATUSES and self.due_on < (today or timezone.localdate())

    @property
    def overdue(self) -> bool:
        return self.is_overdue()


class ReportStatus(models.TextChoices):
    QUEUED = "queued", _("Being prepared")
    READY = "ready", _("Ready")
    FAILED = "failed", _("Failed")


class ReviewReport(UUIDModel):
    """The PDF of a review: a draft on request, or the final report rendered when the board approves (one)."""

    review = models.ForeignKey(QualityReview, on_delete=models.CASCADE, related_name="reports")
    final = models.BooleanField(default=False)
    #: Everything the PDF shows (``quality.review.report_content``), frozen when the report was asked for.
    content = models.JSONField(editable=False)
    status = models.CharField(_("status"), max_length=8, choices=ReportStatus.choices, default=ReportStatus.QUEUED)
    file = models.FileField(upload_to="quality/reviews/%Y/", storage=private_storage, blank=True)
    sha256 = models.CharField(max_length=64, blank=True)
    error = models.TextField(blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    rendered_at = models.DateTimeField(null=True, blank=True)
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                     related_name="+")

    class Meta:
        ordering = ["review", "-created_at"]
        constraints = [
            models.UniqueConstraint(fields=["review"], condition=Q(final=True),
                                    name="quality_review_one_final_report"),
        ]

    def __str__(self) -> str:
        return f"{'Final' if self.final else 'Draft'} report of {self.review}"
