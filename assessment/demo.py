"""Demo assessment: standard grading scales, joint examination regulations for both demo programmes, assessments
and examiners per course, and the first results of the Chip Design Fundamentals edition.

Everything goes through the services, as the people of the demo consortium would act: the team leader drafts
the regulations and their conversion tables, the examination board (exam.board@ou.example) approves them, the
examiners of each providing university enter and submit grades, the board approves them. One learner fails
CDF1 and passes the resit, one is exempted from CDF2 (recognition of prior learning, decided by the board), and
the MSD3 results of the microdegree cohort are left submitted, waiting for the board.
"""

from __future__ import annotations

import datetime as dt
import random
from decimal import Decimal

from allauth.account.models import EmailAddress

from admissions.api import ApplicationStatus, exemption_decide, exemption_request
from consortium.api import staff_member_add
from programmes.api import Course, Edition, Programme

from . import services
from .grading import Scale, numeric_scale, proportional_mapping
from .models import ExamRegulation, GradingScale

D = Decimal
PROGRAMMES = ("euchip-cdf", "euchip-msd")
JOINT = "Joint 0–20"
GERMAN_GRADES = ("1.0", "1.3", "1.7", "2.0", "2.3", "2.7", "3.0", "3.3", "3.7", "4.0", "5.0")
SCALES: list[tuple[str, str, Scale]] = [
    (JOINT, "", numeric_scale(D("0"), D("20"), D("1"), D("10"))),
    ("Spain 0–10", "ES", numeric_scale(D("0"), D("10"), D("0.5"), D("5"))),
    ("Netherlands 1–10", "NL", numeric_scale(D("1"), D("10"), D("0.5"), D("5.5"))),
    ("Belgium 0–20", "BE", numeric_scale(D("0"), D("20"), D("1"), D("10"))),
    ("Germany 1.0–5.0", "DE", Scale(GERMAN_GRADES, "4.0")),
    ("ECTS A–F", "", Scale(("A", "B", "C", "D", "E", "FX", "F"), "E")),
    ("Pass/fail", "", Scale(("PASS", "FAIL"), "PASS")),
]
#: The national scale each provider grades in.
PROVIDER_SCALES = {"KU Leuven": "Belgium 0–20", "UNED": "Spain 0–10", "OU NL": "Netherlands 1–10"}
#: Courses assessed by an exam (60 %) and a project (40 %); the others by one component (100 %).
TWO_COMPONENTS = {"CDF1", "MSD1", "MSD2"}
TITLES = {
    "on_site_exam": "On-site exam",
    "online_exam": "Online exam",
    "oral_exam": "Oral exam",
    "assignment": "Project",
    "continuous": "Participation",
}
OU_EXAMINER = ("examiner@ou.example", "Dr. Bram Hendriks", "Lecturer in integrated circuit design")
ORGANISATION = (
    "Exams are taken online with identity verification, or on site in Leuven for on-site exams; projects are "
    "submitted on the learning platform. Each course is examined by the university that teaches it and graded in "
    "its own scale, converted to the joint 0–20 scale. One resit per course; a resit replaces the failed "
    "component and the last attempt counts. Appeals go to the examination board within 14 days of the approval."
)


def _scales() -> dict[str, GradingScale]:
    found = {}
    for name, country, scale in SCALES:
        grading = GradingScale.objects.filter(name=name).first()
        if grading is None:
            grading = GradingScale(name=name, country=country, grades=list(scale.grades), pass_grade=scale.pass_grade)
            grading.full_clean()
            grading.save()
        found[name] = grading
    return found


def _regulation(programme: Programme, scales: dict[str, GradingScale], institutions, leader, board) -> ExamRegulation:
    regulation = services.regulation_create(
        actor=leader,
        programme=programme,
        data={
            "joint_scale": scales[JOINT],
            "resits_allowed": 1,
            "final_result": "last",
            "resit_scope": "component",
            "appeals_days": 14,
            "organisation": ORGANISATION,
        },
    )
    joint = scales[JOINT].scale
    for provider, scale_name in PROVIDER_SCALES.items():
        national = scales[scale_name]
        services.conversion_set(
            actor=leader,
            regulation=regulation,
            institution=institutions[provider],
            national_scale=national,
            mapping=proportional_mapping(national.scale, joint),
        )
    return services.regulation_approve(actor=board, regulation=regulation)


def _assessments(edition: Edition, leader) -> None:
    exam_day = edition.ends_on - dt.timedelta(days=7)
    project = {
        "opens_on": edition.starts_on + dt.timedelta(days=28),
        "closes_on": edition.ends_on - dt.timedelta(days=14),
    }
    for course in edition.curriculum.courses.order_by("position"):
        if course.code in TWO_COMPONENTS:
            method = course.assessment_method if course.assessment_method.endswith("exam") else "online_exam"
            components = [
                {
                    "title": TITLES[method],
                    "method": method,
                    "weight": D("60"),
                    "supervision": course.supervision,
                    "opens_on": exam_day,
                    "closes_on": exam_day,
                },
                {
                    "title": "Project",
                    "method": "assignment",
                    "weight": D("40"),
                    "supervision": "unsupervised",
                    **project,
                },
            ]
        else:
            dates = (
                project
                if course.assessment_method in ("assignment", "continuous")
                else {"opens_on": exam_day, "closes_on": exam_day}
            )
            components = [
                {
                    "title": TITLES[course.assessment_method],
                    "method": course.assessment_method,
                    "weight": D("100"),
                    "supervision": course.supervision,
                    **dates,
                }
            ]
        for data in components:
            services.assessment_save(actor=leader, edition=edition, course=course, data=data)


def _ou_examiner(ctx: dict):
    email, full_name, title = OU_EXAMINER
    profile = staff_member_add(
        actor=ctx["superuser"],
        institution=ctx["institutions"]["OU NL"],
        email=email,
        full_name=full_name,
        job_title=title,
        check_policy=False,
    )
    user = profile.user
    if not user.has_usable_password():
        user.set_password(ctx["password"])
        user.save(update_fields=["password"])
    EmailAddress.objects.update_or_create(user=user, email=user.email, defaults={"verified": True, "primary": True})
    return user


def _examiners(edition: Edition, leader, by_provider: dict) -> None:
    for course in edition.curriculum.courses.select_related("provider"):
        services.examiner_appoint(actor=leader, course=course, user=by_provider[course.provider.short_name])


def _enter(course: Course, edition: Edition, examiner, rows, attempt: int = 1):
    sheet = services.sheet_for(edition=edition, course=course, attempt=attempt)
    services.grades_enter(actor=examiner, sheet=sheet, rows=rows)
    return services.sheet_submit(actor=examiner, sheet=sheet)


def _cdf_results(edition: Edition, examiners: dict, leader, board) -> dict:
    courses = {c.code: c for c in edition.curriculum.courses.select_related("provider")}
    assessments = {}
    for course in courses.values():
        assessments[course.code] = list(course.assessments.filter(edition=edition).order_by("-weight", "title"))
    learners = list(services.gradable_enrolments(edition, courses["CDF1"]))
    if sum(1 for e in learners if e.application.status == ApplicationStatus.ENROLLED) < 2:
        return {"learners": 0}
    enrolled = [e for e in learners if e.application.status == ApplicationStatus.ENROLLED]
    failing, exempted = enrolled[0], enrolled[1]

    # An exemption from CDF2 (RPL): the learner asks, the examination board grants it.
    exemption = exemption_request(
        actor=exempted.learner,
        application=exempted.application,
        course=courses["CDF2"],
        basis="MSc course 'Functional verification with UVM' (TU Delft, 2023, 5 ECTS); transcript attached.",
    )
    exemption_decide(
        actor=board, exemption=exemption, granted=True, reason="The course covers CDF2's learning outcomes."
    )

    def grades(code: str, choices: list[str], skip=()) -> list[tuple]:
        rows = []
        for index, enrolment in enumerate(learners):
            if enrolment in skip:
                continue
            rng = random.Random(f"{code}-{index}")
            for assessment in assessments[code]:
                rows.append((enrolment, assessment, rng.choice(choices)))
        return rows

    # CDF1 (KU Leuven, Belgian 0–20): exam 60 %, project 40 %. One learner fails the exam: 0.6 × 7 + 0.4 × 12 = 9.
    cdf1 = grades("CDF1", ["11", "12", "13", "14", "15", "16", "17"])
    exam, project = assessments["CDF1"]
    cdf1 = [r for r in cdf1 if r[0] != failing] + [(failing, exam, "7"), (failing, project, "12")]
    services.sheet_approve(
        actor=board,
        sheet=_enter(courses["CDF1"], edition, examiners["KU Leuven"], cdf1),
        comment="Checked against the exam scripts.",
    )
    # The resit: only the failed exam is resat (component scope); 13 → 0.6 × 13 + 0.4 × 12 = 12.6, a pass.
    resit = services.resit_open(actor=leader, edition=edition, course=courses["CDF1"])
    services.sheet_approve(
        actor=board,
        sheet=_enter(courses["CDF1"], edition, examiners["KU Leuven"], [(failing, exam, "13")], attempt=resit.attempt),
    )
    # CDF2 (UNED, Spanish 0–10), without the exempted learner.
    cdf2 = grades("CDF2", ["5.5", "6.0", "6.5", "7.0", "7.5", "8.0", "8.5", "9.0"], skip=(exempted,))
    services.sheet_approve(actor=board, sheet=_enter(courses["CDF2"], edition, examiners["UNED"], cdf2))
    # CDF3 (OU NL, Dutch 1–10).
    services.sheet_approve(
        actor=board,
        sheet=_enter(
            courses["CDF3"], edition, examiners["OU NL"], grades("CDF3", ["6.0", "6.5", "7.0", "7.5", "8.0", "8.5"])
        ),
    )
    return {"learners": len(learners), "failing": failing, "exempted": exempted}


def _msd_pending(edition: Edition, examiners: dict) -> int:
    """MSD3 (OU NL) results of the microdegree cohort: submitted, waiting for the examination board."""
    course = edition.curriculum.courses.get(code="MSD3")
    assessment = course.assessments.filter(edition=edition).first()
    learners = list(services.gradable_enrolments(edition, course))
    if not learners or assessment is None:
        return 0
    rows = [
        (e, assessment, random.Random(f"MSD3-{i}").choice(["6.5", "7.0", "7.5", "8.0"])) for i, e in enumerate(learners)
    ]
    _enter(course, edition, examiners["OU NL"], rows)
    return len(learners)


def seed(ctx: dict) -> list[str]:
    scales = _scales()
    if ExamRegulation.objects.filter(programme__code__in=PROGRAMMES).exists():
        return ["Demo assessment (regulations, results) already exists."]
    people, institutions = ctx["people"], ctx["institutions"]
    leader, board = people["leader@kuleuven.example"], people["exam.board@ou.example"]
    examiners = {"KU Leuven": leader, "UNED": people["examiner@uned.example"], "OU NL": _ou_examiner(ctx)}
    outcome = {"learners": 0}
    for code in PROGRAMMES:
        programme = Programme.objects.get(code=code)
        regulation = _regulation(programme, scales, institutions, leader, board)
        edition = Edition.objects.filter(programme=programme, status="open").select_related("curriculum").first()
        if edition is None:
            continue
        services.edition_regulation_set(actor=leader, edition=edition, regulation=regulation)
        _assessments(edition, leader)
        _examiners(edition, leader, examiners)
        if code == "euchip-cdf":
            outcome = _cdf_results(edition, examiners, leader, board)
        else:
            _msd_pending(edition, examiners)
    line = (
        f"Assessment: {len(scales)} grading scales; regulations v1 (joint 0–20, one resit, appeals 14 days) for "
        f"{' and '.join(PROGRAMMES)}, approved by exam.board@ou.example; examiners appointed "
        f"(OU NL: {OU_EXAMINER[0]})"
    )
    if outcome["learners"]:
        line += (
            f"; CDF results for {outcome['learners']} learners ({outcome['failing'].learner.email} passed the CDF1 "
            f"resit, {outcome['exempted'].learner.email} exempted from CDF2); MSD3 results of the microdegree "
            "cohort awaiting the board's approval; learners see theirs at /my/results/."
        )
    return [line + ("" if outcome["learners"] else ".")]
