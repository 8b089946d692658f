from django.db import models
from django.utils.translation import gettext_lazy as _

from .base import UUIDModel


class IdempotencyStatus(models.TextChoices):
    IN_PROGRESS = "in_progress", _("in progress")
    COMPLETED = "completed", _("completed")


class IdempotencyKey(UUIDModel):
    """One ``Idempotency-Key`` of one API caller and the first answer given to it (``consortium/rest/idempotency.py``).

    ``scope`` is the caller (``token:<id>`` or ``user:<id>``): two partners may use the same key. The unique
    constraint on (scope, key) decides which of two concurrent requests runs. Rows are purged once past
    ``expires_at`` (``IDEMPOTENCY_KEY_TTL``).
    """

    scope = models.CharField(max_length=80)
    key = models.CharField(max_length=255)
    fingerprint = models.CharField(max_length=64, help_text=_("SHA-256 of method, path, query, media type and body."))
    method = models.CharField(max_length=10)
    path = models.TextField()
    status = models.CharField(max_length=20, choices=IdempotencyStatus.choices, default=IdempotencyStatus.IN_PROGRESS)
    # While in progress: after this moment a request that holds no lock on the row is presumed dead (crashed
    # worker) and a retry may take the key over.
    locked_until = models.DateTimeField(null=True, blank=True)
    response_status = models.PositiveSmallIntegerField(null=True, blank=True)
    response_headers = models.JSONField(default=list, blank=True)
    response_body = models.BinaryField(default=b"", blank=True)
    expires_at = models.DateTimeField(db_index=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["scope", "key"], name="idempotency_key_unique_per_caller"),
        ]

    def __str__(self) -> str:
        return f"{self.scope} {self.key} ({self.status})"
