from django.core.validators import RegexValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from django_countries.fields import CountryField

from consortium.identifiers import validate_erasmus_code, validate_schac_code
from consortium.storage import private_storage
from consortium.uploads import validate_image_upload

from .base import UUIDModel

pic_validator = RegexValidator(r"^[0-9]{9}$", _("A PIC is exactly nine digits."))


class InstitutionKind(models.TextChoices):
    UNIVERSITY = "university", _("University / higher-education institution")
    EMPLOYER = "employer", _("Employer")
    PROFESSIONAL_BODY = "professional_body", _("Professional organisation")
    PUBLIC_SERVICE = "public_service", _("Public service")
    OTHER = "other", _("Other associated partner")


class Institution(UUIDModel):
    legal_name = models.CharField(_("legal name"), max_length=255)
    short_name = models.CharField(_("short name"), max_length=64, unique=True)
    kind = models.CharField(_("kind"), max_length=32, choices=InstitutionKind.choices)
    country = CountryField(_("country"))
    city = models.CharField(_("city"), max_length=128)
    erasmus_code = models.CharField(_("Erasmus code"), max_length=20, blank=True, validators=[validate_erasmus_code])
    pic = models.CharField(_("PIC"), max_length=9, blank=True, validators=[pic_validator])
    schac_code = models.CharField(
        _("SCHAC home organisation"), max_length=128, blank=True, validators=[validate_schac_code]
    )
    website = models.URLField(_("website"), blank=True)
    logo = models.ImageField(_("logo"), upload_to="logos/", blank=True, validators=[validate_image_upload])
    signatory_name = models.CharField(_("signatory name"), max_length=255, blank=True)
    signatory_title = models.CharField(
        _("signatory title"), max_length=255, blank=True, help_text=_("e.g. Rector, Dean")
    )
    # Private: used on certificates, never exposed by a public media URL.
    signatory_signature = models.ImageField(
        _("signature image"),
        upload_to="signatures/",
        storage=private_storage,
        blank=True,
        validators=[validate_image_upload],
    )

    class Meta:
        ordering = ["short_name"]
        constraints = [
            models.UniqueConstraint(
                fields=["erasmus_code"],
                condition=~Q(erasmus_code=""),
                name="institution_erasmus_unique",
                violation_error_message=_("Another institution already has this Erasmus code."),
            ),
            models.UniqueConstraint(
                fields=["pic"],
                condition=~Q(pic=""),
                name="institution_pic_unique",
                violation_error_message=_("Another institution already has this PIC."),
            ),
            models.UniqueConstraint(
                fields=["schac_code"],
                condition=~Q(schac_code=""),
                name="institution_schac_unique",
                violation_error_message=_("Another institution already has this SCHAC code."),
            ),
        ]

    def __str__(self) -> str:
        return self.short_name

    @property
    def is_university(self) -> bool:
        return self.kind == InstitutionKind.UNIVERSITY


class ContactService(models.TextChoices):
    TEACHING_LEARNING = "teaching_learning", _("Teaching & learning")
    INTERNATIONALISATION = "internationalisation", _("Internationalisation")
    ICT = "ict", _("ICT")
    LEGAL = "legal", _("Legal")
    STUDENT_ADMINISTRATION = "student_administration", _("Student administration")
    QUALITY_ASSURANCE = "quality_assurance", _("Quality assurance")
    MARKETING = "marketing", _("Marketing")
    FINANCE = "finance", _("Finance")


class InstitutionContact(UUIDModel):
    """A contact in one of the institution's support services (private to the institution's partners)."""

    institution = models.ForeignKey(Institution, on_delete=models.CASCADE, related_name="contacts")
    service = models.CharField(_("service"), max_length=32, choices=ContactService.choices)
    name = models.CharField(_("name"), max_length=255)
    email = models.EmailField(_("email"))
    phone = models.CharField(_("phone"), max_length=40, blank=True)

    class Meta:
        ordering = ["service", "name"]

    def __str__(self) -> str:
        return f"{self.name} ({self.get_service_display()})"


class Consortium(UUIDModel):
    name = models.CharField(_("name"), max_length=255, unique=True)
    acronym = models.CharField(_("acronym"), max_length=32, unique=True)
    description = models.TextField(_("description"), blank=True)
    website = models.URLField(_("website"), blank=True)

    class Meta:
        ordering = ["acronym"]
        verbose_name_plural = _("consortia")

    def __str__(self) -> str:
        return self.acronym


class MembershipRole(models.TextChoices):
    LEAD = "lead", _("Lead institution")
    PARTNER = "partner", _("Partner")
    ASSOCIATED = "associated", _("Associated partner")


class Membership(UUIDModel):
    consortium = models.ForeignKey(Consortium, on_delete=models.CASCADE, related_name="memberships")
    institution = models.ForeignKey(Institution, on_delete=models.PROTECT, related_name="memberships")
    role = models.CharField(_("role"), max_length=16, choices=MembershipRole.choices)
    joined_on = models.DateField(_("joined on"))
    left_on = models.DateField(_("left on"), null=True, blank=True)

    class Meta:
        ordering = ["consortium", "role", "institution__short_name"]
        constraints = [
            models.UniqueConstraint(
                fields=["consortium", "institution"],
                condition=Q(left_on__isnull=True),
                name="membership_one_active_per_institution",
            ),
            models.UniqueConstraint(
                fields=["consortium"],
                condition=Q(left_on__isnull=True, role="lead"),
                name="membership_one_active_lead",
            ),
            models.CheckConstraint(
                condition=Q(left_on__isnull=True) | Q(left_on__gte=models.F("joined_on")),
                name="membership_left_after_joined",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.institution} in {self.consortium} ({self.get_role_display()})"

    @property
    def is_active(self) -> bool:
        return self.left_on is None
