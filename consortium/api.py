"""The consortium app's public surface for other apps. Import from here, not from its internals."""

from . import audit, events, personal_data, policy
from .errors import DomainError, TransitionError
from .models import (
    Consortium,
    Institution,
    Membership,
    MembershipRole,
    Role,
    RoleAssignment,
    StaffProfile,
    User,
    Via,
)
from .services import role_grant, staff_member_add
from .uploads import validate_document_upload, validate_image_upload, validate_pdf_upload, validate_upload

__all__ = [
    "Consortium",
    "DomainError",
    "Institution",
    "Membership",
    "MembershipRole",
    "Role",
    "RoleAssignment",
    "StaffProfile",
    "TransitionError",
    "User",
    "Via",
    "audit",
    "events",
    "personal_data",
    "policy",
    "role_grant",
    "staff_member_add",
    "validate_document_upload",
    "validate_image_upload",
    "validate_pdf_upload",
    "validate_upload",
]
