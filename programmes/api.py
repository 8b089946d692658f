"""The programmes app's public surface for higher apps (admissions, assessment, certification, finance)."""

from . import isced
from .models import (
    AssessmentMethod,
    AwardKind,
    Course,
    CurriculumStatus,
    CurriculumVersion,
    Edition,
    EditionStatus,
    LearningOutcome,
    Programme,
    ProgrammePartner,
    ProgrammeStatus,
    Supervision,
)
from .services import accepts_applications, checklist

__all__ = [
    "AssessmentMethod",
    "AwardKind",
    "Course",
    "CurriculumStatus",
    "CurriculumVersion",
    "Edition",
    "EditionStatus",
    "LearningOutcome",
    "Programme",
    "ProgrammePartner",
    "ProgrammeStatus",
    "Supervision",
    "accepts_applications",
    "checklist",
    "isced",
]
