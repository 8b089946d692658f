"""Capacity under concurrency (D4: capacity is enforced), on PostgreSQL: real row locks, real connections.

Two administrators admit at the same moment, each in its own thread with its own database connection. The
edition row is locked before places are counted, so exactly one gets the last place. ``_has_place`` is slowed
down so that, without the lock, both would count the free place before either admitted (the test would fail).
SQLite has no row locks: the tests skip there, except in CI (env ``CI``), where they must run on PostgreSQL.
"""

import os
import time

import pytest
from django.db import connection

from admissions import services
from admissions.models import Application, ApplicationStatus
from consortium.api import DomainError, TransitionError
from consortium.models import User

from ..concurrency import race
from ..factories import RoleAssignmentFactory, StaffFactory
from .test_services import make_admissions, submit, who

S = ApplicationStatus
ROUNDS = 5

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def _postgresql_only():
    if connection.vendor != "postgresql":
        reason = (f"Concurrency tests need PostgreSQL row locks; the database is {connection.vendor}. "
                  "Run with DATABASE_URL=postgres://…")
        if os.environ.get("CI"):
            pytest.fail(f"CI must run the concurrency tests: {reason}")
        pytest.skip(reason)


@pytest.fixture
def slow_count(monkeypatch):
    """Widen the window between counting the places and admitting, so that a missing lock shows."""
    counted = services._has_place

    def slow(edition):
        free = counted(edition)
        time.sleep(0.2)
        return free

    monkeypatch.setattr(services, "_has_place", slow)


def admit(admin_pk, application_pk):
    def prepare():
        return User.objects.get(pk=admin_pk), Application.objects.get(pk=application_pk)

    def act(admin, application):
        return services.application_admit(actor=admin, application=application, reason="Eligible.")

    return prepare, act


@pytest.mark.parametrize("round_", range(ROUNDS))
def test_two_administrators_never_overfill_the_last_place(world, slow_count, round_):
    a = make_admissions(world, capacity=1)
    first, second = submit(a), submit(a)
    admin = who(world, "UB_students")
    colleague = StaffFactory(institution=world.ub).user
    RoleAssignmentFactory(user=colleague, role="student_admin", institution=world.ub)

    results = race(admit(admin.pk, first.pk), admit(colleague.pk, second.pk))

    outcomes = sorted(outcome for outcome, _value in results)
    assert outcomes == ["error", "ok"], results
    error = next(value for outcome, value in results if outcome == "error")
    assert isinstance(error, DomainError) and not isinstance(error, TransitionError), repr(error)
    assert "full" in error.message
    assert services.places_taken(a.edition) == 1
    statuses = sorted(Application.objects.filter(pk__in=[first.pk, second.pk]).values_list("status", flat=True))
    assert statuses == [S.ADMITTED, S.SUBMITTED]


@pytest.mark.parametrize("round_", range(ROUNDS))
def test_admitting_and_rejecting_the_same_application_at_once(world, round_):
    """Two administrators decide on the same application at the same moment (two tabs, bulk actions): one
    decision wins, the other gets a clear refusal (409), and neither deadlocks."""
    a = make_admissions(world, capacity=5)
    application = submit(a)
    admin = who(world, "UB_students")

    def reject():
        def prepare():
            return User.objects.get(pk=admin.pk), Application.objects.get(pk=application.pk)

        def act(actor, target):
            return services.application_reject(actor=actor, application=target, reason="Not eligible.")

        return prepare, act

    results = race(admit(admin.pk, application.pk), reject())
    outcomes = [outcome for outcome, _value in results]
    assert sorted(outcomes) == ["error", "ok"], results
    error = next(value for outcome, value in results if outcome == "error")
    assert isinstance(error, TransitionError), repr(error)
    assert Application.objects.get(pk=application.pk).status in (S.ADMITTED, S.REJECTED)
    assert services.places_taken(a.edition) <= 1


@pytest.mark.parametrize("round_", range(ROUNDS))
def test_a_withdrawal_and_an_admission_at_once_respect_capacity(world, round_):
    """A learner withdraws (freeing the only place, which goes to the waiting list) while an administrator
    admits another applicant: the edition never holds more than its capacity, and nobody deadlocks."""
    a = make_admissions(world, capacity=1)
    holder, waiting, newcomer = submit(a), submit(a), submit(a)
    admin = who(world, "UB_students")
    services.application_admit(actor=admin, application=holder)
    services.application_waitlist(actor=admin, application=waiting)

    def withdraw():
        def prepare():
            return User.objects.get(pk=holder.applicant_id), Application.objects.get(pk=holder.pk)

        def act(learner, application):
            return services.application_withdraw(actor=learner, application=application)

        return prepare, act

    results = race(withdraw(), admit(admin.pk, newcomer.pk))
    assert results[0][0] == "ok", results
    if results[1][0] == "error":
        assert "full" in results[1][1].message
    assert services.places_taken(a.edition) == 1
    admitted = set(Application.objects.filter(edition=a.edition, status=S.ADMITTED).values_list("pk", flat=True))
    assert admitted in ({waiting.pk}, {newcomer.pk})
