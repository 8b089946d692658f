"""Learner and stakeholder feedback (D8, ESG 1.9 "on-going monitoring").

* A programme keeps one editable ``QuestionSet`` per audience (learners, stakeholders), seeded from
  ``quality.defaults`` on first use.
* A ``Survey`` is one round of asking: the learner survey of an edition (opened when the edition has ended) or a
  stakeholder survey of a programme. Opening copies the questions into ``SurveyQuestion`` rows, so later edits of
  the set never change what a survey asked or collected.
* An ``Invitation`` says who was asked and *whether* they answered (a flag and the date), never what.
* A ``Response`` and its ``Answer`` rows say what was answered, never by whom.

Anonymity by construction: nothing leads from a response to a person. ``Response`` and ``Answer`` have no
relation to a user, an enrolment, an application or an invitation (not even through a chain), no timestamp (they
do not inherit ``UUIDModel``, whose ``created_at``/``updated_at`` would date them to the microsecond), and random
ids (UUID4) in a random default order, so neither their values nor their order say who answered or when.
``tests/quality/test_feedback.py`` checks this on the models' ``_meta``. What the database itself keeps about
writes (PostgreSQL's transaction ids of rows, the physical order of rows) is handled in ``quality.feedback``.
"""

import uuid

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from consortium.api import UUIDModel
from programmes.api import Course, Edition, Programme

__all__ = [
    "Answer",
    "Audience",
    "Invitation",
    "Question",
    "QuestionKind",
    "QuestionSet",
    "Response",
    "Survey",
    "SurveyQuestion",
    "SurveyStatus",
    "Theme",
]

#: Bounds of the answers (also enforced by the database).
RATING_MIN, RATING_MAX = 1, 5
NUMBER_MIN, NUMBER_MAX = 0, 2000
TEXT_MAX_LENGTH = 2000
QUESTION_TEXT_MAX_LENGTH = 500


class Audience(models.TextChoices):
    LEARNER = "learner", _("Learners of an edition")
    STAKEHOLDER = "stakeholder", _("Employers and associated partners")


class QuestionKind(models.TextChoices):
    LIKERT = "likert", _("Rating from 1 (strongly disagree) to 5 (strongly agree)")
    TEXT = "text", _("Free text")
    NUMBER = "number", _("Number (e.g. hours)")


class Theme(models.TextChoices):
    """What a question is about, after the ESG 2015 standards a programme's internal QA reports against."""

    LEARNING = "learning", _("Quality of learning")  # ESG 1.2, 1.3
    TEACHING = "teaching", _("Teaching")  # ESG 1.3, 1.5
    ASSESSMENT = "assessment", _("Assessment transparency")  # ESG 1.3
    WORKLOAD = "workload", _("Workload against the stated ECTS")  # ESG 1.2, ECTS Users' Guide
    SUPPORT = "support", _("Support")  # ESG 1.6
    ACCESSIBILITY = "accessibility", _("Accessibility")  # ESG 1.6
    INFORMATION = "information", _("Public information")  # ESG 1.8
    RELEVANCE = "relevance", _("Relevance to the labour market")  # ESG 1.2, 1.9 (stakeholders)
    GENERAL = "general", _("General")


class QuestionFields(models.Model):
    """What a question is: shared by the editable ``Question`` and the frozen ``SurveyQuestion``."""

    key = models.SlugField(_("key"), max_length=40, help_text=_("Stable name of the question, e.g. 'hours_total'."))
    theme = models.CharField(_("theme"), max_length=16, choices=Theme.choices, default=Theme.GENERAL)
    kind = models.CharField(_("kind of answer"), max_length=8, choices=QuestionKind.choices)
    text = models.CharField(_("question"), max_length=QUESTION_TEXT_MAX_LENGTH)
    help_text = models.CharField(_("explanation"), max_length=QUESTION_TEXT_MAX_LENGTH, blank=True)
    per_course = models.BooleanField(
        _("asked for each course"), default=False,
        help_text=_("Answered once for each course of the edition's curriculum; results per course and partner."))
    required = models.BooleanField(_("required"), default=False)
    position = models.PositiveSmallIntegerField(default=0)

    class Meta:
        abstract = True

    def __str__(self) -> str:
        return self.text[:80]


class QuestionSet(UUIDModel):
    """A programme's questions for one audience; its surveys copy them when they open."""

    programme = models.ForeignKey(Programme, on_delete=models.CASCADE, related_name="feedback_question_sets")
    audience = models.CharField(_("audience"), max_length=12, choices=Audience.choices)

    class Meta:
        ordering = ["programme", "audience"]
        constraints = [
            models.UniqueConstraint(fields=["programme", "audience"], name="feedback_question_set_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.programme}: questions for {self.get_audience_display()}"


class Question(QuestionFields, UUIDModel):
    question_set = models.ForeignKey(QuestionSet, on_delete=models.CASCADE, related_name="questions")

    class Meta:
        ordering = ["question_set", "position", "created_at"]
        constraints = [
            models.UniqueConstraint(fields=["question_set", "key"], name="feedback_question_key_unique"),
            models.CheckConstraint(condition=~Q(per_course=True, required=True),
                                   name="feedback_question_per_course_optional"),
        ]


class SurveyStatus(models.TextChoices):
    OPEN = "open", _("Open")
    CLOSED = "closed", _("Closed")


class Survey(UUIDModel):
    """One round of feedback: a learner survey of an edition, or a stakeholder survey of a programme."""

    programme = models.ForeignKey(Programme, on_delete=models.PROTECT, related_name="feedback_surveys")
    edition = models.ForeignKey(Edition, null=True, blank=True, on_delete=models.PROTECT,
                                related_name="feedback_surveys")
    audience = models.CharField(_("audience"), max_length=12, choices=Audience.choices)
    status = models.CharField(_("status"), max_length=8, choices=SurveyStatus.choices, default=SurveyStatus.OPEN)
    opened_at = models.DateTimeField(_("opened at"))
    closes_at = models.DateTimeField(_("closes at"))
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)

    class Meta:
        ordering = ["programme", "-opened_at"]
        constraints = [
            models.CheckConstraint(
                condition=Q(audience="learner", edition__isnull=False)
                | Q(audience="stakeholder", edition__isnull=True),
                name="feedback_survey_learners_of_an_edition"),
            models.UniqueConstraint(fields=["edition"], condition=Q(audience="learner"),
                                    name="feedback_one_learner_survey_per_edition"),
            models.UniqueConstraint(fields=["programme"], condition=Q(audience="stakeholder", status="open"),
                                    name="feedback_one_open_stakeholder_survey"),
            models.CheckConstraint(condition=Q(closes_at__gt=models.F("opened_at")), name="feedback_survey_dates"),
            models.CheckConstraint(condition=Q(status="open", closed_at__isnull=True)
                                   | Q(status="closed", closed_at__isnull=False), name="feedback_survey_closed_at"),
        ]
        indexes = [models.Index(fields=["status", "closes_at"], name="feedback_survey_due")]

    def __str__(self) -> str:
        if self.audience == Audience.LEARNER:
            return f"Learner feedback on {self.edition}"
        return f"Stakeholder feedback on {self.programme} ({self.opened_at:%Y-%m-%d})"


class SurveyQuestion(QuestionFields, UUIDModel):
    """A question as the survey asked it: copied from the programme's set when the survey opened, never edited."""

    survey = models.ForeignKey(Survey, on_delete=models.CASCADE, related_name="questions")

    class Meta:
        ordering = ["survey", "position"]
        constraints = [
            models.UniqueConstraint(fields=["survey", "key"], name="feedback_survey_question_key_unique"),
        ]


class Invitation(models.Model):
    """Who was asked to answer a survey, and whether they did (a flag and the day, never what or when exactly).

    A learner's invitation points at the account; a stakeholder's holds the email address and the hash of the
    token in the link they were sent (the token itself is never stored). Erasure or retention removes the
    person (``learner``/``email``/``token_hash``); the row stays, so the response rate stays right.

    Not a ``UUIDModel``: its ``updated_at`` would record the moment of answering to the microsecond."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    survey = models.ForeignKey(Survey, on_delete=models.CASCADE, related_name="invitations")
    learner = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                related_name="feedback_invitations")
    email = models.EmailField(_("email"), blank=True)
    token_hash = models.CharField(max_length=64, blank=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    answered = models.BooleanField(_("answered"), default=False)
    answered_on = models.DateField(_("answered on"), null=True, blank=True)
    reminders_sent = models.PositiveSmallIntegerField(default=0)
    last_reminded_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["survey", "created_at", "id"]
        constraints = [
            models.UniqueConstraint(fields=["survey", "learner"], condition=Q(learner__isnull=False),
                                    name="feedback_invitation_learner_once"),
            models.UniqueConstraint(fields=["survey", "email"], condition=~Q(email=""),
                                    name="feedback_invitation_email_once"),
            models.UniqueConstraint(fields=["token_hash"], condition=~Q(token_hash=""),
                                    name="feedback_invitation_token_unique"),
            models.CheckConstraint(condition=Q(learner__isnull=True) | Q(email=""),
                                   name="feedback_invitation_learner_or_email"),
            models.CheckConstraint(condition=Q(answered=True, answered_on__isnull=False)
                                   | Q(answered=False, answered_on__isnull=True),
                                   name="feedback_invitation_answered_on"),
        ]

    def __str__(self) -> str:
        return f"Invitation to {self.survey}"


class Response(models.Model):
    """One person's answers to a survey. Deliberately nothing else: no person, no invitation, no time."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    survey = models.ForeignKey(Survey, on_delete=models.CASCADE, related_name="responses")

    class Meta:
        ordering = ["id"]  # random: never the order in which people answered

    def __str__(self) -> str:
        return f"Response to {self.survey}"


class Answer(models.Model):
    """The answer to one question (for per-course questions: about one course). Exactly one value is set."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    response = models.ForeignKey(Response, on_delete=models.CASCADE, related_name="answers")
    question = models.ForeignKey(SurveyQuestion, on_delete=models.CASCADE, related_name="answers")
    course = models.ForeignKey(Course, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    rating = models.PositiveSmallIntegerField(
        null=True, blank=True, validators=[MinValueValidator(RATING_MIN), MaxValueValidator(RATING_MAX)])
    number = models.PositiveIntegerField(
        null=True, blank=True, validators=[MinValueValidator(NUMBER_MIN), MaxValueValidator(NUMBER_MAX)])
    text = models.CharField(max_length=TEXT_MAX_LENGTH, blank=True)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(fields=["response", "question"], condition=Q(course__isnull=True),
                                    name="feedback_answer_once"),
            models.UniqueConstraint(fields=["response", "question", "course"], condition=Q(course__isnull=False),
                                    name="feedback_answer_once_per_course"),
            models.CheckConstraint(
                condition=Q(rating__isnull=False, number__isnull=True, text="")
                | Q(rating__isnull=True, number__isnull=False, text="")
                | (Q(rating__isnull=True, number__isnull=True) & ~Q(text="")),
                name="feedback_answer_one_value"),
            models.CheckConstraint(condition=Q(rating__isnull=True) | Q(rating__gte=RATING_MIN, rating__lte=RATING_MAX),
                                   name="feedback_answer_rating_1_5"),
            models.CheckConstraint(condition=Q(number__isnull=True) | Q(number__gte=NUMBER_MIN, number__lte=NUMBER_MAX),
                                   name="feedback_answer_number_range"),
        ]

    def __str__(self) -> str:
        return f"Answer to {self.question}"
