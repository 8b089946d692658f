import hashlib
import secrets

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from .base import UUIDModel
from .institutions import Institution

TOKEN_PREFIX_LENGTH = 8


def hash_token_key(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def generate_token_key() -> str:
    return secrets.token_urlsafe(32)


class ApiToken(UUIDModel):
    """A partner system's credential. Only the SHA-256 of the key is stored; the key is shown once."""

    institution = models.ForeignKey(Institution, on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField(_("name"), max_length=100)
    prefix = models.CharField(max_length=TOKEN_PREFIX_LENGTH, unique=True, editable=False)
    key_hash = models.CharField(max_length=64, unique=True, editable=False)
    scopes = models.JSONField(_("scopes"), default=list)
    expires_at = models.DateTimeField(_("expires at"))
    revoked_at = models.DateTimeField(_("revoked at"), null=True, blank=True)
    last_used_at = models.DateTimeField(_("last used at"), null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["institution", "name"]
        constraints = [
            models.UniqueConstraint(fields=["institution", "name"], name="api_token_name_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.institution}, {self.prefix}…)"

    @property
    def is_usable(self) -> bool:
        return self.revoked_at is None and self.expires_at > timezone.now()

    @property
    def state(self) -> str:
        if self.revoked_at:
            return _("revoked")
        if self.expires_at <= timezone.now():
            return _("expired")
        return _("active")
