"""Demo feedback (issue 12, D8): the learner survey of the Chip Design Fundamentals edition, answered anonymously by
six of its eight learners and closed, so the results page shows figures (and, for one course, the minimum-respondents
rule); the Semiconductor Design edition's survey, open, with two answers (no figure until it closes, and too few
then anyway), so a learner login has a survey to answer; and an open stakeholder survey with three invitations, one
answered (its page shows the response rate and when the figures appear).

Everything goes through ``quality.feedback``, as the beat, the learners, the team and a stakeholder would act. Two
things only a demo does: the demo editions have not ended yet (their dates lie ahead), so each survey is opened "as
of" the day after its edition's end (``now=``, which the service allows) and its window then moved to today, so that
the demo learners can answer through ``response_submit``; and the stakeholder who answers gets their link from the
demo itself (the real link went by email, and the token in it is stored nowhere)."""

from __future__ import annotations

import datetime as dt

from allauth.account.models import EmailAddress
from django.utils import timezone

from programmes.api import Edition

from .. import feedback
from ..models import Invitation, Survey

#: The six CDF learners' answers (course codes for the questions asked per course). Hand-checkable results:
#: overall 5, 4, 4, 3, 5, 4 → 4.17; hours 165, 180, 140, 190, 110, 150 (5 ECTS = 125–150 h) → 1 below, 2 within,
#: 3 above, mean 155.8; CDF3's teaching rated by two people only → hidden, and left out of OU NL's and the overall
#: teaching figures.
CDF_ANSWERS = [
    {"overall": 5, "outcomes_achieved": 4, "course_quality": {"CDF1": 5, "CDF2": 4, "CDF3": 4},
     "course_teaching": {"CDF1": 5, "CDF2": 4, "CDF3": 3}, "course_assessment_clear": {"CDF1": 4, "CDF2": 5, "CDF3": 4},
     "assessment_fair": 4, "workload_matches_ects": 3, "hours_total": 165, "support": 5, "accessibility": 4,
     "information": 5, "course_comments": {"CDF1": "The weekly design labs made the theory stick."},
     "worked_well": "The projects with real design tools.", "improve": "More time for the synthesis assignment."},
    {"overall": 4, "outcomes_achieved": 4, "course_quality": {"CDF1": 5, "CDF2": 3, "CDF3": 4},
     "course_teaching": {"CDF1": 4, "CDF2": 3, "CDF3": 4}, "course_assessment_clear": {"CDF1": 4, "CDF2": 3, "CDF3": 3},
     "assessment_fair": 4, "workload_matches_ects": 2, "hours_total": 180, "support": 4, "accessibility": 5,
     "information": 4, "course_comments": {"CDF1": "Clear slides and quick feedback on the labs.",
                                           "CDF2": "The verification tool licences took a week to arrive."},
     "improve": "Send the tool licences before the edition starts."},
    {"overall": 4, "outcomes_achieved": 5, "course_quality": {"CDF1": 4, "CDF2": 4, "CDF3": 5},
     "course_teaching": {"CDF1": 5, "CDF2": 4}, "course_assessment_clear": {"CDF1": 5, "CDF2": 4, "CDF3": 4},
     "assessment_fair": 5, "workload_matches_ects": 4, "hours_total": 140, "support": 4, "accessibility": 4,
     "information": 4, "course_comments": {"CDF1": "Loved the FPGA exercises."},
     "worked_well": "Friendly tutors at all three universities."},
    {"overall": 3, "outcomes_achieved": 3, "course_quality": {"CDF1": 4, "CDF2": 3, "CDF3": 3},
     "course_teaching": {"CDF1": 3, "CDF2": 2}, "course_assessment_clear": {"CDF1": 3, "CDF2": 2, "CDF3": 3},
     "assessment_fair": 3, "workload_matches_ects": 2, "hours_total": 190, "support": 3, "accessibility": 3,
     "information": 4, "improve": "The RTL verification course needs clearer marking criteria."},
    {"overall": 5, "outcomes_achieved": 4, "course_quality": {"CDF1": 5, "CDF2": 4, "CDF3": 4},
     "course_teaching": {"CDF1": 5, "CDF2": 4}, "course_assessment_clear": {"CDF1": 4, "CDF2": 4, "CDF3": 4},
     "assessment_fair": 4, "workload_matches_ects": 4, "hours_total": 110, "support": 5, "accessibility": 5,
     "information": 5, "worked_well": "Flexible online sessions that fit around my job."},
    {"overall": 4, "outcomes_achieved": 4, "course_quality": {"CDF1": 4, "CDF2": 4, "CDF3": 4},
     "course_teaching": {"CDF1": 4, "CDF2": 5}, "course_assessment_clear": {"CDF1": 4, "CDF2": 4, "CDF3": 5},
     "assessment_fair": 4, "workload_matches_ects": 3, "hours_total": 150, "support": 4, "accessibility": 4,
     "information": 3, "improve": "Record the live sessions for learners in other time zones."},
]
MSD_ANSWERS = [
    {"overall": 4, "outcomes_achieved": 4, "hours_total": 800, "improve": "A shorter capstone report."},
    {"overall": 5, "outcomes_achieved": 4, "hours_total": 760},
]
STAKEHOLDERS = ["partner@eurochip.example", "talent@semicon-fab.example", "hr@design-house.example"]
STAKEHOLDER_ANSWERS = {"outcomes_relevant": 4, "learners_apply": 5, "information_clear": 4, "cooperation": 5,
                       "missing_skills": "Design for test and more verification with UVM."}


def _learner_survey(edition: Edition, *, days_open: int) -> Survey:
    """Open the edition's survey as of the day after its end, then move its window so that it opened
    ``days_open`` days ago (and closes 21 days after that)."""
    after_end = timezone.make_aware(dt.datetime.combine(edition.ends_on + dt.timedelta(days=1), dt.time(9)))
    survey = feedback.learner_survey_open(edition=edition, now=after_end)
    opened = timezone.now() - dt.timedelta(days=days_open)
    Survey.objects.filter(pk=survey.pk).update(opened_at=opened, closes_at=opened + (survey.closes_at - after_end))
    survey.refresh_from_db()
    return survey


def _learners(survey: Survey) -> list:
    return [i.learner for i in Invitation.objects.filter(survey=survey).select_related("learner")
            .order_by("learner__email")]


def seed(ctx: dict) -> list[str]:
    if Survey.objects.exists():
        return ["Demo feedback already exists."]
    leader = ctx["people"]["leader@kuleuven.example"]
    cdf = Edition.objects.filter(programme__code="euchip-cdf", status="open").select_related("programme").first()
    if cdf is None:
        return []
    lines = []
    survey = _learner_survey(cdf, days_open=20)
    learners = _learners(survey)
    for learner, values in zip(learners, CDF_ANSWERS, strict=False):
        feedback.response_submit(survey=survey, learner=learner, answers=feedback.answers_by_key(survey, values))
    feedback.survey_close(actor=leader, survey=survey)
    answered = min(len(learners), len(CDF_ANSWERS))
    silent = learners[answered].email if len(learners) > answered else ""
    lines.append(f"Feedback: the CDF learner survey, closed, {answered} of {len(learners)} learners answered "
                 f"anonymously ({learners[0].email} did{f'; {silent} did not' if silent else ''}).")

    msd = Edition.objects.filter(programme__code="euchip-msd", status="open").first()
    if msd is not None:
        survey = _learner_survey(msd, days_open=2)
        learners = _learners(survey)
        for learner, values in zip(learners, MSD_ANSWERS, strict=False):
            feedback.response_submit(survey=survey, learner=learner, answers=feedback.answers_by_key(survey, values))
        waiting = learners[len(MSD_ANSWERS)].email if len(learners) > len(MSD_ANSWERS) else ""
        if waiting:  # the login the demo names: its email verified (applicants' sign-ups are not, by default)
            EmailAddress.objects.update_or_create(user=learners[len(MSD_ANSWERS)], email=waiting,
                                                  defaults={"verified": True, "primary": True})
        lines.append(f"Feedback: the MSD learner survey is open ({min(len(learners), len(MSD_ANSWERS))} of "
                     f"{len(learners)} answered; figures appear when it closes)"
                     + (f"; {waiting} has it to answer under My feedback." if waiting else "."))

    stakeholder_survey = feedback.stakeholder_survey_open(actor=leader, programme=cdf.programme)
    feedback.stakeholders_invite(actor=leader, survey=stakeholder_survey, emails=STAKEHOLDERS)
    invitation = Invitation.objects.get(survey=stakeholder_survey, email=STAKEHOLDERS[0])
    token = feedback._issue_token(invitation)  # the link the email carried: the demo plays the stakeholder
    invitation.save(update_fields=["token_hash"])
    feedback.response_submit_by_token(
        token=token, answers=feedback.answers_by_key(stakeholder_survey, STAKEHOLDER_ANSWERS))
    lines.append(f"Feedback: an open stakeholder survey of {cdf.programme.code}, {len(STAKEHOLDERS)} people invited by "
                 f"email, {STAKEHOLDERS[0]} answered. Results: /quality/programmes/{cdf.programme_id}/surveys/ "
                 "(leader@kuleuven.example or quality@kuleuven.example).")
    return lines
