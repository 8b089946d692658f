"""Journey 7 — quality: on the demo data, a learner answers the open feedback survey with the keyboard-free form;
the lead university's quality-assurance officer reads the feedback results, the approved quality review (and its
PDF) and the sustainability dashboard; the team leader follows the recruitment funnel. Every page passes axe."""

from __future__ import annotations

import io
import re

import pytest
from django.core.management import call_command
from playwright.sync_api import expect
from pypdf import PdfReader

from consortium.management.commands.seed_demo import DEMO_PASSWORD
from quality.models import QualityReview, Response, Survey

pytestmark = pytest.mark.e2e


@pytest.fixture
def demo(live_server):
    """The demo data, as `make run` loads it (tasks eager: the review's PDF is rendered when the seed commits). The
    test asks for it before ``journey``: sealing runs its own event loop, which Playwright's must not be running."""
    out = io.StringIO()
    call_command("seed_demo", stdout=out)
    return out.getvalue()


def test_a_learner_answers_and_quality_staff_read_results_review_dashboard_and_funnel(demo, journey):
    learner_email = re.search(r"(\S+@example\.org) has it to answer under My feedback", demo).group(1)
    survey = Survey.objects.get(programme__code="euchip-msd", audience="learner", status="open")
    before = Response.objects.filter(survey=survey).count()

    # The learner: My feedback → the survey → every rating 4, the hours, a comment → sent, once.
    learner = journey("learner")
    page = learner.page
    learner.log_in(learner_email, DEMO_PASSWORD)
    page.get_by_role("link", name="My feedback").click()
    learner.check()
    page.get_by_role("link", name=re.compile("Answer the survey")).first.click()
    learner.check("form")
    expect(page.get_by_text(re.compile("anonymous", re.I)).first).to_be_visible()
    for group in page.locator("main form fieldset").all():
        radios = group.locator("input[type=radio][value='4']")
        if radios.count():
            radios.first.check()
    for number in page.locator("main form input[type=number]").all():
        number.fill("140")
    textareas = page.locator("main form textarea")
    if textareas.count():
        textareas.first.fill("More worked examples in the second week, please.")
    page.get_by_role("button", name="Send my answers").click()
    expect(page.get_by_text("Thank you: your answers are saved, anonymously.")).to_be_visible()
    learner.check("sent")
    assert Response.objects.filter(survey=survey).count() == before + 1

    # The quality-assurance officer of the lead university.
    officer = journey("officer")
    page = officer.page
    officer.log_in("quality@kuleuven.example", DEMO_PASSWORD)
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Quality", exact=True).click()
    officer.check()
    page.get_by_role("link", name="Chip Design Fundamentals", exact=True).first.click()
    officer.check()

    page.get_by_role("link", name="Feedback", exact=True).click()
    officer.check()
    closed = Survey.objects.get(programme__code="euchip-cdf", audience="learner", status="closed")
    officer.go(f"/quality/surveys/{closed.pk}/")
    expect(page.get_by_text("4.17").first).to_be_visible()  # the overall rating the demo's six answers give
    officer.go(f"/quality/programmes/{closed.programme_id}/")

    page.get_by_role("link", name="Quality reviews").click()
    officer.check()
    review = QualityReview.objects.get(programme__code="euchip-cdf")
    page.get_by_role("link", name=review.year_label).first.click()
    officer.check()
    expect(page.get_by_text("77.8 %").first).to_be_visible()  # completion: 7 of 9 awarded
    with page.expect_download() as download:
        page.get_by_role("link", name=re.compile("Download the approved report")).click()
    text = "".join(p.extract_text() or "" for p in PdfReader(download.value.path()).pages)
    assert "Chip Design Fundamentals" in text and "77.8 %" in text

    officer.go(f"/quality/programmes/{review.programme_id}/sustainability/")
    expect(page.get_by_text("UNED commits money only until 2028; the plan runs until 2029.")).to_be_visible()

    # The team leader: the recruitment funnel of the edition, with its table.
    leader = journey("leader")
    page = leader.page
    leader.log_in("leader@kuleuven.example", DEMO_PASSWORD)
    leader.go(f"/quality/programmes/{review.programme_id}/")
    page.get_by_role("link", name="Recruitment", exact=True).click()
    leader.check()
    expect(page.get_by_role("table").first).to_be_visible()
    leader.go(f"/quality/programmes/{review.programme_id}/campaigns/")
    leader.screenshot()
