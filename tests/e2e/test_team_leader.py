"""Journey 1 — the team leader builds a programme in the browser; the board approves; the public page is complete."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from playwright.sync_api import expect

from programmes import services
from programmes.models import CurriculumStatus, Edition, EditionStatus, Programme, ProgrammeStatus
from tests.factories import PASSWORD
from tests.programmes.test_views import PUBLIC_HEADINGS, TEXTS  # the texts of every checklist item, its headings

from .forms import fill, submit

pytestmark = pytest.mark.e2e


def test_team_leader_builds_a_programme_the_board_approves_it_and_the_public_page_is_complete(journey, world):
    leader_user, board_user = world.people["UA_staff"], world.people["UB_staff"]
    leader = journey("leader")
    page = leader.page
    leader.log_in(leader_user.email, PASSWORD)

    # The wizard's first step: the programme's identity, type and delivery.
    leader.go("/manage/programmes/")
    page.get_by_role("link", name="New programme").first.click()
    leader.check()
    fill(page, {
        "consortium": world.ca.pk, "title": "Chip design fundamentals",
        "qualification_name": "Expert certificate in chip design", "code": "chip-design",
        "lead_institution": world.ua.pk, "issuing_institution": world.ua.pk, "ects": "5",
        "qualification_type": "cmf_micro_credential", "eqf_level": "6", "award_kind": "joint",
        "primary_language": "en", "delivery_mode": "online", "synchronicity": "asynchronous", "pacing": "cohort",
        "duration_weeks": "10",
    })
    submit(page)
    expect(page.get_by_text("Programme drafted.")).to_be_visible()
    programme = Programme.objects.get(code="chip-design")
    assert programme.status == ProgrammeStatus.DRAFT
    leader.check()
    # The checklist shows what is still missing, item by item.
    expect(page.locator(".checklist li.todo").first).to_be_visible()

    # Next steps: quality and contact, the texts, the outcomes, a partner, stackability.
    leader.go(f"/manage/programmes/{programme.pk}/section/quality/")
    fill(page, {"qa_scheme": "Accredited by the Flemish QA agency (ESG)", "contact_email": "chip@ua.example",
                "contact_name": "Programme office"})
    submit(page)
    leader.go(f"/manage/programmes/{programme.pk}/texts/en/")
    fill(page, TEXTS)
    submit(page)
    leader.go(f"/manage/programmes/{programme.pk}/")
    for category, outcome in [("knowledge", "Explain the digital design flow"),
                              ("skills", "Run a static timing analysis")]:
        page.get_by_text("Add a learning outcome").click()
        fill(page, {"category": category, "text": outcome}, within="#outcomes details form")
        with page.expect_navigation():
            page.locator("#outcomes details form button.primary").click()
        expect(page.locator("#outcomes").get_by_text(outcome)).to_be_visible()
    page.locator("#partners").get_by_role("link", name="Add a partner").click()
    leader.check()
    fill(page, {"institution": world.ub.pk})
    submit(page)
    page.locator("#stacking").get_by_role("link", name="Edit").click()
    leader.check()
    fill(page, {"stand_alone": True})
    submit(page)

    # The curriculum: two courses, the live total saying what each one does to the programme's 5 ECTS.
    page.locator("#curricula").get_by_role("link", name="v1").click()
    leader.check()
    projection = page.locator("[data-projection]")
    fill(page, {"code": "CD1", "title": "Digital design flow", "provider": world.ua.pk, "ects": "3",
                "mandatory": True, "assessment_method": "online_exam", "supervision": "supervised_online"},
         within="form.js-course-form")
    expect(projection).to_have_text("With this course: 3 of 5 ECTS (2 ECTS still missing).")
    page.locator("form.js-course-form [name='ects']").fill("6")
    expect(projection).to_have_text("With this course: 6 of 5 ECTS (1 ECTS too many).")
    page.locator("form.js-course-form [name='ects']").fill("3")
    with page.expect_navigation():
        page.get_by_role("button", name="Add course").click()
    expect(page.get_by_role("cell", name="Digital design flow")).to_be_visible()
    leader.check("one course")
    fill(page, {"code": "CD2", "title": "Timing analysis", "provider": world.ub.pk, "ects": "2", "mandatory": True,
                "assessment_method": "online_exam", "supervision": "supervised_online"}, within="form.js-course-form")
    expect(projection).to_have_text("With this course: 5 of 5 ECTS (matches the programme).")
    with page.expect_navigation():
        page.get_by_role("button", name="Add course").click()
    expect(page.locator("#totals").get_by_text("matches", exact=True)).to_be_visible()
    with page.expect_navigation():
        page.get_by_role("button", name="Submit to the programme board").click()
    expect(page.get_by_text("Submitted to the programme board.").first).to_be_visible()
    version = programme.curricula.get()
    assert version.status == CurriculumStatus.SUBMITTED

    # A board member (appointed by the consortium administrator) approves it from the board queue.
    services.board_member_appoint(actor=world.people["CA_admin"], programme=programme, email=board_user.email,
                                  role="programme_board")
    board = journey("board")
    board.log_in(board_user.email, PASSWORD)
    board.go("/manage/board/queue/")
    board.page.get_by_role("row", name=re.compile("Chip design fundamentals")).get_by_role("link", name="v1").click()
    board.check()
    fill(board.page, {"decision": "approve", "comment": "Coherent and complete."}, within="form:has([name='decision'])")
    with board.page.expect_navigation():
        board.page.get_by_role("button", name="Record the decision").click()
    version.refresh_from_db()
    assert version.status == CurriculumStatus.APPROVED and version.decided_by == board_user
    board.go("/manage/board/queue/")
    expect(board.page.get_by_text("Nothing awaits your decision.")).to_be_visible()

    # The leader publishes and opens an edition.
    leader.go(f"/manage/programmes/{programme.pk}/")
    expect(page.locator(".checklist li.todo")).to_have_count(0)
    with page.expect_navigation():
        page.get_by_role("button", name="Publish in the catalogue").click()
    page.get_by_role("link", name="New edition").click()
    leader.check()
    now = dt.datetime.now().replace(second=0, microsecond=0)
    starts = (now + dt.timedelta(days=30)).date()
    fill(page, {"intake_code": "2027-spring", "time_zone": "Europe/Brussels",
                "application_opens_at": (now - dt.timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M"),
                "application_closes_at": (now + dt.timedelta(days=20)).strftime("%Y-%m-%dT%H:%M"),
                "starts_on": starts.isoformat(), "ends_on": (starts + dt.timedelta(days=70)).isoformat(),
                "capacity": "30", "curriculum": version.pk})
    submit(page)
    with page.expect_navigation():
        page.locator("#editions").get_by_role("button", name="Open applications").click()
    expect(page.get_by_text("Open for applications").first).to_be_visible()
    assert Edition.objects.get(programme=programme).status == EditionStatus.OPEN

    # Anyone finds it in the catalogue; its public page shows every checklist item and the open edition.
    visitor = journey("visitor")
    visitor.go("/programmes/")
    visitor.page.get_by_role("link", name="Chip design fundamentals").first.click()
    visitor.check()
    for heading in PUBLIC_HEADINGS:
        expect(visitor.page.get_by_role("heading", name=heading, exact=True)).to_be_visible()
    main = visitor.page.locator("main")
    for text in [*TEXTS.values(), "Explain the digital design flow", "Digital design flow", "Timing analysis",
                 "2027-spring", "chip@ua.example", "Accredited by the Flemish QA agency (ESG)"]:
        expect(main).to_contain_text(text)
    visitor.screenshot()
