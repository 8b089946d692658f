"""The assessment app's public surface for certification."""

from .models import Grade, GradingScale, ResultSheet
from .services import CourseResult, Eligibility, award_eligibility, course_result, learner_results

__all__ = [
    "CourseResult",
    "Eligibility",
    "Grade",
    "GradingScale",
    "ResultSheet",
    "award_eligibility",
    "course_result",
    "learner_results",
]
