"""Certification (D6): award decisions, issued credential versions with a frozen snapshot, and the PDF
documents rendered from it by Celery workers."""

import secrets

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from admissions.api import Enrolment
from consortium.api import Institution, UUIDModel, private_storage


def new_credential_id() -> str:
    """Unguessable, URL-safe, printed on every document (about 128 bits)."""
    return secrets.token_urlsafe(16)


class AwardKind(models.TextChoices):
    QUALIFICATION = "qualification", _("Micro-credential (assessed, with ECTS)")
    ATTENDANCE = "attendance", _("Certificate of attendance (no ECTS)")


class Award(UUIDModel):
    """The board's decision that an enrolment earned the programme's award. One per enrolment."""

    enrolment = models.OneToOneField(Enrolment, on_delete=models.PROTECT, related_name="award")
    kind = models.CharField(_("kind"), max_length=16, choices=AwardKind.choices)
    decided_at = models.DateTimeField(_("decided at"))
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="+")
    issuing_institution = models.ForeignKey(Institution, on_delete=models.PROTECT, related_name="+")
    classification = models.CharField(_("grade / classification"), max_length=64, blank=True)

    class Meta:
        ordering = ["-decided_at"]

    def __str__(self) -> str:
        return f"Award for {self.enrolment}"


class CredentialStatus(models.TextChoices):
    VALID = "valid", _("Valid")
    SUPERSEDED = "superseded", _("Superseded by a corrected version")
    REVOKED = "revoked", _("Revoked")


class Credential(UUIDModel):
    """One issued version of an award. Everything a document shows is frozen in ``snapshot``."""

    award = models.ForeignKey(Award, on_delete=models.PROTECT, related_name="credentials")
    version = models.PositiveSmallIntegerField(default=1)
    credential_id = models.CharField(max_length=32, unique=True, default=new_credential_id, editable=False)
    snapshot = models.JSONField()
    snapshot_schema = models.PositiveSmallIntegerField(default=1)
    status = models.CharField(_("status"), max_length=12, choices=CredentialStatus.choices,
                              default=CredentialStatus.VALID)
    issued_at = models.DateTimeField(_("issued at"))
    revoked_at = models.DateTimeField(null=True, blank=True)
    revocation_reason = models.TextField(blank=True)
    superseded_by = models.ForeignKey("self", null=True, blank=True, on_delete=models.PROTECT, related_name="+")

    class Meta:
        ordering = ["award", "-version"]
        constraints = [
            models.UniqueConstraint(fields=["award", "version"], name="credential_version_unique"),
            models.UniqueConstraint(fields=["award"], condition=Q(status="valid"), name="credential_one_valid"),
        ]

    def __str__(self) -> str:
        return f"{self.credential_id} v{self.version}"

    def get_absolute_url(self) -> str:
        from django.urls import reverse

        return reverse("verify", args=[self.credential_id])


class DocumentKind(models.TextChoices):
    CERTIFICATE = "certificate", _("Certificate")
    SUPPLEMENT = "supplement", _("Qualification supplement")
    ATTENDANCE = "attendance", _("Certificate of attendance")


class DocumentStatus(models.TextChoices):
    QUEUED = "queued", _("Queued")
    RENDERING = "rendering", _("Rendering")
    READY = "ready", _("Ready")
    FAILED = "failed", _("Failed")


class Document(UUIDModel):
    """A PDF of a credential: rendered once by a worker, then immutable (its SHA-256 is published)."""

    credential = models.ForeignKey(Credential, on_delete=models.CASCADE, related_name="documents")
    kind = models.CharField(_("kind"), max_length=16, choices=DocumentKind.choices)
    # For double/multiple awards: the institution whose certificate this is (empty for joint documents).
    institution = models.ForeignKey(Institution, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    # "joint" or the institution's id: one unique key that works on every database (NULLs are distinct).
    slot = models.CharField(max_length=40, default="joint", editable=False)
    language = models.CharField(_("language"), max_length=8)
    status = models.CharField(_("status"), max_length=12, choices=DocumentStatus.choices,
                              default=DocumentStatus.QUEUED, db_index=True)
    file = models.FileField(upload_to="credentials/%Y/", storage=private_storage, blank=True)
    sha256 = models.CharField(max_length=64, blank=True, db_index=True)
    error = models.TextField(blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    rendered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["credential", "kind", "language"]
        constraints = [
            models.UniqueConstraint(fields=["credential", "kind", "slot", "language"], name="document_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} ({self.language}) of {self.credential}"


class BulkIssue(UUIDModel):
    """Awarding a cohort at once: progress the browser polls (done / total, failures)."""

    edition_id = models.UUIDField()
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                     related_name="+")
    enrolment_ids = models.JSONField(default=list, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"Bulk issue of {len(self.enrolment_ids)} awards"
