from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from .base import UUIDModel


class ErasureStatus(models.TextChoices):
    REQUESTED = "requested", _("Requested")
    COMPLETED = "completed", _("Carried out")
    REFUSED = "refused", _("Refused")


class ErasureRequest(UUIDModel):
    """A request to erase a person's personal data (GDPR Art. 17), decided by a platform administrator.

    The request stays after it is carried out, as the record that it was (its ``reason`` and ``note`` are redacted
    of the person's names and emails then). At most one open request per person."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="erasure_requests")
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                     related_name="+")
    requested_at = models.DateTimeField(_("requested at"), default=timezone.now)
    reason = models.TextField(_("reason given"), blank=True)
    status = models.CharField(_("status"), max_length=12, choices=ErasureStatus.choices,
                              default=ErasureStatus.REQUESTED, db_index=True)
    completed_at = models.DateTimeField(_("decided at"), null=True, blank=True)
    completed_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                     related_name="+")
    note = models.TextField(_("note"), blank=True)

    class Meta:
        ordering = ["-requested_at"]
        constraints = [
            models.UniqueConstraint(fields=["user"], condition=Q(status="requested"), name="erasure_one_open_per_user",
                                    violation_error_message=_("This person already has an open erasure request.")),
        ]

    def __str__(self) -> str:
        return f"Erasure request {str(self.pk)[:8]}"  # never the person's name: this string goes to the audit trail

    def get_absolute_url(self) -> str:
        from django.urls import reverse

        return reverse("erasure-detail", args=[self.pk])
