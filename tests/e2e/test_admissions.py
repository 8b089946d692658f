"""Journeys 2 and 3 — a learner signs up and applies; a student administrator admits; the learner accepts."""

from __future__ import annotations

import re

import pytest
from django.core import mail
from playwright.sync_api import expect

from admissions.models import Application, ApplicationStatus, Enrolment
from tests.admissions.scenarios import PDF_BYTES, answers, open_edition
from tests.admissions.test_staff import applicant, make_admissions
from tests.factories import PASSWORD, ApplicationDocumentFactory

from .forms import fill

pytestmark = pytest.mark.e2e


def test_learner_finds_the_programme_signs_up_and_applies_with_a_pdf(journey, tmp_path, settings):
    s = open_edition()
    proof = tmp_path / "ielts.pdf"
    proof.write_bytes(PDF_BYTES)
    learner = journey("learner")
    page = learner.page

    # The catalogue, the programme's public page, its Apply button.
    learner.go("/programmes/")
    page.get_by_role("link", name=s.programme.title).first.click()
    learner.check()
    page.get_by_role("link", name="Apply").first.click()

    # Not signed in: the sign-in page, then "sign up", with the way back to the application kept.
    assert "/accounts/login/" in page.url and "next=" in page.url
    learner.check()
    page.get_by_role("link", name=re.compile("sign up", re.I)).first.click()
    learner.check()
    fill(page, {"email": "new.learner@example.org", "password1": "a-long-and-unusual-passphrase",
                "password2": "a-long-and-unusual-passphrase"})
    with page.expect_navigation():
        page.get_by_role("button", name="Sign Up").click()
    expect(page.locator("main")).to_contain_text("Verify")
    learner.check()

    # The confirmation email's link verifies the address, signs the learner in and goes on to the application.
    (message,) = [m for m in mail.outbox if "new.learner@example.org" in m.to]
    link = re.search(r"https?://\S+/accounts/confirm-email/\S+/", message.body).group(0)
    learner.go(re.sub(r"^https?://[^/]+", "", link))
    with page.expect_navigation():
        page.get_by_role("button", name="Confirm").click()
    page.wait_for_url(re.compile(r"/my/applications/[0-9a-f-]+/edit/"))
    learner.check()
    values = answers(email="new.learner@example.org")
    values.pop("other_label")
    fill(page, values)
    page.locator(f"[name='document_{s.english.pk.hex}']").set_input_files(str(proof))
    with page.expect_navigation():
        page.get_by_role("button", name="Submit application").click()

    # The status page: submitted, the document listed; the application is in the database as submitted.
    learner.check()
    main = page.locator("main")
    expect(main).to_contain_text("Submitted")
    expect(main).to_contain_text("We received your application")
    expect(main).to_contain_text("Proof of English")
    application = Application.objects.get(applicant__email="new.learner@example.org")
    assert application.status == ApplicationStatus.SUBMITTED
    assert application.documents.get().criterion == s.english
    learner.go("/my/applications/")
    expect(page.locator("main")).to_contain_text("Submitted")
    learner.screenshot()


def test_student_administrator_filters_opens_the_document_admits_and_the_learner_accepts(journey, world):
    a = make_admissions(world)
    learner_user = world.people["learner"]
    for status, name in [(ApplicationStatus.SUBMITTED, "Noor"), (ApplicationStatus.REJECTED, "Olaf"),
                         (ApplicationStatus.SUBMITTED, "Pilar")]:
        applicant(a, status=status, given_names=name, family_names="Example")
    chosen = applicant(a, status=ApplicationStatus.SUBMITTED, applicant=learner_user, given_names="Maria",
                       family_names="Kowalska", email=learner_user.email)
    ApplicationDocumentFactory(application=chosen, criterion=a.language, label="Proof of English (B2)")

    admin = journey("student-admin")
    page = admin.page
    admin.log_in(world.people["UB_students"].email, PASSWORD)
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Admissions").click()
    admin.check()
    page.get_by_role("link", name=re.compile("queue", re.I)).first.click()
    admin.check()
    rows = page.locator("main table tbody tr")
    expect(rows).to_have_count(4)

    # Filters: submitted only, then a name.
    page.get_by_label("Status", exact=True).select_option(value=ApplicationStatus.SUBMITTED)
    with page.expect_navigation():
        page.get_by_role("button", name="Filter").click()
    expect(rows).to_have_count(3)
    admin.check("filtered")
    page.get_by_role("searchbox").fill("Kowalska")
    with page.expect_navigation():
        page.get_by_role("button", name="Filter").click()
    expect(rows).to_have_count(1)
    page.get_by_role("link", name=re.compile("Kowalska")).first.click()
    admin.check()

    # The document opens as a PDF.
    pdf_link = page.get_by_role("link", name="Open PDF")
    response = page.request.get(admin.url(pdf_link.get_attribute("href")))
    assert response.status == 200 and response.headers["content-type"] == "application/pdf"
    assert response.body().startswith(b"%PDF")

    # Admit.
    with page.expect_navigation():
        page.get_by_role("button", name="Admit", exact=True).click()
    expect(page.locator("main")).to_contain_text("Admitted")
    admin.check("admitted")
    chosen.refresh_from_db()
    assert chosen.status == ApplicationStatus.ADMITTED

    # The learner sees the offer and accepts it: enrolled.
    learner = journey("learner")
    learner.log_in(learner_user.email, PASSWORD)
    learner.go("/my/applications/")
    learner.page.get_by_role("link", name=re.compile(a.programme.title)).first.click()
    learner.check()
    expect(learner.page.locator("main")).to_contain_text("Admitted")
    with learner.page.expect_navigation():
        learner.page.get_by_role("button", name=re.compile("Accept", re.I)).first.click()
    learner.check("accepted")
    expect(learner.page.locator("main")).to_contain_text("Enrolled")
    chosen.refresh_from_db()
    assert chosen.status == ApplicationStatus.ENROLLED
    assert Enrolment.objects.filter(application=chosen, learner=learner_user).exists()
    learner.screenshot()
