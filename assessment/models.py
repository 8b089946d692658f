"""Assessment (D5): joint examination regulations, grading scales and conversion, assessments per course and
edition, grade entry per partner, board approval and locking, corrections, resits and appeals."""

from decimal import Decimal

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from admissions.api import Enrolment
from consortium.api import Institution, UUIDModel
from programmes.api import AssessmentMethod, Course, Edition, Programme, Supervision

from .grading import Scale


class GradingScale(UUIDModel):
    """A grading scale: its grades from best to worst and the worst grade that still passes."""

    name = models.CharField(
        _("name"), max_length=100, unique=True, help_text=_("e.g. 'Spain 0–10', 'Germany 1.0–5.0', 'Joint 0–20'")
    )
    country = models.CharField(_("country"), max_length=2, blank=True)
    grades = models.JSONField(_("grades, best first"))
    pass_grade = models.CharField(_("lowest passing grade"), max_length=16)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    @property
    def scale(self) -> Scale:
        return Scale(grades=tuple(str(g).strip().upper() for g in self.grades), pass_grade=self.pass_grade.upper())

    def clean(self) -> None:
        from django.core.exceptions import ValidationError

        try:
            self.scale  # noqa: B018 - validates
        except (ValueError, TypeError) as exc:
            raise ValidationError({"grades": [str(exc)]}) from exc


class RegulationStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    APPROVED = "approved", _("Approved")


class FinalResultRule(models.TextChoices):
    LAST = "last", _("The last attempt counts")
    BEST = "best", _("The best attempt counts")


class ResitScope(models.TextChoices):
    COMPONENT = "component", _("A resit replaces the failed component")
    COURSE = "course", _("A resit replaces the whole course")


class ExamRegulation(UUIDModel):
    """Joint examination regulations of a programme, versioned like the curriculum."""

    programme = models.ForeignKey(Programme, on_delete=models.CASCADE, related_name="exam_regulations")
    number = models.PositiveIntegerField(_("version"))
    status = models.CharField(
        _("status"), max_length=12, choices=RegulationStatus.choices, default=RegulationStatus.DRAFT
    )
    joint_scale = models.ForeignKey(
        GradingScale, on_delete=models.PROTECT, related_name="+", verbose_name=_("joint grading scale")
    )
    resits_allowed = models.PositiveSmallIntegerField(_("resits allowed"), default=1, validators=[MaxValueValidator(5)])
    final_result = models.CharField(
        _("final result"), max_length=8, choices=FinalResultRule.choices, default=FinalResultRule.LAST
    )
    resit_scope = models.CharField(
        _("a resit replaces"), max_length=12, choices=ResitScope.choices, default=ResitScope.COMPONENT
    )
    minimum_average = models.DecimalField(
        _("minimum average (joint scale, numeric scales only)"), max_digits=5, decimal_places=2, null=True, blank=True
    )
    appeals_days = models.PositiveSmallIntegerField(
        _("appeals window (days)"), default=14, validators=[MinValueValidator(1), MaxValueValidator(90)]
    )
    organisation = models.TextField(_("organisation of exams"), blank=True)

    class Meta:
        ordering = ["programme", "-number"]
        constraints = [
            models.UniqueConstraint(fields=["programme", "number"], name="regulation_number_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.programme} regulations v{self.number}"


class ConversionTable(UUIDModel):
    """How one partner's national grades convert to the joint scale (validated: total, monotonic, pass→pass)."""

    regulation = models.ForeignKey(ExamRegulation, on_delete=models.CASCADE, related_name="conversions")
    institution = models.ForeignKey(Institution, on_delete=models.PROTECT, related_name="+")
    national_scale = models.ForeignKey(GradingScale, on_delete=models.PROTECT, related_name="+")
    mapping = models.JSONField(_("national grade → joint grade"))

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["regulation", "institution"], name="conversion_one_per_partner"),
        ]

    def __str__(self) -> str:
        return f"{self.national_scale} → {self.regulation.joint_scale} ({self.institution})"


class EditionRegulation(UUIDModel):
    """The regulation version an edition runs (editions live in programmes, so the link lives here)."""

    edition = models.OneToOneField(Edition, on_delete=models.CASCADE, related_name="exam_regulation")
    regulation = models.ForeignKey(ExamRegulation, on_delete=models.PROTECT, related_name="editions")

    def __str__(self) -> str:
        return f"{self.edition}: {self.regulation}"


class Assessment(UUIDModel):
    """One assessed component of a course in an edition (weights of a course's components add up to 100)."""

    edition = models.ForeignKey(Edition, on_delete=models.CASCADE, related_name="assessments")
    course = models.ForeignKey(Course, on_delete=models.PROTECT, related_name="assessments")
    title = models.CharField(_("title"), max_length=255)
    method = models.CharField(_("type"), max_length=16, choices=AssessmentMethod.choices)
    weight = models.DecimalField(
        _("weight (%)"),
        max_digits=5,
        decimal_places=2,
        default=Decimal("100"),
        validators=[MinValueValidator(Decimal("0.01")), MaxValueValidator(Decimal("100"))],
    )
    supervision = models.CharField(
        _("supervision and identity verification"), max_length=20, choices=Supervision.choices
    )
    opens_on = models.DateField(_("date or window start"), null=True, blank=True)
    closes_on = models.DateField(_("window end"), null=True, blank=True)
    learner_led = models.BooleanField(
        _("learner-led timing"), default=False, help_text=_("Each learner submits on an individual date.")
    )

    class Meta:
        ordering = ["edition", "course__position", "title"]
        constraints = [
            models.UniqueConstraint(fields=["edition", "course", "title"], name="assessment_title_unique"),
            models.CheckConstraint(
                condition=Q(closes_on__isnull=True) | Q(opens_on__isnull=True) | Q(closes_on__gte=models.F("opens_on")),
                name="assessment_window_order",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.course.code} {self.title}"


class SheetStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    SUBMITTED = "submitted", _("Submitted by the examiner")
    APPROVED = "approved", _("Approved by the board (locked)")
    RETURNED = "returned", _("Returned with comments")


class ResultSheet(UUIDModel):
    """The results of one course in one edition, entered by its examiners and decided by the exam board."""

    edition = models.ForeignKey(Edition, on_delete=models.CASCADE, related_name="result_sheets")
    course = models.ForeignKey(Course, on_delete=models.PROTECT, related_name="result_sheets")
    attempt = models.PositiveSmallIntegerField(_("attempt"), default=1)
    status = models.CharField(_("status"), max_length=12, choices=SheetStatus.choices, default=SheetStatus.DRAFT)
    submitted_at = models.DateTimeField(null=True, blank=True)
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    board_comment = models.TextField(_("board comments"), blank=True)

    class Meta:
        ordering = ["edition", "course__position", "attempt"]
        constraints = [
            models.UniqueConstraint(fields=["edition", "course", "attempt"], name="result_sheet_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.course.code} attempt {self.attempt} ({self.edition})"


class Grade(UUIDModel):
    """One learner's grade for one assessment in one attempt. A correction after approval is a new version;
    the old one stays, marked superseded."""

    sheet = models.ForeignKey(ResultSheet, on_delete=models.CASCADE, related_name="grades")
    assessment = models.ForeignKey(Assessment, on_delete=models.PROTECT, related_name="grades")
    enrolment = models.ForeignKey(Enrolment, on_delete=models.PROTECT, related_name="grades")
    national_grade = models.CharField(_("grade (institution's scale)"), max_length=16)
    national_scale = models.ForeignKey(GradingScale, on_delete=models.PROTECT, related_name="+")
    joint_grade = models.CharField(_("grade (joint scale)"), max_length=16)
    version = models.PositiveSmallIntegerField(default=1)
    superseded = models.BooleanField(default=False)
    correction_reason = models.TextField(_("reason for correction"), blank=True)
    entered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["sheet", "enrolment", "assessment", "-version"]
        constraints = [
            models.UniqueConstraint(
                fields=["sheet", "assessment", "enrolment"], condition=Q(superseded=False), name="grade_one_current"
            ),
            models.UniqueConstraint(
                fields=["sheet", "assessment", "enrolment", "version"], name="grade_version_unique"
            ),
        ]
        indexes = [
            # The results API's order over the current grades: a page reads its 50 rows instead of sorting them all.
            models.Index(fields=["sheet", "enrolment", "assessment"], condition=Q(superseded=False),
                         name="grade_current_list_order"),
        ]

    def __str__(self) -> str:
        return f"{self.enrolment}: {self.assessment} = {self.national_grade} ({self.joint_grade})"


class AppealStatus(models.TextChoices):
    LODGED = "lodged", _("Lodged")
    UPHELD = "upheld", _("Upheld")
    DISMISSED = "dismissed", _("Dismissed")


class Appeal(UUIDModel):
    grade = models.ForeignKey(Grade, on_delete=models.PROTECT, related_name="appeals")
    reason = models.TextField(_("grounds"))
    status = models.CharField(_("status"), max_length=12, choices=AppealStatus.choices, default=AppealStatus.LODGED)
    outcome = models.TextField(_("outcome"), blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"Appeal on {self.grade}"
