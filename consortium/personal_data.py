"""Personal data registry: each app says how to export and how to erase the personal data it holds.

The export and erasure flows (GDPR) call ``export_user`` and ``erase_user``; apps register handlers
when they appear, so a new kind of personal data cannot be forgotten silently.
"""

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.db import transaction


@dataclass(frozen=True)
class PersonalDataHandler:
    label: str
    description: str
    export: Callable[[Any], Any]
    erase: Callable[[Any], None]


_registry: dict[str, PersonalDataHandler] = {}


def register(label: str, *, description: str, export: Callable, erase: Callable) -> None:
    _registry[label] = PersonalDataHandler(label, description, export, erase)


def handlers() -> list[PersonalDataHandler]:
    return list(_registry.values())


def export_user(user) -> dict[str, Any]:
    return {h.label: h.export(user) for h in _registry.values()}


@transaction.atomic
def erase_user(user) -> None:
    # Accounts last: other handlers may still need to read the user's identity.
    for handler in sorted(_registry.values(), key=lambda h: h.label == "accounts"):
        handler.erase(user)


def _export_account(user) -> dict[str, Any]:
    from allauth.account.models import EmailAddress

    profile = getattr(user, "staff_profile", None)
    return {
        "email": user.email,
        "full_name": user.full_name,
        "date_joined": user.date_joined.isoformat(),
        "email_addresses": list(EmailAddress.objects.filter(user=user).values("email", "verified", "primary")),
        "staff_profile": (
            {"institution": profile.institution.short_name, "job_title": profile.job_title} if profile else None
        ),
        "roles": [{"role": r.role, "scope": r.scope_key} for r in user.role_assignments.all()],
    }


def _erase_account(user) -> None:
    from allauth.account.models import EmailAddress

    EmailAddress.objects.filter(user=user).delete()
    user.email = f"erased-{uuid.uuid4().hex}@invalid"
    user.full_name = ""
    user.is_active = False
    user.set_unusable_password()
    user.save()


register(
    "accounts",
    description="Login email, name, staff profile and roles.",
    export=_export_account,
    erase=_erase_account,
)
