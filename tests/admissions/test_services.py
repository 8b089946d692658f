"""Admission services (D4): the application lifecycle, capacity and waiting list, lapsing offers, duplicates,
uploads, submission checks, recognition of prior learning, audit and personal data."""

import datetime as dt
import os
from decimal import Decimal

import pytest
from django.core import mail
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction
from django.utils import timezone

from admissions import services
from admissions.models import (
    Application,
    ApplicationDocument,
    ApplicationMessage,
    ApplicationStatus,
    Enrolment,
    ExemptionRequest,
    InstitutionRegistration,
)
from consortium.api import DomainError, TransitionError, personal_data
from consortium.models import AuditEvent, User

from ..factories import (
    PDF_BYTES,
    AdmissionFrameworkFactory,
    ApplicationDocumentFactory,
    ApplicationFactory,
    CourseFactory,
    CriterionFactory,
    EditionFactory,
    ProgrammeFactory,
    ProgrammePartnerFactory,
    RoleAssignmentFactory,
    StaffFactory,
)

S = ApplicationStatus


def who(w, name: str) -> User:
    """A fresh copy of the person: the policy caches roles on the user object."""
    return User.objects.get(pk=w.people[name].pk)


def fresh(user: User) -> User:
    return User.objects.get(pk=user.pk)


class Admissions:
    """An open edition of a published programme of consortium CA: lead and issuing institution UA, partner UB
    (reviews every application; its platform registers enrolled learners) and associated partner EA."""


def make_admissions(w, *, capacity=30, payment_required=False) -> Admissions:
    a = Admissions()
    a.w = w
    a.programme = ProgrammeFactory(consortium=w.ca, lead_institution=w.ua, status="published")
    ProgrammePartnerFactory(programme=a.programme, institution=w.ub, role="partner", registration_required=True)
    ProgrammePartnerFactory(programme=a.programme, institution=w.ea, role="associated")
    a.edition = EditionFactory(programme=a.programme, status="open", capacity=capacity)
    a.framework = AdmissionFrameworkFactory(edition=a.edition, reviewing_institution=w.ub,
                                            payment_required=payment_required)
    a.language = CriterionFactory(framework=a.framework, kind="language", document_label="Proof of English (B2)")
    a.degree = CriterionFactory(framework=a.framework, kind="prior_degree", description="A bachelor's degree",
                                language="", min_cefr="", min_eqf_level=6, document_label="")
    a.portfolio = CriterionFactory(framework=a.framework, kind="alternative", description="Portfolio and interview",
                                   language="", min_cefr="", document_label="Portfolio")
    return a


@pytest.fixture
def adm(world) -> Admissions:
    return make_admissions(world)


def reviewer(a: Admissions) -> User:
    return who(a.w, "UB_students")


def pdf(name="proof.pdf", content=PDF_BYTES) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, content, content_type="application/pdf")


def draft(a: Admissions, **fields) -> Application:
    """A complete draft (every field filled, the required documents uploaded)."""
    application = ApplicationFactory(edition=a.edition, **fields)
    ApplicationDocumentFactory(application=application, criterion=a.language, label=a.language.document_label)
    if application.route == "alternative":
        ApplicationDocumentFactory(application=application, criterion=a.portfolio, label="Portfolio")
    return application


def submit(a: Admissions, **fields) -> Application:
    application = draft(a, **fields)
    return services.application_submit(actor=fresh(application.applicant), application=application)


def status_of(application: Application) -> str:
    return Application.objects.values_list("status", flat=True).get(pk=application.pk)


# --- Domain events: recorded by subscribers configured in the tests ---------------------------------------

EVENTS: list[tuple[str, dict]] = []


def on_offer_accepted(**payload):
    EVENTS.append(("admissions.offer_accepted", payload))


def on_enrolled(**payload):
    EVENTS.append(("admissions.enrolled", payload))


def on_withdrawn(**payload):
    EVENTS.append(("admissions.withdrawn", payload))


@pytest.fixture
def events(settings):
    EVENTS.clear()
    here = __name__
    settings.DOMAIN_EVENT_SUBSCRIBERS = {
        **settings.DOMAIN_EVENT_SUBSCRIBERS,
        "admissions.offer_accepted": [f"{here}.on_offer_accepted"],
        "admissions.enrolled": [f"{here}.on_enrolled"],
        "admissions.withdrawn": [f"{here}.on_withdrawn"],
    }
    yield EVENTS
    EVENTS.clear()


# --- 1. The lifecycle, table-driven -----------------------------------------------------------------------

#: Who performs each transition, and the statuses it is legal from (written out here, independently of
#: services.APPLICATION_TRANSITIONS, so a wrong entry there is caught).
LEGAL = {
    "submit": {S.DRAFT},
    "answer": {S.INFO_REQUESTED},
    "review": {S.SUBMITTED, S.INFO_REQUESTED},
    "request_info": {S.SUBMITTED, S.UNDER_REVIEW},
    "admit": {S.SUBMITTED, S.UNDER_REVIEW, S.WAITLISTED},
    "waitlist": {S.SUBMITTED, S.UNDER_REVIEW},
    "reject": {S.SUBMITTED, S.UNDER_REVIEW, S.WAITLISTED},
    "accept": {S.ADMITTED},
    "decline": {S.ADMITTED},
    "payment_received": {S.AWAITING_PAYMENT},
    "suspend": {S.ENROLLED},
    "resume": {S.SUSPENDED},
    "complete": {S.ENROLLED},
    "withdraw": {S.DRAFT, S.SUBMITTED, S.UNDER_REVIEW, S.INFO_REQUESTED, S.WAITLISTED, S.ADMITTED, S.OFFER_ACCEPTED,
                 S.AWAITING_PAYMENT, S.ENROLLED, S.SUSPENDED},
}


def perform(a: Admissions, transition: str, application: Application):
    learner = fresh(application.applicant)
    admin = reviewer(a)
    calls = {
        "submit": lambda: services.application_submit(actor=learner, application=application),
        "answer": lambda: services.application_answer(actor=learner, application=application, body="Attached."),
        "review": lambda: services.application_review_start(actor=admin, application=application),
        "request_info": lambda: services.application_request_info(actor=admin, application=application,
                                                                  message="Send the transcript."),
        "admit": lambda: services.application_admit(actor=admin, application=application),
        "waitlist": lambda: services.application_waitlist(actor=admin, application=application),
        "reject": lambda: services.application_reject(actor=admin, application=application, reason="No degree."),
        "accept": lambda: services.application_accept_offer(actor=learner, application=application),
        "decline": lambda: services.application_decline_offer(actor=learner, application=application),
        "payment_received": lambda: services.application_payment_received(actor=None, application=application),
        "suspend": lambda: services.enrolment_suspend(actor=admin, application=application, reason="Leave."),
        "resume": lambda: services.enrolment_resume(actor=admin, application=application),
        "complete": lambda: services.enrolment_complete(actor=admin, application=application),
        "withdraw": lambda: services.application_withdraw(actor=learner, application=application),
    }
    return calls[transition]()


def test_the_table_covers_every_status_and_matches_the_services():
    assert set(services.APPLICATION_TRANSITIONS) == set(S.values)
    reachable = {s for sources in LEGAL.values() for s in sources}
    assert reachable | {S.REJECTED, S.DECLINED, S.LAPSED, S.COMPLETED, S.WITHDRAWN} == set(S.values)


@pytest.mark.parametrize("transition", sorted(LEGAL))
def test_every_illegal_transition_is_refused_and_changes_nothing(adm, transition):
    refused = []
    for status in S.values:
        if status in LEGAL[transition]:
            continue
        application = draft(adm, status=status, offer_deadline=timezone.now() + dt.timedelta(days=3))
        messages = ApplicationMessage.objects.count()
        with pytest.raises(TransitionError) as caught:
            perform(adm, transition, application)
        assert caught.value.message, (transition, status)
        if status_of(application) != status:
            refused.append(f"{transition} from {status} moved it to {status_of(application)}")
        assert ApplicationMessage.objects.count() == messages
        assert not Enrolment.objects.filter(application=application).exists()
    assert not refused


@pytest.mark.parametrize("transition", sorted(LEGAL))
def test_every_legal_transition_is_allowed(adm, transition):
    for status in LEGAL[transition]:
        application = draft(adm, status=status, offer_deadline=timezone.now() + dt.timedelta(days=3))
        perform(adm, transition, application)
        assert status_of(application) != status, (transition, status)


class TestHappyPaths:
    def test_submit_review_admit_accept_enrols_with_registrations(self, world, adm, events,
                                                                  django_capture_on_commit_callbacks):
        learner = who(world, "learner")
        with django_capture_on_commit_callbacks(execute=True):
            application = services.application_start(actor=learner, edition=adm.edition,
                                                     utm={"utm_source": "newsletter", "other": "dropped"})
            assert application.status == S.DRAFT
            assert application.utm_source == "newsletter"
            application = services.application_save(
                actor=learner, application=application,
                data={"given_names": "Maria", "family_names": "Kowalska", "date_of_birth": dt.date(1988, 3, 2),
                      "nationality": "PL", "participant_profile": "professional", "track": "assessed",
                      "motivation": "Chip design."},
                documents=[("Proof of English (B2)", pdf(), adm.language)])
            assert services.submission_problems(application) == []
            application = services.application_submit(actor=learner, application=application)
            assert application.submitted_at is not None
            application = services.application_review_start(actor=reviewer(adm), application=application)
            assert status_of(application) == S.UNDER_REVIEW
            application = services.application_admit(actor=reviewer(adm), application=application, reason="Meets all.")
            assert status_of(application) == S.ADMITTED
            application.refresh_from_db()
            assert application.offer_deadline > timezone.now() + dt.timedelta(days=13)
            services.application_accept_offer(actor=learner, application=application)

        assert status_of(application) == S.ENROLLED
        enrolment = Enrolment.objects.get(application=application)
        assert enrolment.learner == learner
        assert enrolment.edition == adm.edition
        registered = {r.institution for r in InstitutionRegistration.objects.filter(enrolment=enrolment)}
        assert registered == {world.ua, world.ub}  # issuing UA + UB (registration required); not EA
        assert all(r.status == "pending" for r in enrolment.registrations.all())
        assert events == [
            ("admissions.offer_accepted", {"application_id": str(application.pk)}),
            ("admissions.enrolled", {"enrolment_id": str(enrolment.pk), "application_id": str(application.pk)}),
        ]
        # Submitted, admitted, enrolled (starting the review and the acceptance itself send nothing).
        assert len(mail.outbox) == 3
        assert all(m.to == [application.email] for m in mail.outbox)
        assert "Accept the offer by" in mail.outbox[1].body

    def test_payment_gate_waits_then_enrols(self, world, events, django_capture_on_commit_callbacks):
        a = make_admissions(world, payment_required=True)
        application = submit(a)
        with django_capture_on_commit_callbacks(execute=True):
            services.application_admit(actor=reviewer(a), application=application)
            services.application_accept_offer(actor=fresh(application.applicant), application=application)
        assert status_of(application) == S.AWAITING_PAYMENT
        assert not Enrolment.objects.filter(application=application).exists()
        assert events == [("admissions.offer_accepted", {"application_id": str(application.pk)})]

        with django_capture_on_commit_callbacks(execute=True):
            enrolment = services.application_payment_received(actor=None, application=application)
        assert status_of(application) == S.ENROLLED
        assert enrolment.registrations.count() == 2
        assert events[-1] == ("admissions.enrolled", {"enrolment_id": str(enrolment.pk),
                                                      "application_id": str(application.pk)})
        with pytest.raises(TransitionError):
            services.application_payment_received(actor=None, application=application)
        assert Enrolment.objects.filter(application=application).count() == 1

    def test_withdrawal_is_published(self, adm, events, django_capture_on_commit_callbacks):
        application = submit(adm)
        with django_capture_on_commit_callbacks(execute=True):
            services.application_withdraw(actor=fresh(application.applicant), application=application,
                                          reason="Changed jobs.")
        assert status_of(application) == S.WITHDRAWN
        assert events == [("admissions.withdrawn", {"application_id": str(application.pk)})]

    def test_events_are_not_published_when_the_transaction_rolls_back(self, adm, events,
                                                                       django_capture_on_commit_callbacks):
        application = draft(adm, status=S.ADMITTED, offer_deadline=timezone.now() + dt.timedelta(days=1))
        with (django_capture_on_commit_callbacks(execute=True) as callbacks, pytest.raises(RuntimeError),
              transaction.atomic()):
            services.application_accept_offer(actor=fresh(application.applicant), application=application)
            raise RuntimeError("something later in the same transaction failed")
        assert callbacks == []
        assert events == []
        assert mail.outbox == []
        assert status_of(application) == S.ADMITTED
        assert not Enrolment.objects.filter(application=application).exists()

    def test_information_request_and_answer(self, adm, django_capture_on_commit_callbacks):
        application = submit(adm)
        with django_capture_on_commit_callbacks(execute=True):
            services.application_request_info(actor=reviewer(adm), application=application,
                                              message="Please send your transcript.")
        assert status_of(application) == S.INFO_REQUESTED
        assert mail.outbox[-1].body.startswith("Please send your transcript.")
        services.application_answer(actor=fresh(application.applicant), application=application, body="Here it is.",
                                    documents=[("Transcript", pdf("transcript.pdf"), None)])
        assert status_of(application) == S.UNDER_REVIEW
        assert application.documents.filter(label="Transcript").exists()
        assert application.messages.filter(kind="response", body="Here it is.").exists()

    def test_offer_past_its_deadline_cannot_be_accepted(self, adm):
        application = draft(adm, status=S.ADMITTED, offer_deadline=timezone.now() - dt.timedelta(minutes=1))
        with pytest.raises(TransitionError, match="lapsed"):
            services.application_accept_offer(actor=fresh(application.applicant), application=application)
        assert status_of(application) == S.ADMITTED


class TestDecisionsNeedTheirText:
    def test_request_info_needs_a_message(self, adm):
        application = submit(adm)
        with pytest.raises(ValidationError) as caught:
            services.application_request_info(actor=reviewer(adm), application=application, message="   ")
        assert "message" in caught.value.message_dict
        assert status_of(application) == S.SUBMITTED

    def test_reject_needs_a_reason(self, adm):
        application = submit(adm)
        with pytest.raises(ValidationError) as caught:
            services.application_reject(actor=reviewer(adm), application=application, reason="")
        assert "reason" in caught.value.message_dict
        assert status_of(application) == S.SUBMITTED

    def test_reject_reason_reaches_the_applicant(self, adm, django_capture_on_commit_callbacks):
        application = submit(adm)
        with django_capture_on_commit_callbacks(execute=True):
            services.application_reject(actor=reviewer(adm), application=application, reason="No STEM degree.")
        application.refresh_from_db()
        assert application.decision_reason == "No STEM degree."
        assert "No STEM degree." in mail.outbox[-1].body

    def test_only_the_reviewing_institution_decides(self, world, adm):
        application = submit(adm)
        for name in ("UA_students", "UC_students", "CA_admin", "UB_staff"):
            with pytest.raises(PermissionDenied):
                services.application_admit(actor=who(world, name), application=application)
        with pytest.raises(PermissionDenied):
            services.application_admit(actor=fresh(application.applicant), application=application)
        assert status_of(application) == S.SUBMITTED


# --- 2. Capacity and the waiting list ---------------------------------------------------------------------


@pytest.fixture
def full(world):
    """Capacity 1: A admitted; B waitlisted yesterday, C waitlisted two days ago (so C is first)."""
    a = make_admissions(world, capacity=1)
    a.first = submit(a)
    services.application_admit(actor=reviewer(a), application=a.first)
    now = timezone.now()
    a.b = submit(a)
    services.application_waitlist(actor=reviewer(a), application=a.b)
    Application.objects.filter(pk=a.b.pk).update(waitlisted_at=now - dt.timedelta(days=1))
    a.c = submit(a)
    services.application_waitlist(actor=reviewer(a), application=a.c)
    Application.objects.filter(pk=a.c.pk).update(waitlisted_at=now - dt.timedelta(days=2))
    return a


class TestCapacity:
    def test_admit_is_refused_when_the_edition_is_full(self, full):
        with pytest.raises(DomainError, match="full") as caught:
            services.application_admit(actor=reviewer(full), application=full.b)
        assert not isinstance(caught.value, TransitionError)
        assert status_of(full.b) == S.WAITLISTED
        assert services.places_taken(full.edition) == 1

    def test_no_capacity_means_no_limit(self, world):
        a = make_admissions(world, capacity=None)
        for _ in range(3):
            services.application_admit(actor=reviewer(a), application=submit(a))
        assert services.places_taken(a.edition) == 3

    def test_place_holding_statuses_count(self, world):
        a = make_admissions(world, capacity=2)
        draft(a, status=S.ENROLLED)
        draft(a, status=S.REJECTED)
        draft(a, status=S.DECLINED)
        draft(a, status=S.WITHDRAWN)
        assert services.places_taken(a.edition) == 1
        services.application_admit(actor=reviewer(a), application=submit(a))
        with pytest.raises(DomainError, match="full"):
            services.application_admit(actor=reviewer(a), application=submit(a))

    @pytest.mark.parametrize("how", ["decline", "withdraw", "lapse"])
    def test_a_freed_place_goes_to_the_first_waitlisted(self, full, how, django_capture_on_commit_callbacks):
        learner = fresh(full.first.applicant)
        mail.outbox.clear()
        with django_capture_on_commit_callbacks(execute=True):
            if how == "decline":
                services.application_decline_offer(actor=learner, application=full.first)
            elif how == "withdraw":
                services.application_withdraw(actor=learner, application=full.first)
            else:
                Application.objects.filter(pk=full.first.pk).update(
                    offer_deadline=timezone.now() - dt.timedelta(hours=1))
                assert services.applications_lapse_overdue() == 1
        assert status_of(full.first) == {"decline": S.DECLINED, "withdraw": S.WITHDRAWN, "lapse": S.LAPSED}[how]
        assert status_of(full.c) == S.ADMITTED  # waitlisted first
        assert status_of(full.b) == S.WAITLISTED
        full.c.refresh_from_db()
        assert full.c.waitlisted_at is None
        assert full.c.offer_deadline > timezone.now()
        assert services.places_taken(full.edition) == 1
        promoted = [m for m in mail.outbox if m.to == [full.c.email]]
        assert len(promoted) == 1
        assert "admitted" in promoted[0].body
        assert AuditEvent.objects.filter(action="application.admitted", object_id=str(full.c.pk),
                                         actor_label="system").exists()

    def test_withdrawal_without_a_place_promotes_nobody(self, full):
        services.application_withdraw(actor=fresh(full.b.applicant), application=full.b)
        assert status_of(full.c) == S.WAITLISTED

    def test_rejecting_a_waitlisted_applicant(self, full):
        services.application_reject(actor=reviewer(full), application=full.c, reason="No longer eligible.")
        assert status_of(full.c) == S.REJECTED


class TestLapse:
    def test_only_overdue_offers_lapse(self, world):
        a = make_admissions(world)
        now = timezone.now()
        overdue = draft(a, status=S.ADMITTED, offer_deadline=now - dt.timedelta(minutes=5))
        pending = draft(a, status=S.ADMITTED, offer_deadline=now + dt.timedelta(days=2))
        accepted = draft(a, status=S.OFFER_ACCEPTED, offer_deadline=now - dt.timedelta(days=5))
        assert services.applications_lapse_overdue() == 1
        assert status_of(overdue) == S.LAPSED
        assert status_of(pending) == S.ADMITTED
        assert status_of(accepted) == S.OFFER_ACCEPTED
        assert services.applications_lapse_overdue() == 0

    def test_lapse_at_a_given_time(self, world):
        a = make_admissions(world)
        now = timezone.now()
        soon = draft(a, status=S.ADMITTED, offer_deadline=now + dt.timedelta(days=2))
        assert services.applications_lapse_overdue(now=now + dt.timedelta(days=1)) == 0
        assert services.applications_lapse_overdue(now=now + dt.timedelta(days=3)) == 1
        assert status_of(soon) == S.LAPSED

    def test_the_task_lapses(self, world):
        from admissions.tasks import lapse_overdue_offers

        a = make_admissions(world)
        draft(a, status=S.ADMITTED, offer_deadline=timezone.now() - dt.timedelta(days=1))
        assert lapse_overdue_offers.delay().get() == 1


# --- 3. Duplicates ----------------------------------------------------------------------------------------


class TestDuplicates:
    def test_same_name_and_date_of_birth_flags_both(self, adm):
        first = submit(adm, given_names="Ana María", family_names="García", date_of_birth=dt.date(1990, 1, 2))
        assert not Application.objects.get(pk=first.pk).possible_duplicate
        # Case does not matter (SQLite folds ASCII letters only, so the accented letters keep their case).
        second = submit(adm, given_names="ANA MARíA", family_names="garcía", date_of_birth=dt.date(1990, 1, 2))
        assert second.possible_duplicate
        assert Application.objects.get(pk=first.pk).possible_duplicate
        assert Application.objects.get(pk=second.pk).possible_duplicate

    def test_same_email_flags_both(self, adm):
        first = submit(adm, email="same@example.org", given_names="Jan")
        second = submit(adm, email="SAME@example.org", given_names="Piet")
        assert Application.objects.filter(pk__in=[first.pk, second.pk], possible_duplicate=True).count() == 2

    def test_different_people_are_not_flagged(self, adm):
        first = submit(adm, given_names="Ana", family_names="García", date_of_birth=dt.date(1990, 1, 2))
        other_birthday = submit(adm, given_names="Ana", family_names="García", date_of_birth=dt.date(1991, 1, 2))
        assert not Application.objects.filter(pk__in=[first.pk, other_birthday.pk], possible_duplicate=True).exists()

    def test_drafts_and_other_editions_do_not_count(self, world, adm):
        draft(adm, email="same@example.org")
        elsewhere = make_admissions(world)
        submit(elsewhere, email="same@example.org")
        application = submit(adm, email="same@example.org")
        assert not Application.objects.filter(possible_duplicate=True).exists()
        assert not application.possible_duplicate


# --- 4. Uploads and the learner's answers -----------------------------------------------------------------


class TestUploads:
    def _refused(self, adm, upload, settings=None):
        application = ApplicationFactory(edition=adm.edition, motivation="Before.")
        learner = fresh(application.applicant)
        good = ("Proof of English (B2)", pdf(), adm.language)
        with pytest.raises(ValidationError) as caught:
            services.application_save(actor=learner, application=application,
                                      data={"motivation": "After.", "experience_years": 9},
                                      documents=[good, ("Portfolio", upload, adm.portfolio)])
        assert "documents" in caught.value.message_dict
        assert not ApplicationDocument.objects.filter(application=application).exists()
        stored = Application.objects.get(pk=application.pk)
        assert stored.motivation == "Before."
        assert stored.experience_years == 3
        assert not AuditEvent.objects.filter(action="application.saved", object_id=str(application.pk)).exists()
        return " ".join(caught.value.message_dict["documents"])

    def test_renamed_executable_is_refused(self, adm):
        message = self._refused(adm, SimpleUploadedFile("portfolio.pdf", b"MZ\x90\x00\x03" + b"\x00" * 200,
                                                        content_type="application/pdf"))
        assert "not an accepted file type" in message
        assert "Portfolio" in message

    def test_oversized_file_is_refused(self, adm, settings):
        settings.UPLOAD_MAX_BYTES = 1024
        message = self._refused(adm, pdf("big.pdf", PDF_BYTES + b"0" * 2048))
        assert "limit" in message

    def test_empty_file_is_refused(self, adm):
        message = self._refused(adm, SimpleUploadedFile("empty.pdf", b"", content_type="application/pdf"))
        assert "empty" in message

    def test_valid_uploads_are_saved_with_their_kind(self, adm):
        application = ApplicationFactory(edition=adm.edition)
        png = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32
        services.application_save(actor=fresh(application.applicant), application=application,
                                  data={"motivation": "After."},
                                  documents=[("Proof of English (B2)", pdf(), adm.language),
                                             ("Portfolio", SimpleUploadedFile("p.png", png), adm.portfolio)])
        kinds = dict(application.documents.values_list("label", "kind"))
        assert kinds == {"Proof of English (B2)": "pdf", "Portfolio": "png"}
        assert Application.objects.get(pk=application.pk).motivation == "After."
        event = AuditEvent.objects.get(action="application.saved", object_id=str(application.pk))
        assert event.changes["fields"] == ["motivation"]

    def test_invalid_answers_save_nothing(self, adm):
        application = ApplicationFactory(edition=adm.edition)
        with pytest.raises(ValidationError) as caught:
            services.application_save(actor=fresh(application.applicant), application=application,
                                      data={"highest_eqf_level": 12, "motivation": "After."},
                                      documents=[("Proof of English (B2)", pdf(), adm.language)])
        assert "highest_eqf_level" in caught.value.message_dict
        assert not application.documents.exists()
        assert Application.objects.get(pk=application.pk).motivation != "After."

    def test_submitted_application_can_no_longer_be_changed(self, adm):
        application = submit(adm)
        with pytest.raises(TransitionError):
            services.application_save(actor=fresh(application.applicant), application=application,
                                      data={"motivation": "Changed"})

    def test_only_the_applicant_edits(self, world, adm):
        application = ApplicationFactory(edition=adm.edition)
        with pytest.raises(PermissionDenied):
            services.application_save(actor=reviewer(adm), application=application, data={"motivation": "x"})


class TestSubmissionProblems:
    def test_missing_fields_are_listed(self, adm):
        application = ApplicationFactory(edition=adm.edition, motivation="", nationality="", date_of_birth=None)
        ApplicationDocumentFactory(application=application, criterion=adm.language)
        problems = services.submission_problems(application)
        assert len(problems) == 1
        assert problems[0].startswith("Still to fill in:")
        for label in ("date of birth", "nationality", "motivation"):
            assert label in problems[0]

    def test_missing_document_is_listed(self, adm):
        application = ApplicationFactory(edition=adm.edition)
        assert services.submission_problems(application) == ["Upload: Proof of English (B2)."]

    def test_alternative_route_document_only_on_the_alternative_route(self, adm):
        standard = ApplicationFactory(edition=adm.edition, route="standard")
        ApplicationDocumentFactory(application=standard, criterion=adm.language)
        assert services.submission_problems(standard) == []
        alternative = ApplicationFactory(edition=adm.edition, route="alternative")
        ApplicationDocumentFactory(application=alternative, criterion=adm.language)
        assert services.submission_problems(alternative) == ["Upload: Portfolio."]

    def test_too_young(self, adm):
        application = draft(adm, date_of_birth=timezone.localdate() - dt.timedelta(days=365 * 10))
        assert any("at least 15" in p for p in services.submission_problems(application))

    def test_submit_refuses_with_every_problem(self, adm):
        application = ApplicationFactory(edition=adm.edition, motivation="")
        with pytest.raises(DomainError) as caught:
            services.application_submit(actor=fresh(application.applicant), application=application)
        assert len(caught.value.details) == 2
        assert status_of(application) == S.DRAFT

    def test_submit_refused_when_the_window_closed(self, adm):
        application = draft(adm)
        type(adm.edition).objects.filter(pk=adm.edition.pk).update(
            application_closes_at=timezone.now() - dt.timedelta(minutes=1),
            application_opens_at=timezone.now() - dt.timedelta(days=30))
        application.refresh_from_db()
        with pytest.raises(DomainError, match="closed"):
            services.application_submit(actor=fresh(application.applicant), application=application)
        assert status_of(application) == S.DRAFT

    def test_start_needs_open_edition_and_criteria(self, world):
        a = make_admissions(world)
        learner = who(world, "learner")
        a.edition.status = "planned"
        a.edition.save()
        with pytest.raises(DomainError):
            services.application_start(actor=learner, edition=a.edition)
        no_criteria = EditionFactory(programme=a.programme, status="open")
        with pytest.raises(DomainError, match="admission criteria"):
            services.application_start(actor=learner, edition=no_criteria)
        assert not Application.objects.filter(applicant=learner).exists()

    def test_start_twice_returns_the_same_draft(self, world, adm):
        learner = who(world, "learner")
        first = services.application_start(actor=learner, edition=adm.edition)
        assert services.application_start(actor=learner, edition=adm.edition) == first


# --- 5. Recognition of prior learning ---------------------------------------------------------------------


@pytest.fixture
def rpl(world, adm):
    adm.course = CourseFactory(version=adm.edition.curriculum, provider=world.ua, ects=Decimal("3.0"))
    adm.application = draft(adm, status=S.ADMITTED, offer_deadline=timezone.now() + dt.timedelta(days=5))
    adm.board = StaffFactory(institution=world.ua).user
    RoleAssignmentFactory(user=adm.board, role="exam_board", institution=None, target_id=adm.programme.pk)
    adm.examiner = StaffFactory(institution=world.ua).user
    RoleAssignmentFactory(user=adm.examiner, role="examiner", institution=None, target_id=adm.course.pk)
    return adm


def ask(a, course=None) -> ExemptionRequest:
    return services.exemption_request(actor=fresh(a.application.applicant), application=a.application,
                                      course=course or a.course, basis="Passed Digital Design (5 ECTS) in 2021.",
                                      evidence=pdf("transcript.pdf"))


class TestExemptions:
    def test_only_courses_of_the_edition_curriculum(self, rpl):
        elsewhere = CourseFactory()
        with pytest.raises(DomainError, match="curriculum"):
            ask(rpl, elsewhere)
        next_version = CourseFactory(version__programme=rpl.programme, version__status="draft")
        with pytest.raises(DomainError, match="curriculum"):
            ask(rpl, next_version)
        assert not ExemptionRequest.objects.exists()

    def test_request_once_per_course(self, rpl):
        exemption = ask(rpl)
        assert exemption.status == "requested"
        assert exemption.evidence.name
        with pytest.raises(DomainError, match="already"):
            ask(rpl)

    def test_request_needs_an_offer_or_enrolment(self, adm, rpl):
        rpl.application = submit(adm)
        with pytest.raises(TransitionError):
            ask(rpl)

    def test_evidence_is_checked(self, rpl):
        with pytest.raises(ValidationError):
            services.exemption_request(actor=fresh(rpl.application.applicant), application=rpl.application,
                                       course=rpl.course, basis="x",
                                       evidence=SimpleUploadedFile("e.pdf", b"MZ" + b"\x00" * 50))
        assert not ExemptionRequest.objects.exists()

    @pytest.mark.parametrize("ects", [Decimal("3.5"), Decimal("0"), Decimal("-1")])
    def test_granted_ects_bounded_by_the_course(self, rpl, ects):
        exemption = ask(rpl)
        with pytest.raises(ValidationError) as caught:
            services.exemption_decide(actor=fresh(rpl.board), exemption=exemption, granted=True,
                                      ects_recognised=ects)
        assert "ects_recognised" in caught.value.message_dict
        assert ExemptionRequest.objects.get(pk=exemption.pk).status == "requested"

    def test_grant_defaults_to_the_course_ects(self, rpl):
        exemption = services.exemption_decide(actor=fresh(rpl.board), exemption=ask(rpl), granted=True)
        assert exemption.status == "granted"
        assert exemption.ects_recognised == Decimal("3.0")
        assert exemption.decided_by == rpl.board
        event = AuditEvent.objects.get(action="exemption.granted")
        assert event.consortium_id == rpl.w.ca.id

    def test_partial_grant(self, rpl):
        exemption = services.exemption_decide(actor=fresh(rpl.examiner), exemption=ask(rpl), granted=True,
                                              ects_recognised=Decimal("1.5"))
        assert exemption.ects_recognised == Decimal("1.5")

    def test_refusal_needs_a_reason(self, rpl):
        exemption = ask(rpl)
        with pytest.raises(ValidationError) as caught:
            services.exemption_decide(actor=fresh(rpl.board), exemption=exemption, granted=False, reason=" ")
        assert "reason" in caught.value.message_dict
        refused = services.exemption_decide(actor=fresh(rpl.board), exemption=exemption, granted=False,
                                            reason="The course covered other outcomes.")
        assert refused.status == "refused"
        assert refused.ects_recognised is None
        with pytest.raises(TransitionError):
            services.exemption_decide(actor=fresh(rpl.board), exemption=exemption, granted=True)
        assert ask(rpl).status == "requested"  # a refused request may be asked again

    def test_only_exam_board_or_examiner_decide(self, world, rpl):
        exemption = ask(rpl)
        other_course = CourseFactory(version=rpl.edition.curriculum)
        someone = StaffFactory(institution=world.ua).user
        RoleAssignmentFactory(user=someone, role="examiner", institution=None, target_id=other_course.pk)
        for actor in (reviewer(rpl), who(world, "CA_admin"), who(world, "UA_students"), fresh(someone),
                      fresh(rpl.application.applicant)):
            with pytest.raises(PermissionDenied):
                services.exemption_decide(actor=actor, exemption=exemption, granted=True)
        assert ExemptionRequest.objects.get(pk=exemption.pk).status == "requested"


# --- 6. Audit ---------------------------------------------------------------------------------------------


class TestAudit:
    def test_transitions_are_audited_with_via_consortium_and_institution(self, world, adm):
        application = submit(adm)
        services.application_admit(actor=reviewer(adm), application=application, reason="Strong profile.")
        event = AuditEvent.objects.get(action="application.admitted", object_id=str(application.pk))
        assert event.actor == world.people["UB_students"]
        assert event.via == "command"
        assert event.consortium_id == world.ca.id
        assert event.institution_id == world.ub.id
        assert event.changes["status"] == ["submitted", "admitted"]
        assert event.changes["reason"] == "Strong profile."
        submitted = AuditEvent.objects.get(action="application.submitted", object_id=str(application.pk))
        assert submitted.actor == application.applicant
        assert submitted.consortium_id == world.ca.id

    def test_via_follows_the_interface(self, adm):
        from consortium.audit import reset_via, set_via

        application = submit(adm)
        token = set_via("task")
        try:
            services.application_review_start(actor=reviewer(adm), application=application)
        finally:
            reset_via(token)
        assert AuditEvent.objects.get(action="application.under_review").via == "task"

    def test_refused_transition_records_nothing(self, adm):
        application = submit(adm)
        before = AuditEvent.objects.count()
        with pytest.raises(TransitionError):
            services.application_accept_offer(actor=fresh(application.applicant), application=application)
        assert AuditEvent.objects.count() == before

    def test_registration_update_is_audited(self, world, adm):
        application = submit(adm)
        services.application_admit(actor=reviewer(adm), application=application)
        services.application_accept_offer(actor=fresh(application.applicant), application=application)
        registration = InstitutionRegistration.objects.get(enrolment__application=application, institution=world.ub)
        with pytest.raises(ValidationError):
            services.registration_update(actor=reviewer(adm), registration=registration, status="registered")
        services.registration_update(actor=reviewer(adm), registration=registration, status="registered",
                                     external_student_number=" S-123 ")
        registration.refresh_from_db()
        assert registration.external_student_number == "S-123"
        event = AuditEvent.objects.get(action="enrolment.registration_updated")
        assert event.changes == {"status": ["pending", "registered"], "external_student_number": ["", "S-123"]}
        assert event.institution_id == world.ub.id
        ua_registration = InstitutionRegistration.objects.get(enrolment__application=application,
                                                              institution=world.ua)
        with pytest.raises(PermissionDenied):
            services.registration_update(actor=reviewer(adm), registration=ua_registration, status="failed")


# --- 7. Personal data -------------------------------------------------------------------------------------


class TestPersonalData:
    def test_export_and_erase(self, world, adm, django_capture_on_commit_callbacks):
        application = submit(adm, given_names="Maria", family_names="Kowalska", email="maria@example.org",
                             motivation="Chip design.")
        document = application.documents.get()
        path = document.file.path
        learner = fresh(application.applicant)
        services.application_request_info(actor=reviewer(adm), application=application, message="Transcript?")

        exported = personal_data.export_user(learner)["admissions"]
        assert len(exported) == 1
        assert exported[0]["given_names"] == "Maria"
        assert exported[0]["email"] == "maria@example.org"
        assert exported[0]["documents"] == [document.file.name]
        assert any(m["body"] == "Transcript?" for m in exported[0]["messages"])

        with django_capture_on_commit_callbacks(execute=True):
            personal_data.erase_user(learner)
            assert os.path.exists(path)  # files go only once the erasure is committed
        application.refresh_from_db()
        assert (application.given_names, application.family_names) == ("Erased", "Learner")
        assert application.email.startswith("erased-") and application.email.endswith("@invalid")
        assert application.date_of_birth is None
        assert application.motivation == ""
        assert not ApplicationDocument.objects.filter(application=application).exists()
        assert not application.messages.exists()
        assert not os.path.exists(path)
        assert personal_data.export_user(fresh(learner))["admissions"][0]["given_names"] == "Erased"

    def test_erase_keeps_enrolments(self, adm):
        application = submit(adm)
        services.application_admit(actor=reviewer(adm), application=application)
        learner = fresh(application.applicant)
        services.application_accept_offer(actor=learner, application=application)
        personal_data.erase_user(learner)
        assert Enrolment.objects.filter(application=application).exists()
        assert status_of(application) == S.ENROLLED
