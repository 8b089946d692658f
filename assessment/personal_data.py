"""Personal data held by assessment: a learner's grades (both scales, every version), appeals, and the comments
examiners and the board wrote about them.

Erasure keeps the grades, linked to the enrolment: results are academic records the universities must keep
(GDPR Art. 17(3)(b) and (e); the award and its verification rest on them). It removes what the learner wrote (the
grounds of their appeals) and redacts the learner's names and emails from the staff's kept free text (correction
reasons, appeal outcomes, board comments)."""

from admissions.api import Enrolment
from consortium.api import personal_data

from .models import Appeal, Grade, ResultSheet, SheetStatus

#: What an erased appeal's grounds become (the field is required; the appeal and its decision stay).
APPEAL_GROUNDS_ERASED = "[erased at the learner's request]"


def _grade(grade: Grade) -> dict:
    return {
        "course": grade.assessment.course.code, "assessment": grade.assessment.title, "attempt": grade.sheet.attempt,
        "grade": grade.national_grade, "scale": grade.national_scale.name, "joint_grade": grade.joint_grade,
        "version": grade.version, "superseded": grade.superseded, "correction_reason": grade.correction_reason,
        "recorded_at": grade.created_at.isoformat(),
    }


def _export(user) -> list[dict]:
    """Per enrolment: the name examiners see, the approved grades (draft grades reach the learner once the board
    approves them, as on the results page) and the appeals."""
    rows = []
    enrolments = Enrolment.objects.filter(learner=user).select_related("application", "edition__programme")
    for enrolment in enrolments:
        grades = (Grade.objects.filter(enrolment=enrolment)
                  .select_related("assessment__course", "sheet", "national_scale").order_by("created_at"))
        approved = [g for g in grades if g.sheet.status == SheetStatus.APPROVED]
        appeals = Appeal.objects.filter(grade__enrolment=enrolment).select_related("grade__assessment__course")
        rows.append({
            "programme": enrolment.edition.programme.code,
            "edition": enrolment.edition.intake_code,
            "name_shown_to_examiners": enrolment.application.full_name,
            "grades": [_grade(g) for g in approved],
            "grades_awaiting_approval": len(grades) - len(approved),
            "appeals": [{"course": a.grade.assessment.course.code, "assessment": a.grade.assessment.title,
                         "lodged_at": a.created_at.isoformat(), "grounds": a.reason, "status": a.status,
                         "outcome": a.outcome, "decided_at": a.decided_at.isoformat() if a.decided_at else None}
                        for a in appeals],
        })
    return rows


def _erase(user) -> None:
    redact = personal_data.redactor(personal_data.identifiers_of(user, name_parts=True))
    redact_shared = personal_data.redactor(personal_data.identifiers_of(user))
    grades = Grade.objects.filter(enrolment__learner=user)
    for appeal in Appeal.objects.filter(grade__in=grades):
        appeal.reason = APPEAL_GROUNDS_ERASED
        appeal.outcome = redact(appeal.outcome)
        appeal.save(update_fields=["reason", "outcome", "updated_at"])
    for grade in grades.exclude(correction_reason=""):
        grade.correction_reason = redact(grade.correction_reason)
        grade.save(update_fields=["correction_reason", "updated_at"])
    sheets = ResultSheet.objects.filter(grades__in=grades).exclude(board_comment="").distinct()
    for sheet in sheets:
        sheet.board_comment = redact_shared(sheet.board_comment)  # about the whole sheet: full names only
        sheet.save(update_fields=["board_comment", "updated_at"])


personal_data.register(
    "assessment",
    description="Your grades (national and joint scale, corrections) and your appeals.",
    export=_export,
    erase=_erase,
    purpose="Assessing learners under the joint examination regulations: grades entered by the examiners of "
            "each course, converted to the joint scale, approved by the examination board; corrections, resits "
            "and appeals.",
    legal_basis="Art. 6(1)(b) (the learning contract) and 6(1)(e) (assessment and the academic record as tasks "
                "of the universities).",
    data_subjects="Learners enrolled in an edition.",
    data_categories="Grades in the institution's scale and the joint scale, attempts, versions and correction "
                    "reasons, the name examiners see (from the application), appeal grounds and outcomes, board "
                    "comments.",
    recipients="The course's examiners and their partner system (results:read); the examination board; after "
               "approval, the learner, the team leader and partner systems of the lead and partner institutions.",
    retention="Results are academic records, kept as long as the universities must keep them (national rules, "
              "often permanently); erasure removes the appeal grounds and redacts names from the kept comments.",
)
