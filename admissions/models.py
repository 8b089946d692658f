"""Admissions (D4): one joint application procedure per edition, review, RPL exemptions and enrolment."""

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from django_countries.fields import CountryField

from consortium.api import Institution, UUIDModel, private_storage, validate_document_upload
from programmes.api import Course, Edition


class CefrLevel(models.TextChoices):
    A1 = "A1", "A1"
    A2 = "A2", "A2"
    B1 = "B1", "B1"
    B2 = "B2", "B2"
    C1 = "C1", "C1"
    C2 = "C2", "C2"


class AdmissionFramework(UUIDModel):
    """What learners must meet to be admitted to an edition, and who reviews eligibility for everyone."""

    edition = models.OneToOneField(Edition, on_delete=models.CASCADE, related_name="admission_framework")
    reviewing_institution = models.ForeignKey(
        Institution, on_delete=models.PROTECT, related_name="+", verbose_name=_("reviewing institution"),
        help_text=_("One institution reviews the eligibility of all applicants, for equal treatment."))
    offer_valid_days = models.PositiveSmallIntegerField(
        _("days to accept an offer"), default=14, validators=[MinValueValidator(1), MaxValueValidator(90)])
    payment_required = models.BooleanField(
        _("payment before enrolment"), default=False,
        help_text=_("When ticked, an accepted offer waits for payment before the learner is enrolled."))

    class Meta:
        ordering = ["edition"]

    def __str__(self) -> str:
        return f"Admission to {self.edition}"


class CriterionKind(models.TextChoices):
    LANGUAGE = "language", _("Language proficiency")
    PRIOR_DEGREE = "prior_degree", _("Prior degree")
    EXPERIENCE = "experience", _("Disciplinary knowledge / work experience")
    ALTERNATIVE = "alternative", _("Alternative route (non-traditional background)")
    OTHER = "other", _("Other")


class Criterion(UUIDModel):
    framework = models.ForeignKey(AdmissionFramework, on_delete=models.CASCADE, related_name="criteria")
    kind = models.CharField(_("kind"), max_length=16, choices=CriterionKind.choices)
    description = models.TextField(_("description"))
    language = models.CharField(_("language"), max_length=8, blank=True)
    min_cefr = models.CharField(_("minimum CEFR level"), max_length=2, choices=CefrLevel.choices, blank=True)
    accepted_proofs = models.TextField(_("accepted proofs"), blank=True)
    min_eqf_level = models.PositiveSmallIntegerField(
        _("minimum EQF level of the prior degree"), null=True, blank=True,
        validators=[MinValueValidator(1), MaxValueValidator(8)])
    min_years = models.PositiveSmallIntegerField(_("minimum years of experience"), null=True, blank=True)
    field = models.CharField(_("field"), max_length=255, blank=True)
    document_label = models.CharField(
        _("document required"), max_length=255, blank=True,
        help_text=_("Leave empty when no document is needed for this criterion."))
    position = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["framework", "position", "created_at"]
        verbose_name_plural = _("criteria")

    def __str__(self) -> str:
        return f"{self.get_kind_display()}: {self.description[:60]}"


class ApplicationStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    SUBMITTED = "submitted", _("Submitted")
    UNDER_REVIEW = "under_review", _("Under review")
    INFO_REQUESTED = "info_requested", _("More information requested")
    ADMITTED = "admitted", _("Admitted (offer made)")
    WAITLISTED = "waitlisted", _("Waitlisted")
    REJECTED = "rejected", _("Rejected")
    OFFER_ACCEPTED = "offer_accepted", _("Offer accepted")
    DECLINED = "declined", _("Offer declined")
    LAPSED = "lapsed", _("Offer lapsed")
    AWAITING_PAYMENT = "awaiting_payment", _("Awaiting payment")
    ENROLLED = "enrolled", _("Enrolled")
    SUSPENDED = "suspended", _("Suspended")
    COMPLETED = "completed", _("Completed")
    WITHDRAWN = "withdrawn", _("Withdrawn")


#: Statuses that hold a place of the edition's capacity.
PLACE_HOLDING = (
    ApplicationStatus.ADMITTED, ApplicationStatus.OFFER_ACCEPTED, ApplicationStatus.AWAITING_PAYMENT,
    ApplicationStatus.ENROLLED, ApplicationStatus.SUSPENDED, ApplicationStatus.COMPLETED,
)


class ParticipantProfile(models.TextChoices):
    DEGREE_STUDENT = "degree_student", _("Degree student")
    PROFESSIONAL = "professional", _("Professional")
    JOB_SEEKER = "job_seeker", _("Job seeker")
    ALUMNI = "alumni", _("Alumni")
    OTHER = "other", _("Other")


class Track(models.TextChoices):
    ASSESSED = "assessed", _("Assessed, with ECTS credits")
    ATTENDANCE = "attendance", _("Attendance only (certificate of attendance)")


class Route(models.TextChoices):
    STANDARD = "standard", _("Standard admission")
    ALTERNATIVE = "alternative", _("Alternative route")


class Application(UUIDModel):
    edition = models.ForeignKey(Edition, on_delete=models.PROTECT, related_name="applications")
    applicant = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="applications")
    status = models.CharField(_("status"), max_length=20, choices=ApplicationStatus.choices,
                              default=ApplicationStatus.DRAFT, db_index=True)
    given_names = models.CharField(_("given names (as on your identity document)"), max_length=150)
    family_names = models.CharField(_("family names (as on your identity document)"), max_length=150)
    date_of_birth = models.DateField(_("date of birth"), null=True, blank=True)
    nationality = CountryField(_("nationality"), blank=True)
    email = models.EmailField(_("email"))
    participant_profile = models.CharField(_("participant profile"), max_length=20,
                                           choices=ParticipantProfile.choices, blank=True)
    track = models.CharField(_("track"), max_length=12, choices=Track.choices, default=Track.ASSESSED)
    employer_sponsor = models.CharField(_("employer sponsoring you"), max_length=255, blank=True)
    route = models.CharField(_("admission route"), max_length=12, choices=Route.choices, default=Route.STANDARD)
    education = models.TextField(_("education"), blank=True)
    highest_eqf_level = models.PositiveSmallIntegerField(
        _("EQF level of your highest qualification"), null=True, blank=True,
        validators=[MinValueValidator(1), MaxValueValidator(8)])
    experience_years = models.PositiveSmallIntegerField(_("years of relevant experience"), null=True, blank=True,
                                                        validators=[MaxValueValidator(70)])
    experience = models.TextField(_("work experience"), blank=True)
    language_proofs = models.TextField(_("language proficiency and proofs"), blank=True)
    motivation = models.TextField(_("motivation"), blank=True)
    utm_source = models.CharField(max_length=200, blank=True)
    utm_medium = models.CharField(max_length=200, blank=True)
    utm_campaign = models.CharField(max_length=200, blank=True)
    submitted_at = models.DateTimeField(null=True, blank=True)
    decided_at = models.DateTimeField(null=True, blank=True)
    decision_reason = models.TextField(_("reason"), blank=True)
    offer_deadline = models.DateTimeField(_("accept the offer by"), null=True, blank=True)
    waitlisted_at = models.DateTimeField(null=True, blank=True, db_index=True)
    possible_duplicate = models.BooleanField(_("possible duplicate"), default=False)

    class Meta:
        ordering = ["-submitted_at", "-created_at"]
        constraints = [
            models.UniqueConstraint(fields=["edition", "applicant"], name="application_one_per_learner_per_edition",
                                    violation_error_message=_("You already have an application for this edition.")),
        ]
        indexes = [
            models.Index(fields=["edition", "status"]),
            # The lists' order (the API's, the learner's): a page of 50 reads 50 rows instead of sorting them all.
            models.Index(fields=["-submitted_at", "-created_at"], name="application_newest_first"),
        ]

    def __str__(self) -> str:
        return f"{self.full_name} → {self.edition}"

    @property
    def full_name(self) -> str:
        return f"{self.given_names} {self.family_names}".strip()

    def get_absolute_url(self) -> str:
        from django.urls import reverse

        return reverse("application-detail", args=[self.pk])


class ApplicationDocument(UUIDModel):
    application = models.ForeignKey(Application, on_delete=models.CASCADE, related_name="documents")
    criterion = models.ForeignKey(Criterion, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    label = models.CharField(_("document"), max_length=255)
    file = models.FileField(_("file"), upload_to="applications/%Y/%m/", storage=private_storage,
                            validators=[validate_document_upload])
    kind = models.CharField(max_length=8, editable=False)  # pdf / png / jpeg, detected from the content
    size = models.PositiveIntegerField(editable=False)

    class Meta:
        ordering = ["application", "created_at"]

    def __str__(self) -> str:
        return self.label


class Assessment(models.TextChoices):
    UNKNOWN = "unknown", _("Not assessed")
    MET = "met", _("Met")
    NOT_MET = "not_met", _("Not met")


class CriterionAssessment(UUIDModel):
    """The reviewer's assessment of one criterion for one application."""

    application = models.ForeignKey(Application, on_delete=models.CASCADE, related_name="criterion_assessments")
    criterion = models.ForeignKey(Criterion, on_delete=models.CASCADE, related_name="assessments")
    result = models.CharField(_("assessment"), max_length=8, choices=Assessment.choices, default=Assessment.UNKNOWN)
    note = models.TextField(_("note"), blank=True)
    reviewer = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                 related_name="+")

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["application", "criterion"], name="criterion_assessment_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.criterion}: {self.get_result_display()}"


class MessageKind(models.TextChoices):
    STATUS = "status", _("Status change")
    INFO_REQUEST = "info_request", _("Request for information")
    RESPONSE = "response", _("Applicant's answer")
    NOTICE = "notice", _("Message from the administrators")


class ApplicationMessage(UUIDModel):
    application = models.ForeignKey(Application, on_delete=models.CASCADE, related_name="messages")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                               related_name="+")
    kind = models.CharField(_("kind"), max_length=16, choices=MessageKind.choices)
    subject = models.CharField(_("subject"), max_length=255)
    body = models.TextField(_("message"))

    class Meta:
        ordering = ["application", "created_at"]

    def __str__(self) -> str:
        return self.subject


class Enrolment(UUIDModel):
    """A learner registered for an edition (one per admitted application). Assessment and awards hang off it."""

    application = models.OneToOneField(Application, on_delete=models.PROTECT, related_name="enrolment")
    edition = models.ForeignKey(Edition, on_delete=models.PROTECT, related_name="enrolments")
    learner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="enrolments")
    enrolled_at = models.DateTimeField(_("enrolled at"))

    class Meta:
        ordering = ["edition", "enrolled_at"]
        constraints = [
            models.UniqueConstraint(fields=["edition", "learner"], name="enrolment_one_per_learner_per_edition"),
        ]

    def __str__(self) -> str:
        return f"{self.application.full_name} in {self.edition}"

    @property
    def status(self) -> str:
        return self.application.status


class RegistrationStatus(models.TextChoices):
    PENDING = "pending", _("Pending")
    REGISTERED = "registered", _("Registered")
    FAILED = "failed", _("Failed")


class InstitutionRegistration(UUIDModel):
    """Registration of an enrolled learner as a student of one institution (the awarding one, and partners
    whose platforms require it). Partners report back the external student number through the API."""

    enrolment = models.ForeignKey(Enrolment, on_delete=models.CASCADE, related_name="registrations")
    institution = models.ForeignKey(Institution, on_delete=models.PROTECT, related_name="+")
    status = models.CharField(_("status"), max_length=12, choices=RegistrationStatus.choices,
                              default=RegistrationStatus.PENDING)
    external_student_number = models.CharField(_("student number"), max_length=64, blank=True)
    message = models.CharField(_("message"), max_length=255, blank=True)

    class Meta:
        ordering = ["enrolment", "institution__short_name"]
        constraints = [
            models.UniqueConstraint(fields=["enrolment", "institution"], name="registration_unique"),
            models.CheckConstraint(condition=~Q(status="registered") | ~Q(external_student_number=""),
                                   name="registered_has_student_number"),
        ]

    def __str__(self) -> str:
        return f"{self.enrolment} at {self.institution}: {self.get_status_display()}"


class ExemptionStatus(models.TextChoices):
    REQUESTED = "requested", _("Requested")
    GRANTED = "granted", _("Granted")
    REFUSED = "refused", _("Refused")


class ExemptionRequest(UUIDModel):
    """Recognition of prior learning: exemption from one course, based on earlier credentials or experience."""

    application = models.ForeignKey(Application, on_delete=models.CASCADE, related_name="exemptions")
    course = models.ForeignKey(Course, on_delete=models.PROTECT, related_name="exemption_requests")
    basis = models.TextField(_("earlier credential or experience"))
    evidence = models.FileField(_("evidence"), upload_to="exemptions/%Y/%m/", storage=private_storage, blank=True,
                                validators=[validate_document_upload])
    status = models.CharField(_("status"), max_length=12, choices=ExemptionStatus.choices,
                              default=ExemptionStatus.REQUESTED)
    ects_recognised = models.DecimalField(_("ECTS recognised"), max_digits=4, decimal_places=1, null=True,
                                          blank=True)
    reason = models.TextField(_("reason"), blank=True)
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="+")
    decided_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["application", "created_at"]
        constraints = [
            models.UniqueConstraint(fields=["application", "course"], condition=~Q(status="refused"),
                                    name="exemption_one_open_per_course"),
        ]

    def __str__(self) -> str:
        return f"Exemption from {self.course.code} for {self.application.full_name}"
