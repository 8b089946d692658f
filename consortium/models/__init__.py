from .agreements import (
    Addendum,
    AddendumStatus,
    Agreement,
    AgreementKind,
    AgreementParty,
    AgreementSection,
    AgreementSignature,
    AgreementStatus,
    AgreementVersion,
    RevenueModel,
    RevenueShare,
    SharingBasis,
)
from .audit import AuditEvent, Via
from .feed import FeedAudience, FeedCounter, FeedEvent
from .idempotency import IdempotencyKey, IdempotencyStatus
from .identifiers import ExternalId, ExternalIdKind
from .institutions import (
    Consortium,
    ContactService,
    Institution,
    InstitutionContact,
    InstitutionKind,
    Membership,
    MembershipRole,
)
from .people import ROLE_SCOPES, Role, RoleAssignment, Scope, StaffProfile, User
from .privacy import ErasureRequest, ErasureStatus
from .tokens import ApiToken
from .webhooks import DeliveryStatus, WebhookAttempt, WebhookDelivery, WebhookEndpoint

__all__ = [
    "ROLE_SCOPES",
    "Addendum",
    "AddendumStatus",
    "Agreement",
    "AgreementKind",
    "AgreementParty",
    "AgreementSection",
    "AgreementSignature",
    "AgreementStatus",
    "AgreementVersion",
    "ApiToken",
    "AuditEvent",
    "Consortium",
    "ContactService",
    "DeliveryStatus",
    "ErasureRequest",
    "ErasureStatus",
    "ExternalId",
    "ExternalIdKind",
    "FeedAudience",
    "FeedCounter",
    "FeedEvent",
    "IdempotencyKey",
    "IdempotencyStatus",
    "Institution",
    "InstitutionContact",
    "InstitutionKind",
    "Membership",
    "MembershipRole",
    "RevenueModel",
    "RevenueShare",
    "Role",
    "RoleAssignment",
    "Scope",
    "SharingBasis",
    "StaffProfile",
    "User",
    "Via",
    "WebhookAttempt",
    "WebhookDelivery",
    "WebhookEndpoint",
]
