"""Learner and stakeholder feedback surveys (D8): question sets, opening (the beat opens an edition's learner
survey once it has ended), invitations and reminders, answering (anonymously, once), closing, and the results.

Writes are one function per action, each in ``transaction.atomic``; reads (``survey_results``, ``survey_items``,
``learner_invitations`` …) return plain data for the pages and the annual quality review.

Anonymity. A learner's answers must never be traceable to them, by anyone, through the application or its data:

* the models hold no link from a response to a person (``quality.models.feedback``);
* answering locks the person's invitation, stores the response and marks the invitation answered (a flag and the
  day) in one transaction, so each person answers once, and a concurrent double submit stores one response;
* the audit trail records counts (invited, answered), never who answered;
* figures (the results page, the free-text CSV, what the annual quality review reads) exist only once the survey
  takes no more answers (``figures_shown``): were they live, reading them before and after one person answered (the
  stakeholder invitations page says who has answered) would single out that person's ratings and words. The
  response rate stays live;
* results are shown only from ``FEEDBACK_MIN_RESPONSES`` respondents on (per question, per course, per partner),
  and the answers about a course too few people rated are left out of its partner's and the overall figures too
  (subtracting the shown courses from them would reveal those answers); free texts come in random order, the CSV
  export without any time and shuffled;
* PostgreSQL stamps every row with the id of the transaction that wrote it (``xmin``): the response, its answers
  and the invitation marked answered would share it. ``responses_restamp`` (hourly, ``surveys_close_due``, and when
  a survey closes) rewrites a survey's answered invitations and its responses in two separate transactions, so the
  live rows no longer pair up. What remains is outside the data model: old row versions until autovacuum removes
  them, the physical order of rows (``CLUSTER quality_response USING quality_response_pkey`` reorders them by their
  random ids) and the write-ahead log and backups, which only a database administrator reads.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import random
import re
import secrets
import uuid
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from functools import partial
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.mail import send_mail
from django.core.validators import validate_email
from django.db import IntegrityError, connection, transaction
from django.db.models import BooleanField, Case, Count, Exists, F, OuterRef, Q, QuerySet, Value, When
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from admissions.api import ApplicationStatus, Enrolment
from consortium.api import DomainError, TransitionError, audit, csv_export, policy, save_validated
from programmes.api import Course, Edition, Programme

from . import defaults
from .models import (
    Answer,
    Audience,
    Invitation,
    Question,
    QuestionKind,
    QuestionSet,
    Response,
    Survey,
    SurveyQuestion,
    SurveyStatus,
)
from .models.feedback import NUMBER_MAX, NUMBER_MIN, RATING_MAX, RATING_MIN, TEXT_MAX_LENGTH
from .saving import record

logger = logging.getLogger(__name__)

#: The learner's survey page (the pages come with the next round; until then the emails link here).
LEARNER_SURVEY_PATH = "/my/feedback/{survey_id}/"
#: A stakeholder's survey page: no account, the token in the link is the key.
STAKEHOLDER_SURVEY_PATH = "/feedback/{token}/"
#: How many addresses one call of ``stakeholders_invite`` accepts.
MAX_INVITES_PER_CALL = 500

NOT_INVITED = gettext_lazy("You were not invited to this survey.")
INVALID_LINK = gettext_lazy("This survey link is not valid. It may have been replaced by a newer one: use the link "
                            "in the latest email you received.")
ALREADY_ANSWERED = gettext_lazy("You have already answered this survey: each person answers once.")
SURVEY_CLOSED = gettext_lazy("This survey closed on %(date)s: answers are no longer accepted.")
ALREADY_CLOSED = gettext_lazy("This survey is closed already.")
LEARNER_SURVEY_EXISTS = gettext_lazy("The learner survey of %(edition)s was opened on %(date)s already.")
EDITION_NOT_ENDED = gettext_lazy("The edition ends on %(date)s: its learner survey opens after that.")
NO_LEARNERS = gettext_lazy("The edition has no enrolled learners to ask.")
NO_QUESTIONS = gettext_lazy("The question set is empty: add at least one question first.")
STAKEHOLDER_SURVEY_OPEN = gettext_lazy("The programme already has an open stakeholder survey: close it first.")
NOT_A_STAKEHOLDER_SURVEY = gettext_lazy("Learners are invited when their edition's survey opens; only stakeholder "
                                        "surveys take email addresses.")
REQUIRED = gettext_lazy("Answer this question.")
RATING_RANGE = gettext_lazy("Choose a rating from 1 to 5.")
NUMBER_RANGE = gettext_lazy("Enter whole hours from 0 to 2000.")
TEXT_TOO_LONG = gettext_lazy("Write at most %(max)s characters (this has %(length)s).")
NULL_CHARACTER = gettext_lazy("The text contains a null character, which is not accepted.")
UNKNOWN_QUESTION = gettext_lazy("This is not a question of the survey.")
NOTHING_ANSWERED = gettext_lazy("Answer at least one question.")
NOT_ANSWERS = gettext_lazy("The answers could not be read.")
PER_COURSE_NOT_REQUIRED = gettext_lazy("A question asked for each course cannot be required: learners skip the "
                                       "electives they did not take and the courses they were exempted from.")
STAKEHOLDERS_NO_COURSES = gettext_lazy("Stakeholders answer about the programme, not about each course.")
BLANK_QUESTION = gettext_lazy("Write the question.")
REORDER_MISMATCH = gettext_lazy("The new order must list every question of the set exactly once.")
QUESTION_GONE = gettext_lazy("This question was removed from the set in the meantime.")
QUESTION_FIRST = gettext_lazy("This question is the first one already.")
QUESTION_LAST = gettext_lazy("This question is the last one already.")
FIGURES_AFTER_CLOSE = gettext_lazy("Figures appear when the survey closes on %(date)s. While people can still "
                                   "answer, comparing the figures before and after someone answered would reveal "
                                   "that person's answers.")
TOO_FEW = gettext_lazy("Too few responses to show (fewer than %(min)s), so that no one's answers can be singled "
                       "out.")

TRANSITIONS: dict[str, set[str]] = {SurveyStatus.OPEN: {SurveyStatus.CLOSED}, SurveyStatus.CLOSED: set()}
#: What a survey copies from each question of the set when it opens.
FROZEN_FIELDS = ("key", "theme", "kind", "text", "help_text", "per_course", "required")
#: What ``question_add``/``question_update`` take from ``data``.
EDITABLE_FIELDS = ("text", "help_text", "theme", "kind", "per_course", "required")
_DIGITS = re.compile(r"[0-9]{1,6}")
DAY = dt.timedelta(days=1)


def min_responses() -> int:
    """Below this many respondents a result (a question, a course, a partner) is not shown."""
    return max(1, int(getattr(settings, "FEEDBACK_MIN_RESPONSES", 3)))


def _days(name: str, default: int) -> dt.timedelta:
    return dt.timedelta(days=int(getattr(settings, name, default)))


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def survey_is_open(survey: Survey, *, now: dt.datetime | None = None) -> bool:
    now = now or timezone.now()
    return survey.status == SurveyStatus.OPEN and survey.opened_at <= now < survey.closes_at


def figures_shown(survey: Survey, *, now: dt.datetime | None = None) -> bool:
    """Whether the survey's figures may be read: once it takes no more answers (closed, or past its closing time,
    which the hourly beat then records as closed), never while answers still change them."""
    now = now or timezone.now()
    return survey.status == SurveyStatus.CLOSED or now >= survey.closes_at


def figures_note(survey: Survey, *, now: dt.datetime | None = None) -> str:
    """When the figures of a survey still open will appear ("" once they are shown)."""
    if figures_shown(survey, now=now):
        return ""
    return str(FIGURES_AFTER_CLOSE) % {"date": timezone.localtime(survey.closes_at).strftime("%Y-%m-%d %H:%M")}


def _closed_message(survey: Survey) -> str:
    closed = survey.closed_at or survey.closes_at
    return SURVEY_CLOSED % {"date": timezone.localtime(closed).strftime("%Y-%m-%d %H:%M")}


# --- Question sets -----------------------------------------------------------------------------------------------


def question_set_ensure(*, programme: Programme, audience: str = Audience.LEARNER) -> QuestionSet:
    """The programme's question set for ``audience``; the first call seeds it with the defaults (``defaults``),
    translated into the programme's primary language."""
    if audience not in Audience.values:
        raise DomainError(_("Unknown audience %(audience)r.") % {"audience": audience})
    existing = QuestionSet.objects.filter(programme=programme, audience=audience).first()
    if existing is not None:
        return existing
    try:
        with transaction.atomic():
            question_set = QuestionSet.objects.create(programme=programme, audience=audience)
            with translation.override(programme.primary_language):
                Question.objects.bulk_create([
                    Question(question_set=question_set, position=position, key=d.key, theme=d.theme, kind=d.kind,
                             text=str(d.text), help_text=str(d.help_text), per_course=d.per_course,
                             required=d.required)
                    for position, d in enumerate(defaults.BY_AUDIENCE[audience])])
    except IntegrityError:  # seeded at the same moment by another request
        return QuestionSet.objects.get(programme=programme, audience=audience)
    return question_set


def _locked_set(question_set: QuestionSet) -> QuestionSet:
    return QuestionSet.objects.select_for_update().select_related("programme").get(pk=question_set.pk)


def _clean_question(question: Question, audience: str) -> None:
    errors: dict[str, list[str]] = defaultdict(list)
    question.text = str(question.text or "").strip()
    question.help_text = str(question.help_text or "").strip()
    if not question.text:
        errors["text"].append(str(BLANK_QUESTION))
    for name in ("text", "help_text"):
        if "\x00" in getattr(question, name):
            errors[name].append(str(NULL_CHARACTER))
    if question.per_course and question.required:
        errors["required"].append(str(PER_COURSE_NOT_REQUIRED))
    if question.per_course and audience == Audience.STAKEHOLDER:
        errors["per_course"].append(str(STAKEHOLDERS_NO_COURSES))
    if errors:
        raise ValidationError(dict(errors))
    save_validated(question)


def _take(question: Question, data: Mapping[str, Any]) -> dict[str, Any]:
    before = audit.snapshot(question, EDITABLE_FIELDS)
    for name in EDITABLE_FIELDS:
        if name in data:
            value = data[name]
            setattr(question, name, bool(value) if name in ("per_course", "required") else value)
    return before


@transaction.atomic
def question_add(*, actor, question_set: QuestionSet, data: Mapping[str, Any]) -> Question:
    """A new question at the end of the set (``data``: text, kind, and optionally help_text, theme, per_course,
    required). Surveys already open keep the questions they opened with."""
    policy.require(actor, "quality.manage", question_set.programme)
    question_set = _locked_set(question_set)
    last = question_set.questions.order_by("-position").values_list("position", flat=True).first()
    question = Question(question_set=question_set, key=f"q-{uuid.uuid4().hex[:8]}",
                        position=0 if last is None else last + 1)
    _take(question, data)
    _clean_question(question, question_set.audience)
    record(actor, "feedback.question_added", question, question_set.programme,
            audit.snapshot(question, ("key", *EDITABLE_FIELDS)))
    return question


@transaction.atomic
def question_update(*, actor, question: Question, data: Mapping[str, Any]) -> Question:
    question_set = _locked_set(question.question_set)
    policy.require(actor, "quality.manage", question_set.programme)
    question = Question.objects.get(pk=question.pk)
    before = _take(question, data)
    _clean_question(question, question_set.audience)
    record(actor, "feedback.question_changed", question, question_set.programme,
            audit.diff(before, audit.snapshot(question, EDITABLE_FIELDS)))
    return question


@transaction.atomic
def question_remove(*, actor, question: Question) -> None:
    question_set = _locked_set(question.question_set)
    policy.require(actor, "quality.manage", question_set.programme)
    question = Question.objects.get(pk=question.pk)
    record(actor, "feedback.question_removed", question, question_set.programme, {"key": question.key})
    question.delete()
    _renumber(list(question_set.questions.all()))


def _renumber(questions: Sequence[Question]) -> None:
    for position, question in enumerate(questions):
        question.position = position
    Question.objects.bulk_update(questions, ["position"])


@transaction.atomic
def questions_reorder(*, actor, question_set: QuestionSet, order: Sequence[uuid.UUID | str]) -> list[Question]:
    """Put the set's questions in ``order`` (every question id exactly once)."""
    question_set = _locked_set(question_set)
    policy.require(actor, "quality.manage", question_set.programme)
    by_id = {str(q.pk): q for q in question_set.questions.all()}
    wanted = [str(pk) for pk in order]
    if sorted(wanted) != sorted(by_id):
        raise ValidationError({"order": [str(REORDER_MISMATCH)]})
    questions = [by_id[pk] for pk in wanted]
    _renumber(questions)
    record(actor, "feedback.questions_reordered", question_set, question_set.programme,
            {"order": [q.key for q in questions]})
    return questions


@transaction.atomic
def question_move(*, actor, question: Question, offset: int) -> list[Question]:
    """Move a question ``offset`` places up (negative) or down the set (the editor's up/down buttons); the order is
    read under the set's lock, so two moves at once both apply."""
    question_set = _locked_set(question.question_set)
    policy.require(actor, "quality.manage", question_set.programme)
    ids = list(question_set.questions.values_list("pk", flat=True))
    if question.pk not in ids:
        raise DomainError(str(QUESTION_GONE))
    index = ids.index(question.pk)
    target = max(0, min(len(ids) - 1, index + offset))
    if target == index:
        raise DomainError(str(QUESTION_FIRST if offset < 0 else QUESTION_LAST))
    ids.insert(target, ids.pop(index))
    return questions_reorder(actor=actor, question_set=question_set, order=ids)


# --- Opening surveys ---------------------------------------------------------------------------------------------


def _freeze(survey: Survey, question_set: QuestionSet) -> int:
    """Copy the set's questions into the survey: later edits of the set do not change what it asked."""
    questions = list(question_set.questions.all())
    if not questions:
        raise DomainError(str(NO_QUESTIONS))
    SurveyQuestion.objects.bulk_create([
        SurveyQuestion(survey=survey, position=position, **{f: getattr(q, f) for f in FROZEN_FIELDS})
        for position, q in enumerate(questions)])
    return len(questions)


def _learners_to_ask(edition: Edition):
    """Every enrolled learner of the edition who did not withdraw (completed and suspended ones included)."""
    return Enrolment.objects.filter(edition=edition).exclude(application__status=ApplicationStatus.WITHDRAWN)


@transaction.atomic
def learner_survey_open(*, edition: Edition, now: dt.datetime | None = None) -> Survey:
    """Open the edition's learner survey (a system action, run by the beat once the edition has ended): freeze the
    questions, invite every enrolled learner who did not withdraw, email them after commit."""
    now = now or timezone.now()
    edition = Edition.objects.select_for_update().select_related("programme").get(pk=edition.pk)
    existing = Survey.objects.filter(edition=edition, audience=Audience.LEARNER).first()
    if existing is not None:
        opened = f"{timezone.localtime(existing.opened_at):%Y-%m-%d}"
        raise TransitionError(str(LEARNER_SURVEY_EXISTS) % {"edition": edition, "date": opened})
    if edition.ends_on >= timezone.localdate(now):
        raise TransitionError(str(EDITION_NOT_ENDED) % {"date": edition.ends_on.isoformat()})
    learner_ids = list(_learners_to_ask(edition).order_by("enrolled_at").values_list("learner_id", flat=True))
    if not learner_ids:
        raise DomainError(str(NO_LEARNERS))
    programme = edition.programme
    survey = Survey.objects.create(programme=programme, edition=edition, audience=Audience.LEARNER, opened_at=now,
                                   closes_at=now + _days("FEEDBACK_OPEN_DAYS", 21))
    asked = _freeze(survey, question_set_ensure(programme=programme, audience=Audience.LEARNER))
    invitations = Invitation.objects.bulk_create([Invitation(survey=survey, learner_id=pk) for pk in learner_ids])
    record(None, "feedback.survey_opened", survey, programme, {"invited": len(invitations), "questions": asked,
                                                                 "closes_at": survey.closes_at})
    from .tasks import invitation_email

    for invitation in invitations:
        invitation_email.delay_on_commit(str(invitation.pk))
    return survey


def editions_due_for_feedback(*, now: dt.datetime | None = None):
    """Editions that ended (at most ``FEEDBACK_OPEN_WITHIN_DAYS`` ago, so that switching the feature on does not
    survey years-old cohorts), have learners to ask and no learner survey yet."""
    today = timezone.localdate(now or timezone.now())
    return (Edition.objects
            .filter(ends_on__lt=today, ends_on__gte=today - _days("FEEDBACK_OPEN_WITHIN_DAYS", 60))
            .exclude(feedback_surveys__audience=Audience.LEARNER)
            .filter(Exists(_learners_to_ask(OuterRef("pk"))))
            .order_by("ends_on", "pk"))


def learner_surveys_open_due(*, now: dt.datetime | None = None) -> list[Survey]:
    """The daily beat: open the learner survey of every edition due (each in its own transaction; one that fails is
    logged and left for the next day)."""
    opened = []
    for edition in editions_due_for_feedback(now=now):
        try:
            opened.append(learner_survey_open(edition=edition, now=now))
        except DomainError as exc:
            logger.warning("Learner survey of %s not opened: %s", edition, exc.message)
    return opened


@transaction.atomic
def stakeholder_survey_open(*, actor, programme: Programme, closes_at: dt.datetime | None = None,
                            now: dt.datetime | None = None) -> Survey:
    """Open a stakeholder survey of the programme (one open at a time); invite people with
    ``stakeholders_invite``."""
    policy.require(actor, "quality.manage", programme)
    now = now or timezone.now()
    programme = Programme.objects.select_for_update().get(pk=programme.pk)
    if Survey.objects.filter(programme=programme, audience=Audience.STAKEHOLDER, status=SurveyStatus.OPEN).exists():
        raise TransitionError(str(STAKEHOLDER_SURVEY_OPEN))
    closes_at = closes_at or now + _days("FEEDBACK_OPEN_DAYS", 21)
    if closes_at <= now:
        raise ValidationError({"closes_at": [_("The survey must close in the future.")]})
    survey = Survey.objects.create(programme=programme, audience=Audience.STAKEHOLDER, opened_at=now,
                                   closes_at=closes_at)
    asked = _freeze(survey, question_set_ensure(programme=programme, audience=Audience.STAKEHOLDER))
    record(actor, "feedback.survey_opened", survey, programme, {"questions": asked, "closes_at": closes_at})
    return survey


def _clean_emails(emails: Iterable[str] | str) -> list[str]:
    if isinstance(emails, str):  # a text of addresses (one a line, or separated by commas or semicolons)
        emails = re.split(r"[\s,;]+", emails)
    found: dict[str, None] = {}
    errors = []
    for raw in emails:
        email = str(raw or "").strip().lower()
        if not email:
            continue
        try:
            validate_email(email)
        except ValidationError:
            errors.append(_("%(email)s is not an email address.") % {"email": email[:100]})
            continue
        found[email] = None
    if errors:
        raise ValidationError({"emails": errors})
    if not found:
        raise ValidationError({"emails": [_("Enter at least one email address.")]})
    if len(found) > MAX_INVITES_PER_CALL:
        raise ValidationError({"emails": [_("At most %(max)s addresses at a time.") % {"max": MAX_INVITES_PER_CALL}]})
    return list(found)


def _email_stakeholder_after_commit(invitation: Invitation, token: str, survey: Survey) -> None:
    """The link holds the token, which is stored nowhere (only its hash): the email is composed now and sent by this
    process after commit, never through the broker."""
    programme = survey.programme
    link = f"{settings.PUBLIC_BASE_URL}{STAKEHOLDER_SURVEY_PATH.format(token=token)}"
    with translation.override(programme.primary_language):
        subject = _("Your view of %(programme)s") % {"programme": programme.title}
        body = _("Hello,\n\nThe team of %(programme)s asks employers and partners how well the programme meets "
                 "their needs. The survey takes about five minutes, needs no account and is anonymous: your "
                 "answers are stored without your address.\n\nAnswer here by %(closes)s:\n%(link)s\n\nThe link is "
                 "personal: please do not forward it.\n") % {
            "programme": programme.title, "closes": f"{timezone.localtime(survey.closes_at):%Y-%m-%d}",
            "link": link}
    transaction.on_commit(partial(send_mail, subject, body, None, [invitation.email]), robust=True)


def _issue_token(invitation: Invitation) -> str:
    token = secrets.token_urlsafe(32)
    invitation.token_hash = _hash(token)
    return token


@dataclass(frozen=True)
class Invited:
    """What ``stakeholders_invite`` did: the addresses invited now and those skipped (invited before)."""

    invited: tuple[str, ...]
    already_invited: tuple[str, ...]

    def __len__(self) -> int:
        return len(self.invited)


@transaction.atomic
def stakeholders_invite(*, actor, survey: Survey, emails: Iterable[str] | str) -> Invited:
    """Invite people (employers, associated partners) by email to an open stakeholder survey; each gets a personal
    link. Addresses already invited are skipped. Any address that is not one refuses the whole call (nothing is
    sent; the error names each such address)."""
    survey = Survey.objects.select_for_update().select_related("programme").get(pk=survey.pk)
    policy.require(actor, "quality.manage", survey.programme)
    if survey.audience != Audience.STAKEHOLDER:
        raise DomainError(str(NOT_A_STAKEHOLDER_SURVEY))
    if not survey_is_open(survey):
        raise TransitionError(_closed_message(survey))
    wanted = _clean_emails(emails)
    taken = set(Invitation.objects.filter(survey=survey, email__in=wanted).values_list("email", flat=True))
    new = [email for email in wanted if email not in taken]
    for email in new:
        invitation = Invitation(survey=survey, email=email)
        token = _issue_token(invitation)
        invitation.save()
        _email_stakeholder_after_commit(invitation, token, survey)
    record(actor, "feedback.stakeholders_invited", survey, survey.programme,
            {"invited": len(new), "already_invited": len(taken)})
    return Invited(invited=tuple(new), already_invited=tuple(email for email in wanted if email in taken))


@transaction.atomic
def stakeholder_invitation_renew(*, actor, invitation: Invitation) -> None:
    """Send a stakeholder a new link (the email was lost); the previous link stops working."""
    invitation = Invitation.objects.select_for_update().get(pk=invitation.pk)
    survey = Survey.objects.select_related("programme").get(pk=invitation.survey_id)
    policy.require(actor, "quality.manage", survey.programme)
    if not invitation.email:
        raise DomainError(_("This invitation has no email address (it was erased, or is a learner's)."))
    if not survey_is_open(survey):
        raise TransitionError(_closed_message(survey))
    if invitation.answered:
        raise TransitionError(_("This person has answered already."))
    token = _issue_token(invitation)
    invitation.save(update_fields=["token_hash"])
    _email_stakeholder_after_commit(invitation, token, survey)
    record(actor, "feedback.stakeholder_link_renewed", survey, survey.programme, {"renewed": 1})


# --- Emails to learners and reminders ------------------------------------------------------------------------------


def invitation_email_send(*, invitation_id: str, reminder: bool = False) -> int:
    """Email a learner their invitation (or a reminder) with the survey's link. Nothing when they have answered,
    the survey has closed or the person was erased. Returns the number of emails sent (for the task)."""
    invitation = (Invitation.objects.select_related("learner", "survey__programme", "survey__edition")
                  .filter(pk=invitation_id).first())
    if invitation is None or invitation.learner is None or invitation.answered \
            or not survey_is_open(invitation.survey):
        return 0
    survey = invitation.survey
    programme = survey.programme
    values = {"programme": programme.title, "edition": survey.edition.intake_code if survey.edition else "",
              "closes": f"{timezone.localtime(survey.closes_at):%Y-%m-%d}", "min": min_responses(),
              "link": f"{settings.PUBLIC_BASE_URL}{LEARNER_SURVEY_PATH.format(survey_id=survey.pk)}"}
    with translation.override(programme.primary_language):
        if reminder:
            subject = _("Reminder: your feedback on %(programme)s") % values
            intro = _("You have not answered the feedback survey of %(programme)s (%(edition)s) yet. It closes on "
                      "%(closes)s.") % values
        else:
            subject = _("Your feedback on %(programme)s (anonymous)") % values
            intro = _("The %(edition)s edition of %(programme)s has ended. Please tell us how it went: it takes "
                      "about ten minutes and helps the partner universities improve the programme.") % values
        body = intro + "\n\n" + _(
            "The survey is anonymous: your answers are stored without your name or account, we only record that "
            "you answered, and results are shown only when at least %(min)s people have answered.\n\nAnswer here by "
            "%(closes)s:\n%(link)s\n") % values
    return send_mail(subject, body, None, [invitation.learner.email])


def reminders_send(*, now: dt.datetime | None = None) -> int:
    """The daily beat: remind learners who have not answered an open survey, at most ``FEEDBACK_REMINDERS_MAX``
    times, at least ``FEEDBACK_REMINDER_INTERVAL_DAYS`` after the invitation and after each other. Returns how many
    reminders were queued. The audit trail gets a count per survey (never who was reminded)."""
    now = now or timezone.now()
    limit = int(getattr(settings, "FEEDBACK_REMINDERS_MAX", 2))
    before = now - _days("FEEDBACK_REMINDER_INTERVAL_DAYS", 7)
    due = (Invitation.objects
           .filter(survey__audience=Audience.LEARNER, survey__status=SurveyStatus.OPEN, survey__closes_at__gt=now,
                   learner__isnull=False, answered=False, reminders_sent__lt=limit)
           .filter(Q(last_reminded_at__isnull=True, survey__opened_at__lte=before) | Q(last_reminded_at__lte=before))
           .values_list("pk", "survey_id", "reminders_sent"))
    from .tasks import invitation_email

    per_survey: dict[uuid.UUID, int] = defaultdict(int)
    for pk, survey_id, sent in due:
        with transaction.atomic():
            # Conditional: a second beat run (or the learner answering now) leaves the row alone.
            if Invitation.objects.filter(pk=pk, reminders_sent=sent, answered=False).update(
                    reminders_sent=sent + 1, last_reminded_at=now):
                invitation_email.delay_on_commit(str(pk), reminder=True)
                per_survey[survey_id] += 1
    for survey in Survey.objects.filter(pk__in=per_survey).select_related("programme"):
        record(None, "feedback.reminders_sent", survey, survey.programme, {"reminders": per_survey[survey.pk]})
    return sum(per_survey.values())


# --- Answering -----------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SurveyItem:
    """One thing to answer: a question, or a per-course question about one course. ``name`` is the key of its
    answer in the ``answers`` given to ``response_submit`` (the form field's name)."""

    name: str
    question_id: str
    key: str
    text: str
    help_text: str
    kind: str
    theme: str
    required: bool
    course_id: str | None = None
    course: str = ""
    partner: str = ""


def _courses(survey: Survey) -> list[Course]:
    if survey.edition_id is None:
        return []
    return list(Course.objects.filter(version__editions=survey.edition_id).select_related("provider")
                .order_by("position", "code"))


def survey_items(survey: Survey) -> list[SurveyItem]:
    """What the survey asks, in order; per-course questions once for each course of the edition's curriculum."""
    courses = _courses(survey)
    items = []
    for q in survey.questions.all():
        common = {"question_id": str(q.pk), "key": q.key, "text": q.text, "help_text": q.help_text, "kind": q.kind,
                  "theme": q.theme}
        if not q.per_course:
            items.append(SurveyItem(name=str(q.pk), required=q.required, **common))
            continue
        items += [SurveyItem(name=f"{q.pk}:{c.pk}", required=False, course_id=str(c.pk), course=f"{c.code} {c.title}",
                             partner=c.provider.short_name, **common) for c in courses]
    return items


def answers_by_key(survey: Survey, values: Mapping[str, Any]) -> dict[str, Any]:
    """Answers named by question key (``{"overall": 4, "course_quality": {"CDF1": 5, …}}``: per course by course
    code) as the survey's form names them, for ``response_submit``; keys the survey does not ask are left out (the
    demo's and the tests' way to answer)."""
    found = {}
    for item in survey_items(survey):
        value = values.get(item.key)
        if value is None:
            continue
        if item.course_id is None:
            found[item.name] = value
        elif item.course.split()[0] in value:
            found[item.name] = value[item.course.split()[0]]
    return found


def _blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def _whole(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and _DIGITS.fullmatch(value.strip()):
        return int(value.strip())
    return None


def _parse(kind: str, raw: Any) -> tuple[dict[str, Any], str]:
    """``({field: value}, "")`` for a valid answer, else ``({}, error)``."""
    if kind == QuestionKind.LIKERT:
        value = _whole(raw)
        if value is None or not RATING_MIN <= value <= RATING_MAX:
            return {}, str(RATING_RANGE)
        return {"rating": value}, ""
    if kind == QuestionKind.NUMBER:
        value = _whole(raw)
        if value is None or not NUMBER_MIN <= value <= NUMBER_MAX:
            return {}, str(NUMBER_RANGE)
        return {"number": value}, ""
    if not isinstance(raw, str):
        return {}, str(NOT_ANSWERS)
    text = raw.strip()
    if "\x00" in text:
        return {}, str(NULL_CHARACTER)
    if len(text) > TEXT_MAX_LENGTH:
        return {}, str(TEXT_TOO_LONG) % {"max": TEXT_MAX_LENGTH, "length": len(text)}
    return {"text": text}, ""


def _clean_answers(survey: Survey, answers: Mapping[str, Any]) -> list[Answer]:
    """The answers as unsaved ``Answer`` rows, or a ValidationError naming each item's problem."""
    if not isinstance(answers, Mapping):
        raise ValidationError(str(NOT_ANSWERS))
    items = {item.name: item for item in survey_items(survey)}
    errors: dict[str, list[str]] = defaultdict(list)
    for name in answers:
        if str(name) not in items:
            errors[str(name)[:100]].append(str(UNKNOWN_QUESTION))
    given = {str(k): v for k, v in answers.items()}
    rows = []
    for name, item in items.items():
        raw = given.get(name)
        if _blank(raw):
            if item.required:
                errors[name].append(str(REQUIRED))
            continue
        values, error = _parse(item.kind, raw)
        if error:
            errors[name].append(error)
            continue
        rows.append(Answer(question_id=item.question_id, course_id=item.course_id, **values))
    if errors:
        raise ValidationError(dict(errors))
    if not rows:
        raise ValidationError(str(NOTHING_ANSWERED))
    return rows


def response_submit(*, survey: Survey, learner, answers: Mapping[str, Any]) -> None:
    """A learner answers the survey they were invited to (``answers``: ``SurveyItem.name`` → value). Nothing is
    returned and nothing recorded that ties the stored response to them."""
    if not getattr(learner, "is_authenticated", False) or getattr(learner, "pk", None) is None:
        raise DomainError(str(NOT_INVITED))
    _submit(Invitation.objects.filter(survey_id=survey.pk, learner_id=learner.pk), answers, not_found=NOT_INVITED)


def response_submit_by_token(*, token: str, answers: Mapping[str, Any]) -> None:
    """A stakeholder answers through the link in their email (no account)."""
    if not isinstance(token, str) or not token or len(token) > 200:
        raise DomainError(str(INVALID_LINK))
    _submit(Invitation.objects.filter(token_hash=_hash(token)), answers, not_found=INVALID_LINK)


@transaction.atomic
def _submit(invitations, answers: Mapping[str, Any], *, not_found) -> None:
    """Lock the invitation, check, store the response, mark the invitation answered: one transaction, so a second
    submit (even at the same moment, on another connection) waits for the lock and finds it answered."""
    invitation = invitations.select_for_update().first()
    if invitation is None:
        raise DomainError(str(not_found))
    survey = Survey.objects.get(pk=invitation.survey_id)
    if not survey_is_open(survey):
        raise TransitionError(_closed_message(survey))
    if invitation.answered:
        raise TransitionError(str(ALREADY_ANSWERED))
    rows = _clean_answers(survey, answers)
    response = Response.objects.create(survey=survey)
    for row in rows:
        row.response = response
    Answer.objects.bulk_create(rows)
    marked = Invitation.objects.filter(pk=invitation.pk, answered=False).update(
        answered=True, answered_on=timezone.localdate())
    if marked != 1:  # only without row locks (SQLite): the other submit won; this one rolls back
        raise TransitionError(str(ALREADY_ANSWERED))


def responses_restamp(*, survey_id: uuid.UUID | str) -> None:
    """PostgreSQL only: rewrite the survey's answered invitations, then (in another transaction) its responses and
    answers, so that no live invitation row carries the transaction id of a response (see the module docstring)."""
    if connection.vendor != "postgresql":
        return
    with transaction.atomic():
        Invitation.objects.filter(survey_id=survey_id, answered=True).update(answered=True)
    with transaction.atomic():
        Response.objects.filter(survey_id=survey_id).update(survey_id=F("survey_id"))
        Answer.objects.filter(response__survey_id=survey_id).update(response_id=F("response_id"))


# --- Closing -------------------------------------------------------------------------------------------------------


def _close(actor, survey: Survey, now: dt.datetime) -> Survey:
    if SurveyStatus.CLOSED not in TRANSITIONS[survey.status]:
        raise TransitionError(str(ALREADY_CLOSED))
    survey.status = SurveyStatus.CLOSED
    survey.closed_at = now
    survey.save(update_fields=["status", "closed_at", "updated_at"])
    counts = Invitation.objects.filter(survey=survey).aggregate(
        invited=Count("pk"), answered=Count("pk", filter=Q(answered=True)))
    record(actor, "feedback.survey_closed", survey, survey.programme,
            {**counts, "responses": Response.objects.filter(survey=survey).count()})
    return survey


@transaction.atomic
def survey_close(*, actor, survey: Survey, now: dt.datetime | None = None) -> Survey:
    """Close a survey before its closing date (the team decides); answers are refused from now on."""
    survey = Survey.objects.select_for_update().select_related("programme").get(pk=survey.pk)
    policy.require(actor, "quality.manage", survey.programme)
    survey = _close(actor, survey, now or timezone.now())
    transaction.on_commit(partial(responses_restamp, survey_id=survey.pk), robust=True)
    return survey


def surveys_close_due(*, now: dt.datetime | None = None) -> int:
    """The hourly beat: close the surveys past their closing time (answers are refused from ``closes_at`` on
    anyway), and restamp the responses of the surveys still open. Returns how many were closed."""
    now = now or timezone.now()
    closed = 0
    for pk in Survey.objects.filter(status=SurveyStatus.OPEN, closes_at__lte=now).values_list("pk", flat=True):
        with transaction.atomic():
            survey = Survey.objects.select_for_update().select_related("programme").get(pk=pk)
            if survey.status == SurveyStatus.OPEN:
                _close(None, survey, now)
                closed += 1
        responses_restamp(survey_id=pk)
    # Rows stay restamped until someone answers: only the surveys answered since yesterday need it again.
    recent = Invitation.objects.filter(survey=OuterRef("pk"), answered_on__gte=timezone.localdate(now) - DAY)
    for pk in Survey.objects.filter(Exists(recent), status=SurveyStatus.OPEN).values_list("pk", flat=True):
        responses_restamp(survey_id=pk)
    return closed


# --- Results -------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Result:
    """The answers to one question (overall, or for one course or partner). When fewer than ``min_responses()``
    people answered, ``shown`` is False and only ``respondents`` and ``note`` are filled in."""

    respondents: int
    shown: bool
    note: str = ""
    count: int = 0
    mean: Decimal | None = None
    #: Likert: answers per rating 1–5.
    distribution: dict[int, int] = field(default_factory=dict)
    #: Free text: the answers, in random order.
    texts: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class GroupResult:
    id: str
    label: str
    result: Result
    partner: str = ""


@dataclass(frozen=True)
class QuestionResult:
    id: str
    key: str
    text: str
    kind: str
    theme: str
    per_course: bool
    #: For a per-course question: only the courses whose own result is shown count here and per partner.
    overall: Result
    by_course: list[GroupResult] = field(default_factory=list)
    by_partner: list[GroupResult] = field(default_factory=list)
    #: Courses answered by too few people, left out of ``overall`` and ``by_partner`` (labels).
    withheld: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class WorkloadResult:
    """Reported hours against the programme's notional workload (ECTS × 25–30 h)."""

    ects: Decimal
    expected_low: int
    expected_high: int
    hours: Result
    below: int | None = None
    within: int | None = None
    above: int | None = None


@dataclass(frozen=True)
class SurveyResults:
    survey_id: str
    title: str
    audience: str
    status: str
    opened_at: dt.datetime
    closes_at: dt.datetime
    invited: int
    answered: int
    #: answered / invited in percent, one decimal (None when nobody was invited).
    response_rate: Decimal | None
    responses: int
    min_responses: int
    #: False while the survey takes answers: then ``questions`` is empty, ``workload`` None, and ``note`` says
    #: when the figures appear (``figures_shown``).
    figures_shown: bool
    note: str
    questions: list[QuestionResult]
    workload: WorkloadResult | None


def response_rate(invited: int, answered: int) -> Decimal | None:
    """``answered`` / ``invited`` in percent, one decimal (None when nobody was invited)."""
    if not invited:
        return None
    return (Decimal(100 * answered) / Decimal(invited)).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)


def _mean(values: Sequence[int], places: str) -> Decimal:
    return (Decimal(sum(values)) / Decimal(len(values))).quantize(Decimal(places), rounding=ROUND_HALF_UP)


def _result(kind: str, rows: Sequence[tuple[uuid.UUID, Any]], minimum: int) -> Result:
    """``rows``: (response id, value) of the answers to aggregate."""
    respondents = len({response_id for response_id, _value in rows})
    if respondents < minimum:
        return Result(respondents=respondents, shown=False, note=str(TOO_FEW) % {"min": minimum})
    values = [value for _response_id, value in rows]
    if kind == QuestionKind.LIKERT:
        return Result(respondents=respondents, shown=True, count=len(values), mean=_mean(values, "0.01"),
                      distribution={r: values.count(r) for r in range(RATING_MIN, RATING_MAX + 1)})
    if kind == QuestionKind.NUMBER:
        return Result(respondents=respondents, shown=True, count=len(values), mean=_mean(values, "0.1"))
    texts = list(values)
    random.shuffle(texts)
    return Result(respondents=respondents, shown=True, count=len(texts), texts=texts)


def _value(kind: str, rating, number, text):
    return {QuestionKind.LIKERT: rating, QuestionKind.NUMBER: number}.get(kind, text)


def _pooled(kind: str, rows, course_ids: set, shown: set, minimum: int) -> Result:
    """The answers about ``course_ids``, counting only the courses whose own result is ``shown``: were a hidden
    course pooled in, subtracting the shown courses from the pool would reveal its answers."""
    if course_ids & shown:  # at least one course with enough respondents, so the pool has enough too
        return _result(kind, [(r, v) for r, c, v in rows if c in course_ids & shown], minimum)
    return Result(respondents=len({r for r, c, _v in rows if c in course_ids}), shown=False,
                  note=str(TOO_FEW) % {"min": minimum})


def _question_result(q: SurveyQuestion, rows, courses: Sequence[Course], minimum: int) -> QuestionResult:
    """``rows``: (response id, course id, value) of the question's answers."""
    if not q.per_course:
        return QuestionResult(id=str(q.pk), key=q.key, text=q.text, kind=q.kind, theme=q.theme, per_course=False,
                              overall=_result(q.kind, [(r, v) for r, _c, v in rows], minimum))
    by_course = [GroupResult(id=str(c.pk), label=f"{c.code} {c.title}", partner=c.provider.short_name,
                             result=_result(q.kind, [(r, v) for r, course, v in rows if course == c.pk], minimum))
                 for c in courses]
    shown = {uuid.UUID(g.id) for g in by_course if g.result.shown}
    partners: dict[uuid.UUID, tuple[str, set]] = {}
    for course in courses:
        partners.setdefault(course.provider_id, (course.provider.short_name, set()))[1].add(course.pk)
    by_partner = [GroupResult(id=str(pk), label=name, partner=name,
                              result=_pooled(q.kind, rows, course_ids, shown, minimum))
                  for pk, (name, course_ids) in sorted(partners.items(), key=lambda item: item[1][0])]
    return QuestionResult(
        id=str(q.pk), key=q.key, text=q.text, kind=q.kind, theme=q.theme, per_course=True,
        overall=_pooled(q.kind, rows, {c.pk for c in courses}, shown, minimum), by_course=by_course,
        by_partner=by_partner, withheld=[g.label for g in by_course if not g.result.shown and g.result.respondents])


def _workload(programme: Programme, question: SurveyQuestion | None, rows, minimum: int) -> WorkloadResult | None:
    if question is None or question.kind != QuestionKind.NUMBER or question.per_course:
        return None
    low, high = programme.workload_hours
    hours = _result(QuestionKind.NUMBER, [(r, v) for r, _c, v in rows], minimum)
    if not hours.shown:
        return WorkloadResult(ects=programme.ects, expected_low=low, expected_high=high, hours=hours)
    values = [v for _r, _c, v in rows]
    return WorkloadResult(ects=programme.ects, expected_low=low, expected_high=high, hours=hours,
                          below=sum(v < low for v in values), within=sum(low <= v <= high for v in values),
                          above=sum(v > high for v in values))


def survey_results(survey: Survey) -> SurveyResults:
    """The survey's results as plain data (a handful of queries, whatever the number of answers). While the survey
    takes answers, only its counts and response rate: no figure (``figures_shown``); its answers are not read."""
    survey = Survey.objects.select_related("programme", "edition").get(pk=survey.pk)
    minimum = min_responses()
    counts = Invitation.objects.filter(survey=survey).aggregate(
        invited=Count("pk"), answered=Count("pk", filter=Q(answered=True)))
    invited, answered = counts["invited"], counts["answered"]
    now = timezone.now()
    shown = figures_shown(survey, now=now)
    questions = list(survey.questions.all()) if shown else []
    courses = _courses(survey) if shown else []
    rows: dict[uuid.UUID, list] = defaultdict(list)
    kinds = {q.pk: q.kind for q in questions}
    if shown:
        for response_id, question_id, course_id, rating, number, text in Answer.objects.filter(
                response__survey=survey).values_list("response_id", "question_id", "course_id", "rating", "number",
                                                     "text"):
            rows[question_id].append((response_id, course_id, _value(kinds[question_id], rating, number, text)))
    hours = next((q for q in questions if q.key == defaults.WORKLOAD_HOURS_KEY), None)
    return SurveyResults(
        survey_id=str(survey.pk), title=str(survey), audience=survey.audience, status=survey.status,
        opened_at=survey.opened_at, closes_at=survey.closes_at, invited=invited, answered=answered,
        response_rate=response_rate(invited, answered), responses=Response.objects.filter(survey=survey).count(),
        min_responses=minimum, figures_shown=shown, note=figures_note(survey, now=now),
        questions=[_question_result(q, rows[q.pk], courses, minimum) for q in questions],
        workload=_workload(survey.programme, hours, rows[hours.pk] if hours else [], minimum) if shown else None)


def free_text_csv_rows(survey: Survey) -> list[list[str]]:
    """The free-text answers as CSV rows (the header first; ``consortium.web.csv_download`` serves them): no time,
    no order of answering (shuffled), only where enough people answered (as on the results page), and only once the
    survey takes no more answers (a ``DomainError`` saying when before)."""
    results = survey_results(survey)
    if not results.figures_shown:
        raise DomainError(results.note)
    rows = []
    for q in results.questions:
        if q.kind != QuestionKind.TEXT:
            continue
        groups = q.by_course if q.per_course else [GroupResult(id=q.id, label="", result=q.overall)]
        for group in groups:
            if group.result.shown:
                rows += [[q.text, group.label, group.partner, text] for text in group.result.texts]
    random.shuffle(rows)
    return [[_("Question"), _("Course"), _("Partner"), _("Answer")], *rows]


def free_text_csv(survey: Survey) -> bytes:
    """``free_text_csv_rows`` as CSV bytes, safe to open in a spreadsheet (``consortium.csv_export``)."""
    return csv_export.csv_bytes(free_text_csv_rows(survey))


# --- What learners and stakeholders see ------------------------------------------------------------------------------


@dataclass(frozen=True)
class InvitationSummary:
    survey_id: str
    title: str
    closes_at: dt.datetime
    open: bool
    answered: bool
    path: str
    #: The programme's title (in its primary language) and the edition's intake code, for the learner's page.
    programme: str = ""
    edition: str = ""
    #: When the survey closed (early, or at ``closes_at``); None while it is open.
    closed_at: dt.datetime | None = None


def learner_invitations(user) -> list[InvitationSummary]:
    """The surveys a learner was invited to, newest first (for their dashboard and feedback page; two queries)."""
    if not getattr(user, "pk", None):  # an anonymous visitor (``learner_id=None`` would find erased invitations)
        return []
    now = timezone.now()
    invitations = (Invitation.objects.filter(learner_id=user.pk).select_related("survey__edition__programme")
                   .prefetch_related("survey__programme__texts").order_by("-survey__opened_at", "survey_id"))
    summaries = []
    for i in invitations:
        survey, is_open = i.survey, survey_is_open(i.survey, now=now)
        closed_at = None if is_open or survey.opened_at > now else (survey.closed_at or survey.closes_at)
        summaries.append(InvitationSummary(
            survey_id=str(i.survey_id), title=str(survey), closes_at=survey.closes_at, open=is_open,
            answered=i.answered, path=LEARNER_SURVEY_PATH.format(survey_id=i.survey_id),
            programme=survey.programme.title, edition=survey.edition.intake_code if survey.edition else "",
            closed_at=closed_at))
    return summaries


def stakeholder_invitations(survey: Survey, *, search: str = ""):
    """A stakeholder survey's invitations for its team (address, day invited, answered or not), by address; erased
    people (no address left) last. ``search`` narrows to addresses containing it."""
    invitations = Invitation.objects.filter(survey_id=survey.pk, learner__isnull=True)
    if search.strip():
        invitations = invitations.filter(email__icontains=search.strip()[:254])
    erased = Case(When(email="", then=Value(True)), default=Value(False), output_field=BooleanField())
    return invitations.annotate(erased=erased).order_by("erased", "email", "id")


def learner_refusal(*, survey: Survey, learner) -> str:
    """Why ``learner`` cannot answer ``survey`` now ("" when they can): for the page, before the form."""
    pk = getattr(learner, "pk", None)
    invitation = Invitation.objects.filter(survey_id=survey.pk, learner_id=pk).first() if pk else None
    if invitation is None:
        return str(NOT_INVITED)
    return _refusal(invitation)


def _refusal(invitation: Invitation) -> str:
    survey = Survey.objects.get(pk=invitation.survey_id)
    if not survey_is_open(survey):
        return _closed_message(survey)
    if invitation.answered:
        return str(ALREADY_ANSWERED)
    return ""


def survey_for_token(token: str) -> tuple[Survey | None, str]:
    """The stakeholder survey behind a link and why it cannot be answered ("" when it can)."""
    invitation = Invitation.objects.filter(token_hash=_hash(token)).first() if isinstance(token, str) and \
        0 < len(token) <= 200 else None
    if invitation is None:
        return None, str(INVALID_LINK)
    return Survey.objects.select_related("programme").get(pk=invitation.survey_id), _refusal(invitation)


def open_stakeholder_survey(programme: Programme) -> Survey | None:
    """The programme's open stakeholder survey (at most one), if any."""
    return Survey.objects.filter(programme=programme, audience=Audience.STAKEHOLDER, status=SurveyStatus.OPEN).first()


def programme_surveys(programme: Programme) -> QuerySet[Survey]:
    """The programme's surveys, newest first, each with ``invited`` and ``answered`` counts (one query; a queryset,
    so that a page of them can be read)."""
    return (Survey.objects.filter(programme=programme).select_related("edition").annotate(
        invited=Count("invitations"), answered=Count("invitations", filter=Q(invitations__answered=True)))
        .order_by("-opened_at", "pk"))
