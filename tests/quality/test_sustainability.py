"""Sustainability (D10, quality/sustainability.py): the partners' commitments (validation, database constraints,
transitions, audit, who may act) and every figure of the dashboard against a constructed data set whose values are
worked out by hand below.

The data set: programme P of consortium CA, led by UA, with partner UB and associated partner EA; its approved
curriculum has courses by UA and UB (none by EA). The plan (finance, ``PlanYear``), with income = learners × fee +
funding, cost = editions × fixed + learners × cost per learner, break-even = ⌈(fixed − funding per edition) /
(fee − cost per learner)⌉:

* 2027: 1 edition of 10 learners, fee 1 000, fixed 20 000, 200 per learner, no funding → income 10 000, cost
  22 000, margin −12 000, break-even ⌈20000/800⌉ = 25;
* 2028: 2 editions of 15 (30 learners), fee 1 000, fixed 12 000, 200 per learner, funding 4 000 → income 34 000,
  cost 30 000, margin 4 000, break-even ⌈(12000 − 2000)/800⌉ = 13;
* 2029: 1 edition of 20, fee 900, fixed 15 000, 300 per learner, no funding → income 18 000, cost 21 000, margin
  −3 000, break-even ⌈15000/600⌉ = 25.

Commitments: UA money 5 000/yr 2027–2029 (confirmed), UB money 3 000/yr 2027–2028 (confirmed), EA money 2 000 in
2027 (confirmed), UA staff 120 h/yr 2027–2030 (confirmed), EA in kind "virtual lab licences" valued 1 500/yr
2028–2029 (confirmed), UB money 4 000 in 2029 (proposed: not counted), UA money 1 000 in 2027 (withdrawn: not
counted, not in the horizon).

Per year (horizon 2027–2030): committed money 2027 = 5000+3000+2000 = 10 000, 2028 = 8 000, 2029 = 5 000, 2030 = 0;
coverage = money / cost: 10000/22000 = 45.45 % → 45.5, 8000/30000 = 26.67 % → 26.7, 5000/21000 = 23.81 % → 23.8;
balance = income + money − cost: −2 000, 12 000, 2 000 → gap 2 000, 0, 0. Plan totals: income 62 000, cost 73 000,
margin −11 000, money 23 000, coverage 23000/73000 = 31.51 % → 31.5, gap 2 000.
Warnings: UB (a course provider) has nothing confirmed for 2029; UB's money ends 2028 and EA's money 2027, before
the plan's 2029; 2027 falls 2 000 short.
"""

import datetime as dt
from decimal import Decimal as D

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction

from consortium.api import DomainError, TransitionError
from consortium.models import AuditEvent
from quality import sustainability as su
from quality.models import Commitment

from ..factories import (
    AgreementFactory,
    CommitmentFactory,
    CourseFactory,
    CurriculumVersionFactory,
    InstitutionFactory,
    MembershipFactory,
    PlanYearFactory,
    ProgrammeFactory,
    ProgrammePartnerFactory,
    RoleAssignmentFactory,
    StaffFactory,
)

pytestmark = pytest.mark.django_db


class Set:
    pass


@pytest.fixture
def s(world):
    s = Set()
    s.world = world
    s.ua, s.ub, s.ea, s.uc = world.ua, world.ub, world.ea, world.uc
    s.programme = ProgrammeFactory(consortium=world.ca, lead_institution=world.ua, issuing_institution=world.ua,
                                   code="chip-design")
    ProgrammePartnerFactory(programme=s.programme, institution=world.ub, role="partner")
    ProgrammePartnerFactory(programme=s.programme, institution=world.ea, role="associated")
    s.curriculum = CurriculumVersionFactory(programme=s.programme, number=1, status="approved")
    CourseFactory(version=s.curriculum, provider=world.ua)
    CourseFactory(version=s.curriculum, provider=world.ub)
    s.leader = StaffFactory(institution=world.ua).user
    RoleAssignmentFactory(user=s.leader, role="team_leader", institution=world.ua, target_id=s.programme.pk)
    s.member = StaffFactory(institution=world.ub).user
    RoleAssignmentFactory(user=s.member, role="team_member", institution=world.ub, target_id=s.programme.pk)
    s.officer = StaffFactory(institution=world.ua).user
    RoleAssignmentFactory(user=s.officer, role="quality_officer", institution=world.ua)
    return s


def plan(s):
    for year, editions, learners, fee, fixed, head, funding in (
        (2027, 1, 10, "1000", "20000", "200", "0"),
        (2028, 2, 15, "1000", "12000", "200", "4000"),
        (2029, 1, 20, "900", "15000", "300", "0"),
    ):
        PlanYearFactory(programme=s.programme, year=year, editions=editions, learners_per_edition=learners,
                        average_fee=D(fee), fixed_cost_per_edition=D(fixed), variable_cost_per_learner=D(head),
                        public_funding=D(funding))


def commit(s, institution, first, last, amount, kind="money", status="confirmed", description="Teaching"):
    return CommitmentFactory(programme=s.programme, institution=institution, first_year=first, last_year=last,
                             kind=kind, amount=D(amount), status=status, description=description)


@pytest.fixture
def full(s):
    plan(s)
    commit(s, s.ua, 2027, 2029, "5000")
    commit(s, s.ub, 2027, 2028, "3000")
    commit(s, s.ea, 2027, 2027, "2000", description="Sponsorship of two places")
    commit(s, s.ua, 2027, 2030, "120", kind="staff_hours", description="Coordination")
    s.lab = commit(s, s.ea, 2028, 2029, "1500", kind="in_kind", description="Virtual lab licences")
    commit(s, s.ub, 2029, 2029, "4000", status="proposed")
    commit(s, s.ua, 2027, 2027, "1000", status="withdrawn")
    return s


def by_year(dash):
    return {row.year: row for row in dash.rows}


# --- The dashboard's figures -------------------------------------------------------------------------------------


def test_every_figure_per_year_against_the_hand_computed_values(full):
    dash = su.dashboard(full.programme)
    assert [p.short_name for p in dash.partners] == ["UA", "UB", "EA"]  # lead, partner, associated
    assert dash.plan_years == [2027, 2028, 2029]
    rows = by_year(dash)
    assert list(rows) == [2027, 2028, 2029, 2030]  # the staff time reaches 2030; the withdrawn one adds nothing
    expected = {  # year: (money UA, UB, EA), total, hours, in-kind value, proposed, income, cost, margin, b-e,
        #                 coverage %, balance, gap
        2027: ((5000, 3000, 2000), 10000, 120, 0, 0, 10000, 22000, -12000, 25, D("45.5"), -2000, 2000),
        2028: ((5000, 3000, 0), 8000, 120, 1500, 0, 34000, 30000, 4000, 13, D("26.7"), 12000, 0),
        2029: ((5000, 0, 0), 5000, 120, 1500, 4000, 18000, 21000, -3000, 25, D("23.8"), 2000, 0),
    }
    for year, (money, total, hours, in_kind, proposed, income, cost, margin, be, cover, balance, gap) in \
            expected.items():
        row = rows[year]
        assert row.money == [D(m) for m in money], year
        assert (row.money_total, row.hours_total, row.in_kind_value, row.proposed_money) == (
            D(total), D(hours), D(in_kind), D(proposed)), year
        assert (row.income, row.cost, row.margin, row.break_even_learners) == (D(income), D(cost), D(margin), be)
        assert (row.coverage_percent, row.balance, row.gap) == (cover, D(balance), D(gap)), year
    assert rows[2027].coverage == D(10000) / D(22000)
    assert [c.description for c in rows[2028].in_kind] == ["Virtual lab licences"]
    outside = rows[2030]
    assert (outside.plan, outside.money_total, outside.hours_total) == (None, 0, D(120))
    assert (outside.coverage, outside.coverage_percent, outside.balance, outside.gap) == (None, None, None, None)


def test_the_totals_over_the_horizon_and_over_the_plan(full):
    dash = su.dashboard(full.programme)
    assert dash.money_totals == [D(15000), D(6000), D(2000)]
    assert (dash.money_total, dash.hours_total) == (D(23000), D(480))
    t = dash.plan_totals
    assert (t.income, t.cost, t.margin, t.money, t.gap) == (D(62000), D(73000), D(-11000), D(23000), D(2000))
    assert t.coverage_percent == D("31.5")


def test_the_warnings_name_the_uncommitted_provider_the_early_ends_and_the_shortfall(full):
    warnings = su.dashboard(full.programme).warnings
    found = [(w.kind, w.institution.short_name if w.institution else None, w.years) for w in warnings]
    assert found == [
        ("uncommitted", "UB", (2029,)),  # UB's 2029 money is only proposed; EA teaches nothing
        ("ends_early", "EA", (2027,)),  # EA's money; its in-kind runs to 2029
        ("ends_early", "UB", (2028,)),
        ("shortfall", None, (2027,)),
    ]
    messages = [w.message for w in warnings]
    assert messages[0] == "UB provides courses of the curriculum but has committed nothing for 2029."
    assert messages[1] == "EA commits money only until 2027; the plan runs until 2029."
    assert messages[3] == "In 2027 the plan's income and the committed money fall 2,000.00 EUR short of the full cost."
    assert warnings[3].gap == D(2000)


def test_a_provider_with_no_commitment_at_all_is_named_for_every_plan_year(s):
    plan(s)
    commit(s, s.ua, 2027, 2029, "30000")
    warnings = su.dashboard(s.programme).warnings
    assert [(w.kind, w.institution.short_name, w.years) for w in warnings] == [
        ("uncommitted", "UB", (2027, 2028, 2029))]


def test_income_and_commitments_exactly_covering_the_cost_is_no_shortfall(s):
    PlanYearFactory(programme=s.programme, year=2027, editions=1, learners_per_edition=10, average_fee=D("1000"),
                    fixed_cost_per_edition=D("20000"), variable_cost_per_learner=D("200"))  # income 10 000, cost 22 000
    commit(s, s.ua, 2027, 2027, "7000")
    ub = commit(s, s.ub, 2027, 2027, "5000")  # 10 000 + 12 000 = 22 000
    dash = su.dashboard(s.programme)
    row = by_year(dash)[2027]
    assert (row.balance, row.gap, row.coverage_percent) == (D(0), D(0), D("54.5"))  # 12000/22000 = 54.545…
    assert dash.warnings == []
    su.commitment_withdraw(actor=s.leader, commitment=ub)
    dash = su.dashboard(s.programme)
    assert by_year(dash)[2027].gap == D(5000)
    assert [(w.kind, w.years) for w in dash.warnings] == [("uncommitted", (2027,)), ("shortfall", (2027,))]


def test_without_a_plan_the_commitments_alone_make_the_horizon_and_no_warning(s):
    commit(s, s.ub, 2030, 2031, "2500")
    dash = su.dashboard(s.programme)
    assert [r.year for r in dash.rows] == [2030, 2031]
    assert all(r.coverage is None and r.gap is None for r in dash.rows)
    assert (dash.plan_totals, dash.warnings, dash.money_totals) == (None, [], [D(0), D(5000), D(0)])  # 2 × 2 500


def test_an_empty_programme_has_an_empty_dashboard(s):
    dash = su.dashboard(s.programme)
    assert (dash.rows, dash.commitments, dash.warnings, dash.plan_totals) == ([], [], [], None)
    assert dash.chart.empty


def test_a_year_whose_cost_is_zero_has_no_coverage(s):
    PlanYearFactory(programme=s.programme, year=2027, editions=0, learners_per_edition=0, average_fee=D("0"),
                    fixed_cost_per_edition=D("0"), variable_cost_per_learner=D("0"))
    commit(s, s.ua, 2027, 2027, "100")
    commit(s, s.ub, 2027, 2027, "100")
    row = su.dashboard(s.programme).rows[0]
    assert (row.cost, row.coverage, row.coverage_percent, row.gap) == (D(0), None, None, D(0))


def test_the_course_providers_come_from_the_latest_approved_curriculum(s):
    plan(s)
    commit(s, s.ua, 2027, 2029, "50000")
    commit(s, s.ub, 2027, 2029, "1")
    draft = CurriculumVersionFactory(programme=s.programme, number=2, status="draft")
    CourseFactory(version=draft, provider=s.ea)  # EA teaches only in the draft: not expected to commit yet
    assert [p.short_name for p in su.dashboard(s.programme).course_providers] == ["UA", "UB"]
    assert su.curriculum_of(s.programme) == s.curriculum


def test_the_chart_stacks_income_and_each_partners_money_against_the_cost(full):
    chart = su.dashboard(full.programme).chart
    assert [c.year for c in chart.columns] == [2027, 2028, 2029, 2030]
    first = chart.columns[0]
    assert [(seg.series, seg.value) for seg in first.segments] == [
        ("Plan income", D(10000)), ("UA", D(5000)), ("UB", D(3000)), ("EA", D(2000))]
    # The scale: the tallest is 2028 (34 000 + 8 000 = 42 000) → a nice top of 50 000 in steps of 10 000.
    assert [label for _y, label in chart.ticks] == ["0", "10,000", "20,000", "30,000", "40,000", "50,000"]
    height = chart.plot_bottom - chart.plot_top  # 280 − 28 − 12 = 240 units for 50 000 EUR
    assert first.segments[0].height == pytest.approx(height * 10000 / 50000, abs=0.1)
    assert first.cost_y == pytest.approx(chart.plot_bottom - height * 22000 / 50000, abs=0.1)
    stacked_top = first.segments[-1].y
    assert stacked_top == pytest.approx(chart.plot_bottom - height * 20000 / 50000, abs=0.1)  # below the cost mark
    assert chart.columns[3].cost_y is None and chart.columns[3].segments == ()  # 2030: only staff time
    assert len(chart.cost_points.split()) == 3


# --- Commitments: validation and constraints ---------------------------------------------------------------------


def add(s, actor=None, **data):
    values = {"institution": s.ub, "first_year": 2027, "last_year": 2029, "kind": "money", "amount": D("1000"),
              "description": "Teaching"}
    values.update(data)
    return su.commitment_add(actor=actor or s.leader, programme=s.programme, data=values)


@pytest.mark.parametrize(("data", "field", "message"), [
    ({"last_year": 2026}, "last_year", "The last year cannot come before the first year."),
    ({"first_year": 1999, "last_year": 2000}, "first_year", "greater than or equal to 2000"),
    ({"last_year": 2101}, "last_year", "less than or equal to 2100"),
    ({"first_year": 2027, "last_year": 2037}, "last_year", "at most 10 years"),
    ({"amount": D("-0.01")}, "amount", "greater than or equal to 0"),
    ({"kind": "favours"}, "kind", "is not a valid choice"),
    ({"kind": "in_kind", "description": "   "}, "description", "Say what is given in kind"),
])
def test_refused_input_names_the_field_and_saves_nothing(s, data, field, message):
    with pytest.raises(ValidationError) as caught:
        add(s, **data)
    assert message in " ".join(caught.value.message_dict[field])
    assert not Commitment.objects.exists()


def test_only_the_lead_or_a_partner_of_the_programme_commits(s):
    stranger = InstitutionFactory(short_name="UX")
    MembershipFactory(consortium=s.world.ca, institution=stranger, role="partner")  # of the consortium only
    for institution in (stranger, s.uc):
        with pytest.raises(ValidationError) as caught:
            add(s, institution=institution)
        assert caught.value.message_dict["institution"] == [
            "This institution is neither the lead nor a partner of the programme."]
    assert add(s, institution=s.ua).institution == s.ua
    assert add(s, institution=s.ea, kind="in_kind", description="Lab").institution == s.ea
    assert Commitment.objects.count() == 2


def test_the_agreement_must_be_one_of_the_programmes_consortium(s):
    theirs = AgreementFactory(consortium=s.world.cb)
    with pytest.raises(ValidationError) as caught:
        add(s, agreement=theirs)
    assert "agreement" in caught.value.message_dict
    ours = AgreementFactory(consortium=s.world.ca)
    assert add(s, agreement=ours).agreement == ours


@pytest.mark.parametrize("fields", [
    {"first_year": 2029, "last_year": 2027},
    {"amount": D("-1")},
    {"first_year": 1990, "last_year": 1991},
    {"status": "confirmed", "confirmed_at": None},
])
def test_the_database_refuses_what_the_validation_would(s, fields):
    with pytest.raises(IntegrityError), transaction.atomic():
        values = {"programme": s.programme, "institution": s.ua, "first_year": 2027, "last_year": 2028,
                  "kind": "money", "amount": D("1"), **fields}
        Commitment.objects.create(**values)


# --- Transitions, audit, who may act ------------------------------------------------------------------------------


def test_proposed_then_confirmed_then_withdrawn_each_audited(s):
    c = add(s)
    assert c.status == "proposed" and c.confirmed_at is None
    su.commitment_confirm(actor=s.officer, commitment=c)  # a QA officer of the lead institution may
    c.refresh_from_db()
    assert c.status == "confirmed" and c.confirmed_at is not None
    with pytest.raises(TransitionError, match="is confirmed; it cannot be confirmed"):
        su.commitment_confirm(actor=s.leader, commitment=c)
    with pytest.raises(TransitionError, match="Only a proposed commitment can be changed"):
        su.commitment_update(actor=s.leader, commitment=c, data={"amount": D("9")})
    su.commitment_withdraw(actor=s.leader, commitment=c, reason="  Budget cut at UB  ")
    c.refresh_from_db()
    assert (c.status, c.withdrawal_reason, c.amount) == ("withdrawn", "Budget cut at UB", D("1000"))
    with pytest.raises(TransitionError, match="is withdrawn; it cannot be withdrawn"):
        su.commitment_withdraw(actor=s.leader, commitment=c)
    with pytest.raises(TransitionError):
        su.commitment_confirm(actor=s.leader, commitment=c)
    actions = list(AuditEvent.objects.filter(object_id=str(c.pk)).order_by("at", "pk")
                   .values_list("action", flat=True))
    assert actions == ["commitment.proposed", "commitment.confirmed", "commitment.withdrawn"]
    event = AuditEvent.objects.get(object_id=str(c.pk), action="commitment.withdrawn")
    assert event.changes == {"status": ["confirmed", "withdrawn"], "reason": "Budget cut at UB"}
    assert (event.consortium_id, event.institution_id) == (s.world.ca.pk, s.ua.pk)


def test_a_proposal_can_be_changed_and_withdrawn_directly(s):
    c = add(s)
    su.commitment_update(actor=s.leader, commitment=c, data={"amount": D("1500"), "last_year": 2030})
    c.refresh_from_db()
    assert (c.amount, c.last_year) == (D("1500"), 2030)
    changes = AuditEvent.objects.get(object_id=str(c.pk), action="commitment.updated").changes
    assert changes == {"amount": ["1000.00", "1500.00"], "last_year": [2029, 2030]}
    with pytest.raises(ValidationError):
        su.commitment_update(actor=s.leader, commitment=c, data={"last_year": 2020})
    c.refresh_from_db()
    assert c.last_year == 2030
    su.commitment_withdraw(actor=s.leader, commitment=c)
    assert Commitment.objects.get().status == "withdrawn"


def test_confirming_checks_the_partnership_again(s):
    c = add(s)
    s.programme.partners.filter(institution=s.ub).delete()  # UB left the programme meanwhile
    with pytest.raises(ValidationError) as caught:
        su.commitment_confirm(actor=s.leader, commitment=c)
    assert caught.value.message_dict["institution"] == [
        "UB is no longer the lead or a partner of the programme, so its proposal cannot be confirmed. Withdraw it, "
        "or add the institution to the programme's partners first."]
    assert Commitment.objects.get().status == "proposed"
    with pytest.raises(ValidationError) as caught:  # nor changed
        su.commitment_update(actor=s.leader, commitment=c, data={"amount": D("2000")})
    assert "neither the lead nor a partner" in caught.value.message_dict["institution"][0]
    assert Commitment.objects.get().amount == D("1000")


def test_a_partner_that_left_the_programme_can_withdraw_and_then_no_longer_counts(s):
    plan(s)
    confirmed = add(s, first_year=2027, last_year=2028, amount=D("3000"))
    su.commitment_confirm(actor=s.leader, commitment=confirmed)
    proposal = add(s, first_year=2029, last_year=2029, amount=D("4000"))
    s.programme.partners.filter(institution=s.ub).delete()  # UB leaves: its confirmed money still counts …
    dash = su.dashboard(s.programme)
    assert [p.short_name for p in dash.partners] == ["UA", "EA", "UB"]  # … in a column after the partnership's
    assert (by_year(dash)[2027].money, by_year(dash)[2029].proposed_money) == ([0, 0, D(3000)], D(4000))
    su.commitment_withdraw(actor=s.leader, commitment=confirmed, reason="Left the consortium")
    su.commitment_withdraw(actor=s.leader, commitment=proposal)
    assert set(Commitment.objects.values_list("status", flat=True)) == {"withdrawn"}
    confirmed.refresh_from_db()
    assert (confirmed.withdrawal_reason, confirmed.confirmed_at is not None) == ("Left the consortium", True)
    dash = su.dashboard(s.programme)
    assert [p.short_name for p in dash.partners] == ["UA", "EA"]  # no column of zeros for the one that left
    assert (dash.money_total, by_year(dash)[2029].proposed_money) == (D(0), D(0))
    assert [(w.kind, w.institution and w.institution.short_name, w.years) for w in dash.warnings] == [
        ("uncommitted", "UA", (2027, 2028, 2029)), ("uncommitted", "UB", (2027, 2028, 2029)),
        ("shortfall", None, (2027,)), ("shortfall", None, (2029,))]  # UB still gives a course; 2028's income suffices
    assert len(dash.commitments) == 2  # both stay on record


def test_a_refused_proposal_names_every_error_at_once(s):
    with pytest.raises(ValidationError) as caught:
        add(s, institution=s.uc, last_year=2026)
    assert set(caught.value.message_dict) == {"institution", "last_year"}
    assert not Commitment.objects.exists()



def test_only_quality_managers_act_on_commitments(s):
    c = add(s)
    for user in (s.member, s.world.people["UB_admin"], s.world.people["UC_admin"], s.world.people["learner"]):
        with pytest.raises(PermissionDenied):
            add(s, actor=user)
        for service in (su.commitment_confirm, su.commitment_withdraw):
            with pytest.raises(PermissionDenied):
                service(actor=user, commitment=c)
        with pytest.raises(PermissionDenied):
            su.commitment_update(actor=user, commitment=c, data={"amount": D("1")})
    assert Commitment.objects.get().status == "proposed"
    su.commitment_confirm(actor=s.world.people["CA_admin"], commitment=c)
    assert Commitment.objects.get().status == "confirmed"


def test_a_refusal_is_a_domain_error_with_a_message(s):
    c = add(s)
    su.commitment_withdraw(actor=s.leader, commitment=c)
    with pytest.raises(DomainError) as caught:
        su.commitment_confirm(actor=s.leader, commitment=c)
    assert caught.value.message == "This commitment is withdrawn; it cannot be confirmed."


def test_the_dates_follow_the_status(s):
    c = add(s)
    before = dt.datetime.now(dt.UTC)
    su.commitment_confirm(actor=s.leader, commitment=c)
    c.refresh_from_db()
    assert c.confirmed_at >= before and c.withdrawn_at is None
    su.commitment_withdraw(actor=s.leader, commitment=c)
    c.refresh_from_db()
    assert c.withdrawn_at >= c.confirmed_at
