"""The evidence of a quality review: figures about a programme's editions of one academic year, computed from the
other apps (through their ``api.py``) and from the feedback and recruitment modules, as plain dataclasses.

Pure reads: ``review_evidence(programme=, year=)`` changes nothing. The review freezes its result as JSON when it is
submitted (``to_json``; ``from_json`` reads it back, so a frozen review is shown by the same code). The queries do
not grow with the number of learners, grades or answers: about fifteen per edition of the year, plus two.

The year's editions are those whose last day (``ends_on``) falls in the academic year (``academic_year_bounds``).
Each figure is given per edition and for the year in total (``Evidence.total``):

Pass rate per course
    Among the edition's enrolments (withdrawn ones included), the final results of the course from approved result
    sheets only (``assessment.api.edition_results``: the regulation's last or best attempt, resits included):
    ``passed / (passed + failed)`` in percent, one decimal. Learners exempted from the course (recognition of prior
    learning) and those without an approved result yet are counted apart and not in the rate; a withdrawn learner
    without a result is not "pending".
Pass rate per partner
    The same over all the courses the partner provides (the course's provider institution): course results, not
    learners, are counted.
Grade distribution per course
    The passed and failed results counted per grade of the edition's joint scale (every grade, best first, zeros
    included). A combined result between two grades (a weighted 12.6 on a 0–20 scale) counts under the best grade
    it reaches (12). A result never counts on the other side of the pass mark: a failed weighted 9.95, which the
    result writes rounded as "10.0", counts under 9, the best failing grade. In total, courses are merged by code,
    and the distribution only when every edition uses the same joint scale.
Completion and dropout
    Enrolments of the edition: awarded (an award exists, revoked or not), withdrawn (application withdrawn, no
    award), suspended, and still studying (the rest: enrolled or completed without an award yet). Completion rate
    = awarded / enrolled, dropout rate = withdrawn / enrolled.
Time to award
    For each award, the days from the edition's last day to the award's decision day (dates in
    ``settings.TIME_ZONE``): median and mean (one decimal). Negative when the board awarded before the scheduled end
    (counted in ``before_end``). In total, over all the year's awards.
Feedback
    The edition's learner survey (``quality.feedback``): invited, answered, response rate (answered / invited), and
    per ESG theme the mean rating of its Likert questions, pooled over the answers of every question of the theme
    whose result is shown (a question, or for per-course questions the courses, with at least
    ``FEEDBACK_MIN_RESPONSES`` respondents; hidden stays hidden: nothing withheld enters a mean). In total, the
    invitations and answers are added up and the themes pooled over the editions' shown answers.
Workload against ECTS
    The learners' reported total hours (the survey's ``hours_total`` question, when shown): mean, and how many
    reported below, within or above the programme's notional ECTS × 25–30 h. In total, the mean of every shown
    answer of the year (the editions' sums of hours over their respondents, not an average of rounded means) and
    the sums of the counts.
Applications, admissions, enrolments
    The edition's recruitment funnel (``quality.recruitment.funnel``): started and submitted applications, admitted
    (ever), enrolled; admission rate = admitted / submitted, enrolment rate = enrolled / admitted.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import statistics
import types
import typing
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.db.models import Count, Sum
from django.utils import timezone

from admissions.api import ApplicationStatus, Enrolment
from assessment.api import edition_results, regulation_for
from certification.api import Award
from consortium.api import DomainError
from programmes.api import Edition, Programme

from . import feedback, recruitment
from .defaults import WORKLOAD_HOURS_KEY
from .models import Answer, Audience, QuestionKind, Theme, academic_year_bounds, academic_year_label

#: Bumped when the shape below changes; ``from_json`` reads frozen evidence of its own schema only, so a change of
#: shape comes with a data migration that rewrites every frozen ``QualityReview.evidence`` and ``ReviewReport.content``
#: to the new schema (submitted and approved reviews are never re-computed: they are the record the board decided on).
SCHEMA = 1
S = ApplicationStatus


def rate(part: int, whole: int) -> Decimal | None:
    """``part / whole`` in percent with one decimal (half up), None when ``whole`` is 0."""
    if not whole:
        return None
    return (Decimal(100 * part) / Decimal(whole)).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)


def _quantize(value: Decimal, places: str) -> Decimal:
    return value.quantize(Decimal(places), rounding=ROUND_HALF_UP)


# --- The figures ---------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class GradeCount:
    grade: str
    count: int


@dataclass(frozen=True)
class CourseFigures:
    code: str
    title: str
    partner: str
    passed: int
    failed: int
    exempted: int
    pending: int
    pass_rate: Decimal | None
    #: Every grade of the joint scale, best first (empty in total when the editions' scales differ).
    distribution: list[GradeCount] = field(default_factory=list)

    @property
    def results(self) -> int:
        return self.passed + self.failed

    @property
    def grades_given(self) -> list[GradeCount]:
        """The grades given at least once, best first."""
        return [g for g in self.distribution if g.count]


@dataclass(frozen=True)
class PartnerFigures:
    partner: str
    courses: int
    passed: int
    failed: int
    pass_rate: Decimal | None

    @property
    def results(self) -> int:
        return self.passed + self.failed


@dataclass(frozen=True)
class CompletionFigures:
    enrolled: int
    awarded: int
    withdrawn: int
    suspended: int
    studying: int
    completion_rate: Decimal | None
    dropout_rate: Decimal | None


@dataclass(frozen=True)
class TimeToAward:
    awards: int
    median_days: Decimal | None
    mean_days: Decimal | None
    before_end: int


@dataclass(frozen=True)
class ThemeFigure:
    theme: str
    label: str
    #: False when no question of the theme had enough respondents: no mean, no count.
    shown: bool
    mean: Decimal | None
    answers: int
    questions: int
    withheld: int


@dataclass(frozen=True)
class WorkloadFigure:
    ects: Decimal
    expected_low: int
    expected_high: int
    shown: bool
    respondents: int | None = None
    mean_hours: Decimal | None = None
    below: int | None = None
    within: int | None = None
    above: int | None = None


@dataclass(frozen=True)
class FeedbackFigures:
    surveys: int
    closed: bool
    invited: int
    answered: int
    response_rate: Decimal | None
    min_responses: int
    themes: list[ThemeFigure]
    workload: WorkloadFigure | None


@dataclass(frozen=True)
class RecruitmentFigures:
    started: int
    submitted: int
    admitted: int
    enrolled: int
    admission_rate: Decimal | None
    enrolment_rate: Decimal | None


@dataclass(frozen=True)
class Figures:
    """Every figure for one edition, or for the year in total."""

    courses: list[CourseFigures]
    partners: list[PartnerFigures]
    completion: CompletionFigures
    time_to_award: TimeToAward
    feedback: FeedbackFigures | None
    recruitment: RecruitmentFigures

    @property
    def has_results(self) -> bool:
        return any(c.results for c in self.courses)


@dataclass(frozen=True)
class EditionEvidence:
    edition_id: str
    intake_code: str
    starts_on: dt.date
    ends_on: dt.date
    #: The edition had not ended when the evidence was computed (its figures may still change).
    running: bool
    joint_scale: str
    figures: Figures


@dataclass(frozen=True)
class Evidence:
    schema: int
    programme_id: str
    programme_code: str
    programme_title: str
    year: int
    year_label: str
    first_day: dt.date
    last_day: dt.date
    computed_at: dt.datetime
    editions: list[EditionEvidence]
    total: Figures

    @property
    def empty(self) -> bool:
        return not self.editions


# --- Computing -----------------------------------------------------------------------------------------------------


def _number(grade: str) -> Decimal | None:
    try:
        return Decimal(str(grade))
    except ArithmeticError:
        return None


def _reached(grade: str, scale) -> str | None:
    """The scale grade ``grade`` is, or for a combined number between two grades the best grade it reaches."""
    canonical = scale.canonical(grade)
    if canonical is not None:
        return canonical
    value, steps = _number(grade), [_number(g) for g in scale.grades]
    if value is None or None in steps or len(steps) < 2:
        return None
    ascending = steps[0] > steps[-1]  # the best grade is the highest number
    for name, step in zip(scale.grades, steps, strict=True):  # best first
        if (step <= value) if ascending else (step >= value):
            return name
    return scale.grades[-1]


def _bin(grade: str, scale, *, passed: bool) -> str | None:
    """The scale grade a final result counts under (see the module docstring): the grade it reaches, kept on the
    result's side of the pass mark. The result decides pass or fail on its unrounded value but writes it rounded to
    0.1, so a fail can be written as the pass mark itself (95/5 weights, grades 10 and 9: 9.95 fails, "10.0")."""
    reached = _reached(grade, scale)
    if reached is None or scale.passes(reached) == passed:
        return reached
    mark = scale.rank(scale.pass_grade)
    if passed:
        return scale.pass_grade
    return scale.grades[mark + 1] if mark + 1 < len(scale.grades) else None


@dataclass
class _Tally:
    passed: int = 0
    failed: int = 0
    exempted: int = 0
    pending: int = 0
    grades: dict[str, int] = field(default_factory=dict)

    def add(self, other: _Tally) -> None:
        self.passed += other.passed
        self.failed += other.failed
        self.exempted += other.exempted
        self.pending += other.pending
        for grade, n in other.grades.items():
            self.grades[grade] = self.grades.get(grade, 0) + n


@dataclass
class _Raw:
    """What the totals are added up from (not stored)."""

    courses: dict[str, tuple[str, str, _Tally]] = field(default_factory=dict)  # code → (title, partner, tally)
    partners: dict[str, tuple[set, _Tally]] = field(default_factory=dict)  # name → (course codes, tally)
    completion: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    days: list[int] = field(default_factory=list)
    themes: dict[str, list[int]] = field(default_factory=dict)  # theme → [sum, count, shown q, hidden q]
    hours: list[int] = field(default_factory=lambda: [0, 0])  # the shown workload answers: [sum of hours, count]
    feedback: list[FeedbackFigures] = field(default_factory=list)
    recruitment: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    scales: dict[str, tuple[str, ...]] = field(default_factory=dict)  # joint scale name → its grades


def _course_figures(code, title, partner, tally: _Tally, grades: Sequence[str] | None) -> CourseFigures:
    distribution = [GradeCount(g, tally.grades.get(g, 0)) for g in grades] if grades else []
    return CourseFigures(code=code, title=title, partner=partner, passed=tally.passed, failed=tally.failed,
                         exempted=tally.exempted, pending=tally.pending,
                         pass_rate=rate(tally.passed, tally.passed + tally.failed), distribution=distribution)


def _results(edition: Edition, enrolments: Sequence[Enrolment], raw: _Raw) -> tuple[list, list, str]:
    try:
        joint = regulation_for(edition).joint_scale
    except DomainError:
        return [], [], ""
    scale = joint.scale
    results = edition_results(edition, enrolments)
    withdrawn = {e.pk for e in enrolments if e.application.status == S.WITHDRAWN}
    courses: dict[str, tuple[Any, _Tally]] = {}
    for enrolment in enrolments:
        for result in results.get(enrolment.pk, []):
            course, tally = courses.setdefault(result.course.code, (result.course, _Tally()))
            if result.status in ("passed", "failed"):
                setattr(tally, result.status, getattr(tally, result.status) + 1)
                grade = _bin(result.joint_grade, scale, passed=result.status == "passed")
                if grade is not None:
                    tally.grades[grade] = tally.grades.get(grade, 0) + 1
            elif result.status == "exempted":
                tally.exempted += 1
            elif enrolment.pk not in withdrawn:
                tally.pending += 1
    raw.scales[joint.name] = scale.grades
    course_rows, partners = [], {}
    for code, (course, tally) in courses.items():
        partner = course.provider.short_name
        course_rows.append(_course_figures(code, course.title, partner, tally, scale.grades))
        codes, partner_tally = partners.setdefault(partner, (set(), _Tally()))
        codes.add(code)
        partner_tally.add(tally)
        raw.courses.setdefault(code, (course.title, partner, _Tally()))[2].add(tally)
        raw_codes, raw_tally = raw.partners.setdefault(partner, (set(), _Tally()))
        raw_codes.add(code)
        raw_tally.add(tally)
    return course_rows, _partner_figures(partners), joint.name


def _partner_figures(partners: dict[str, tuple[set, _Tally]]) -> list[PartnerFigures]:
    return [PartnerFigures(partner=name, courses=len(codes), passed=t.passed, failed=t.failed,
                           pass_rate=rate(t.passed, t.passed + t.failed))
            for name, (codes, t) in sorted(partners.items())]


def _completion(counts: dict[str, int]) -> CompletionFigures:
    enrolled = counts.get("enrolled", 0)
    return CompletionFigures(
        enrolled=enrolled, awarded=counts.get("awarded", 0), withdrawn=counts.get("withdrawn", 0),
        suspended=counts.get("suspended", 0), studying=counts.get("studying", 0),
        completion_rate=rate(counts.get("awarded", 0), enrolled),
        dropout_rate=rate(counts.get("withdrawn", 0), enrolled))


def _time_to_award(days: Sequence[int]) -> TimeToAward:
    if not days:
        return TimeToAward(awards=0, median_days=None, mean_days=None, before_end=0)
    return TimeToAward(
        awards=len(days), median_days=_quantize(Decimal(str(statistics.median(days))), "0.1"),
        mean_days=_quantize(Decimal(sum(days)) / Decimal(len(days)), "0.1"), before_end=sum(d < 0 for d in days))


def _themes(sums: dict[str, list[int]]) -> list[ThemeFigure]:
    figures = []
    for theme in Theme:
        if theme.value not in sums:
            continue
        total, count, shown, hidden = sums[theme.value]
        figures.append(ThemeFigure(
            theme=theme.value, label=str(theme.label), shown=count > 0,
            mean=_quantize(Decimal(total) / Decimal(count), "0.01") if count else None,
            answers=count, questions=shown, withheld=hidden))
    return figures


def _hours(survey_id) -> tuple[int, int]:
    """The sum and the number of a survey's answers to the workload question (what its mean is computed from)."""
    found = Answer.objects.filter(response__survey_id=survey_id, question__key=WORKLOAD_HOURS_KEY,
                                  number__isnull=False).aggregate(total=Sum("number"), count=Count("pk"))
    return found["total"] or 0, found["count"]


def _survey_figures(results: feedback.SurveyResults, raw: _Raw) -> FeedbackFigures:
    sums: dict[str, list[int]] = {}
    for question in results.questions:
        if question.kind != QuestionKind.LIKERT:
            continue
        entry = sums.setdefault(question.theme, [0, 0, 0, 0])
        raw_entry = raw.themes.setdefault(question.theme, [0, 0, 0, 0])
        if question.overall.shown:
            add = (sum(r * n for r, n in question.overall.distribution.items()),
                   sum(question.overall.distribution.values()), 1, 0)
        else:
            add = (0, 0, 0, 1)
        for target in (entry, raw_entry):
            for i, value in enumerate(add):
                target[i] += value
    workload = None
    if results.workload is not None:
        w = results.workload
        workload = WorkloadFigure(ects=w.ects, expected_low=w.expected_low, expected_high=w.expected_high,
                                  shown=w.hours.shown)
        if w.hours.shown:
            workload = dataclasses.replace(workload, respondents=w.hours.count, mean_hours=w.hours.mean,
                                           below=w.below, within=w.within, above=w.above)
            total, count = _hours(results.survey_id)
            raw.hours[0] += total
            raw.hours[1] += count
    figures = FeedbackFigures(surveys=1, closed=results.status == "closed", invited=results.invited,
                              answered=results.answered, response_rate=results.response_rate,
                              min_responses=results.min_responses, themes=_themes(sums), workload=workload)
    raw.feedback.append(figures)
    return figures


def _feedback_total(raw: _Raw, programme: Programme) -> FeedbackFigures | None:
    if not raw.feedback:
        return None
    invited = sum(f.invited for f in raw.feedback)
    answered = sum(f.answered for f in raw.feedback)
    shown = [f.workload for f in raw.feedback if f.workload is not None and f.workload.shown]
    offered = [f.workload for f in raw.feedback if f.workload is not None]
    workload = None
    if offered:
        low, high = programme.workload_hours
        workload = WorkloadFigure(ects=programme.ects, expected_low=low, expected_high=high, shown=bool(shown))
        hours, answers = raw.hours
        if shown and answers:
            workload = dataclasses.replace(
                workload, respondents=answers, mean_hours=_quantize(Decimal(hours) / Decimal(answers), "0.1"),
                below=sum(w.below for w in shown), within=sum(w.within for w in shown),
                above=sum(w.above for w in shown))
    return FeedbackFigures(surveys=len(raw.feedback), closed=all(f.closed for f in raw.feedback), invited=invited,
                           answered=answered, response_rate=rate(answered, invited),
                           min_responses=raw.feedback[0].min_responses, themes=_themes(raw.themes),
                           workload=workload)


def _recruitment(counts: dict[str, int]) -> RecruitmentFigures:
    return RecruitmentFigures(
        started=counts.get("started", 0), submitted=counts.get("submitted", 0), admitted=counts.get("admitted", 0),
        enrolled=counts.get("enrolled", 0), admission_rate=rate(counts.get("admitted", 0), counts.get("submitted", 0)),
        enrolment_rate=rate(counts.get("enrolled", 0), counts.get("admitted", 0)))


def _edition(edition: Edition, survey, raw: _Raw, today: dt.date) -> EditionEvidence:
    enrolments = list(Enrolment.objects.filter(edition=edition).select_related("application").order_by("pk"))
    courses, partners, scale_name = _results(edition, enrolments, raw)
    awards = dict(Award.objects.filter(enrolment__edition=edition).values_list("enrolment_id", "decided_at"))
    counts: dict[str, int] = defaultdict(int)
    counts["enrolled"] = len(enrolments)
    for enrolment in enrolments:
        status = enrolment.application.status
        key = ("awarded" if enrolment.pk in awards else "withdrawn" if status == S.WITHDRAWN
               else "suspended" if status == S.SUSPENDED else "studying")
        counts[key] += 1
    days = [(timezone.localdate(decided) - edition.ends_on).days for decided in awards.values()]
    for key, n in counts.items():
        raw.completion[key] += n
    raw.days += days
    funnel_counts = recruitment.funnel(edition=edition).total.counts
    for key, n in funnel_counts.items():
        raw.recruitment[key] += n
    survey_figures = _survey_figures(feedback.survey_results(survey), raw) if survey is not None else None
    return EditionEvidence(
        edition_id=str(edition.pk), intake_code=edition.intake_code, starts_on=edition.starts_on,
        ends_on=edition.ends_on, running=edition.ends_on >= today, joint_scale=scale_name,
        figures=Figures(courses=courses, partners=partners, completion=_completion(counts),
                        time_to_award=_time_to_award(days), feedback=survey_figures,
                        recruitment=_recruitment(funnel_counts)))


def year_editions(programme: Programme, year: int):
    """The programme's editions that end in academic year ``year``, in the order they end."""
    first, last = academic_year_bounds(year)
    return Edition.objects.filter(programme=programme, ends_on__range=(first, last)).order_by("ends_on", "intake_code")


def review_evidence(*, programme: Programme, year: int, now: dt.datetime | None = None) -> Evidence:
    """Every figure of ``programme``'s editions ending in academic year ``year``, per edition and in total."""
    now = now or timezone.now()
    first, last = academic_year_bounds(year)
    editions = list(year_editions(programme, year))
    surveys = {s.edition_id: s for s in feedback.programme_surveys(programme)
               if s.audience == Audience.LEARNER and s.edition_id in {e.pk for e in editions}}
    raw = _Raw()
    today = timezone.localdate(now)
    per_edition = [_edition(edition, surveys.get(edition.pk), raw, today) for edition in editions]
    # Distributions in total only when every edition with results grades on the same joint scale.
    grades = next(iter(raw.scales.values())) if len(raw.scales) == 1 else None
    total = Figures(
        courses=[_course_figures(code, title, partner, tally, grades)
                 for code, (title, partner, tally) in raw.courses.items()],
        partners=_partner_figures(raw.partners), completion=_completion(raw.completion),
        time_to_award=_time_to_award(raw.days), feedback=_feedback_total(raw, programme),
        recruitment=_recruitment(raw.recruitment))
    return Evidence(schema=SCHEMA, programme_id=str(programme.pk), programme_code=programme.code,
                    programme_title=programme.title, year=year, year_label=academic_year_label(year),
                    first_day=first, last_day=last, computed_at=now, editions=per_edition, total=total)


# --- JSON (the frozen evidence) ------------------------------------------------------------------------------------


def _plain(value: Any) -> Any:
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, dt.datetime):
        return value.isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    return value


def to_json(evidence: Evidence) -> dict[str, Any]:
    """The evidence as JSON-ready data (decimals as strings, dates ISO 8601)."""
    return {f.name: _plain(_as_data(getattr(evidence, f.name))) for f in dataclasses.fields(evidence)}


def _as_data(value: Any) -> Any:
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: _as_data(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, list | tuple):
        return [_as_data(v) for v in value]
    return value


def _read(kind: Any, value: Any) -> Any:
    if value is None:
        return None
    origin = typing.get_origin(kind)
    if origin in (typing.Union, types.UnionType):
        options = [k for k in typing.get_args(kind) if k is not type(None)]
        return _read(options[0], value)
    if origin is list:
        (item,) = typing.get_args(kind)
        return [_read(item, v) for v in value]
    if dataclasses.is_dataclass(kind):
        hints = typing.get_type_hints(kind)
        return kind(**{f.name: _read(hints[f.name], value[f.name]) for f in dataclasses.fields(kind)
                       if f.name in value})
    if kind is Decimal:
        return Decimal(value)
    if kind is dt.datetime:
        return dt.datetime.fromisoformat(value)
    if kind is dt.date:
        return dt.date.fromisoformat(value)
    return value


def from_json(data: dict[str, Any]) -> Evidence:
    """Frozen evidence back as an ``Evidence`` (``to_json``'s inverse)."""
    if data.get("schema") != SCHEMA:
        raise ValueError(f"Frozen evidence of schema {data.get('schema')!r}; this code reads schema {SCHEMA}.")
    return _read(Evidence, data)


__all__ = [
    "SCHEMA",
    "CompletionFigures",
    "CourseFigures",
    "EditionEvidence",
    "Evidence",
    "FeedbackFigures",
    "Figures",
    "GradeCount",
    "PartnerFigures",
    "RecruitmentFigures",
    "ThemeFigure",
    "TimeToAward",
    "WorkloadFigure",
    "from_json",
    "rate",
    "review_evidence",
    "to_json",
    "year_editions",
]
