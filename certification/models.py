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
    # The signed Open Badges 3.0 credential, signed once (certification.vc.issue.signed_copy) and kept: the PDFs
    # embed exactly this JSON and the downloads serve it. Its status is a pointer into the issuer's status list,
    # so a revocation never changes it.
    signed_json = models.JSONField(null=True, blank=True, editable=False)
    signed_jwt = models.TextField(blank=True, editable=False)

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

    def other_languages(self) -> list[str]:
        """Languages of the programme in which this credential has no documents yet (offered on request)."""
        have = {d.language for d in self.documents.all()}
        return [code for code in self.snapshot.get("programme", {}).get("languages", []) if code not in have]


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
    # The PAdES seal applied before hashing: the sealing certificate's SHA-256 fingerprint (empty: not sealed,
    # documents issued before sealing existed).
    seal_fingerprint = models.CharField(max_length=95, blank=True)

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


class IssuerKey(UUIDModel):
    """An issuing institution's Ed25519 signing key for verifiable credentials (certification/vc/keys.py).

    The public key is published (did:web document, JWK set), retired keys included, so credentials signed
    before a rotation still verify. The private key is stored encrypted (Fernet, key from the setting
    ``CREDENTIAL_KEY_ENCRYPTION_KEY``) and never leaves ``certification.vc.keys``. One active key per
    institution."""

    institution = models.ForeignKey(Institution, on_delete=models.PROTECT, related_name="issuer_keys")
    kid = models.CharField(max_length=64, unique=True, editable=False)  # RFC 7638 JWK thumbprint
    public_jwk = models.JSONField(editable=False)
    private_key_encrypted = models.TextField(editable=False)
    retired_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["institution", "created_at"]
        constraints = [
            models.UniqueConstraint(fields=["institution"], condition=Q(retired_at__isnull=True),
                                    name="issuer_key_one_active"),
        ]

    def __str__(self) -> str:
        return f"{self.kid}{' (retired)' if self.retired_at else ''}"


class StatusPurpose(models.TextChoices):
    REVOCATION = "revocation", _("Revocation")


#: W3C Bitstring Status List: at least 131,072 entries (16 KB) so one credential hides among many ("herd privacy").
STATUS_LIST_MIN_SIZE = 131_072


class StatusList(UUIDModel):
    """An issuer's W3C Bitstring Status List (one per institution and purpose), published at a stable URL.

    ``bitstring`` is the raw, uncompressed list (bit 0 = the most significant bit of the first byte, as the
    specification counts). ``next_index`` only grows: an index, once allocated, is never given out again.
    Changes happen under a row lock (``select_for_update``) in ``certification.vc.status``."""

    institution = models.ForeignKey(Institution, on_delete=models.PROTECT, related_name="+")
    purpose = models.CharField(max_length=16, choices=StatusPurpose.choices, default=StatusPurpose.REVOCATION)
    size = models.PositiveIntegerField(default=STATUS_LIST_MIN_SIZE)
    bitstring = models.BinaryField()
    next_index = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["institution", "purpose"], name="status_list_one_per_purpose"),
            models.CheckConstraint(condition=Q(size__gte=STATUS_LIST_MIN_SIZE), name="status_list_min_size"),
        ]

    def __str__(self) -> str:
        return f"{self.purpose} status list of {self.institution_id}"


class StatusEntry(UUIDModel):
    """A credential's position in its issuer's status list: allocated once, never reused."""

    status_list = models.ForeignKey(StatusList, on_delete=models.PROTECT, related_name="entries")
    credential = models.OneToOneField(Credential, on_delete=models.PROTECT, related_name="status_entry")
    index = models.PositiveIntegerField()

    class Meta:
        ordering = ["status_list", "index"]
        constraints = [
            models.UniqueConstraint(fields=["status_list", "index"], name="status_entry_index_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.credential_id} at {self.index}"
