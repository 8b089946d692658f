"""The admissions app's public surface for higher apps (assessment, certification, finance)."""

from .models import Application, ApplicationStatus, Enrolment, ExemptionRequest, ExemptionStatus, Track
from .services import application_payment_received, exemption_decide, exemption_request

__all__ = [
    "Application",
    "ApplicationStatus",
    "Enrolment",
    "ExemptionRequest",
    "ExemptionStatus",
    "Track",
    "application_payment_received",
    "exemption_decide",
    "exemption_request",
]
