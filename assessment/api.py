"""The assessment app's public surface for certification."""

from .exchange import PartnerScale, as_components, partner_scale
from .models import Grade, GradingScale, ResultSheet
from .services import (
    CourseResult,
    Eligibility,
    award_eligibility,
    course_result,
    edition_results,
    learner_results,
    regulation_for,
)

__all__ = [
    "CourseResult",
    "Eligibility",
    "Grade",
    "GradingScale",
    "PartnerScale",
    "ResultSheet",
    "as_components",
    "award_eligibility",
    "course_result",
    "edition_results",
    "learner_results",
    "partner_scale",
    "regulation_for",
]
