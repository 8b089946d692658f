"""The default questions a programme's question sets start from (``quality.feedback.question_set_ensure``).

Aligned to the ESG 2015 (Part 1): student-centred learning, teaching and assessment (1.3), learning resources and
student support (1.6), public information (1.8), on-going monitoring with learners and stakeholders (1.9); and to
the ECTS Users' Guide: the workload a learner reports ("hours spent in total") is compared with the programme's
ECTS × 25–30 hours. Ratings are 1 (strongly disagree) to 5 (strongly agree). Per-course questions are answered once
for each course of the edition's curriculum, so results show per course and per partner (the course's provider);
they are never required (learners skip electives they did not take and courses they were exempted from).

Plain data (values of ``quality.models.Theme`` and ``QuestionKind``); the texts are translated into the
programme's primary language when a set is seeded."""

from dataclasses import dataclass

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

#: The key of the question whose answers are compared with the stated ECTS (``feedback.survey_results``).
WORKLOAD_HOURS_KEY = "hours_total"


@dataclass(frozen=True)
class DefaultQuestion:
    key: str
    theme: str
    kind: str
    text: str | Promise
    help_text: str | Promise = ""
    per_course: bool = False
    required: bool = False


LEARNER: tuple[DefaultQuestion, ...] = (
    DefaultQuestion("overall", "learning", "likert", _("Overall, I am satisfied with the quality of this programme."),
                    required=True),
    DefaultQuestion("outcomes_achieved", "learning", "likert",
                    _("The programme helped me achieve the learning outcomes it stated."), required=True),
    DefaultQuestion("course_quality", "learning", "likert", _("This course was of good quality."), per_course=True),
    DefaultQuestion("course_teaching", "teaching", "likert",
                    _("The teaching in this course (sessions, materials, feedback on my work) helped me learn."),
                    per_course=True),
    DefaultQuestion("course_assessment_clear", "assessment", "likert",
                    _("It was clear in advance how this course would be assessed and graded."), per_course=True),
    DefaultQuestion("assessment_fair", "assessment", "likert",
                    _("The assessments matched what was taught and the stated learning outcomes.")),
    DefaultQuestion("workload_matches_ects", "workload", "likert",
                    _("The workload was in line with the ECTS credits stated for the programme.")),
    DefaultQuestion(WORKLOAD_HOURS_KEY, "workload", "number",
                    _("About how many hours did you spend on the programme in total?"),
                    help_text=_("Study, classes, assignments and exams together, in whole hours.")),
    DefaultQuestion("support", "support", "likert",
                    _("I got the support I needed (academic, administrative and technical).")),
    DefaultQuestion("accessibility", "accessibility", "likert",
                    _("The platform, materials and activities were accessible to me, including any particular "
                      "needs I have.")),
    DefaultQuestion("information", "information", "likert",
                    _("The information published about the programme before I applied was accurate.")),
    DefaultQuestion("course_comments", "teaching", "text", _("Comments on this course."), per_course=True),
    DefaultQuestion("worked_well", "general", "text", _("What worked well?")),
    DefaultQuestion("improve", "general", "text", _("What should we improve?")),
)

STAKEHOLDER: tuple[DefaultQuestion, ...] = (
    DefaultQuestion("outcomes_relevant", "relevance", "likert",
                    _("The programme's learning outcomes match the skills needed in your sector."), required=True),
    DefaultQuestion("learners_apply", "relevance", "likert",
                    _("Learners who followed this programme can apply what they learnt at work.")),
    DefaultQuestion("information_clear", "information", "likert",
                    _("The information published about the programme (outcomes, workload, assessment) is clear.")),
    DefaultQuestion("cooperation", "support", "likert", _("The cooperation with the programme team works well.")),
    DefaultQuestion("missing_skills", "relevance", "text", _("Which skills or topics should the programme add?")),
    DefaultQuestion("improve", "general", "text", _("What else should the programme change?")),
)

BY_AUDIENCE: dict[str, tuple[DefaultQuestion, ...]] = {"learner": LEARNER, "stakeholder": STAKEHOLDER}
