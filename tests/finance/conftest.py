"""An edition with a fee table, discounts and a sponsor, whose accepted offers are invoiced by UA (the issuing
institution, finance officer ``UA_finance``); UB is a partner (finance officer ``UB_finance``)."""

import datetime as dt
from decimal import Decimal as D
from types import SimpleNamespace

import pytest
from django.utils import timezone

from admissions import services as admissions
from consortium.models import User
from finance.models import Discount, EditionFinance, Fee, Sponsorship

from ..admissions.test_services import make_admissions
from ..factories import ApplicationFactory, RoleAssignmentFactory, StaffFactory


def fresh(user) -> User:
    return User.objects.get(pk=user.pk)


def finance_officer(institution) -> User:
    user = StaffFactory(institution=institution).user
    RoleAssignmentFactory(user=user, role="finance_officer", institution=institution)
    return user


def build(world, *, payment_required=False):
    a = make_admissions(world, payment_required=payment_required)
    f = SimpleNamespace(a=a, w=world, edition=a.edition, programme=a.programme, ua=world.ua, ub=world.ub)
    f.ua_finance = finance_officer(world.ua)
    f.ub_finance = finance_officer(world.ub)
    Fee.objects.create(edition=a.edition, profile="", track="assessed", amount=D("1500.00"))
    Fee.objects.create(edition=a.edition, profile="job_seeker", track="assessed", amount=D("600.00"))
    Fee.objects.create(edition=a.edition, profile="", track="attendance", amount=D("400.00"))
    f.early = Discount.objects.create(edition=a.edition, name="Early bird", rule="early_bird", kind="percent",
                                      value=D("10"), valid_until=timezone.localdate() + dt.timedelta(days=30))
    f.staff = Discount.objects.create(edition=a.edition, name="Partner staff", rule="partner_staff", kind="fixed",
                                      value=D("500"), email_domains=["ub.example"])
    f.sponsor = Sponsorship.objects.create(edition=a.edition, sponsor_name="ChipCo", sponsor_address="1 Fab Road",
                                           sponsor_email="billing@chipco.example", places=2,
                                           learner_emails=["named@chipco.example"])
    EditionFinance.objects.create(edition=a.edition, refund_percent_after_start=D("25"))
    return f


@pytest.fixture
def fin(world):
    return build(world)


@pytest.fixture
def fin_paid(world):
    """The same edition, with payment required before enrolment."""
    return build(world, payment_required=True)


def admitted(f, **fields):
    defaults = {"status": "admitted", "submitted_at": timezone.now(),
                "offer_deadline": timezone.now() + dt.timedelta(days=7)}
    return ApplicationFactory(edition=f.edition, **{**defaults, **fields})


def accept(f, django_capture_on_commit_callbacks, **fields):
    """An admitted application whose learner accepts the offer; the events run as after a real commit."""
    application = admitted(f, **fields)
    with django_capture_on_commit_callbacks(execute=True):
        admissions.application_accept_offer(actor=fresh(application.applicant), application=application)
    application.refresh_from_db()
    return application
