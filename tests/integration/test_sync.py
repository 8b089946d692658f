"""A partner system syncs incrementally and ends with exactly what it may see (docs/integration.md).

UB's system (a token of UB, partner of consortium CA) starts from nothing and uses only the lists with
``updated_since`` (following the sync cursor in ``next``) and ``/api/v1/events/`` (``after``). Then things happen: a
new application is decided, paid for and enrolled, an enrolled learner withdraws, the examination board approves
results and corrects a grade, a learner is awarded and the credential revoked, a course is removed from a draft
curriculum, and consortium CB (which UB is not part of) goes through the same motions. The partner applies the
changes incrementally; at the end its copy of every list equals the list fetched from scratch, which is exactly what
the policy lets UB's token see, and nothing of CB reached it.

The last test (PostgreSQL only) shows that the feed never skips an event committed late by a concurrent
transaction: the sequence number is taken under a row lock held until commit (``consortium/feed.py``).
"""

from __future__ import annotations

import datetime as dt
import os
import threading
import time
from decimal import Decimal as D

import pytest
from django.db import connection, transaction
from django.utils.dateparse import parse_datetime

from admissions import services as admissions
from admissions.models import Application, Enrolment
from assessment import services as assessment
from assessment.models import Grade
from certification import services as certification
from certification.models import Award
from consortium import feed, policy
from consortium.models import FeedEvent, Institution
from consortium.policy import ServicePrincipal
from consortium.rest.throttling import PerTokenRateThrottle
from finance import services as finance
from finance.models import EditionFinance, Fee, Invoice
from programmes import services as programmes
from programmes.models import LearningOutcome

from ..assessment.conftest import cohort  # noqa: F401  (fixture)
from ..concurrency import race
from ..factories import (
    AdmissionFrameworkFactory,
    ApplicationDocumentFactory,
    ApplicationFactory,
    CriterionFactory,
    EditionFactory,
    ProgrammeFactory,
    ProgrammePartnerFactory,
    RoleAssignmentFactory,
    StaffFactory,
)

API = "/api/v1"
COLLECTIONS = {
    # collection → (policy action of its list, model) for the policy cross-check (None: compared with the list)
    "institutions": None,
    "consortia": None,
    "memberships": None,
    "agreements": None,
    "programmes": None,
    "courses": None,
    "curriculum-versions": None,
    "editions": None,
    "applications": "application.view",
    "enrolments": "enrolment.view",
    "results": "grades.view",
    "awards": "award.view",
    "invoices": "finance.invoice_view",
    "payments": None,
}
#: The collection each resource type of the feed lives in (what a tombstone removes).
COLLECTION_OF = {name: resource.collection for name, resource in feed.RESOURCES.items()}
EPOCH = "1970-01-01T00:00:00Z"
#: A real partner resumes each list a little before the newest change it received (``updated_at`` is when a change
#: was made, and its transaction may commit a little later; docs/integration.md). Here nothing runs concurrently, and
#: in a test that lasts seconds any overlap would fetch everything again and hide a missing ``updated_at``: resume at
#: the newest change itself (``updated_since`` is inclusive).
OVERLAP = dt.timedelta(0)


def fresh(user):
    from consortium.models import User

    return User.objects.get(pk=user.pk)


class Partner:
    """What a partner system keeps: a copy of each list, where each list stands, and the position in the feed."""

    def __init__(self, client):
        self.client = client
        self.copy: dict[str, dict[str, dict]] = {name: {} for name in COLLECTIONS}
        self.newest: dict[str, dt.datetime | None] = dict.fromkeys(COLLECTIONS)
        self.after = 0
        self.events: list[dict] = []
        self.requests = 0

    def _get(self, url, params=None):
        response = self.client.get(url, params)
        self.requests += 1
        assert response.status_code == 200, (url, response.status_code, response.content[:500])
        return response.json()

    def pull(self, name: str) -> None:
        newest = self.newest[name]
        since = EPOCH if newest is None else (newest - OVERLAP).isoformat()
        url, params = f"{API}/{name}/", {"updated_since": since, "page_size": 3}
        while url:
            page = self._get(url, params)
            assert "count" not in page  # the sync pages
            for item in page["results"]:
                self.copy[name][item["id"]] = item
                changed = parse_datetime(item["updated_at"])
                if self.newest[name] is None or changed > self.newest[name]:
                    self.newest[name] = changed
            url, params = page["next"], None

    def read_events(self) -> None:
        url, params = f"{API}/events/", {"after": self.after, "limit": 4}
        while url:
            page = self._get(url, params)
            for event in page["results"]:
                assert event["seq"] > self.after, "the feed went backwards"
                self.events.append(event)
                if event["type"].endswith(".deleted"):
                    self.copy[COLLECTION_OF[event["resource"]["type"]]].pop(event["resource"]["id"], None)
                self.after = event["seq"]
            assert page["after"] == self.after
            url, params = page["next"], None

    def sync(self) -> None:
        self.read_events()
        for name in COLLECTIONS:
            self.pull(name)


def from_scratch(client, name: str) -> dict[str, dict]:
    """The whole list, by page numbers (as a partner would fetch it the first time, without the sync mode)."""
    items, url, params = {}, f"{API}/{name}/", {"page_size": 200}
    while url:
        response = client.get(url, params)
        assert response.status_code == 200
        page = response.json()
        assert "count" in page
        items.update({item["id"]: item for item in page["results"]})
        url, params = page["next"], None
    return items


def _enter(c, course, rows, examiner):
    sheet = assessment.sheet_for(edition=c.edition, course=course, attempt=1)
    assessment.grades_enter(actor=examiner, sheet=sheet, rows=rows)
    assessment.sheet_submit(actor=examiner, sheet=sheet)
    return sheet


class Scene:
    pass


def _programme_with_admissions(world, *, consortium, lead, partners=(), reviewer):
    """An open edition of a published programme that charges a fee and enrols once paid."""
    programme = ProgrammeFactory(consortium=consortium, lead_institution=lead, status="published")
    for institution in partners:
        ProgrammePartnerFactory(programme=programme, institution=institution, role="partner")
    edition = EditionFactory(programme=programme, status="open", capacity=10)
    framework = AdmissionFrameworkFactory(edition=edition, reviewing_institution=reviewer, payment_required=True)
    language = CriterionFactory(framework=framework, kind="language", document_label="Proof of English (B2)")
    Fee.objects.create(edition=edition, profile="", track="assessed", amount=D("900.00"))
    EditionFinance.objects.create(edition=edition)
    return programme, edition, language


def _apply(edition, language):
    application = ApplicationFactory(edition=edition)
    ApplicationDocumentFactory(application=application, criterion=language, label=language.document_label)
    return admissions.application_submit(actor=fresh(application.applicant), application=application)


def _admit_pay_enrol(application, reviewer, finance_officer):
    admissions.application_admit(actor=fresh(reviewer), application=application, reason="Eligible.")
    admissions.application_accept_offer(actor=fresh(application.applicant), application=application)
    invoice = finance.invoice_issue(actor=None, application=application)  # the subscriber's task, run here
    finance.payment_record(actor=fresh(finance_officer), invoice=invoice, amount=invoice.total)
    return invoice


@pytest.fixture
def scene(cohort, world):  # noqa: F811
    """Consortium CA: the graded cohort (UA leads, UB partners and examines B and E; the board sits at UB) with the
    results of A approved and of B and E submitted; a programme UB leads and invoices, with one learner enrolled.
    Consortium CB: a programme UC leads and invoices, with one learner enrolled."""
    w, c, s = world, cohort, Scene()
    s.w, s.c = w, c
    # What an award needs (the EU elements), as in the certification tests' ``awardable``.
    c.programme.qa_scheme = "Internal QA of the lead university under ESG 2015, with an annual programme review"
    c.programme.participation_form = "Online, individual study with weekly live seminars"
    c.programme.save()
    c.course_e.assessment_method = "assignment"
    c.course_e.save()
    for position, (category, text) in enumerate([("knowledge", "Explains grading systems across Europe"),
                                                 ("skills", "Converts national grades to a joint scale")]):
        LearningOutcome.objects.create(programme=c.programme, category=category, position=position, text=text)
    rows = {c.course_a: [], c.course_b: [], c.course_e: []}
    for enrolment in c.enrolments:
        rows[c.course_a] += [(enrolment, c.exam_a, "2.0"), (enrolment, c.project_a, "1.7")]
        rows[c.course_b].append((enrolment, c.exam_b, "7.5"))
        rows[c.course_e].append((enrolment, c.exam_e, "6.0"))
    s.sheet_a = _enter(c, c.course_a, rows[c.course_a], c.examiner_ua)
    assessment.sheet_approve(actor=c.board, sheet=s.sheet_a)
    s.sheet_b = _enter(c, c.course_b, rows[c.course_b], c.examiner_ub)
    s.sheet_e = _enter(c, c.course_e, rows[c.course_e], c.examiner_ub)

    s.ub_finance = StaffFactory(institution=w.ub).user
    RoleAssignmentFactory(user=s.ub_finance, role="finance_officer", institution=w.ub)
    s.ub_programme, s.ub_edition, s.ub_language = _programme_with_admissions(
        w, consortium=w.ca, lead=w.ub, partners=[w.ua], reviewer=w.ub)
    _admit_pay_enrol(_apply(s.ub_edition, s.ub_language), w.people["UB_students"], s.ub_finance)

    s.uc_finance = StaffFactory(institution=w.uc).user
    RoleAssignmentFactory(user=s.uc_finance, role="finance_officer", institution=w.uc)
    s.uc_programme, s.uc_edition, s.uc_language = _programme_with_admissions(w, consortium=w.cb, lead=w.uc,
                                                                             reviewer=w.uc)
    s.uc_invoice = _admit_pay_enrol(_apply(s.uc_edition, s.uc_language), w.people["UC_students"], s.uc_finance)
    return s


@pytest.mark.django_db
def test_a_partner_syncs_incrementally_and_ends_with_exactly_what_it_may_see(scene, world, token_client,
                                                                             monkeypatch):
    monkeypatch.setattr(PerTokenRateThrottle, "THROTTLE_RATES", {"api": None, "verify": "100000/minute"})
    s, c, w = scene, scene.c, world
    client = token_client(w.ub)
    partner = Partner(client)

    # 1. From an empty state.
    partner.sync()
    assert partner.copy["results"] and partner.copy["applications"] and partner.copy["invoices"]
    first_events = len(partner.events)
    assert first_events > 0

    # 2. A stream of changes, in CA and in CB.
    new = _apply(s.ub_edition, s.ub_language)
    new_invoice = _admit_pay_enrol(new, w.people["UB_students"], s.ub_finance)  # decided, paid, enrolled
    withdrawn = c.enrolments[2].application
    admissions.application_withdraw(actor=fresh(w.people["UB_students"]), application=withdrawn, reason="Moved.")
    assessment.sheet_approve(actor=c.board, sheet=s.sheet_b)
    partner.sync()  # half-way: the partner keeps up while things happen

    assessment.sheet_approve(actor=c.board, sheet=s.sheet_e)
    old_grade = Grade.objects.get(sheet=s.sheet_a, enrolment=c.enrolments[1], assessment=c.exam_a, superseded=False)
    corrected = assessment.grade_correct(actor=fresh(c.board), grade=old_grade, national_grade="1.7",
                                         reason="Marking error in question 3.")
    award = certification.award_decide(actor=fresh(c.board), enrolment=c.enrolments[0])
    credential = award.credentials.get()
    certification.credential_revoke(actor=fresh(c.board), credential=credential, reason="Issued in error.")
    draft = programmes.curriculum_version_start(actor=fresh(c.leader), programme=c.programme)
    removed = draft.courses.get(code="E")
    programmes.course_remove(actor=fresh(c.leader), course=removed)
    # Consortium CB goes through the same motions; UB's system must see none of it.
    uc_new = _apply(s.uc_edition, s.uc_language)
    uc_invoice = _admit_pay_enrol(uc_new, w.people["UC_students"], s.uc_finance)
    uc_enrolment = Enrolment.objects.get(application=uc_new)
    admissions.application_withdraw(actor=fresh(w.people["UC_students"]), application=uc_new, reason="Moved.")

    # 3. The partner applies the changes incrementally.
    partner.sync()

    # 4. Its copy equals every list fetched from scratch ...
    for name in COLLECTIONS:
        expected = from_scratch(client, name)
        assert partner.copy[name] == expected, f"{name}: the incremental copy differs from the list"
    # ... which is what the policy lets UB's token see.
    principal = ServicePrincipal(client.token)
    models = {"applications": Application.objects.exclude(status="draft"), "enrolments": Enrolment.objects.all(),
              "results": Grade.objects.filter(superseded=False), "awards": Award.objects.all(),
              "invoices": Invoice.objects.all()}
    for name, action in COLLECTIONS.items():
        if action:
            allowed = {str(pk) for pk in policy.filter(principal, action, models[name]).values_list("pk", flat=True)}
            assert set(partner.copy[name]) == allowed, name

    # The changes arrived, tombstones removed what left the lists, and the feed went forward only.
    assert partner.copy["applications"][str(new.pk)]["status"] == "enrolled"
    assert partner.copy["invoices"][str(new_invoice.pk)]["status"] == "paid"
    assert partner.copy["enrolments"][str(c.enrolments[2].pk)]["status"] == "withdrawn"
    assert {g["status"] for g in partner.copy["results"].values()} == {"approved"}
    assert str(old_grade.pk) not in partner.copy["results"] and str(corrected.pk) in partner.copy["results"]
    assert str(removed.pk) not in partner.copy["courses"]
    awarded = partner.copy["awards"][str(award.pk)]
    assert [v["status"] for v in awarded["credentials"]] == ["revoked"]
    seqs = [e["seq"] for e in partner.events]
    assert seqs == sorted(seqs) and len(seqs) == len(set(seqs))
    types = {e["type"] for e in partner.events[first_events:]}
    assert {"application.submitted", "application.decided", "enrolment.created", "invoice.paid",
            "application.withdrawn", "enrolment.withdrawn", "result.approved", "result.deleted", "result.corrected",
            "award.issued", "credential.revoked", "course.deleted"} <= types
    by_resource = {(e["type"], e["resource"]["id"]) for e in partner.events}
    assert ("enrolment.withdrawn", str(c.enrolments[2].pk)) in by_resource
    assert ("invoice.paid", str(new_invoice.pk)) in by_resource
    assert ("credential.revoked", credential.credential_id) in by_resource
    assert ("result.approved", str(s.sheet_b.pk)) in by_resource

    # Nothing of consortium CB reached UB's system.
    assert not [e for e in partner.events if e["consortium"] == str(w.cb.pk)]
    cb_ids = {str(s.uc_programme.pk), str(s.uc_edition.pk), str(uc_new.pk), str(uc_enrolment.pk), str(uc_invoice.pk),
              str(s.uc_invoice.pk), str(w.cb.pk)}
    copied = {item_id for items in partner.copy.values() for item_id in items}
    assert not cb_ids & copied
    assert FeedEvent.objects.filter(consortium_id=w.cb.pk).count() >= 6  # CB's events exist, for CB's partners

    # A second sync with nothing new moves nothing and answers no stale record.
    before = {name: dict(items) for name, items in partner.copy.items()}
    after, count = partner.after, len(partner.events)
    partner.sync()
    assert partner.copy == before and partner.after == after and len(partner.events) == count


@pytest.mark.django_db
def test_uc_sees_its_own_consortium_and_nothing_of_ca(scene, world, token_client, monkeypatch):
    """The other side of the same world: UC's system sees CB's events and records only."""
    monkeypatch.setattr(PerTokenRateThrottle, "THROTTLE_RATES", {"api": None, "verify": "100000/minute"})
    partner = Partner(token_client(world.uc))
    partner.sync()
    assert partner.events and {e["consortium"] for e in partner.events} == {str(world.cb.pk)}
    assert str(scene.uc_invoice.pk) in partner.copy["invoices"]
    assert not set(partner.copy["results"]) and str(scene.c.programme.pk) not in partner.copy["programmes"]


# --- PostgreSQL: the feed never skips an event committed late -------------------------------------------------


def _postgresql_only():
    if connection.vendor != "postgresql":
        reason = (f"The concurrent-commit test needs PostgreSQL; the database is {connection.vendor}. "
                  "Run with DATABASE_URL=postgres://…")
        if os.environ.get("CI"):
            pytest.fail(f"CI must run it: {reason}")
        pytest.skip(reason)


def _record(institution_id, label):
    return feed.record("application.decided", resource_type="application", resource_id=label,
                       consortium_id=None, institution_ids=[institution_id], data={"label": label})


@pytest.mark.django_db(transaction=True)
def test_the_feed_never_skips_an_event_committed_late_by_a_concurrent_transaction():
    """Transaction 1 records an event and stays open; transaction 2 records one and would commit first. With a
    sequence taken at insert (an auto-increment id), transaction 2's event would be visible with a higher number
    while transaction 1's lower one was not yet: a reader moving past it would never see it. Here transaction 2
    waits for transaction 1's commit, so the numbers are in commit order and a reader polling throughout sees both,
    in order."""
    _postgresql_only()
    institution = Institution.objects.create(legal_name="Universitas Concurrentia", short_name="UX", country="IT")
    base = FeedEvent.objects.order_by("-seq").values_list("seq", flat=True).first() or 0
    first_recorded, release_first, second_done = threading.Event(), threading.Event(), threading.Event()
    seen: list[int] = []

    def first():
        with transaction.atomic():
            _record(institution.pk, "late")
            first_recorded.set()
            assert release_first.wait(10)
        return "committed"

    def second():
        assert first_recorded.wait(10)
        with transaction.atomic():
            event = _record(institution.pk, "early")
        second_done.set()
        return event.seq

    def reader():
        """Polls the feed as a partner does (``after`` = the last number seen) until both events arrived."""
        after = base
        assert first_recorded.wait(10)
        until = time.monotonic() + 0.5
        while time.monotonic() < until:  # transaction 1 is open: nothing is visible, and transaction 2 waits
            assert not FeedEvent.objects.filter(seq__gt=after).exists()
            assert not second_done.is_set()
            time.sleep(0.05)
        release_first.set()
        deadline = time.monotonic() + 10
        while len(seen) < 2 and time.monotonic() < deadline:
            new = list(FeedEvent.objects.filter(seq__gt=after).order_by("seq").values_list("seq", flat=True))
            seen.extend(new)
            after = new[-1] if new else after
            time.sleep(0.01)
        return list(seen)

    results = race(first, second, reader)
    assert [outcome for outcome, _value in results] == ["ok", "ok", "ok"], results
    labels = list(FeedEvent.objects.filter(seq__gt=base).order_by("seq").values_list("data__label", flat=True))
    assert labels == ["late", "early"]  # numbered in commit order: the one that committed first has the lower seq
    assert seen == [base + 1, base + 2]  # the reader saw both, in order, none skipped


@pytest.mark.django_db(transaction=True)
def test_many_concurrent_writers_and_a_polling_reader_lose_nothing():
    """Eight writers commit after random delays while a reader polls with ``after``: it ends with every event."""
    _postgresql_only()
    import random

    institution = Institution.objects.create(legal_name="Universitas Multa", short_name="UM", country="IT")
    base = FeedEvent.objects.order_by("-seq").values_list("seq", flat=True).first() or 0
    writers, per_writer = 8, 5
    done = threading.Event()
    finished = []

    def writer(n):
        def act():
            rng = random.Random(n)
            for i in range(per_writer):
                with transaction.atomic():
                    _record(institution.pk, f"{n}-{i}")
                    time.sleep(rng.uniform(0, 0.03))  # commit late, while others wait for the counter
            finished.append(n)
            if len(finished) == writers:
                done.set()
        return act

    def reader():
        after, seen = base, []
        while True:
            ended = done.is_set()
            new = list(FeedEvent.objects.filter(seq__gt=after).order_by("seq").values_list("seq", flat=True))
            assert all(seq > after for seq in new)
            seen.extend(new)
            after = new[-1] if new else after
            if ended and not new:
                return seen
            time.sleep(0.005)

    results = race(*(writer(n) for n in range(writers)), reader)
    assert all(outcome == "ok" for outcome, _value in results), results
    seen = results[-1][1]
    assert seen == list(range(base + 1, base + 1 + writers * per_writer))  # every one, in order, no gaps
