"""The admissions app's public surface for higher apps (assessment, certification, finance)."""

from .models import (
    Application,
    ApplicationStatus,
    Enrolment,
    ExemptionRequest,
    ExemptionStatus,
    ParticipantProfile,
    Track,
)
from .services import APPLICATION_TRANSITIONS, application_payment_received, exemption_decide, exemption_request

__all__ = [
    "APPLICATION_TRANSITIONS",
    "Application",
    "ApplicationStatus",
    "Enrolment",
    "ExemptionRequest",
    "ExemptionStatus",
    "ParticipantProfile",
    "Track",
    "application_payment_received",
    "exemption_decide",
    "exemption_request",
]
