"""The programmes app's public surface for higher apps (admissions, assessment, certification, finance, quality).

* ``partnership_institution_ids(programme)`` — the ids of the lead and every partner (``ProgrammePartner``) of a
  programme; ``in_partnership(programme, institution)`` — whether one institution is among them.
"""

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
from .selectors import in_partnership, partnership_institution_ids
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
    "in_partnership",
    "isced",
    "partnership_institution_ids",
]
