"""The business plan: income, cost, margin and break-even per year, property-tested against the definition."""

from decimal import Decimal as D

from hypothesis import given
from hypothesis import strategies as st

from finance.plan import YearPlan, chart

money = st.decimals(min_value=D("0"), max_value=D("50000"), places=2, allow_nan=False, allow_infinity=False)


def plan(**changes):
    values = {"year": 2027, "editions": 1, "learners_per_edition": 25, "average_fee": D("980"),
              "fixed_cost_per_edition": D("14500"), "variable_cost_per_learner": D("120"), "public_funding": D("0")}
    return YearPlan(**{**values, **changes})


def test_worked_example():
    p = plan()
    assert (p.income, p.cost, p.margin) == (D("24500.00"), D("17500.00"), D("7000.00"))
    assert p.break_even_learners == 17  # 14,500 / 860 = 16.9
    assert plan(public_funding=D("6000")).break_even_learners == 10  # (14,500 − 6,000) / 860 = 9.9
    assert plan(average_fee=D("120")).break_even_learners is None


@given(fee=money, fixed=money, variable=money, funding=money, editions=st.integers(1, 4))
def test_break_even_is_the_smallest_number_that_covers_the_cost(fee, fixed, variable, funding, editions):
    p = plan(average_fee=fee, fixed_cost_per_edition=fixed, variable_cost_per_learner=variable,
             public_funding=funding, editions=editions)
    n = p.break_even_learners
    if n is None:
        assert fee <= variable
        return

    def margin(learners):
        return learners * (fee - variable) + funding / editions - fixed

    assert margin(n) >= 0 and (n == 0 or margin(n - 1) < 0)


def test_chart_points_and_break_even_marker():
    c = chart(plan())
    assert c.break_even_x is not None and len(c.cost_points.split()) == 2 and len(c.income_points.split()) == 2
    start_cost = float(c.cost_points.split()[0].split(",")[1])
    start_income = float(c.income_points.split()[0].split(",")[1])
    assert start_income > start_cost  # SVG y grows downwards: at 0 learners income (0) lies below cost
    assert chart(plan(average_fee=D("100"))).break_even_x is None
