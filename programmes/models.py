"""Programmes (D2, D3): the joint programme, its texts per language, course team, versioned curricula
with board approval, and editions (intakes)."""

from decimal import Decimal

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from consortium.api import Agreement, Consortium, Institution, MembershipRole, UUIDModel

from . import isced
from .data import LABELS, QualificationType


class ProgrammeStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    PUBLISHED = "published", _("Published")
    ARCHIVED = "archived", _("Archived")


QUALIFICATION_TYPES = [(k.value, _(LABELS[k])) for k in QualificationType]


class QfEheaCycle(models.TextChoices):
    NONE = "", _("Not applicable")
    SHORT = "short", _("Short cycle")
    FIRST = "first", _("First cycle (bachelor)")
    SECOND = "second", _("Second cycle (master)")
    THIRD = "third", _("Third cycle (doctorate)")


class DeliveryMode(models.TextChoices):
    ONLINE = "online", _("Online")
    BLENDED = "blended", _("Blended")
    ON_SITE = "on_site", _("On-site")


class Synchronicity(models.TextChoices):
    SYNCHRONOUS = "synchronous", _("Synchronous")
    ASYNCHRONOUS = "asynchronous", _("Asynchronous")
    MIXED = "mixed", _("Mixed synchronous and asynchronous")


class Pacing(models.TextChoices):
    COHORT = "cohort", _("Cohort-based, fixed start")
    FLEXIBLE = "flexible", _("Flexible start, self-paced")


class Lifespan(models.TextChoices):
    ONE_OFF = "one_off", _("One-off")
    RECURRING = "recurring", _("Recurring")


class AwardKind(models.TextChoices):
    JOINT = "joint", _("Joint single certificate signed by all")
    DOUBLE = "double", _("Double certificates, one per institution")
    MULTIPLE = "multiple", _("Multiple certificates, one per institution")


class Programme(UUIDModel):
    consortium = models.ForeignKey(Consortium, on_delete=models.PROTECT, related_name="programmes")
    agreement = models.ForeignKey(
        Agreement,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="programmes",
        verbose_name=_("consortium agreement"),
    )
    code = models.SlugField(_("code"), max_length=40, unique=True, help_text=_("Short, stable, e.g. 'euchip-cdf'."))
    status = models.CharField(
        _("status"), max_length=16, choices=ProgrammeStatus.choices, default=ProgrammeStatus.DRAFT
    )
    primary_language = models.CharField(_("primary language"), max_length=8, choices=settings.LANGUAGES)
    languages = models.JSONField(
        _("languages"), default=list, help_text=_("Language policy: every language the programme is offered in.")
    )
    ects = models.DecimalField(
        _("ECTS"),
        max_digits=4,
        decimal_places=1,
        validators=[MinValueValidator(Decimal("0.1")), MaxValueValidator(Decimal("40"))],
    )
    qualification_type = models.CharField(_("qualification type"), max_length=32, choices=QUALIFICATION_TYPES)
    eqf_level = models.PositiveSmallIntegerField(
        _("EQF level"), validators=[MinValueValidator(5), MaxValueValidator(8)]
    )
    qf_ehea_cycle = models.CharField(_("QF-EHEA cycle"), max_length=8, choices=QfEheaCycle.choices, blank=True)
    isced_f = isced.model_field(_("The UNESCO ISCED-F 2013 field, best a detailed one (four digits, e.g. 0613)."))
    delivery_mode = models.CharField(_("mode of delivery"), max_length=16, choices=DeliveryMode.choices)
    synchronicity = models.CharField(_("synchronicity"), max_length=16, choices=Synchronicity.choices)
    pacing = models.CharField(_("pacing"), max_length=16, choices=Pacing.choices)
    participation_form = models.CharField(
        _("form of participation"),
        max_length=255,
        blank=True,
        help_text=_("e.g. 'Online, individual study with weekly live seminars'. EU element 10."),
    )
    duration_weeks = models.PositiveSmallIntegerField(_("duration (weeks)"), validators=[MinValueValidator(1)])
    lifespan = models.CharField(_("lifespan"), max_length=16, choices=Lifespan.choices, default=Lifespan.RECURRING)
    recurring_until = models.DateField(_("recurring until"), null=True, blank=True)
    award_kind = models.CharField(_("award"), max_length=16, choices=AwardKind.choices, default=AwardKind.JOINT)
    lead_institution = models.ForeignKey(
        Institution, on_delete=models.PROTECT, related_name="+", verbose_name=_("lead institution")
    )
    issuing_institution = models.ForeignKey(
        Institution,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("issuing institution"),
        help_text=_("Issues the qualification on behalf of all awarding institutions."),
    )
    qa_scheme = models.TextField(
        _("quality assurance"),
        blank=True,
        help_text=_("Type of quality assurance underpinning the programme (EU element 11)."),
    )
    mobility_scheme = models.TextField(_("mobility scheme"), blank=True)
    stand_alone = models.BooleanField(
        _("stand-alone"), default=True, help_text=_("Untick when it stacks towards other programmes or degrees.")
    )
    external_stacking = models.TextField(
        _("stacks towards external degrees"), blank=True, help_text=_("One degree per line.")
    )
    professional_body = models.CharField(_("professional recognition body"), max_length=255, blank=True)
    professional_recognition = models.TextField(_("what the professional body grants"), blank=True)
    contact_name = models.CharField(_("contact name"), max_length=255, blank=True)
    contact_email = models.EmailField(_("contact email"), blank=True)
    # Timeline (D2): design ≥ 3 months, development ≥ 6 months, then implementation.
    design_starts_on = models.DateField(_("design starts (planned)"), null=True, blank=True)
    development_starts_on = models.DateField(_("development starts (planned)"), null=True, blank=True)
    implementation_starts_on = models.DateField(_("implementation starts (planned)"), null=True, blank=True)
    design_started_on = models.DateField(_("design started (actual)"), null=True, blank=True)
    development_started_on = models.DateField(_("development started (actual)"), null=True, blank=True)
    implementation_started_on = models.DateField(_("implementation started (actual)"), null=True, blank=True)

    class Meta:
        ordering = ["code"]
        constraints = [
            models.CheckConstraint(condition=Q(eqf_level__gte=5, eqf_level__lte=8), name="programme_eqf_5_8"),
            models.CheckConstraint(condition=Q(ects__gt=0, ects__lte=40), name="programme_ects_0_40"),
        ]

    def __str__(self) -> str:
        return self.code

    def get_absolute_url(self) -> str:
        from django.urls import reverse

        return reverse("programme-manage", args=[self.pk])

    def text(self, language: str | None = None) -> "ProgrammeText | None":
        """The texts in ``language`` when translated, else in the primary language (uses the prefetch cache)."""
        texts = {t.language: t for t in self.texts.all()}
        return texts.get(language or "") or texts.get(self.primary_language)

    @property
    def title(self) -> str:
        text = self.text()
        return text.title if text else self.code

    @property
    def workload_hours(self) -> tuple[int, int]:
        from .data import workload_hours

        return workload_hours(self.ects)

    def get_isced_f_display(self) -> str:
        return isced.label(self.isced_f)


class ProgrammePartner(UUIDModel):
    programme = models.ForeignKey(Programme, on_delete=models.CASCADE, related_name="partners")
    institution = models.ForeignKey(Institution, on_delete=models.PROTECT, related_name="programme_partnerships")
    role = models.CharField(_("role"), max_length=16, choices=MembershipRole.choices)
    registration_required = models.BooleanField(
        _("learners register on its platform"),
        default=False,
        help_text=_("Enrolled learners are also registered as students of this institution."),
    )

    class Meta:
        ordering = ["programme", "role", "institution__short_name"]
        constraints = [
            models.UniqueConstraint(fields=["programme", "institution"], name="programme_partner_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.institution} in {self.programme}"


class ProgrammeText(UUIDModel):
    """The translatable texts of a programme, one row per language (the public page picks the visitor's)."""

    programme = models.ForeignKey(Programme, on_delete=models.CASCADE, related_name="texts")
    language = models.CharField(_("language"), max_length=8, choices=settings.LANGUAGES)
    title = models.CharField(_("title"), max_length=255)
    qualification_name = models.CharField(_("qualification name"), max_length=255)
    objectives = models.TextField(_("objectives"), blank=True)
    target_group = models.TextField(_("target group"), blank=True)
    prerequisites = models.TextField(_("prerequisites"), blank=True)
    assessment = models.TextField(_("assessment"), blank=True)
    enrolment_procedure = models.TextField(_("enrolment procedure"), blank=True)
    fees_and_discounts = models.TextField(_("fees and discounts"), blank=True)
    success_requirements = models.TextField(_("success requirements"), blank=True)
    industry_relevance = models.TextField(_("industry relevance"), blank=True)
    credit_transfer = models.TextField(_("credit transfer"), blank=True)
    terms_and_conditions = models.TextField(
        _("terms and conditions"), blank=True, help_text=_("Suspension, refunds, …")
    )
    resources = models.TextField(_("resources available"), blank=True)

    class Meta:
        ordering = ["programme", "language"]
        constraints = [
            models.UniqueConstraint(fields=["programme", "language"], name="programme_text_language_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.title} [{self.language}]"


class OutcomeCategory(models.TextChoices):
    KNOWLEDGE = "knowledge", _("Knowledge")
    SKILLS = "skills", _("Skills")
    RESPONSIBILITY = "responsibility", _("Responsibility and autonomy")


class LearningOutcome(UUIDModel):
    programme = models.ForeignKey(Programme, on_delete=models.CASCADE, related_name="outcomes")
    category = models.CharField(_("category"), max_length=16, choices=OutcomeCategory.choices)
    text = models.TextField(_("learning outcome"))
    esco_uri = models.URLField(_("ESCO skill URI"), blank=True)
    position = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["programme", "position", "created_at"]

    def __str__(self) -> str:
        return self.text[:80]


class StackingLink(UUIDModel):
    """``programme`` stacks towards ``target`` (a larger programme in the system)."""

    programme = models.ForeignKey(Programme, on_delete=models.CASCADE, related_name="stacks_into")
    target = models.ForeignKey(Programme, on_delete=models.CASCADE, related_name="stacked_from")

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["programme", "target"], name="stacking_link_unique"),
            models.CheckConstraint(condition=~Q(programme=models.F("target")), name="stacking_not_self"),
        ]

    def __str__(self) -> str:
        return f"{self.programme} → {self.target}"


# --- Course team (D2) -------------------------------------------------------------------------------


class TeamRole(models.TextChoices):
    LEADER = "leader", _("Team leader (pen holder)")
    MEMBER = "member", _("Team member")
    LEARNER_REPRESENTATIVE = "learner_rep", _("Learner representative")
    STAKEHOLDER = "stakeholder", _("External stakeholder")


class TeamMember(UUIDModel):
    programme = models.ForeignKey(Programme, on_delete=models.CASCADE, related_name="team")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="programme_teams")
    role = models.CharField(_("role"), max_length=16, choices=TeamRole.choices)
    institution = models.ForeignKey(Institution, null=True, blank=True, on_delete=models.PROTECT, related_name="+")

    class Meta:
        ordering = ["programme", "role", "user__email"]
        constraints = [
            models.UniqueConstraint(fields=["programme", "user"], name="team_member_unique"),
            models.UniqueConstraint(fields=["programme"], condition=Q(role="leader"), name="team_one_leader"),
        ]

    def __str__(self) -> str:
        return f"{self.user} ({self.get_role_display()})"


class Phase(models.TextChoices):
    DESIGN = "design", _("Design")
    DEVELOPMENT = "development", _("Development")
    IMPLEMENTATION = "implementation", _("Implementation")


class TeamTask(UUIDModel):
    programme = models.ForeignKey(Programme, on_delete=models.CASCADE, related_name="tasks")
    title = models.CharField(_("task"), max_length=255)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("owner"),
    )
    phase = models.CharField(_("phase"), max_length=16, choices=Phase.choices)
    due_on = models.DateField(_("due on"), null=True, blank=True)
    done_on = models.DateField(_("done on"), null=True, blank=True)

    class Meta:
        ordering = ["programme", "done_on", "due_on", "title"]

    def __str__(self) -> str:
        return self.title


# --- Curriculum ---------------------------------------------------------------------------------------


class CurriculumStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    SUBMITTED = "submitted", _("Submitted to the programme board")
    APPROVED = "approved", _("Approved")
    RETURNED = "returned", _("Returned with comments")


class CurriculumVersion(UUIDModel):
    programme = models.ForeignKey(Programme, on_delete=models.CASCADE, related_name="curricula")
    number = models.PositiveIntegerField(_("version"))
    status = models.CharField(
        _("status"), max_length=16, choices=CurriculumStatus.choices, default=CurriculumStatus.DRAFT
    )
    required_elective_ects = models.DecimalField(
        _("elective ECTS required"),
        max_digits=4,
        decimal_places=1,
        default=Decimal("0"),
        validators=[MinValueValidator(Decimal("0"))],
    )
    based_on = models.ForeignKey("self", null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    submitted_at = models.DateTimeField(null=True, blank=True)
    decided_at = models.DateTimeField(null=True, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    decision_comment = models.TextField(_("board comments"), blank=True)

    class Meta:
        ordering = ["programme", "-number"]
        constraints = [
            models.UniqueConstraint(fields=["programme", "number"], name="curriculum_number_unique"),
            models.UniqueConstraint(
                fields=["programme"],
                condition=Q(status__in=["draft", "submitted", "returned"]),
                name="curriculum_one_open_version",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.programme} curriculum v{self.number}"

    @property
    def is_editable(self) -> bool:
        return self.status in (CurriculumStatus.DRAFT, CurriculumStatus.RETURNED)


class AssessmentMethod(models.TextChoices):
    ON_SITE_EXAM = "on_site_exam", _("On-site exam")
    ONLINE_EXAM = "online_exam", _("Online exam")
    ORAL_EXAM = "oral_exam", _("Oral exam")
    ASSIGNMENT = "assignment", _("Assignment / project")
    CONTINUOUS = "continuous", _("Continuous participation")


class Supervision(models.TextChoices):
    """Supervision and identity verification during assessment (D5)."""

    UNSUPERVISED = "unsupervised", _("Unsupervised, no identity verification")
    SUPERVISED_NO_ID = "supervised_no_id", _("Supervised, no identity verification")
    SUPERVISED_ONLINE = "supervised_online", _("Supervised online, with identity verification")
    ON_SITE_ID = "on_site_id", _("On-site, with identity verification")


class Course(UUIDModel):
    """A course (module) in one curriculum version. A new version copies its courses; the code stays."""

    version = models.ForeignKey(CurriculumVersion, on_delete=models.CASCADE, related_name="courses")
    code = models.CharField(_("code"), max_length=32)
    title = models.CharField(_("title"), max_length=255)
    provider = models.ForeignKey(
        Institution, on_delete=models.PROTECT, related_name="courses", verbose_name=_("provider institution")
    )
    ects = models.DecimalField(
        _("ECTS"),
        max_digits=4,
        decimal_places=1,
        validators=[MinValueValidator(Decimal("0.1")), MaxValueValidator(Decimal("40"))],
    )
    mandatory = models.BooleanField(_("mandatory"), default=True)
    assessment_method = models.CharField(_("assessment"), max_length=16, choices=AssessmentMethod.choices)
    supervision = models.CharField(
        _("supervision and identity verification"), max_length=20, choices=Supervision.choices
    )
    learning_outcomes = models.TextField(_("learning outcomes"), blank=True, help_text=_("One per line."))
    isced_f = isced.model_field(_("Leave empty for the programme's field."))
    position = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["version", "position", "code"]
        constraints = [
            models.UniqueConstraint(fields=["version", "code"], name="course_code_unique_in_version"),
            models.CheckConstraint(condition=Q(ects__gt=0), name="course_ects_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.code} {self.title}"

    def outcome_lines(self) -> list[str]:
        return [line.strip() for line in self.learning_outcomes.splitlines() if line.strip()]

    def get_isced_f_display(self) -> str:
        return isced.label(self.isced_f)


# --- Editions -----------------------------------------------------------------------------------------


class EditionStatus(models.TextChoices):
    PLANNED = "planned", _("Planned")
    OPEN = "open", _("Open for applications")
    RUNNING = "running", _("Running")
    CLOSED = "closed", _("Closed")


class Edition(UUIDModel):
    programme = models.ForeignKey(Programme, on_delete=models.CASCADE, related_name="editions")
    intake_code = models.SlugField(_("intake code"), max_length=32, help_text=_("e.g. '2026-autumn'"))
    time_zone = models.CharField(_("time zone of deadlines"), max_length=64, default="Europe/Brussels")
    application_opens_at = models.DateTimeField(_("applications open"))
    application_closes_at = models.DateTimeField(_("applications close"))
    starts_on = models.DateField(_("starts on"))
    ends_on = models.DateField(_("ends on"))
    capacity = models.PositiveIntegerField(
        _("capacity"), null=True, blank=True, help_text=_("Numerus clausus; empty for no limit.")
    )
    curriculum = models.ForeignKey(
        CurriculumVersion, on_delete=models.PROTECT, related_name="editions", verbose_name=_("curriculum version")
    )
    fee_table_reference = models.CharField(
        _("fee table"),
        max_length=255,
        blank=True,
        help_text=_("Until the finance capability publishes fee tables: where the fees are defined."),
    )
    status = models.CharField(_("status"), max_length=16, choices=EditionStatus.choices, default=EditionStatus.PLANNED)

    class Meta:
        ordering = ["programme", "-starts_on"]
        constraints = [
            models.UniqueConstraint(fields=["programme", "intake_code"], name="edition_intake_unique"),
            models.CheckConstraint(
                condition=Q(application_closes_at__gt=models.F("application_opens_at")), name="edition_window_order"
            ),
            models.CheckConstraint(condition=Q(ends_on__gte=models.F("starts_on")), name="edition_dates_order"),
        ]

    def __str__(self) -> str:
        return f"{self.programme} {self.intake_code}"

    def get_absolute_url(self) -> str:
        from django.urls import reverse

        return reverse("programme-manage", args=[self.programme_id])
