"""The consortium app's public surface for other apps. Import from here, not from its internals.

(``consortium.web`` is public too: the building blocks for policy-checked browser views.)
"""

from . import audit, csv_export, encryption, events, feed, identifiers, pdf, personal_data, policy
from .errors import DomainError, TransitionError
from .models import (
    Agreement,
    AgreementStatus,
    Consortium,
    ExternalIdKind,
    Institution,
    Membership,
    MembershipRole,
    Role,
    RoleAssignment,
    StaffProfile,
    User,
    Via,
)
from .models.base import UUIDModel
from .services import (
    external_id_set,
    role_grant,
    role_revoke_assignment,
    save_validated,
    staff_member_add,
    user_esi_set,
)
from .storage import private_storage
from .uploads import validate_document_upload, validate_image_upload, validate_pdf_upload, validate_upload

__all__ = [
    "Agreement",
    "AgreementStatus",
    "Consortium",
    "DomainError",
    "ExternalIdKind",
    "Institution",
    "Membership",
    "MembershipRole",
    "Role",
    "RoleAssignment",
    "StaffProfile",
    "TransitionError",
    "UUIDModel",
    "User",
    "Via",
    "audit",
    "csv_export",
    "encryption",
    "events",
    "external_id_set",
    "feed",
    "identifiers",
    "pdf",
    "personal_data",
    "policy",
    "private_storage",
    "role_grant",
    "role_revoke_assignment",
    "save_validated",
    "staff_member_add",
    "user_esi_set",
    "validate_document_upload",
    "validate_image_upload",
    "validate_pdf_upload",
    "validate_upload",
]
