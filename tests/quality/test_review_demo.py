"""The demo quality review (issue 12 "Done when"): the review of Chip Design Fundamentals for the academic year of its
demo edition opens in the browser and as a PDF, with every evidence figure computed from the demo data; the figures
are checked here against values worked out by hand from the demo seeders:

* admissions/demo.py ``PLAN["euchip-cdf"]`` (applications 1–24, plus learner@example.org's draft): 2 drafts, 3
  submitted, 2 under review, 2 more information, 2 admitted, 2 rejected, 7 enrolled, 1 declined, 1 withdrawn after
  enrolling, 1 suspended, 1 waitlisted → started 25, submitted 22 (not the 3 drafts), admitted 12 (2 admitted + 9
  enrolments + 1 declined), enrolled 9; learner 18 (index % 9 == 0) follows the attendance track;
* assessment/demo.py: every CDF grade is drawn from passing grades, the one CDF1 failure passes the resit, one
  learner is exempted from CDF2 → 7 assessed learners (6 enrolled + the suspended one) pass every course (100.0 %),
  the attendance-only learner has no result ("pending"), CDF2 has 6 passed + 1 exempted;
* certification/demo.py: 7 awards, decided while seeding, 75 days before the start of a 10-week edition → −145 days;
  completion 7 / 9 = 77.8 %, dropout 1 / 9 = 11.1 %;
* quality/demo/feedback.py: 8 invited (the withdrawn learner is not), 6 answered → 75.0 %; learning (overall 25,
  outcomes 24, course quality 27 + 22 + 24) = 122 / 30 = 4.07; assessment (clear 24 + 22 + 23, fair 24) = 93 / 24
  = 3.88; teaching (CDF1 26, CDF2 22; CDF3 rated by two, left out) = 48 / 12 = 4.00; workload 18 / 6 = 3.00;
  support, accessibility, information 25 / 6 = 4.17; hours 155.8 on average, 1 below, 2 within, 3 above 125–150 h."""

from __future__ import annotations

import io
from decimal import Decimal as D

import pytest
from django.conf import settings
from django.db import transaction
from django.test import Client
from django.test.utils import override_settings
from django.utils.module_loading import import_string

from consortium.models import User
from quality.models import ActionStatus, QualityReview, ReportStatus, ReviewStatus

from .test_review import pdf_text

pytestmark = pytest.mark.django_db


def seed_with_the_review(django_capture_on_commit_callbacks) -> list[str]:
    """``seed_demo`` up to the quality review: the platform, the apps below quality, quality's feedback and
    recruitment seeders, then the review's (whose report is rendered at the commit, as with ``make run``)."""
    from consortium.management.commands.seed_demo import Command
    from quality.demo import feedback, recruitment, review

    with override_settings(EMAIL_BACKEND="django.core.mail.backends.dummy.EmailBackend"), transaction.atomic():
        context = Command(stdout=io.StringIO())._seed()["context"]
        lines = []
        for path in settings.DEMO_SEEDERS:
            if path != "quality.demo.seed":
                lines += import_string(path)(context)
        lines += feedback.seed(context) + recruitment.seed(context)
        with django_capture_on_commit_callbacks(execute=True):
            lines += review.seed(context)
        assert review.seed(context) == ["Demo quality review already exists."]
    return lines


def test_the_demo_review_opens_with_the_demo_figures(django_capture_on_commit_callbacks):
    lines = seed_with_the_review(django_capture_on_commit_callbacks)
    review = QualityReview.objects.select_related("programme").get()
    assert any(line.startswith(f"Quality review {review.year_label} of euchip-cdf") for line in lines)
    assert review.programme.code == "euchip-cdf" and review.status == ReviewStatus.APPROVED
    assert review.findings.count() == 3
    assert sorted(a.status for a in review.actions.all()) == sorted(
        [ActionStatus.DONE, ActionStatus.IN_PROGRESS, ActionStatus.DROPPED, ActionStatus.PLANNED])
    assert [a.title for a in review.actions.all() if a.overdue] == [
        "Publish the marking rubric of every assessment before the edition starts"]

    from quality.review import review_evidence

    evidence = review_evidence(review)
    [edition] = evidence.editions
    total = evidence.total
    assert edition.intake_code == "2027-spring" and edition.figures == total
    assert [(c.code, c.passed, c.failed, c.exempted, c.pending, c.pass_rate) for c in total.courses] == [
        ("CDF1", 7, 0, 0, 1, D("100.0")), ("CDF2", 6, 0, 1, 1, D("100.0")), ("CDF3", 7, 0, 0, 1, D("100.0"))]
    for course in total.courses:  # the grades were drawn at random, from passing grades only
        assert sum(g.count for g in course.distribution) == course.passed
        assert all(int(g.grade) >= 10 for g in course.grades_given)
    assert [(p.partner, p.passed, p.pass_rate) for p in total.partners] == [
        ("KU Leuven", 7, D("100.0")), ("OU NL", 7, D("100.0")), ("UNED", 6, D("100.0"))]
    c = total.completion
    assert (c.enrolled, c.awarded, c.withdrawn, c.suspended, c.studying, c.completion_rate, c.dropout_rate) == (
        9, 7, 1, 1, 0, D("77.8"), D("11.1"))
    t = total.time_to_award
    assert (t.awards, t.median_days, t.mean_days, t.before_end) == (7, D("-145.0"), D("-145.0"), 7)
    r = total.recruitment
    assert (r.started, r.submitted, r.admitted, r.enrolled, r.admission_rate, r.enrolment_rate) == (
        25, 22, 12, 9, D("54.5"), D("75.0"))
    f = total.feedback
    assert (f.invited, f.answered, f.response_rate, f.closed) == (8, 6, D("75.0"), True)
    assert {t.theme: t.mean for t in f.themes} == {
        "learning": D("4.07"), "teaching": D("4.00"), "assessment": D("3.88"), "workload": D("3.00"),
        "support": D("4.17"), "accessibility": D("4.17"), "information": D("4.17")}
    w = f.workload
    assert (w.ects, w.expected_low, w.expected_high, w.mean_hours, w.below, w.within, w.above) == (
        D("5.0"), 125, 150, D("155.8"), 1, 2, 3)

    # In the browser (the team leader; the board's chair; the lead institution's QA officer) and as a PDF.
    figures = ["100.0 %", "77.8 %", "11.1 %", "-145.0", "54.5 %", "75.0 %", "4.07", "3.88", "4.17", "155.8",
               "125 to 150 hours"]
    for email in ("leader@kuleuven.example", "board@kuleuven.example", "quality@kuleuven.example"):
        client = Client()
        client.force_login(User.objects.get(email=email))
        page = client.get(f"/quality/reviews/{review.pk}/")
        assert page.status_code == 200
        body = page.content.decode()
        assert all(figure in body for figure in figures), email
    report = review.reports.get(final=True)
    assert report.status == ReportStatus.READY
    pdf = client.get(f"/quality/reviews/{review.pk}/report.pdf")
    assert pdf.status_code == 200
    text = pdf_text(b"".join(pdf.streaming_content))
    assert all(figure in text for figure in figures) and "Chip Design Fundamentals" in text
    assert "Approved. Report back on the workload of CDF2" in text


def test_the_learner_the_demo_names_signs_in_and_finds_the_open_survey(django_capture_on_commit_callbacks):
    import re

    lines = seed_with_the_review(django_capture_on_commit_callbacks)
    [line] = [line for line in lines if "has it to answer under My feedback" in line]
    email = re.search(r"(\S+@example\.org) has it to answer", line).group(1)
    client = Client()
    signed_in = client.post("/accounts/login/", {"login": email, "password": "demo-pass-2026"})
    assert signed_in.status_code == 302 and "/accounts/confirm-email/" not in signed_in["Location"]
    page = client.get("/my/feedback/").content.decode()
    assert "Semiconductor Design" in page or "euchip-msd" in page
