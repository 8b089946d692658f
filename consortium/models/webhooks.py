from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from .base import UUIDModel
from .feed import FeedEvent
from .institutions import Institution


class WebhookEndpoint(UUIDModel):
    """An institution's HTTPS endpoint that receives the feed events of the chosen types (``consortium.webhooks``).

    The signing secret is shown once, at creation or rotation; it is stored encrypted (Fernet,
    ``CREDENTIAL_KEY_ENCRYPTION_KEY``) because every delivery is signed with it. An endpoint that keeps failing is
    disabled automatically (``disabled_reason`` says why) and only an administrator enables it again.
    """

    institution = models.ForeignKey(Institution, on_delete=models.CASCADE, related_name="webhook_endpoints")
    url = models.URLField(_("URL"), max_length=500)
    description = models.CharField(_("description"), max_length=200, blank=True)
    event_types = models.JSONField(_("event types"), default=list)
    secret_encrypted = models.TextField(editable=False)
    secret_prefix = models.CharField(max_length=16, editable=False)
    #: After a rotation, the secret before it: deliveries carry its signature too until ``previous_secret_until``,
    #: so the receiver can switch to the new one without refusing a delivery.
    previous_secret_encrypted = models.TextField(blank=True, editable=False)
    previous_secret_until = models.DateTimeField(null=True, blank=True, editable=False)
    is_active = models.BooleanField(_("active"), default=True)
    disabled_at = models.DateTimeField(null=True, blank=True)
    disabled_automatically = models.BooleanField(default=False)
    disabled_reason = models.CharField(max_length=500, blank=True)
    consecutive_failures = models.PositiveIntegerField(default=0)
    #: The first failed attempt since the last success (None while it succeeds).
    failing_since = models.DateTimeField(null=True, blank=True)
    last_success_at = models.DateTimeField(null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["institution", "url"]

    def __str__(self) -> str:
        return f"{self.url} ({self.institution})"

    def get_absolute_url(self) -> str:
        return f"/integration/webhooks/{self.pk}/"


class DeliveryStatus(models.TextChoices):
    PENDING = "pending", _("pending")
    SUCCEEDED = "succeeded", _("succeeded")
    FAILED = "failed", _("failed (gave up)")
    CANCELLED = "cancelled", _("cancelled (endpoint disabled)")


class WebhookDelivery(UUIDModel):
    """One event (or test event) to one endpoint: the exact body to send and the retry schedule. Its id is the
    ``X-JointCred-Delivery`` header, the same on every attempt, so a receiver can drop repeats."""

    endpoint = models.ForeignKey(WebhookEndpoint, on_delete=models.CASCADE, related_name="deliveries")
    event = models.ForeignKey(FeedEvent, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    event_type = models.CharField(max_length=64)
    body = models.TextField()
    status = models.CharField(max_length=20, choices=DeliveryStatus.choices, default=DeliveryStatus.PENDING)
    attempts = models.PositiveIntegerField(default=0)
    first_attempt_at = models.DateTimeField(null=True, blank=True)
    #: When the next attempt is due; while an attempt runs, the end of its lease (no second sender before then).
    next_attempt_at = models.DateTimeField(null=True, blank=True, db_index=True)
    completed_at = models.DateTimeField(null=True, blank=True)
    last_status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    last_error = models.CharField(max_length=500, blank=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["status", "next_attempt_at"], name="webhook_delivery_due")]

    def __str__(self) -> str:
        return f"{self.event_type} → {self.endpoint_id} ({self.status})"


class WebhookAttempt(models.Model):
    """One POST of a delivery: the answer's status code or the error, and how long it took."""

    delivery = models.ForeignKey(WebhookDelivery, on_delete=models.CASCADE, related_name="attempt_log")
    number = models.PositiveIntegerField()
    started_at = models.DateTimeField()
    duration_ms = models.PositiveIntegerField(default=0)
    status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    error = models.CharField(max_length=500, blank=True)
    succeeded = models.BooleanField(default=False)

    class Meta:
        ordering = ["-started_at", "-number"]
        constraints = [
            models.UniqueConstraint(fields=["delivery", "number"], name="webhook_attempt_number_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.delivery_id} #{self.number}: {self.status_code or self.error}"
