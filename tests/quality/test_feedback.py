"""Learner and stakeholder feedback (issue 12, D8): the default ESG-aligned questions and a programme's own set,
surveys opened by the beat when an edition ends (questions frozen, learners invited and emailed after commit),
reminders within their limits, closing, anonymous answers given once (a PostgreSQL race too), results with the
small-cohort rule (numbers computed by hand below), the free-text CSV, and personal data.

The cohort (tests/assessment/conftest.py): programme "grading" (6 ECTS, so 150–180 h) of UA (lead) and UB;
courses A (UA, 3 ECTS), B (UB, 2 ECTS), elective E (UB, 1 ECTS); three enrolled learners; team leader at UA."""

import datetime as dt
import hashlib
import json
import re
import uuid
from decimal import Decimal as D

import pytest
from django.apps import apps
from django.conf import settings
from django.core import mail
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection, models
from django.utils import timezone
from hypothesis import given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from admissions.models import Application, Enrolment
from consortium.api import DomainError, TransitionError, personal_data
from consortium.models import AuditEvent, Institution, User
from programmes.models import Course, Edition, Programme
from quality import defaults, feedback, tasks
from quality import personal_data as quality_personal_data
from quality.models import (
    Answer,
    Audience,
    Invitation,
    QuestionKind,
    QuestionSet,
    Response,
    Survey,
    SurveyQuestion,
    SurveyStatus,
    Theme,
)

from ..assessment.conftest import cohort, enrol  # noqa: F401  (the cohort fixture)
from ..concurrency import errors, race
from ..factories import CourseFactory, EditionFactory, EnrolmentFactory, StaffFactory, UserFactory

DAY = dt.timedelta(days=1)


@pytest.fixture
def ended(cohort):  # noqa: F811
    """The cohort's edition ended three days ago."""
    c = cohort
    today = timezone.localdate()
    Edition.objects.filter(pk=c.edition.pk).update(starts_on=today - 120 * DAY, ends_on=today - 3 * DAY)
    c.edition.refresh_from_db()
    c.learners = [e.learner for e in c.enrolments]
    return c


def open_survey(django_capture_on_commit_callbacks) -> Survey:
    with django_capture_on_commit_callbacks(execute=True):
        [survey] = feedback.learner_surveys_open_due()
    return survey


def answers(survey: Survey, **values) -> dict:
    """``key=value`` for a question; ``key={"A": value, …}`` (course codes) for a question asked per course."""
    return feedback.answers_by_key(survey, values)


def submit(survey, learner, **values) -> None:
    feedback.response_submit(survey=survey, learner=learner, answers=answers(survey, **values))


#: What the three learners answer (the expected results below are computed by hand from these).
THREE = [
    {"overall": 5, "outcomes_achieved": 4, "course_quality": {"A": 5, "B": 4, "E": 3},
     "course_teaching": {"A": 4, "B": 2}, "hours_total": 140, "improve": "More live sessions",
     "worked_well": "The projects", "course_comments": {"A": "Great labs"}},
    {"overall": 4, "outcomes_achieved": 4, "course_quality": {"A": 4, "B": 3, "E": 5}, "course_teaching": {"A": 5},
     "hours_total": "170", "improve": "Clearer deadlines", "course_comments": {"A": "Too fast"}},
    {"overall": 3, "outcomes_achieved": 5, "course_quality": {"A": 3, "B": 2, "E": 4}, "course_teaching": {"A": 3},
     "hours_total": 200, "course_comments": {"A": "=HYPERLINK(\"http://evil.example\")"}},
]


@pytest.fixture
def answered(ended, django_capture_on_commit_callbacks):
    """A fourth learner (who will not answer) and a withdrawn one join; the survey opens; the three answer."""
    c = ended
    c.silent = enrol(c.edition, 3).learner
    withdrawn = enrol(c.edition, 4)
    Application.objects.filter(pk=withdrawn.application_id).update(status="withdrawn")
    c.withdrawn = withdrawn.learner
    c.survey = open_survey(django_capture_on_commit_callbacks)
    for learner, values in zip(c.learners, THREE, strict=True):
        submit(c.survey, learner, **values)
    return c


@pytest.fixture
def closed(answered):
    """The same, with the survey closed by its team: its figures can be read now."""
    c = answered
    c.survey = feedback.survey_close(actor=c.leader, survey=c.survey)
    return c


def by_key(results):
    return {q.key: q for q in results.questions}


# --- The default questions and a programme's own set ---------------------------------------------------------------


def test_the_defaults_cover_the_esg_themes_with_likert_text_per_course_and_an_hours_question():
    for questions in defaults.BY_AUDIENCE.values():
        keys = [q.key for q in questions]
        assert len(keys) == len(set(keys))
        assert {q.kind for q in questions} <= set(QuestionKind.values)
        assert {q.theme for q in questions} <= set(Theme.values)
        assert not [q.key for q in questions if q.per_course and q.required]
    learner = defaults.LEARNER
    assert {"learning", "teaching", "assessment", "workload", "support", "accessibility"} <= {q.theme for q in learner}
    assert {"likert", "text", "number"} == {q.kind for q in learner}
    hours = next(q for q in learner if q.key == defaults.WORKLOAD_HOURS_KEY)
    assert hours.kind == "number" and hours.theme == "workload" and not hours.per_course
    assert "hours" in str(hours.text) and "in total" in str(hours.text)
    per_course = {q.key for q in learner if q.per_course}
    assert {"course_quality", "course_teaching", "course_assessment_clear", "course_comments"} == per_course
    assert not [q for q in defaults.STAKEHOLDER if q.per_course]


def test_a_programme_set_is_seeded_from_the_defaults_on_first_use_only(ended):
    c = ended
    first = feedback.question_set_ensure(programme=c.programme, audience=Audience.LEARNER)
    again = feedback.question_set_ensure(programme=c.programme, audience=Audience.LEARNER)
    assert first == again and QuestionSet.objects.filter(programme=c.programme).count() == 1
    assert [q.key for q in first.questions.all()] == [q.key for q in defaults.LEARNER]
    assert [q.position for q in first.questions.all()] == list(range(len(defaults.LEARNER)))
    stakeholders = feedback.question_set_ensure(programme=c.programme, audience=Audience.STAKEHOLDER)
    assert [q.key for q in stakeholders.questions.all()] == [q.key for q in defaults.STAKEHOLDER]
    # Emptied by the team, a set stays empty (seeding is for the first use only).
    for question in list(first.questions.all()):
        feedback.question_remove(actor=c.leader, question=question)
    assert not feedback.question_set_ensure(programme=c.programme, audience=Audience.LEARNER).questions.exists()
    with pytest.raises(DomainError, match="Unknown audience"):
        feedback.question_set_ensure(programme=c.programme, audience="everyone")


def test_the_team_adds_edits_removes_and_reorders_questions_each_audited(ended, world):
    c = ended
    qs = feedback.question_set_ensure(programme=c.programme)
    n = len(defaults.LEARNER)
    added = feedback.question_add(actor=c.leader, question_set=qs, data={
        "text": "  The online lab sessions were useful.  ", "kind": "likert", "theme": "teaching"})
    assert (added.position, added.text, added.required, added.per_course) == (n, "The online lab sessions were useful.",
                                                                              False, False)
    changed = feedback.question_update(actor=c.leader, question=added, data={"text": "The labs were useful.",
                                                                             "per_course": True})
    assert changed.text == "The labs were useful." and changed.per_course
    first = qs.questions.get(key="overall")
    feedback.question_remove(actor=c.leader, question=first)
    assert [q.position for q in qs.questions.all()] == list(range(n))  # renumbered without gaps
    order = [q.pk for q in qs.questions.all()][::-1]
    feedback.questions_reorder(actor=c.leader, question_set=qs, order=[str(pk) for pk in order])
    assert [q.pk for q in qs.questions.all()] == order
    actions = list(AuditEvent.objects.filter(action__startswith="feedback.question").values_list("action", flat=True))
    assert sorted(actions) == ["feedback.question_added", "feedback.question_changed", "feedback.question_removed",
                               "feedback.questions_reordered"]
    change = AuditEvent.objects.get(action="feedback.question_changed")
    assert change.changes["text"] == ["The online lab sessions were useful.", "The labs were useful."]
    outsider = world.people["UB_staff"]
    for attempt in (lambda: feedback.question_add(actor=outsider, question_set=qs, data={"text": "x", "kind": "text"}),
                    lambda: feedback.question_remove(actor=outsider, question=changed),
                    lambda: feedback.questions_reorder(actor=outsider, question_set=qs, order=order)):
        with pytest.raises(PermissionDenied):
            attempt()


@pytest.mark.parametrize(("data", "field", "message"), [
    ({"text": "   ", "kind": "likert"}, "text", "Write the question"),
    ({"text": "Per course", "kind": "likert", "per_course": True, "required": True}, "required", "cannot be required"),
    ({"text": "Odd", "kind": "slider"}, "kind", "not a valid choice"),
    ({"text": "x" * 501, "kind": "text"}, "text", "at most 500"),
    ({"text": "Null\x00", "kind": "text"}, "text", "null character"),
    ({"text": "Theme", "kind": "text", "theme": "weather"}, "theme", "not a valid choice"),
])
def test_question_input_is_validated(ended, data, field, message):
    qs = feedback.question_set_ensure(programme=ended.programme)
    with pytest.raises(ValidationError) as refused:
        feedback.question_add(actor=ended.leader, question_set=qs, data=data)
    assert message in " ".join(refused.value.message_dict[field])
    assert qs.questions.count() == len(defaults.LEARNER)


def test_stakeholder_questions_are_not_per_course_and_a_reorder_must_list_every_question(ended):
    c = ended
    stakeholders = feedback.question_set_ensure(programme=c.programme, audience=Audience.STAKEHOLDER)
    with pytest.raises(ValidationError, match="not about each course"):
        feedback.question_add(actor=c.leader, question_set=stakeholders,
                              data={"text": "Course A?", "kind": "likert", "per_course": True})
    ids = [q.pk for q in stakeholders.questions.all()]
    for order in (ids[1:], [*ids, ids[0]], [*ids[1:], uuid.uuid4()]):
        with pytest.raises(ValidationError, match="every question of the set exactly once"):
            feedback.questions_reorder(actor=c.leader, question_set=stakeholders, order=order)


def test_an_open_survey_keeps_the_questions_it_opened_with(answered):
    c = answered
    asked = list(c.survey.questions.values_list("key", "text"))
    qs = feedback.question_set_ensure(programme=c.programme)
    overall = qs.questions.get(key="overall")
    feedback.question_update(actor=c.leader, question=overall, data={"text": "Rate the programme."})
    feedback.question_remove(actor=c.leader, question=qs.questions.get(key="improve"))
    feedback.question_add(actor=c.leader, question_set=qs, data={"text": "New question", "kind": "likert"})
    assert list(c.survey.questions.values_list("key", "text")) == asked
    assert "Rate the programme." not in {q.text for q in SurveyQuestion.objects.all()}
    results = feedback.survey_results(feedback.survey_close(actor=c.leader, survey=c.survey))
    assert [(q.key, q.text) for q in results.questions] == asked
    assert by_key(results)["overall"].overall.mean == D("4.00")  # 5, 4, 3, as answered


# --- Opening: the daily beat -----------------------------------------------------------------------------------------


def test_the_beat_opens_the_survey_of_an_ended_edition_invites_its_learners_and_emails_them_after_commit(
        ended, django_capture_on_commit_callbacks):
    c = ended
    withdrawn = enrol(c.edition, 3)
    Application.objects.filter(pk=withdrawn.application_id).update(status="withdrawn")
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        opened = feedback.learner_surveys_open_due()
    assert len(opened) == 1 and len(callbacks) == 3 and not mail.outbox  # nothing sent before the commit
    for callback in callbacks:
        callback()
    survey = opened[0]
    assert (survey.edition, survey.audience, survey.status) == (c.edition, "learner", "open")
    assert survey.closes_at - survey.opened_at == dt.timedelta(days=21)
    assert set(survey.invitations.values_list("learner", flat=True)) == {u.pk for u in c.learners}
    assert not survey.invitations.filter(answered=True).exists()
    assert [q.key for q in survey.questions.all()] == [q.key for q in defaults.LEARNER]
    assert sorted(m.to[0] for m in mail.outbox) == sorted(u.email for u in c.learners)
    link = f"{settings.PUBLIC_BASE_URL}/my/feedback/{survey.pk}/"
    assert all(link in m.body and "anonymous" in m.body for m in mail.outbox)
    event = AuditEvent.objects.get(action="feedback.survey_opened")
    assert event.changes["invited"] == 3 and event.changes["questions"] == len(defaults.LEARNER)
    assert event.actor is None and event.institution_id == c.programme.lead_institution_id
    # The next day: nothing more to open; and the task is the same call.
    with django_capture_on_commit_callbacks(execute=True):
        assert tasks.feedback_surveys_open() == 0
    assert Survey.objects.count() == 1


def test_editions_still_running_long_ended_or_without_learners_get_no_survey(ended, settings,
                                                                             django_capture_on_commit_callbacks):
    c = ended
    today = timezone.localdate()
    Edition.objects.filter(pk=c.edition.pk).update(ends_on=today)
    assert not feedback.learner_surveys_open_due()
    with pytest.raises(TransitionError, match="its learner survey opens after that"):
        feedback.learner_survey_open(edition=c.edition)
    Edition.objects.filter(pk=c.edition.pk).update(ends_on=today - 61 * DAY)
    assert not feedback.learner_surveys_open_due()  # FEEDBACK_OPEN_WITHIN_DAYS = 60
    settings.FEEDBACK_OPEN_WITHIN_DAYS = 90
    assert len(open_survey(django_capture_on_commit_callbacks).invitations.all()) == 3
    with pytest.raises(TransitionError, match="was opened on"):
        feedback.learner_survey_open(edition=c.edition)
    empty = EditionFactory(starts_on=today - 50 * DAY, ends_on=today - 2 * DAY)
    gone = EnrolmentFactory(application__edition=empty, application__status="withdrawn")
    assert gone.edition == empty
    assert not feedback.learner_surveys_open_due()
    with pytest.raises(DomainError, match="no enrolled learners"):
        feedback.learner_survey_open(edition=empty)


# --- Answering: anonymous, once ---------------------------------------------------------------------------------------


def test_a_learner_answers_once_and_the_invitation_records_only_the_flag_and_the_day(
        ended, django_capture_on_commit_callbacks):
    c = ended
    survey = open_survey(django_capture_on_commit_callbacks)
    learner = c.learners[0]
    invitation = Invitation.objects.get(survey=survey, learner=learner)
    before = Invitation.objects.filter(pk=invitation.pk).values().get()
    assert feedback.learner_refusal(survey=survey, learner=learner) == ""
    submit(survey, learner, **THREE[0])
    after = Invitation.objects.filter(pk=invitation.pk).values().get()
    assert {k for k in after if after[k] != before[k]} == {"answered", "answered_on"}
    assert after["answered"] is True and after["answered_on"] == timezone.localdate()
    response = Response.objects.get()
    assert response.survey == survey
    # 2 required + hours + 2 texts + course quality A, B, E + teaching A, B + comment A = 11 answers.
    assert response.answers.count() == 11
    with pytest.raises(TransitionError, match="already answered"):
        submit(survey, learner, **THREE[1])
    assert Response.objects.count() == 1 and Answer.objects.count() == 11
    assert feedback.learner_refusal(survey=survey, learner=learner) == str(feedback.ALREADY_ANSWERED)
    [mine] = feedback.learner_invitations(learner)
    assert (mine.answered, mine.open, mine.path) == (True, True, f"/my/feedback/{survey.pk}/")


@pytest.mark.parametrize(("values", "field", "message"), [
    ({"overall": 0}, "overall", "from 1 to 5"),
    ({"overall": 6}, "overall", "from 1 to 5"),
    ({"overall": "3.5"}, "overall", "from 1 to 5"),
    ({"overall": "three"}, "overall", "from 1 to 5"),
    ({"overall": True}, "overall", "from 1 to 5"),
    ({"hours_total": -1}, "hours_total", "0 to 2000"),
    ({"hours_total": 2001}, "hours_total", "0 to 2000"),
    ({"hours_total": "12.5"}, "hours_total", "0 to 2000"),
    ({"improve": "x" * 2001}, "improve", "at most 2000 characters"),
    ({"improve": "nul\x00"}, "improve", "null character"),
    ({"improve": ["a list"]}, "improve", "could not be read"),
    ({"overall": None}, "overall", "Answer this question"),
    ({"outcomes_achieved": "  "}, "outcomes_achieved", "Answer this question"),
])
def test_answers_are_validated_and_nothing_is_stored_when_one_is_wrong(ended, django_capture_on_commit_callbacks,
                                                                        values, field, message):
    c = ended
    survey = open_survey(django_capture_on_commit_callbacks)
    given = answers(survey, **{"overall": 4, "outcomes_achieved": 4, "improve": "ok", **values})
    name = next(i.name for i in feedback.survey_items(survey) if i.key == field)
    given.setdefault(name, None)
    with pytest.raises(ValidationError) as refused:
        feedback.response_submit(survey=survey, learner=c.learners[0], answers=given)
    assert message in " ".join(refused.value.message_dict[name])
    assert not Response.objects.exists() and not Answer.objects.exists()
    assert not Invitation.objects.filter(answered=True).exists()


def test_unknown_questions_empty_answers_and_other_surveys_courses_are_refused(ended,
                                                                               django_capture_on_commit_callbacks):
    c = ended
    survey = open_survey(django_capture_on_commit_callbacks)
    good = answers(survey, overall=4, outcomes_achieved=4)
    quality = next(i for i in feedback.survey_items(survey) if i.key == "course_quality")
    other_course = CourseFactory()  # of another programme's curriculum
    for extra in ({"not-a-question": "5"}, {f"{quality.question_id}:{uuid.uuid4()}": 5},
                  {f"{quality.question_id}:{other_course.pk}": 5}, {quality.question_id: 4}):
        with pytest.raises(ValidationError, match="not a question of the survey"):
            feedback.response_submit(survey=survey, learner=c.learners[0], answers={**good, **extra})
    for nothing in ({}, {name: "" for name in good}):
        with pytest.raises(ValidationError):
            feedback.response_submit(survey=survey, learner=c.learners[0], answers=nothing)
    with pytest.raises(ValidationError, match="could not be read"):
        feedback.response_submit(survey=survey, learner=c.learners[0], answers=["overall", 4])
    assert not Response.objects.exists()


def test_only_invited_learners_answer_and_only_while_the_survey_is_open(ended, world, monkeypatch,
                                                                        django_capture_on_commit_callbacks):
    c = ended
    survey = open_survey(django_capture_on_commit_callbacks)
    from django.contrib.auth.models import AnonymousUser

    for stranger in (UserFactory(), world.people["UA_admin"], AnonymousUser()):
        with pytest.raises(DomainError, match="You were not invited"):
            submit(survey, stranger, **THREE[0])
        assert feedback.learner_refusal(survey=survey, learner=stranger) == str(feedback.NOT_INVITED)
    # Past ``closes_at`` (before the hourly close task ran): refused with the closing date.
    real_now = timezone.now
    monkeypatch.setattr(timezone, "now", lambda: survey.closes_at + dt.timedelta(seconds=1))
    with pytest.raises(TransitionError, match="This survey closed on") as refused:
        submit(survey, c.learners[0], **THREE[0])
    assert f"{timezone.localtime(survey.closes_at):%Y-%m-%d}" in refused.value.message
    monkeypatch.setattr(timezone, "now", real_now)
    submit(survey, c.learners[1], **THREE[1])
    feedback.survey_close(actor=c.leader, survey=survey)
    with pytest.raises(TransitionError, match="closed on"):
        submit(survey, c.learners[2], **THREE[2])
    assert Response.objects.count() == 1
    assert "closed on" in feedback.learner_refusal(survey=survey, learner=c.learners[2])


# --- Reminders and closing ------------------------------------------------------------------------------------------


def test_reminders_go_to_those_who_have_not_answered_at_most_n_times_x_days_apart_until_the_close(
        ended, settings, django_capture_on_commit_callbacks):
    c = ended
    settings.FEEDBACK_REMINDERS_MAX = 2
    settings.FEEDBACK_REMINDER_INTERVAL_DAYS = 7
    survey = open_survey(django_capture_on_commit_callbacks)
    t0 = survey.opened_at
    submit(survey, c.learners[0], **THREE[0])
    mail.outbox.clear()

    def remind(days: float) -> int:
        with django_capture_on_commit_callbacks(execute=True):
            return feedback.reminders_send(now=t0 + dt.timedelta(days=days))

    assert remind(3) == 0  # too early after the invitation
    assert remind(7.01) == 2
    assert sorted(m.to[0] for m in mail.outbox) == sorted(u.email for u in c.learners[1:])
    assert all(m.subject.startswith("Reminder:") and f"/my/feedback/{survey.pk}/" in m.body for m in mail.outbox)
    assert remind(7.5) == 0 and remind(13.9) == 0  # not 7 days since the last one
    submit(survey, c.learners[1], **THREE[1])
    assert remind(14.02) == 1  # only the learner who still has not answered
    assert remind(21.1) == 0  # the limit of 2 is reached (and the survey has closed)
    assert Invitation.objects.get(learner=c.learners[2]).reminders_sent == 2
    assert len(mail.outbox) == 3
    events = AuditEvent.objects.filter(action="feedback.reminders_sent").order_by("at")
    assert [e.changes for e in events] == [{"reminders": 2}, {"reminders": 1}]
    # With a higher limit the close still stops them: the third would be due on day 30, after the close…
    settings.FEEDBACK_REMINDERS_MAX = 5
    assert remind(30) == 0
    Survey.objects.filter(pk=survey.pk).update(closes_at=t0 + dt.timedelta(days=31))
    assert remind(30) == 1  # …unless the survey were still open.


def test_the_hourly_beat_closes_due_surveys_and_records_counts_only(answered, django_capture_on_commit_callbacks):
    c = answered
    assert tasks.feedback_surveys_close() == 0
    Survey.objects.filter(pk=c.survey.pk).update(opened_at=timezone.now() - 22 * DAY,
                                                 closes_at=timezone.now() - DAY)
    assert tasks.feedback_surveys_close() == 1
    c.survey.refresh_from_db()
    assert c.survey.status == SurveyStatus.CLOSED and c.survey.closed_at is not None
    event = AuditEvent.objects.get(action="feedback.survey_closed")
    assert event.changes == {"invited": 4, "answered": 3, "responses": 3}
    with pytest.raises(TransitionError, match="closed already"):
        feedback.survey_close(actor=c.leader, survey=c.survey)
    assert tasks.feedback_surveys_close() == 0


def test_the_audit_trail_never_says_who_answered(answered, world):
    c = answered
    feedback.survey_close(actor=c.leader, survey=c.survey)
    feedback.reminders_send(now=timezone.now() + 30 * DAY)
    people = [*c.learners, c.silent, c.withdrawn]
    needles = {str(u.pk) for u in people} | {u.email for u in people} | {u.full_name for u in people if u.full_name}
    needles |= {str(pk) for pk in Invitation.objects.values_list("pk", flat=True)}
    needles |= {str(pk) for pk in Response.objects.values_list("pk", flat=True)}
    for event in AuditEvent.objects.filter(action__startswith="feedback."):
        text = json.dumps([event.object_id, event.object_repr, event.changes, event.actor_label])
        assert not [n for n in needles if n in text], event.action
        assert event.object_type not in ("quality.invitation", "quality.response", "quality.answer")


def test_beat_schedule_runs_the_three_tasks():
    beat = {entry["task"]: entry for entry in settings.CELERY_BEAT_SCHEDULE.values()}
    assert beat["quality.tasks.feedback_surveys_open"]["schedule"] == 24 * 60 * 60
    assert beat["quality.tasks.feedback_reminders_send"]["schedule"] == 24 * 60 * 60
    assert beat["quality.tasks.feedback_surveys_close"]["schedule"] == 60 * 60


# --- Anonymity by construction ----------------------------------------------------------------------------------------

#: Models shared by a whole cohort (every learner of the edition has the same one): a response may point at them.
CATALOGUE = {Edition, Programme, Course, Institution}
#: Field names that hold (or point at) a person.
PERSONAL = {"email", "name", "full_name", "given_names", "family_names", "date_of_birth", "learner", "user",
            "applicant", "enrolment", "application", "invitation", "token_hash", "esi", "ip", "ip_address",
            "user_agent", "signatory_name", "recipient_name"}
#: Apps whose rows belong to one learner each (applications, grades, awards, invoices).
PER_LEARNER_APPS = {"admissions", "assessment", "certification", "finance"}


def _forward(model):
    """The relations ``model`` holds itself (foreign keys, one-to-one, many-to-many, generic keys)."""
    return [f for f in model._meta.get_fields(include_hidden=True) if f.is_relation and not f.auto_created]


def _personal(model) -> list[str]:
    user = apps.get_model(settings.AUTH_USER_MODEL)
    return [f.name for f in model._meta.get_fields(include_hidden=True)
            if f.name in PERSONAL or isinstance(f, models.EmailField | models.GenericIPAddressField)
            or (f.is_relation and not f.auto_created and f.related_model is user)]


def test_no_chain_of_relations_leads_from_a_response_or_an_answer_to_a_person():
    """Follow every relation from Response and Answer. Inside quality, every model reached must hold nothing
    personal and be no invitation; every relation leaving quality must point at a model shared by the whole cohort;
    and beyond those, no chain reaches a per-learner row. The one way to a User is the curriculum's approver."""
    reached, frontier, edges_out = set(), [Response, Answer], set()
    while frontier:
        model = frontier.pop()
        if model in reached:
            continue
        reached.add(model)
        for f in _forward(model):
            target = f.related_model
            assert target is not None, f"{model.__name__}.{f.name} is a generic relation: it could point anywhere"
            if target._meta.app_label == "quality":
                frontier.append(target)
            else:
                assert target in CATALOGUE, f"{model.__name__}.{f.name} leaves quality for {target._meta.label}"
                edges_out.add(target)
    assert reached == {Response, Answer, SurveyQuestion, Survey}
    for model in reached:
        assert not _personal(model), f"{model.__name__} holds {_personal(model)}"
        extra_ids = [f.name for f in model._meta.concrete_fields
                     if isinstance(f, models.UUIDField) and not f.primary_key]
        assert not extra_ids, f"{model.__name__} keeps ids of other rows without a relation: {extra_ids}"
    # Beyond the catalogue: every chain, to its end.
    beyond, frontier, to_users = set(), list(edges_out), set()
    while frontier:
        model = frontier.pop()
        if model in beyond:
            continue
        beyond.add(model)
        for f in _forward(model):
            if f.related_model is User:
                to_users.add(f"{model._meta.label}.{f.name}")
            frontier.append(f.related_model)
    assert not {m._meta.label for m in beyond if m._meta.app_label in PER_LEARNER_APPS or m is Invitation}
    assert not {Enrolment, Application, Invitation, Response, Answer} & beyond
    assert to_users == {"programmes.CurriculumVersion.decided_by"}  # the board member who approved the curriculum
    # And the other way round: an invitation leads to no response.
    stack, seen = [Invitation], set()
    while stack:
        model = stack.pop()
        if model not in seen:
            seen.add(model)
            stack += [f.related_model for f in _forward(model)]
    assert not {Response, Answer} & seen


def test_responses_keep_no_time_and_random_ids_so_they_cannot_be_joined_to_invitations_by_time(
        ended, monkeypatch, django_capture_on_commit_callbacks):
    c = ended
    survey = open_survey(django_capture_on_commit_callbacks)
    for model in (Response, Answer):
        times = [f.name for f in model._meta.concrete_fields
                 if isinstance(f, models.DateField | models.DateTimeField | models.TimeField)]
        assert not times, f"{model.__name__} records when: {times}"
        assert model._meta.ordering == ["id"]
    # Three learners answer at known moments of the same day (the day after the survey opened).
    day = timezone.localdate(survey.opened_at) + DAY
    moments = [timezone.make_aware(dt.datetime.combine(day, dt.time(h, m, s))) for h, m, s in
               ((9, 0, 1), (13, 37, 42), (17, 59, 59))]
    for learner, values, moment in zip(c.learners, THREE, moments, strict=True):
        monkeypatch.setattr(timezone, "now", lambda moment=moment: moment)
        submit(survey, learner, **values)
    monkeypatch.undo()
    with connection.cursor() as cursor:
        columns = {t: [col.name for col in connection.introspection.get_table_description(cursor, t)]
                   for t in ("quality_response", "quality_answer")}
        cursor.execute("SELECT * FROM quality_response")
        stored = [value for row in cursor.fetchall() for value in row]
        cursor.execute("SELECT * FROM quality_answer")
        stored += [value for row in cursor.fetchall() for value in row]
    assert sorted(columns["quality_response"]) == ["id", "survey_id"]
    assert sorted(columns["quality_answer"]) == ["course_id", "id", "number", "question_id", "rating", "response_id",
                                                 "text"]
    stamps = {day.isoformat(), *(m.isoformat() for m in moments), *(f"{m:%H:%M}" for m in moments)}
    assert not [v for v in stored if isinstance(v, dt.date | dt.datetime | dt.time)]
    assert not [v for v in stored if isinstance(v, str) and any(s in v for s in stamps)]
    ids = [*Response.objects.values_list("pk", flat=True), *Answer.objects.values_list("pk", flat=True)]
    assert {uuid.UUID(str(pk)).version for pk in ids} == {4}  # random: no time inside (unlike UUID1/6/7)
    # The invitations say the day only, the same for all three, and nothing of the moments.
    rows = list(Invitation.objects.filter(survey=survey).values())
    assert {r["answered_on"] for r in rows} == {day}
    assert not [v for r in rows for v in r.values() if isinstance(v, dt.datetime) and v in moments]


@pytest.mark.django_db(transaction=True)
def test_postgresql_transaction_ids_do_not_pair_a_response_with_its_invitation(ended,
                                                                               django_capture_on_commit_callbacks):
    """PostgreSQL stamps rows with the id of the transaction that wrote them (``xmin``): a response, its answers and
    the invitation marked answered share one until ``responses_restamp`` (hourly, and at the close) rewrites them."""
    if connection.vendor != "postgresql":
        pytest.skip("Needs PostgreSQL (transaction ids of rows); run with DATABASE_URL=postgres://...")
    c = ended
    survey = open_survey(django_capture_on_commit_callbacks)
    for learner, values in zip(c.learners[:2], THREE, strict=False):
        submit(survey, learner, **values)

    def pairs() -> tuple[int, int]:
        with connection.cursor() as cursor:
            cursor.execute("SELECT count(*) FROM quality_response r JOIN quality_invitation i ON r.xmin = i.xmin")
            responses = cursor.fetchone()[0]
            cursor.execute("SELECT count(*) FROM quality_answer a JOIN quality_invitation i ON a.xmin = i.xmin")
            return responses, cursor.fetchone()[0]

    assert pairs()[0] == 2  # what a database reader could join before the restamp
    assert tasks.feedback_surveys_close() == 0  # the hourly sweep restamps the open surveys
    assert pairs() == (0, 0)


@pytest.mark.django_db(transaction=True)
def test_a_double_submit_at_the_same_moment_stores_one_response(ended, django_capture_on_commit_callbacks):
    if connection.vendor != "postgresql":
        pytest.skip("Needs PostgreSQL (row locks); run with DATABASE_URL=postgres://...")
    c = ended
    survey = open_survey(django_capture_on_commit_callbacks)
    learner = c.learners[0]
    given = answers(survey, **THREE[0])
    results = race(*[lambda: feedback.response_submit(survey=survey, learner=learner, answers=given)
                     for _ in range(4)])
    refused = errors(results)
    assert len(refused) == 3 and all(isinstance(e, TransitionError) and "already answered" in e.message
                                     for e in refused), refused
    assert Response.objects.count() == 1 and Answer.objects.count() == 11
    assert Invitation.objects.get(survey=survey, learner=learner).answered
    # Two different learners at the same moment both get in.
    others = [lambda learner=learner, values=values: feedback.response_submit(
        survey=survey, learner=learner, answers=answers(survey, **values)) for learner, values in
        zip(c.learners[1:], THREE[1:], strict=True)]
    assert not errors(race(*others))
    assert Response.objects.count() == 3


# --- Results ----------------------------------------------------------------------------------------------------------


def test_results_computed_by_hand(closed, django_assert_max_num_queries):
    c = closed
    with django_assert_max_num_queries(8):
        results = feedback.survey_results(c.survey)
    assert (results.invited, results.answered, results.responses) == (4, 3, 3)
    assert results.response_rate == D("75.0") and results.min_responses == 3
    assert (results.status, results.figures_shown, results.note) == ("closed", True, "")
    q = by_key(results)
    # overall: 5, 4, 3 → mean 4.00.
    assert q["overall"].overall.mean == D("4.00") and q["overall"].overall.count == 3
    assert q["overall"].overall.distribution == {1: 0, 2: 0, 3: 1, 4: 1, 5: 1}
    # outcomes: 4, 4, 5 → 13 / 3 = 4.33.
    assert q["outcomes_achieved"].overall.mean == D("4.33")
    assert q["outcomes_achieved"].overall.distribution == {1: 0, 2: 0, 3: 0, 4: 2, 5: 1}
    # Course quality: A 5, 4, 3 (12); B 4, 3, 2 (9); E 3, 5, 4 (12) → 33 / 9 = 3.67 over all courses.
    quality = q["course_quality"]
    assert (quality.overall.mean, quality.overall.count, quality.overall.respondents) == (D("3.67"), 9, 3)
    assert quality.overall.distribution == {1: 0, 2: 1, 3: 3, 4: 3, 5: 2}
    courses = {g.label: g for g in quality.by_course}
    assert list(courses) == ["A Course A", "B Course B", "E Elective E"]
    assert (courses["A Course A"].result.mean, courses["A Course A"].partner) == (D("4.00"), "UA")
    assert courses["B Course B"].result.mean == D("3.00") and courses["E Elective E"].result.mean == D("4.00")
    assert courses["B Course B"].result.distribution == {1: 0, 2: 1, 3: 1, 4: 1, 5: 0}
    partners = {g.label: g.result for g in quality.by_partner}
    assert list(partners) == ["UA", "UB"]
    assert partners["UA"].mean == D("4.00") and partners["UA"].respondents == 3
    # UB provides B and E: 4, 3, 2, 3, 5, 4 → 21 / 6 = 3.50, from three respondents.
    assert (partners["UB"].mean, partners["UB"].count, partners["UB"].respondents) == (D("3.50"), 6, 3)
    assert partners["UB"].distribution == {1: 0, 2: 1, 3: 2, 4: 2, 5: 1}
    assert quality.withheld == []
    # Teaching: A 4, 5, 3 (three learners); B 2 (one learner): B is hidden, and left out of UB and of the overall
    # figure, which would otherwise give it away (overall 4, 5, 3, 2 minus A's 4, 5, 3 is B's 2).
    teaching = q["course_teaching"]
    lone = {g.label: g.result for g in teaching.by_course}["B Course B"]
    assert (lone.shown, lone.respondents, lone.mean, lone.distribution) == (False, 1, None, {})
    assert lone.note.startswith("Too few responses to show")
    assert (teaching.overall.mean, teaching.overall.count, teaching.withheld) == (D("4.00"), 3, ["B Course B"])
    ub = {g.label: g.result for g in teaching.by_partner}["UB"]
    assert (ub.shown, ub.respondents, ub.mean) == (False, 1, None)
    # Free text: two answers to "improve" (hidden), three comments on course A (shown, in some order).
    assert not q["improve"].overall.shown and q["improve"].overall.texts == []
    comments = {g.label: g.result for g in q["course_comments"].by_course}
    assert sorted(comments["A Course A"].texts) == sorted(["Great labs", "Too fast", THREE[2]["course_comments"]["A"]])
    assert not comments["B Course B"].shown and comments["B Course B"].respondents == 0
    # Workload: 6 ECTS = 150–180 h; 140 below, 170 within, 200 above; mean 170.0.
    workload = results.workload
    assert (workload.ects, workload.expected_low, workload.expected_high) == (D("6.0"), 150, 180)
    assert (workload.below, workload.within, workload.above) == (1, 1, 1)
    assert workload.hours.mean == D("170.0") and q["hours_total"].overall.mean == D("170.0")


def test_the_minimum_is_a_setting_and_too_few_responses_show_nothing(ended, settings,
                                                                     django_capture_on_commit_callbacks):
    c = ended
    survey = open_survey(django_capture_on_commit_callbacks)
    submit(survey, c.learners[0], **THREE[0])
    submit(survey, c.learners[1], **THREE[1])
    survey = feedback.survey_close(actor=c.leader, survey=survey)
    results = feedback.survey_results(survey)
    assert (results.invited, results.answered, results.response_rate) == (3, 2, D("66.7"))
    assert results.questions and not any(q.overall.shown for q in results.questions)
    assert not results.workload.hours.shown and results.workload.below is None
    assert feedback.free_text_csv_rows(survey) == [["Question", "Course", "Partner", "Answer"]]
    settings.FEEDBACK_MIN_RESPONSES = 2
    q = by_key(feedback.survey_results(survey))
    assert q["overall"].overall.mean == D("4.50")  # (5 + 4) / 2
    assert sorted(q["improve"].overall.texts) == ["Clearer deadlines", "More live sessions"]
    teaching = q["course_teaching"]  # A: learners 1 and 2; B: learner 1 only
    assert {g.label: g.result.shown for g in teaching.by_course} == {"A Course A": True, "B Course B": False,
                                                                     "E Elective E": False}
    assert teaching.overall.mean == D("4.50") and teaching.withheld == ["B Course B"]  # (4 + 5) / 2, without B


_UA, _UB = Institution(short_name="UA"), Institution(short_name="UB")
_COURSES = [Course(code="A", title="A", provider=_UA), Course(code="B", title="B", provider=_UB),
            Course(code="E", title="E", provider=_UB)]
_RESPONDENTS = [uuid.uuid4() for _ in range(7)]


@hypothesis_settings(max_examples=300, deadline=None)
@given(answers=st.dictionaries(st.tuples(st.sampled_from(_RESPONDENTS), st.sampled_from(range(3))),
                               st.integers(1, 5), max_size=21),
       minimum=st.integers(1, 4), changed=st.integers(1, 5))
def test_no_shown_figure_depends_on_the_answers_about_a_hidden_course(answers, minimum, changed):
    """Per course, per partner and overall: whatever people answered about a course shown as "too few responses",
    changing it changes no figure that is shown (so no subtraction reveals it), and every figure shown comes from
    at least ``minimum`` people."""
    question = SurveyQuestion(key="course_quality", kind="likert", text="Q", per_course=True)
    rows = [(respondent, _COURSES[course].pk, value) for (respondent, course), value in answers.items()]

    def shown(result):
        groups = [("overall", result.overall), *((g.label, g.result) for g in result.by_course + result.by_partner)]
        return {label: (r.count, r.mean, r.distribution, r.respondents) for label, r in groups if r.shown}

    result = feedback._question_result(question, rows, _COURSES, minimum)
    hidden = {uuid.UUID(g.id) for g in result.by_course if not g.result.shown}
    altered = [(r, c, changed if c in hidden else v) for r, c, v in rows]
    assert shown(feedback._question_result(question, altered, _COURSES, minimum)) == shown(result)
    assert all(respondents >= minimum for _count, _mean, _dist, respondents in shown(result).values())


def test_free_texts_come_in_random_order(closed):
    orders = {tuple(by_key(feedback.survey_results(closed.survey))["course_comments"].by_course[0].result.texts)
              for _ in range(30)}
    assert len(orders) > 1


def test_free_text_csv_has_no_time_is_shuffled_and_keeps_the_minimum(closed):
    c = closed
    rows = feedback.free_text_csv_rows(c.survey)
    assert rows[0] == ["Question", "Course", "Partner", "Answer"]
    assert sorted(r[3] for r in rows[1:]) == sorted(["Great labs", "Too fast", THREE[2]["course_comments"]["A"]])
    assert {(r[0], r[1], r[2]) for r in rows[1:]} == {("Comments on this course.", "A Course A", "UA")}
    assert len({tuple(map(tuple, feedback.free_text_csv_rows(c.survey)[1:])) for _ in range(30)}) > 1
    text = feedback.free_text_csv(c.survey).decode("utf-8")
    assert text.startswith("\ufeff") and "'=HYPERLINK" in text  # the one CSV writer neutralises formulas
    assert not re.search(r"\d{4}-\d{2}-\d{2}|\d{2}:\d{2}", text)


def test_an_open_survey_gives_its_response_rate_but_no_figure_until_it_takes_no_more_answers(
        answered, monkeypatch, django_assert_max_num_queries):
    """Live figures would single people out: read them, wait for one person to answer, read them again, and the
    difference is that person's answers. So nothing is computed from the answers while they can still change."""
    c = answered
    with django_assert_max_num_queries(4):  # the survey, the counts, the responses: the answers are not read
        results = feedback.survey_results(c.survey)
    assert (results.invited, results.answered, results.responses, results.response_rate) == (4, 3, 3, D("75.0"))
    assert (results.status, results.figures_shown, results.questions, results.workload) == ("open", False, [], None)
    closes = timezone.localtime(c.survey.closes_at).strftime("%Y-%m-%d %H:%M")
    assert results.note == f"Figures appear when the survey closes on {closes}. While people can still answer, " \
                           "comparing the figures before and after someone answered would reveal that person's answers."
    assert feedback.figures_note(c.survey) == results.note and not feedback.figures_shown(c.survey)
    with pytest.raises(DomainError, match=f"Figures appear when the survey closes on {closes}") as refused:
        feedback.free_text_csv_rows(c.survey)
    assert "Great labs" not in refused.value.message
    with pytest.raises(DomainError, match="Figures appear"):
        feedback.free_text_csv(c.survey)
    # Past its closing time no answer is accepted: the figures are final, even before the hourly beat closes it.
    just_after = c.survey.closes_at + dt.timedelta(seconds=1)
    assert not feedback.figures_shown(c.survey, now=c.survey.closes_at - dt.timedelta(seconds=1))
    monkeypatch.setattr(timezone, "now", lambda: just_after)
    late = feedback.survey_results(c.survey)
    assert (late.status, late.figures_shown, late.note) == ("open", True, "")
    assert by_key(late)["overall"].overall.mean == D("4.00") and late.workload.hours.mean == D("170.0")
    monkeypatch.undo()
    closed = feedback.survey_results(feedback.survey_close(actor=c.leader, survey=c.survey))
    assert closed.figures_shown and by_key(closed)["outcomes_achieved"].overall.mean == D("4.33")
    assert len(feedback.free_text_csv_rows(c.survey)) == 4  # the header and course A's three comments


def test_a_stakeholder_survey_shows_no_figure_while_open_however_many_answered(ended,
                                                                              django_capture_on_commit_callbacks):
    """Its invitations page names who answered: live figures would tell what each of them answered."""
    c = ended
    survey = feedback.stakeholder_survey_open(actor=c.leader, programme=c.programme)
    emails = ["a@employer.example", "b@employer.example", "c@employer.example", "d@employer.example"]
    with django_capture_on_commit_callbacks(execute=True):
        feedback.stakeholders_invite(actor=c.leader, survey=survey, emails=emails)
    tokens = {m.to[0]: _token(m) for m in mail.outbox}
    items = {i.key: i.name for i in feedback.survey_items(survey)}
    for email, rating, skills in zip(emails, (5, 4, 4), ("Testing", "UVM", "Scripting"), strict=False):
        feedback.response_submit_by_token(token=tokens[email], answers={items["outcomes_relevant"]: rating,
                                                                        items["missing_skills"]: skills})
    results = feedback.survey_results(survey)
    assert (results.invited, results.answered, results.response_rate) == (4, 3, D("75.0"))  # 3 ≥ the minimum…
    assert (results.figures_shown, results.questions) == (False, [])  # …and still nothing while it is open
    assert results.note.startswith("Figures appear when the survey closes on")
    with pytest.raises(DomainError, match="Figures appear"):
        feedback.free_text_csv_rows(survey)
    feedback.survey_close(actor=c.leader, survey=survey)
    q = by_key(feedback.survey_results(survey))
    assert q["outcomes_relevant"].overall.mean == D("4.33")  # (5 + 4 + 4) / 3
    assert sorted(q["missing_skills"].overall.texts) == ["Scripting", "Testing", "UVM"]
    assert sorted(row[3] for row in feedback.free_text_csv_rows(survey)[1:]) == ["Scripting", "Testing", "UVM"]


# --- Stakeholders -----------------------------------------------------------------------------------------------------


def _token(message) -> str:
    return re.search(r"/feedback/([A-Za-z0-9_-]+)/", message.body).group(1)


def test_stakeholders_are_invited_by_email_and_answer_once_through_their_link(ended,
                                                                              django_capture_on_commit_callbacks):
    c = ended
    with django_capture_on_commit_callbacks(execute=True):
        survey = feedback.stakeholder_survey_open(actor=c.leader, programme=c.programme)
    assert (survey.audience, survey.edition, survey.status) == ("stakeholder", None, "open")
    assert [q.key for q in survey.questions.all()] == [q.key for q in defaults.STAKEHOLDER]
    with pytest.raises(TransitionError, match="already has an open stakeholder survey"):
        feedback.stakeholder_survey_open(actor=c.leader, programme=c.programme)
    with pytest.raises(ValidationError, match="not an email address"):
        feedback.stakeholders_invite(actor=c.leader, survey=survey, emails=["boss@employer.example", "not-an-email"])
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        invited = feedback.stakeholders_invite(actor=c.leader, survey=survey, emails=[
            "Boss@Employer.example", "hr@partner.example", "boss@employer.example", " "])
    assert invited.invited == ("boss@employer.example", "hr@partner.example") and len(invited) == 2
    assert invited.already_invited == () and len(callbacks) == 2 and not mail.outbox
    for callback in callbacks:
        callback()
    assert sorted(m.to[0] for m in mail.outbox) == ["boss@employer.example", "hr@partner.example"]
    tokens = {m.to[0]: _token(m) for m in mail.outbox}
    assert all(f"{settings.PUBLIC_BASE_URL}/feedback/" in m.body for m in mail.outbox)
    # Only the hash of each token is stored.
    for email, token in tokens.items():
        row = Invitation.objects.filter(email=email).values().get()
        assert row["token_hash"] == hashlib.sha256(token.encode()).hexdigest()
        assert not [v for v in row.values() if isinstance(v, str) and token in v]
    again = feedback.stakeholders_invite(actor=c.leader, survey=survey, emails="HR@partner.example\n")
    assert (again.invited, again.already_invited, len(again)) == ((), ("hr@partner.example",), 0)
    event = AuditEvent.objects.filter(action="feedback.stakeholders_invited").order_by("at").last()
    assert event.changes == {"invited": 0, "already_invited": 1} and "partner.example" not in json.dumps(event.changes)

    boss = tokens["boss@employer.example"]
    assert feedback.survey_for_token(boss) == (survey, "")
    items = {i.key: i.name for i in feedback.survey_items(survey)}
    feedback.response_submit_by_token(token=boss, answers={items["outcomes_relevant"]: 4,
                                                           items["missing_skills"]: "Chip verification"})
    with pytest.raises(TransitionError, match="already answered"):
        feedback.response_submit_by_token(token=boss, answers={items["outcomes_relevant"]: 2})
    for bad in ("", "x" * 300, "not-a-token", None):
        with pytest.raises(DomainError, match="link is not valid"):
            feedback.response_submit_by_token(token=bad, answers={items["outcomes_relevant"]: 2})
    assert feedback.survey_for_token("not-a-token")[0] is None
    # A lost email: a new link, and the old one stops working.
    hr = Invitation.objects.get(email="hr@partner.example")
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        feedback.stakeholder_invitation_renew(actor=c.leader, invitation=hr)
    renewed = _token(mail.outbox[0])
    with pytest.raises(DomainError, match="link is not valid"):
        feedback.response_submit_by_token(token=tokens["hr@partner.example"], answers={items["outcomes_relevant"]: 5})
    feedback.response_submit_by_token(token=renewed, answers={items["outcomes_relevant"]: 5})
    with pytest.raises(TransitionError, match="answered already"):
        feedback.stakeholder_invitation_renew(actor=c.leader, invitation=hr)
    results = feedback.survey_results(feedback.survey_close(actor=c.leader, survey=survey))
    assert (results.invited, results.answered, results.responses, results.response_rate) == (2, 2, 2, D("100.0"))
    assert results.workload is None  # stakeholders are not asked for hours
    assert not by_key(results)["outcomes_relevant"].overall.shown  # 2 < 3


def test_stakeholder_surveys_refuse_learners_strangers_and_invitations_after_the_close(
        answered, world, django_capture_on_commit_callbacks):
    c = answered
    with pytest.raises(DomainError, match="only stakeholder surveys take email addresses"):
        feedback.stakeholders_invite(actor=c.leader, survey=c.survey, emails=["x@example.org"])
    with pytest.raises(PermissionDenied):
        feedback.stakeholder_survey_open(actor=world.people["UB_staff"], programme=c.programme)
    with pytest.raises(ValidationError, match="in the future"):
        feedback.stakeholder_survey_open(actor=c.leader, programme=c.programme, closes_at=timezone.now() - DAY)
    survey = feedback.stakeholder_survey_open(actor=c.leader, programme=c.programme)
    with pytest.raises(PermissionDenied):
        feedback.stakeholders_invite(actor=world.people["UB_staff"], survey=survey, emails=["x@example.org"])
    feedback.survey_close(actor=c.leader, survey=survey)
    with pytest.raises(TransitionError, match="closed on"):
        feedback.stakeholders_invite(actor=c.leader, survey=survey, emails=["x@example.org"])
    # A new round may open once the last one closed.
    assert feedback.stakeholder_survey_open(actor=c.leader, programme=c.programme).status == "open"
    listed = feedback.programme_surveys(c.programme)
    assert [(s.audience, s.invited, s.answered) for s in listed if s.audience == "learner"] == [("learner", 4, 3)]


# --- Personal data ----------------------------------------------------------------------------------------------------


def _handler():
    return next(h for h in personal_data.handlers() if h.label == "quality")


def test_the_export_lists_invitations_and_whether_answered_never_the_answers(answered):
    c = answered
    data = personal_data.export_user(c.learners[0])["quality"]
    assert data == [{"survey": str(c.survey), "audience": "learner", "invited_on": timezone.localdate().isoformat(),
                     "email": None, "answered": True, "reminders_sent": 0}]
    dumped = json.dumps(personal_data.export_user(c.learners[0]), default=str)
    assert "More live sessions" not in dumped and "Great labs" not in dumped
    assert personal_data.export_user(c.silent)["quality"][0]["answered"] is False
    assert personal_data.export_user(c.withdrawn)["quality"] == []
    handler = _handler()
    assert all(getattr(handler, f).strip() for f in personal_data.RECORD_FIELDS)
    assert set(handler.retention_rules) <= set(settings.PERSONAL_DATA_RETENTION)


def test_erasure_removes_the_person_from_invitations_and_leaves_responses_and_the_rate(
        closed, django_capture_on_commit_callbacks):
    c = closed
    before = feedback.survey_results(c.survey)
    # A stakeholder who also has an account (same address, other case).
    survey = feedback.stakeholder_survey_open(actor=c.leader, programme=c.programme)
    with django_capture_on_commit_callbacks(execute=True):
        feedback.stakeholders_invite(actor=c.leader, survey=survey, emails=["Erika@Employer.example"])
    token = _token(mail.outbox[-1])
    erika = UserFactory(email="erika@employer.example")
    assert [r["email"] for r in personal_data.export_user(erika)["quality"]] == ["erika@employer.example"]
    assert quality_personal_data.export_email(" ERIKA@employer.example")[0]["survey"] == str(survey)

    personal_data.erase_user(c.learners[0])
    personal_data.erase_user(erika)
    assert not Invitation.objects.filter(learner=c.learners[0]).exists()
    assert not Invitation.objects.filter(email="erika@employer.example").exists()
    assert Invitation.objects.filter(survey=c.survey).count() == 4
    after = feedback.survey_results(c.survey)
    assert (after.invited, after.answered, after.responses, after.response_rate) == (4, 3, 3, D("75.0"))
    assert by_key(after)["overall"].overall == by_key(before)["overall"].overall
    assert personal_data.export_user(c.learners[0])["quality"] == []
    # The erased invitation (no learner any more) is nobody's: not an anonymous visitor's either.
    from django.contrib.auth.models import AnonymousUser

    assert feedback.learner_invitations(AnonymousUser()) == []
    assert feedback.learner_refusal(survey=c.survey, learner=AnonymousUser()) == str(feedback.NOT_INVITED)
    with pytest.raises(DomainError, match="link is not valid"):
        feedback.response_submit_by_token(token=token, answers={})
    assert quality_personal_data.erase_email("") == 0


def test_retention_removes_people_from_invitations_of_surveys_closed_long_ago(answered):
    c = answered
    feedback.survey_close(actor=c.leader, survey=c.survey)
    assert personal_data.apply_retention().get("feedback_invitations") == 0  # closed today
    Survey.objects.filter(pk=c.survey.pk).update(closed_at=timezone.now() - 366 * DAY)
    assert personal_data.apply_retention()["feedback_invitations"] == 4
    assert personal_data.apply_retention()["feedback_invitations"] == 0  # idempotent
    assert not Invitation.objects.filter(learner__isnull=False).exists()
    assert feedback.survey_results(c.survey).response_rate == D("75.0")


def test_staff_can_close_early_only_with_the_programme_role(answered, world):
    c = answered
    with pytest.raises(PermissionDenied):
        feedback.survey_close(actor=world.people["UB_staff"], survey=c.survey)
    other = StaffFactory(institution=world.ua).user
    with pytest.raises(PermissionDenied):
        feedback.survey_close(actor=other, survey=c.survey)
    assert feedback.survey_close(actor=c.leader, survey=c.survey).status == "closed"


def test_the_staff_services_need_quality_manage_so_a_team_member_is_refused_and_the_lead_qa_office_allowed(
        answered, world, django_capture_on_commit_callbacks):
    """Questions, stakeholder surveys and invitations, closing: the team leader, the consortium's administrators
    and the lead institution's quality officers (``quality.manage``); not a team member, nor a partner's QA office."""
    from ..assessment.conftest import grant
    from ..factories import RoleAssignmentFactory

    c = answered
    member = StaffFactory(institution=world.ua).user
    grant(member, "team_member", c.programme, world.ua)
    partner_officer = StaffFactory(institution=world.ub).user  # UB is a partner, not the lead
    RoleAssignmentFactory(user=partner_officer, role="quality_officer", institution=world.ub)
    officer = StaffFactory(institution=world.ua).user
    RoleAssignmentFactory(user=officer, role="quality_officer", institution=world.ua)
    qs = feedback.question_set_ensure(programme=c.programme)
    overall = qs.questions.get(key="overall")
    with django_capture_on_commit_callbacks(execute=True):
        stakeholder_survey = feedback.stakeholder_survey_open(actor=c.leader, programme=c.programme)
        feedback.stakeholders_invite(actor=c.leader, survey=stakeholder_survey, emails=["boss@employer.example"])
    invitation = Invitation.objects.get(email="boss@employer.example")
    actions = {
        "question_add": lambda a: feedback.question_add(actor=a, question_set=qs, data={"text": "New?",
                                                                                         "kind": "text"}),
        "question_update": lambda a: feedback.question_update(actor=a, question=overall, data={"text": "Reworded."}),
        "question_move": lambda a: feedback.question_move(actor=a, question=overall, offset=1),
        "questions_reorder": lambda a: feedback.questions_reorder(
            actor=a, question_set=qs, order=list(qs.questions.values_list("pk", flat=True))),
        "stakeholders_invite": lambda a: feedback.stakeholders_invite(actor=a, survey=stakeholder_survey,
                                                                      emails=[f"{uuid.uuid4().hex[:8]}@firm.example"]),
        "stakeholder_invitation_renew": lambda a: feedback.stakeholder_invitation_renew(actor=a, invitation=invitation),
        "survey_close": lambda a: feedback.survey_close(actor=a, survey=c.survey),
        "question_remove": lambda a: feedback.question_remove(actor=a, question=overall),
    }
    for refused in (member, partner_officer):
        for name, action in actions.items():
            with pytest.raises(PermissionDenied):
                action(refused)
            assert not AuditEvent.objects.filter(actor=refused).exists(), name
        with pytest.raises(PermissionDenied):
            feedback.stakeholder_survey_open(actor=refused, programme=c.programme)
    for name, action in actions.items():
        action(officer)
        assert AuditEvent.objects.filter(actor=officer, action__startswith="feedback.").exists(), name
    assert Survey.objects.get(pk=c.survey.pk).status == SurveyStatus.CLOSED
    assert not qs.questions.filter(key="overall").exists()
    feedback.survey_close(actor=officer, survey=stakeholder_survey)
    assert feedback.stakeholder_survey_open(actor=officer, programme=c.programme).status == SurveyStatus.OPEN


def test_moving_a_question_up_and_down_and_past_the_ends(ended):
    c = ended
    qs = feedback.question_set_ensure(programme=c.programme)
    keys = [q.key for q in defaults.LEARNER]
    second = qs.questions.get(key=keys[1])
    feedback.question_move(actor=c.leader, question=second, offset=-1)
    assert list(qs.questions.values_list("key", flat=True)) == [keys[1], keys[0], *keys[2:]]
    feedback.question_move(actor=c.leader, question=second, offset=3)
    assert list(qs.questions.values_list("key", flat=True)) == [keys[0], keys[2], keys[3], keys[1], *keys[4:]]
    with pytest.raises(DomainError, match="first one already"):
        feedback.question_move(actor=c.leader, question=qs.questions.get(key=keys[0]), offset=-1)
    with pytest.raises(DomainError, match="last one already"):
        feedback.question_move(actor=c.leader, question=qs.questions.get(key=keys[-1]), offset=1)
    assert [q.position for q in qs.questions.all()] == list(range(len(keys)))
