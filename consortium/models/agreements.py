from decimal import Decimal

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from consortium.storage import private_storage
from consortium.uploads import validate_pdf_upload

from .base import UUIDModel
from .institutions import Consortium, Institution, MembershipRole


class AgreementKind(models.TextChoices):
    PROGRAMME = "programme", _("Agreement for one joint programme")
    FRAMEWORK = "framework", _("Consortium-wide framework agreement")


class Agreement(UUIDModel):
    """A consortium agreement. Programmes (a higher app) point at the agreement that governs them."""

    consortium = models.ForeignKey(Consortium, on_delete=models.PROTECT, related_name="agreements")
    kind = models.CharField(_("kind"), max_length=16, choices=AgreementKind.choices)
    title = models.CharField(_("title"), max_length=255)
    reference = models.CharField(_("reference"), max_length=64, blank=True)

    class Meta:
        ordering = ["consortium", "title"]
        constraints = [
            models.UniqueConstraint(fields=["consortium", "title"], name="agreement_title_unique"),
        ]

    def __str__(self) -> str:
        return self.title


class AgreementStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    UNDER_SIGNATURE = "under_signature", _("Under signature")
    IN_FORCE = "in_force", _("In force")
    SUPERSEDED = "superseded", _("Superseded by a later version")
    TERMINATED = "terminated", _("Terminated")


class RevenueModel(models.TextChoices):
    COLLECTING_PARTNER = "collecting_partner", _("One partner collects fees and distributes shares")
    EACH_KEEPS_OWN = "each_keeps_own", _("Each partner keeps its own income and bears its own costs")


class SharingBasis(models.TextChoices):
    FIXED = "fixed", _("Fixed percentages")
    ECTS_TAUGHT = "ects_taught", _("Pro rata to ECTS taught")
    LEARNERS_ENROLLED = "learners_enrolled", _("Pro rata to learners enrolled via each partner")


class AgreementSection(models.TextChoices):
    """The structured sections of a consortium agreement (D1)."""

    GOVERNANCE = "governance", _("Governance")
    OBLIGATIONS = "obligations", _("Obligations of the partners")
    ECTS_RECOGNITION = "ects_recognition", _("ECTS recognition at partners")
    MARKETING_BRANDING = "marketing_branding", _("Marketing and branding")
    CERTIFICATE = "certificate", _("Certificate")
    INTELLECTUAL_PROPERTY = "intellectual_property", _("Intellectual property")
    EXCLUSIVITY = "exclusivity", _("Exclusivity")
    GDPR = "gdpr", _("Data protection (GDPR)")
    TERM_TERMINATION = "term_termination", _("Term, review and termination")
    APPLICABLE_LAW = "applicable_law", _("Applicable law and dispute resolution")


class AgreementVersion(UUIDModel):
    agreement = models.ForeignKey(Agreement, on_delete=models.CASCADE, related_name="versions")
    number = models.PositiveIntegerField(_("version"))
    status = models.CharField(
        _("status"), max_length=20, choices=AgreementStatus.choices, default=AgreementStatus.DRAFT
    )
    effective_from = models.DateField(_("effective from"), null=True, blank=True)
    effective_until = models.DateField(_("effective until"), null=True, blank=True)
    terminated_on = models.DateField(_("terminated on"), null=True, blank=True)
    termination_reason = models.TextField(_("termination reason"), blank=True)

    governance = models.TextField(AgreementSection.GOVERNANCE.label, blank=True)
    obligations = models.TextField(AgreementSection.OBLIGATIONS.label, blank=True)
    ects_recognition = models.TextField(AgreementSection.ECTS_RECOGNITION.label, blank=True)
    marketing_branding = models.TextField(AgreementSection.MARKETING_BRANDING.label, blank=True)
    certificate = models.TextField(AgreementSection.CERTIFICATE.label, blank=True)
    intellectual_property = models.TextField(AgreementSection.INTELLECTUAL_PROPERTY.label, blank=True)
    exclusivity = models.TextField(AgreementSection.EXCLUSIVITY.label, blank=True)
    gdpr = models.TextField(AgreementSection.GDPR.label, blank=True)
    term_termination = models.TextField(AgreementSection.TERM_TERMINATION.label, blank=True)
    applicable_law = models.TextField(AgreementSection.APPLICABLE_LAW.label, blank=True)

    # Financial model (structured; the finance capability computes settlements from it).
    revenue_model = models.CharField(
        _("revenue model"), max_length=24, choices=RevenueModel.choices, default=RevenueModel.EACH_KEEPS_OWN
    )
    collecting_institution = models.ForeignKey(
        Institution,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("collecting institution"),
    )
    sharing_basis = models.CharField(_("sharing basis"), max_length=24, choices=SharingBasis.choices, blank=True)
    costs_shared = models.BooleanField(
        _("costs are shared"),
        default=False,
        help_text=_("When ticked, partners see each other's cost lines for the programme."),
    )

    class Meta:
        ordering = ["agreement", "-number"]
        constraints = [
            models.UniqueConstraint(fields=["agreement", "number"], name="agreement_version_number_unique"),
            models.UniqueConstraint(
                fields=["agreement"],
                condition=Q(status="in_force"),
                name="agreement_one_version_in_force",
            ),
            models.CheckConstraint(
                condition=Q(revenue_model="each_keeps_own")
                | Q(
                    collecting_institution__isnull=False,
                    sharing_basis__in=["fixed", "ects_taught", "learners_enrolled"],
                ),
                name="agreement_collecting_model_complete",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.agreement} v{self.number}"

    @property
    def is_editable(self) -> bool:
        return self.status == AgreementStatus.DRAFT

    def sections(self) -> list[tuple[str, str, str]]:
        return [(s.value, s.label, getattr(self, s.value)) for s in AgreementSection]


class AgreementParty(UUIDModel):
    version = models.ForeignKey(AgreementVersion, on_delete=models.CASCADE, related_name="parties")
    institution = models.ForeignKey(Institution, on_delete=models.PROTECT, related_name="agreement_parties")
    role = models.CharField(_("role"), max_length=16, choices=MembershipRole.choices)
    coordinator_name = models.CharField(
        _("coordinator"), max_length=255, blank=True, help_text=_("The partner's coordinator for this agreement.")
    )
    joined_by = models.ForeignKey("Addendum", null=True, blank=True, on_delete=models.PROTECT, related_name="+")

    class Meta:
        ordering = ["version", "role", "institution__short_name"]
        constraints = [
            models.UniqueConstraint(fields=["version", "institution"], name="agreement_party_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.institution} ({self.get_role_display()})"


class RevenueShare(UUIDModel):
    version = models.ForeignKey(AgreementVersion, on_delete=models.CASCADE, related_name="revenue_shares")
    institution = models.ForeignKey(Institution, on_delete=models.PROTECT, related_name="+")
    percent = models.DecimalField(
        _("share (%)"),
        max_digits=5,
        decimal_places=2,
        validators=[MinValueValidator(Decimal("0")), MaxValueValidator(Decimal("100"))],
    )

    class Meta:
        ordering = ["version", "-percent"]
        constraints = [
            models.UniqueConstraint(fields=["version", "institution"], name="revenue_share_unique"),
            models.CheckConstraint(
                condition=Q(percent__gte=0) & Q(percent__lte=100), name="revenue_share_percent_range"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.institution}: {self.percent}%"


class AgreementSignature(UUIDModel):
    version = models.ForeignKey(AgreementVersion, on_delete=models.CASCADE, related_name="signatures")
    institution = models.ForeignKey(Institution, on_delete=models.PROTECT, related_name="+")
    signed_by_name = models.CharField(_("signed by"), max_length=255)
    signed_by_title = models.CharField(_("title"), max_length=255)
    signed_on = models.DateField(_("signed on"))
    signed_pdf = models.FileField(
        _("signed PDF"),
        upload_to="agreements/",
        storage=private_storage,
        validators=[validate_pdf_upload],
    )
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["version", "signed_on"]
        constraints = [
            models.UniqueConstraint(fields=["version", "institution"], name="agreement_signature_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.institution} signed {self.version} on {self.signed_on}"


class AddendumStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    IN_FORCE = "in_force", _("In force")
    WITHDRAWN = "withdrawn", _("Withdrawn")


class Addendum(UUIDModel):
    """Adds a partner to an agreement in force without renegotiating the whole agreement."""

    version = models.ForeignKey(AgreementVersion, on_delete=models.CASCADE, related_name="addenda")
    number = models.PositiveIntegerField(_("addendum number"))
    institution = models.ForeignKey(Institution, on_delete=models.PROTECT, related_name="+")
    role = models.CharField(_("role"), max_length=16, choices=MembershipRole.choices)
    summary = models.TextField(_("terms of accession"))
    status = models.CharField(_("status"), max_length=16, choices=AddendumStatus.choices, default=AddendumStatus.DRAFT)
    effective_from = models.DateField(_("effective from"), null=True, blank=True)
    signed_pdf = models.FileField(
        _("signed PDF"),
        upload_to="agreements/addenda/",
        storage=private_storage,
        blank=True,
        validators=[validate_pdf_upload],
    )

    class Meta:
        ordering = ["version", "number"]
        verbose_name_plural = _("addenda")
        constraints = [
            models.UniqueConstraint(fields=["version", "number"], name="addendum_number_unique"),
        ]

    def __str__(self) -> str:
        return f"Addendum {self.number} to {self.version}: {self.institution}"
