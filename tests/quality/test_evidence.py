"""The evidence of a quality review (issue 12, D8): every figure of a constructed data set against a value computed by
hand below.

The data set (fixture ``year``) is the assessment cohort (tests/assessment/conftest.py: programme "grading", 6 ECTS,
UA lead with course A (3 ECTS, exam 60 % + project 40 %, German grades), UB with B (2 ECTS) and the elective E (1
ECTS), both Spanish grades; joint scale 0–20, pass 10) with two editions ending in last academic year ``Y`` and a
third ending after it. German → joint: 1.0→20, 1.7→18, 2.0→17, 2.5→15, 3.0→13, 4.0→10, 4.5→5, 5.0→0; Spanish →
joint: × 2.

Edition E1 (ends ``first + 120 days``), six learners:

======  ==========================  ===============  ===============  =================================
learner A (exam, project) → joint   B                E                outcome
======  ==========================  ===============  ===============  =================================
L0      2.0, 1.7 → 10.2+7.2 = 17.4  7.5 → 15         6.0 → 12         awarded on end + 10 days
L1      3.0, 2.0 → 7.8+6.8 = 14.6   exempted (RPL)   8.0 → 16         awarded on end + 20 days
L2      4.5, 3.0 → 3.0+5.2 = 8.2 ✗  5.5 → 11         5.0 → 10         studying (failed A)
L3      2.5, 2.5 → 15.0             no result        no result        studying
L4      —                           4.0 → 8 ✗        —                withdrawn (after B)
L5      no result                   no result        no result        suspended
======  ==========================  ===============  ===============  =================================

Edition E2 (ends ``first + 270 days``): M0 A 1.0/1.0 → 20, B 10.0 → 20, E 7.0 → 14, awarded on end − 5 days; M1 A
5.0/4.0 → 0+4 = 4 ✗, B 3.0 → 6 ✗, E 6.5 → 13; M2 withdrawn before any result. Edition E3 ends after ``Y``: one
learner, never counted.

Applications besides the enrolments: E1 a draft, two submitted, one rejected, one admitted, one declined (offer); E2
one waitlisted. The E1 learner survey: five invited (the withdrawn L4 is not), three answer (below), then it is
closed (a survey's figures exist only once it takes no more answers).

Fixture ``other_scale`` adds E4 (ends ``first + 200 days``, between E1 and E2), graded under regulations v2 on a
joint 0–10 scale (pass 5), with its own closed survey: see its docstring."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal as D

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from admissions.api import exemption_decide, exemption_request
from admissions.models import Application, Enrolment
from assessment import services as s
from assessment.grading import numeric_scale, proportional_mapping
from certification import services as certification_services
from certification.models import Award
from programmes.models import Edition, LearningOutcome
from quality import evidence as ev
from quality import feedback
from quality.evidence import GradeCount
from quality.models import academic_year_bounds, academic_year_label, academic_year_of

from ..assessment.conftest import _scale, cohort, enrol  # noqa: F401  (the cohort fixture)
from ..factories import ApplicationFactory

pytestmark = pytest.mark.django_db
DAY = dt.timedelta(days=1)
JOINT = tuple(str(g) for g in range(20, -1, -1))


def _noon(day: dt.date) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, dt.time(12)))


def _approve(c, edition, course, rows) -> None:
    examiner = c.examiner_ua if course == c.course_a else c.examiner_ub
    sheet = s.sheet_for(edition=edition, course=course, attempt=1)
    s.grades_enter(actor=examiner, sheet=sheet, rows=rows)
    s.sheet_submit(actor=examiner, sheet=sheet)
    s.sheet_approve(actor=c.board, sheet=sheet)


def _components(c, edition):
    """Assessments of a further edition, as the cohort's edition has them."""
    made = {}
    for course, specs in ((c.course_a, [("Exam", "online_exam", "60"), ("Project", "assignment", "40")]),
                          (c.course_b, [("Exam", "online_exam", "100")]),
                          (c.course_e, [("Essay", "assignment", "100")])):
        made[course.code] = [s.assessment_save(actor=c.leader, edition=edition, course=course, data={
            "title": title, "method": method, "weight": D(weight),
            "supervision": "unsupervised" if method == "assignment" else "supervised_online"})
            for title, method, weight in specs]
    return made


def _award(c, enrolment, day: dt.date) -> Award:
    award = certification_services.award_decide(actor=c.board, enrolment=enrolment)
    Award.objects.filter(pk=award.pk).update(decided_at=_noon(day))
    return award


#: What L0, L1 and L2 answer in the E1 survey (the theme means below are computed from these).
ANSWERS = [
    {"overall": 5, "outcomes_achieved": 4, "course_quality": {"A": 5, "B": 4}, "course_teaching": {"A": 4},
     "assessment_fair": 2, "support": 5, "hours_total": 140},
    {"overall": 4, "outcomes_achieved": 4, "course_quality": {"A": 4, "B": 3}, "assessment_fair": 3, "support": 5,
     "hours_total": 170},
    {"overall": 3, "outcomes_achieved": 5, "course_quality": {"A": 3}, "assessment_fair": 4, "hours_total": 200},
]


@pytest.fixture
def year(cohort):  # noqa: F811
    """The constructed data set of the module docstring; ``c.year`` is ``Y``."""
    c = cohort
    p = c.programme
    # The mandatory EU elements of a credential (as tests/certification/conftest.py ``awardable`` sets them).
    p.qa_scheme = "Internal QA of the lead university under ESG 2015, with an annual programme review"
    p.participation_form = "Online, individual study with weekly live seminars"
    p.save()
    c.course_e.assessment_method = "assignment"
    c.course_e.save()
    LearningOutcome.objects.create(programme=p, category="knowledge", position=0, text="Explains grading systems")
    c.year = academic_year_of(timezone.localdate()) - 1
    first, last = academic_year_bounds(c.year)
    c.first, c.last = first, last
    e1_end, e2_end = first + 120 * DAY, first + 270 * DAY
    Edition.objects.filter(pk=c.edition.pk).update(intake_code="e1", starts_on=e1_end - 120 * DAY, ends_on=e1_end)
    c.edition.refresh_from_db()
    c.e1 = c.edition
    l0, l1, l2 = c.enrolments
    l4 = enrol(c.e1, 4)
    # L1 is exempted from B (recognition of prior learning, granted by the examination board).
    exemption = exemption_request(actor=l1.learner, application=l1.application, course=c.course_b,
                                  basis="An equivalent course elsewhere")
    exemption_decide(actor=c.board, exemption=exemption, granted=True, reason="Same learning outcomes")
    _approve(c, c.e1, c.course_b, [(l0, c.exam_b, "7.5"), (l2, c.exam_b, "5.5"), (l4, c.exam_b, "4.0")])
    Application.objects.filter(pk=l4.application_id).update(status="withdrawn")
    _approve(c, c.e1, c.course_e, [(l0, c.exam_e, "6.0"), (l1, c.exam_e, "8.0"), (l2, c.exam_e, "5.0")])
    l3 = enrol(c.e1, 3)
    _approve(c, c.e1, c.course_a, [
        (l0, c.exam_a, "2.0"), (l0, c.project_a, "1.7"), (l1, c.exam_a, "3.0"), (l1, c.project_a, "2.0"),
        (l2, c.exam_a, "4.5"), (l2, c.project_a, "3.0"), (l3, c.exam_a, "2.5"), (l3, c.project_a, "2.5")])
    l5 = enrol(c.e1, 5)
    Application.objects.filter(pk=l5.application_id).update(status="suspended")
    _award(c, l0, e1_end + 10 * DAY)
    _award(c, l1, e1_end + 20 * DAY)
    c.l = [l0, l1, l2, l3, l4, l5]
    for status in ("draft", "submitted", "submitted", "rejected", "admitted", "declined"):
        ApplicationFactory(edition=c.e1, status=status,
                           submitted_at=None if status == "draft" else timezone.now() - 30 * DAY)

    now = timezone.now()
    c.e2 = Edition.objects.create(programme=p, intake_code="e2", application_opens_at=now - 400 * DAY,
                                  application_closes_at=now - 390 * DAY, starts_on=e2_end - 100 * DAY,
                                  ends_on=e2_end, curriculum=c.version, status="closed")
    s.edition_regulation_set(actor=c.leader, edition=c.e2, regulation=c.regulation)
    parts = _components(c, c.e2)
    m0, m1, m2 = (enrol(c.e2, 10 + i) for i in range(3))
    Application.objects.filter(pk=m2.application_id).update(status="withdrawn")
    (exam, project), (exam_b,), (essay,) = parts["A"], parts["B"], parts["E"]
    _approve(c, c.e2, c.course_a, [(m0, exam, "1.0"), (m0, project, "1.0"), (m1, exam, "5.0"), (m1, project, "4.0")])
    _approve(c, c.e2, c.course_b, [(m0, exam_b, "10.0"), (m1, exam_b, "3.0")])
    _approve(c, c.e2, c.course_e, [(m0, essay, "7.0"), (m1, essay, "6.5")])
    _award(c, m0, e2_end - 5 * DAY)
    ApplicationFactory(edition=c.e2, status="waitlisted", submitted_at=now - 390 * DAY)
    c.m = [m0, m1, m2]

    c.e3 = Edition.objects.create(programme=p, intake_code="e3", application_opens_at=now - 10 * DAY,
                                  application_closes_at=now - 5 * DAY, starts_on=last + 5 * DAY,
                                  ends_on=last + 15 * DAY, curriculum=c.version, status="running")
    enrol(c.e3, 20)

    # The E1 learner survey: opened by the system once E1 has ended; L0, L1 and L2 answer.
    c.survey = feedback.learner_survey_open(edition=c.e1)
    for enrolment, values in zip(c.l[:3], ANSWERS, strict=True):
        feedback.response_submit(survey=c.survey, learner=enrolment.learner,
                                 answers=feedback.answers_by_key(c.survey, values))
    c.survey = feedback.survey_close(actor=c.leader, survey=c.survey)
    return c


#: What N0, N1 and N2 answer in the E4 survey (fixture ``other_scale``).
E4_ANSWERS = [
    {"overall": 2, "outcomes_achieved": 3, "assessment_fair": 4, "support": 4, "hours_total": 100},
    {"overall": 3, "outcomes_achieved": 3, "assessment_fair": 5, "support": 5, "hours_total": 101},
    {"overall": 3, "outcomes_achieved": 4, "assessment_fair": 3, "support": 3, "hours_total": 101},
]


@pytest.fixture
def other_scale(year):
    """``year`` and E4: it ends ``first + 200 days`` (so the year's editions are E1, E4, E2) and runs regulations
    v2, whose joint scale is 0–10 (pass 5). Spanish → joint 0–10 (proportional bands): 8.0 → 8, 6.0 → 6, 4.0 → 4.
    N0, N1 and N2 have approved results in B only: 8.0 → 8, 4.0 → 4 ✗, 6.0 → 6 (A and E pending). Its learner
    survey (three invited) is answered by all three (``E4_ANSWERS``), then closed."""
    c = year
    joint10 = _scale("Joint 0–10", numeric_scale(D("0"), D("10"), D("1"), D("5")))
    v2 = s.regulation_create(actor=c.leader, programme=c.programme, data={"joint_scale": joint10})
    for institution, national in ((c.course_a.provider, c.germany), (c.course_b.provider, c.spain)):
        s.conversion_set(actor=c.leader, regulation=v2, institution=institution, national_scale=national,
                         mapping=proportional_mapping(national.scale, joint10.scale))
    v2 = s.regulation_approve(actor=c.board, regulation=v2)
    now = timezone.now()
    e4_end = c.first + 200 * DAY
    c.e4 = Edition.objects.create(programme=c.programme, intake_code="e4", application_opens_at=now - 400 * DAY,
                                  application_closes_at=now - 390 * DAY, starts_on=e4_end - 100 * DAY,
                                  ends_on=e4_end, curriculum=c.version, status="closed")
    s.edition_regulation_set(actor=c.leader, edition=c.e4, regulation=v2)
    (exam_b,) = _components(c, c.e4)["B"]
    c.n = [enrol(c.e4, 40 + i) for i in range(3)]
    _approve(c, c.e4, c.course_b, [(c.n[0], exam_b, "8.0"), (c.n[1], exam_b, "4.0"), (c.n[2], exam_b, "6.0")])
    c.e4_survey = feedback.learner_survey_open(edition=c.e4)
    for enrolment, values in zip(c.n, E4_ANSWERS, strict=True):
        feedback.response_submit(survey=c.e4_survey, learner=enrolment.learner,
                                 answers=feedback.answers_by_key(c.e4_survey, values))
    c.e4_survey = feedback.survey_close(actor=c.leader, survey=c.e4_survey)
    return c


def _by(items, key, attr):
    return {getattr(item, attr): item for item in items}[key]


def test_the_year_is_an_academic_year_by_its_first_calendar_year():
    assert academic_year_of(dt.date(2027, 4, 25)) == 2026
    assert academic_year_of(dt.date(2026, 9, 1)) == 2026
    assert academic_year_of(dt.date(2026, 8, 31)) == 2025
    assert academic_year_bounds(2026) == (dt.date(2026, 9, 1), dt.date(2027, 8, 31))
    assert academic_year_label(2026) == "2026/27" and academic_year_label(2099) == "2099/00"


def test_the_editions_of_the_year_are_those_that_end_in_it(year):
    c = year
    evidence = ev.review_evidence(programme=c.programme, year=c.year)
    assert [e.intake_code for e in evidence.editions] == ["e1", "e2"]  # e3 ends after the year
    assert (evidence.first_day, evidence.last_day) == (c.first, c.last)
    assert evidence.year_label == academic_year_label(c.year)
    assert [e.joint_scale for e in evidence.editions] == ["Joint 0–20", "Joint 0–20"]
    assert not any(e.running for e in evidence.editions)
    empty = ev.review_evidence(programme=c.programme, year=c.year - 1)
    assert empty.empty and empty.total.completion.enrolled == 0 and empty.total.feedback is None


def test_pass_rates_and_grade_distributions_per_course(year):
    c = year
    evidence = ev.review_evidence(programme=c.programme, year=c.year)
    e1, e2 = (e.figures for e in evidence.editions)
    a, b, e = (_by(e1.courses, code, "code") for code in "ABE")
    assert (a.passed, a.failed, a.exempted, a.pending, a.pass_rate) == (3, 1, 0, 1, D("75.0"))
    assert (b.passed, b.failed, b.exempted, b.pending, b.pass_rate) == (2, 1, 1, 2, D("66.7"))
    assert (e.passed, e.failed, e.exempted, e.pending, e.pass_rate) == (3, 0, 0, 2, D("100.0"))
    assert a.partner == "UA" and b.partner == "UB" and a.title == "Course A"
    # Every grade of the joint scale, best first; 17.4 counts under 17, 14.6 under 14, 8.2 under 8.
    assert [g.grade for g in a.distribution] == list(JOINT)
    assert a.grades_given == [GradeCount("17", 1), GradeCount("15", 1), GradeCount("14", 1), GradeCount("8", 1)]
    assert b.grades_given == [GradeCount("15", 1), GradeCount("11", 1), GradeCount("8", 1)]
    assert e.grades_given == [GradeCount("16", 1), GradeCount("12", 1), GradeCount("10", 1)]
    a2, b2, e2_ = (_by(e2.courses, code, "code") for code in "ABE")
    assert (a2.passed, a2.failed, a2.pending, a2.pass_rate) == (1, 1, 0, D("50.0"))  # M2 withdrew: not pending
    assert (b2.passed, b2.failed, b2.pass_rate) == (1, 1, D("50.0"))
    assert (e2_.passed, e2_.failed, e2_.pass_rate) == (2, 0, D("100.0"))
    assert a2.grades_given == [GradeCount("20", 1), GradeCount("4", 1)]
    assert b2.grades_given == [GradeCount("20", 1), GradeCount("6", 1)]
    assert e2_.grades_given == [GradeCount("14", 1), GradeCount("13", 1)]
    total = evidence.total
    ta, tb, te = (_by(total.courses, code, "code") for code in "ABE")
    assert (ta.passed, ta.failed, ta.pending, ta.pass_rate) == (4, 2, 1, D("66.7"))
    assert (tb.passed, tb.failed, tb.exempted, tb.pending, tb.pass_rate) == (3, 2, 1, 2, D("60.0"))
    assert (te.passed, te.failed, te.pending, te.pass_rate) == (5, 0, 2, D("100.0"))
    assert [(g.grade, g.count) for g in ta.grades_given] == [("20", 1), ("17", 1), ("15", 1), ("14", 1), ("8", 1),
                                                             ("4", 1)]
    assert sum(g.count for g in tb.distribution) == 5 and len(tb.distribution) == 21


def test_pass_rates_per_partner(year):
    c = year
    evidence = ev.review_evidence(programme=c.programme, year=c.year)
    e1, e2 = (e.figures for e in evidence.editions)
    assert [(p.partner, p.courses, p.passed, p.failed, p.pass_rate) for p in e1.partners] == [
        ("UA", 1, 3, 1, D("75.0")), ("UB", 2, 5, 1, D("83.3"))]
    assert [(p.partner, p.passed, p.failed, p.pass_rate) for p in e2.partners] == [
        ("UA", 1, 1, D("50.0")), ("UB", 3, 1, D("75.0"))]
    assert [(p.partner, p.courses, p.passed, p.failed, p.pass_rate) for p in evidence.total.partners] == [
        ("UA", 1, 4, 2, D("66.7")), ("UB", 2, 8, 2, D("80.0"))]


def test_only_approved_results_count(year):
    """A submitted sheet waiting for the board is not evidence: its learners stay 'no approved result yet'."""
    c = year
    resit = s.sheet_for(edition=c.e1, course=c.course_a, attempt=2)
    s.grades_enter(actor=c.examiner_ua, sheet=resit, rows=[(c.l[2], c.exam_a, "1.0")])
    s.sheet_submit(actor=c.examiner_ua, sheet=resit)
    a = _by(ev.review_evidence(programme=c.programme, year=c.year).editions[0].figures.courses, "A", "code")
    assert (a.passed, a.failed) == (3, 1)
    s.sheet_approve(actor=c.board, sheet=resit)  # the resit replaces the exam: 0.6 × 20 + 0.4 × 13 = 17.2
    a = _by(ev.review_evidence(programme=c.programme, year=c.year).editions[0].figures.courses, "A", "code")
    assert (a.passed, a.failed, a.pass_rate) == (4, 0, D("100.0"))
    assert [(g.grade, g.count) for g in a.grades_given] == [("17", 2), ("15", 1), ("14", 1)]


def test_completion_dropout_and_time_to_award(year):
    c = year
    evidence = ev.review_evidence(programme=c.programme, year=c.year)
    e1, e2 = (e.figures for e in evidence.editions)
    assert e1.completion == ev.CompletionFigures(enrolled=6, awarded=2, withdrawn=1, suspended=1, studying=2,
                                                 completion_rate=D("33.3"), dropout_rate=D("16.7"))
    assert e2.completion == ev.CompletionFigures(enrolled=3, awarded=1, withdrawn=1, suspended=0, studying=1,
                                                 completion_rate=D("33.3"), dropout_rate=D("33.3"))
    assert evidence.total.completion == ev.CompletionFigures(enrolled=9, awarded=3, withdrawn=2, suspended=1,
                                                             studying=3, completion_rate=D("33.3"),
                                                             dropout_rate=D("22.2"))
    # Days from the edition's end to the award: E1 10 and 20; E2 −5 (before the end); the year −5, 10, 20.
    assert e1.time_to_award == ev.TimeToAward(awards=2, median_days=D("15.0"), mean_days=D("15.0"), before_end=0)
    assert e2.time_to_award == ev.TimeToAward(awards=1, median_days=D("-5.0"), mean_days=D("-5.0"), before_end=1)
    assert evidence.total.time_to_award == ev.TimeToAward(awards=3, median_days=D("10.0"), mean_days=D("8.3"),
                                                          before_end=1)


def test_applications_admissions_enrolments(year):
    c = year
    evidence = ev.review_evidence(programme=c.programme, year=c.year)
    e1, e2 = (e.figures.recruitment for e in evidence.editions)
    # E1: 6 enrolled + 6 others started; submitted: all but the draft; admitted: enrolled, admitted, declined.
    assert e1 == ev.RecruitmentFigures(started=12, submitted=11, admitted=8, enrolled=6, admission_rate=D("72.7"),
                                       enrolment_rate=D("75.0"))
    assert e2 == ev.RecruitmentFigures(started=4, submitted=4, admitted=3, enrolled=3, admission_rate=D("75.0"),
                                       enrolment_rate=D("100.0"))
    assert evidence.total.recruitment == ev.RecruitmentFigures(started=16, submitted=15, admitted=11, enrolled=9,
                                                               admission_rate=D("73.3"), enrolment_rate=D("81.8"))


def test_feedback_response_rate_theme_means_and_workload(year):
    c = year
    evidence = ev.review_evidence(programme=c.programme, year=c.year)
    f1 = evidence.editions[0].figures.feedback
    assert evidence.editions[1].figures.feedback is None  # E2 had no survey
    assert (f1.surveys, f1.closed, f1.invited, f1.answered, f1.response_rate, f1.min_responses) == (
        1, True, 5, 3, D("60.0"), 3)
    themes = {t.theme: t for t in f1.themes}
    assert list(themes) == ["learning", "teaching", "assessment", "workload", "support", "accessibility",
                            "information"]
    # Learning: overall 5+4+3, outcomes 4+4+5, course quality of A 5+4+3 (B: only two respondents, left out) = 37/9.
    assert (themes["learning"].shown, themes["learning"].mean, themes["learning"].answers,
            themes["learning"].questions, themes["learning"].withheld) == (True, D("4.11"), 9, 3, 0)
    # Assessment: "assessment fair" 2+3+4 = 9/3; the per-course "assessment clear" was not answered.
    assert (themes["assessment"].mean, themes["assessment"].answers, themes["assessment"].withheld) == (
        D("3.00"), 3, 1)
    # Hidden stays hidden: teaching (one respondent), support (two), and the unanswered ones show no figure.
    for theme in ("teaching", "workload", "support", "accessibility", "information"):
        assert (themes[theme].shown, themes[theme].mean, themes[theme].answers) == (False, None, 0), theme
    # Workload: 140, 170, 200 hours against 6 ECTS × 25–30 h = 150–180 h.
    assert f1.workload == ev.WorkloadFigure(ects=D("6.0"), expected_low=150, expected_high=180, shown=True,
                                            respondents=3, mean_hours=D("170.0"), below=1, within=1, above=1)
    total = evidence.total.feedback
    assert (total.surveys, total.invited, total.answered, total.response_rate) == (1, 5, 3, D("60.0"))
    assert [(t.theme, t.mean) for t in total.themes if t.shown] == [("learning", D("4.11")),
                                                                    ("assessment", D("3.00"))]
    assert total.workload == f1.workload


def test_too_few_respondents_hide_the_workload(year, settings):
    c = year
    settings.FEEDBACK_MIN_RESPONSES = 4
    f1 = ev.review_evidence(programme=c.programme, year=c.year).editions[0].figures.feedback
    assert f1.workload == ev.WorkloadFigure(ects=D("6.0"), expected_low=150, expected_high=180, shown=False)
    assert not any(t.shown for t in f1.themes) and all(t.mean is None for t in f1.themes)
    assert f1.response_rate == D("60.0")  # rates are counts of invitations, shown whatever the number


def test_the_evidence_survives_its_json_unchanged(year):
    c = year
    evidence = ev.review_evidence(programme=c.programme, year=c.year)
    data = ev.to_json(evidence)
    import json

    assert ev.from_json(json.loads(json.dumps(data))) == evidence
    with pytest.raises(ValueError, match="schema"):
        ev.from_json({**data, "schema": 99})


def test_the_queries_do_not_grow_with_the_learners(year):
    c = year
    with CaptureQueriesContext(connection) as few:
        ev.review_evidence(programme=c.programme, year=c.year)
    for i in range(6):
        enrol(c.e1, 30 + i)
        ApplicationFactory(edition=c.e2, status="submitted", submitted_at=timezone.now())
    with CaptureQueriesContext(connection) as many:
        ev.review_evidence(programme=c.programme, year=c.year)
    assert len(many) == len(few)
    assert len(few) <= 2 + 20 * 2  # about fifteen per edition, plus two
    assert Enrolment.objects.filter(edition=c.e1).count() == 12


# --- Several editions: the year's totals (fixture ``other_scale``) ---------------------------------------------------


def test_the_years_workload_is_the_mean_of_every_answer(other_scale):
    """E1: 140, 170, 200 h → 510 / 3 = 170.0; E4: 100, 101, 101 h → 302 / 3 = 100.67, shown as 100.7. The year:
    (510 + 302) / 6 = 135.33 → 135.3 h. (Averaging the rounded means would give (3 × 170.0 + 3 × 100.7) / 6 =
    135.35 → 135.4.) Against 150–180 h: below 1 + 3 = 4, within 1 + 0 = 1, above 1 + 0 = 1."""
    c = other_scale
    evidence = ev.review_evidence(programme=c.programme, year=c.year)
    assert [e.intake_code for e in evidence.editions] == ["e1", "e4", "e2"]
    f1, f4 = evidence.editions[0].figures.feedback, evidence.editions[1].figures.feedback
    assert f1.workload.mean_hours == D("170.0")
    assert f4.workload == ev.WorkloadFigure(ects=D("6.0"), expected_low=150, expected_high=180, shown=True,
                                            respondents=3, mean_hours=D("100.7"), below=3, within=0, above=0)
    total = evidence.total.feedback
    assert total.workload == ev.WorkloadFigure(ects=D("6.0"), expected_low=150, expected_high=180, shown=True,
                                               respondents=6, mean_hours=D("135.3"), below=4, within=1, above=1)
    # Invitations and answers added up: 5 + 3 invited, 3 + 3 answered → 6 / 8 = 75.0 %; both surveys closed.
    assert (total.surveys, total.closed, total.invited, total.answered, total.response_rate) == (
        2, True, 8, 6, D("75.0"))


def test_themes_are_pooled_over_the_editions_shown_answers(other_scale):
    """Learning: E1 37 over 9 answers (4.11); E4 overall 2+3+3 and outcomes 3+3+4 = 18 over 6 (3.00), its per-course
    "course quality" unanswered (withheld). The year: (37 + 18) / (9 + 6) = 55 / 15 = 3.67, from 3 + 2 questions, 1
    withheld. Assessment: E1 9 / 3, E4 4+5+3 = 12 / 3 (4.00); the year 21 / 6 = 3.50, "assessment clear" withheld
    in both. Support: E1's two respondents are too few, so hidden, and stay out of the year's mean: only E4's
    4+5+3 = 12 / 3 = 4.00 (pooling E1's 5 + 5 in would give 22 / 5 = 4.40)."""
    c = other_scale
    evidence = ev.review_evidence(programme=c.programme, year=c.year)
    e4 = {t.theme: t for t in evidence.editions[1].figures.feedback.themes}
    assert (e4["learning"].mean, e4["learning"].answers, e4["learning"].questions, e4["learning"].withheld) == (
        D("3.00"), 6, 2, 1)
    assert (e4["assessment"].mean, e4["support"].mean) == (D("4.00"), D("4.00"))
    themes = {t.theme: t for t in evidence.total.feedback.themes}
    figures = {name: (t.shown, t.mean, t.answers, t.questions, t.withheld) for name, t in themes.items()}
    assert figures["learning"] == (True, D("3.67"), 15, 5, 1)
    assert figures["assessment"] == (True, D("3.50"), 6, 2, 2)
    assert figures["support"] == (True, D("4.00"), 3, 1, 1)
    # Teaching: one respondent in E1, none in E4; the workload rating and the rest: nobody answered.
    for theme in ("teaching", "workload", "accessibility", "information"):
        assert figures[theme][:3] == (False, None, 0), theme
    assert figures["teaching"][4] == 2  # E1's and E4's per-course teaching question


def test_editions_on_different_joint_scales_give_no_distribution_in_total(other_scale):
    """E4 grades on joint 0–10, E1 and E2 on joint 0–20: each edition keeps its own distribution, but a grade of
    one scale cannot be added to the other's, so the year shows none (the pass rates still add up). B in the year:
    passed E1 2 + E2 1 + E4 2 = 5, failed 1 + 1 + 1 = 3 → 5 / 8 = 62.5 %; A: E4's three learners pending, so
    pending 1 + 0 + 3 = 4, passed 4, failed 2 (66.7 %)."""
    c = other_scale
    evidence = ev.review_evidence(programme=c.programme, year=c.year)
    assert [e.joint_scale for e in evidence.editions] == ["Joint 0–20", "Joint 0–10", "Joint 0–20"]
    b4 = _by(evidence.editions[1].figures.courses, "B", "code")
    assert [g.grade for g in b4.distribution] == [str(g) for g in range(10, -1, -1)]
    assert b4.grades_given == [GradeCount("8", 1), GradeCount("6", 1), GradeCount("4", 1)]
    assert len(_by(evidence.editions[0].figures.courses, "A", "code").distribution) == 21
    total = {course.code: course for course in evidence.total.courses}
    assert all(course.distribution == [] for course in total.values())
    assert (total["B"].passed, total["B"].failed, total["B"].pass_rate) == (5, 3, D("62.5"))
    assert (total["A"].passed, total["A"].failed, total["A"].pending, total["A"].pass_rate) == (4, 2, 4, D("66.7"))


# --- A result on the pass mark -----------------------------------------------------------------------------------


def test_a_failed_result_never_counts_under_a_passing_grade(year):
    """B weighted 95 % exam, 5 % essay (Spanish → joint 0–20: 5.0 → 10, 4.5 → 9). P0: 0.95 × 10 + 0.05 × 9 = 9.95,
    below the pass mark 10 so failed, but written rounded as "10.0": it counts under 9, the best failing grade.
    P1: 10 and 10 → 10.0, passed, under 10. E5 ends in the academic year before ``Y``."""
    c = year
    now = timezone.now()
    e5_end = c.first - 30 * DAY
    e5 = Edition.objects.create(programme=c.programme, intake_code="e5", application_opens_at=now - 600 * DAY,
                                application_closes_at=now - 590 * DAY, starts_on=e5_end - 100 * DAY,
                                ends_on=e5_end, curriculum=c.version, status="closed")
    s.edition_regulation_set(actor=c.leader, edition=e5, regulation=c.regulation)
    exam, essay = (s.assessment_save(actor=c.leader, edition=e5, course=c.course_b, data={
        "title": title, "method": method, "weight": D(weight),
        "supervision": "unsupervised" if method == "assignment" else "supervised_online"})
        for title, method, weight in (("Exam", "online_exam", "95"), ("Essay", "assignment", "5")))
    p0, p1 = enrol(e5, 50), enrol(e5, 51)
    _approve(c, e5, c.course_b, [(p0, exam, "5.0"), (p0, essay, "4.5"), (p1, exam, "5.0"), (p1, essay, "5.0")])
    results = s.edition_results(e5, [p0, p1])
    written = {e.pk: next((r.joint_grade, r.status) for r in results[e.pk] if r.course.code == "B") for e in (p0, p1)}
    assert written == {p0.pk: ("10.0", "failed"), p1.pk: ("10.0", "passed")}
    b = _by(ev.review_evidence(programme=c.programme, year=c.year - 1).editions[0].figures.courses, "B", "code")
    assert (b.passed, b.failed) == (1, 1)
    assert b.grades_given == [GradeCount("10", 1), GradeCount("9", 1)]


def test_the_pass_mark_side_of_a_binned_grade():
    """``_bin`` on a 0–20 scale (pass 10) and on a descending 1.0–5.0 scale (1.0 best, pass 4.0)."""
    twenty = numeric_scale(D("0"), D("20"), D("1"), D("10"))
    assert ev._bin("12.6", twenty, passed=True) == "12"  # the best grade it reaches
    assert ev._bin("10.0", twenty, passed=True) == "10"
    assert ev._bin("10.0", twenty, passed=False) == "9"  # a fail rounded up to the pass mark
    assert ev._bin("9.9", twenty, passed=False) == "9"
    german = numeric_scale(D("1.0"), D("5.0"), D("0.1"), D("4.0"), descending=True)
    assert ev._bin("4.0", german, passed=False) == "4.1"
    assert ev._bin("3.96", german, passed=True) == "4.0"
    assert ev._bin("x", twenty, passed=False) is None
