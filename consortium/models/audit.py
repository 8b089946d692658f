from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class Via(models.TextChoices):
    BROWSER = "browser", _("Browser")
    API = "api", _("API")
    TASK = "task", _("Background task")
    COMMAND = "command", _("Management command")


class AuditQuerySet(models.QuerySet):
    def update(self, **kwargs):
        raise PermissionError("The audit trail is append-only.")

    def delete(self):
        raise PermissionError("The audit trail is append-only.")


class AuditEvent(models.Model):
    """One decision or change: who, when, what, through which interface. Append-only."""

    id = models.BigAutoField(primary_key=True)
    at = models.DateTimeField(auto_now_add=True, db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    actor_label = models.CharField(_("actor"), max_length=255)
    action = models.CharField(_("action"), max_length=100, db_index=True)
    object_type = models.CharField(_("object type"), max_length=100)
    object_id = models.CharField(_("object id"), max_length=64, db_index=True)
    object_repr = models.CharField(_("object"), max_length=255)
    changes = models.JSONField(_("changes"), default=dict, blank=True)
    via = models.CharField(_("via"), max_length=16, choices=Via.choices)
    # Where the event belongs, so administrators see only their own consortium's or institution's trail.
    consortium_id = models.UUIDField(null=True, blank=True, db_index=True)
    institution_id = models.UUIDField(null=True, blank=True, db_index=True)

    objects = AuditQuerySet.as_manager()

    class Meta:
        ordering = ["-at", "-id"]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.actor_label} {self.action} {self.object_repr}"

    def save(self, *args, **kwargs):
        if self.pk is not None:
            raise PermissionError("The audit trail is append-only.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise PermissionError("The audit trail is append-only.")
