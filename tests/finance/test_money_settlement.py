"""Money arithmetic (Decimal cents, half-up) and the settlement rules, property-tested: the parts of a split add up
to the whole, balances sum to zero, transfers settle every balance, each partner's share matches the rule."""

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from finance.money import allocate, cents, percent_of
from finance.settlement import COLLECTING_PARTNER, EACH_KEEPS_OWN, partner_lines, transfers

amounts = st.decimals(min_value=Decimal("0"), max_value=Decimal("1000000"), places=2, allow_nan=False,
                      allow_infinity=False)
signed = st.decimals(min_value=Decimal("-1000000"), max_value=Decimal("1000000"), places=2, allow_nan=False,
                     allow_infinity=False)
weights = st.decimals(min_value=Decimal("0"), max_value=Decimal("100"), places=2, allow_nan=False,
                      allow_infinity=False)
partners = st.lists(st.sampled_from(["KUL", "UNED", "OU", "UA", "UB", "EMP"]), min_size=1, max_size=6, unique=True)


def test_cents_round_half_up_and_refuse_floats():
    assert cents(Decimal("0.005")) == Decimal("0.01") and cents(Decimal("0.004")) == Decimal("0.00")
    assert cents(Decimal("2.675")) == Decimal("2.68")  # a float 2.675 would round down
    assert cents(Decimal("-0.005")) == Decimal("-0.01")
    assert percent_of(Decimal("1250.00"), Decimal("15")) == Decimal("187.50")
    with pytest.raises(TypeError):
        cents(0.1)


@given(total=signed, shares=st.lists(weights, min_size=1, max_size=8))
def test_allocate_adds_up_exactly_and_stays_within_a_cent(total, shares):
    mapping = {i: w for i, w in enumerate(shares)}
    if sum(shares) == 0:
        with pytest.raises(ValueError):
            allocate(total, mapping)
        return
    parts = allocate(total, mapping)
    assert sum(parts.values()) == cents(total)
    for key, weight in mapping.items():
        exact = cents(total) * weight / sum(shares)
        assert abs(parts[key] - exact) < Decimal("0.01")
        assert parts[key] == parts[key].quantize(Decimal("0.01"))


@st.composite
def editions(draw):
    names = draw(partners)
    collected = {n: draw(amounts) for n in names if draw(st.booleans())}
    costs = {n: draw(amounts) for n in names if draw(st.booleans())}
    shares = {n: draw(weights) for n in names}
    if not any(shares.values()):
        shares[names[0]] = Decimal("1")
    return collected, costs, shares


@given(editions())
def test_collecting_partner_balances_sum_to_zero_and_shares_match_the_rule(edition):
    collected, costs, shares = edition
    lines = partner_lines(model=COLLECTING_PARTNER, collected=collected, costs=costs, weights=shares)
    assert sum(line.balance for line in lines) == 0
    result = sum(collected.values(), Decimal(0)) - sum(costs.values(), Decimal(0))
    total_weight = sum(shares.values())
    for line in lines:
        assert line.costs == costs.get(line.partner, Decimal("0"))
        exact_share = result * shares.get(line.partner, 0) / total_weight
        assert abs((line.entitled - line.costs) - exact_share) < Decimal("0.01")  # its share of the result


@given(editions())
def test_transfers_settle_every_balance_with_at_most_n_minus_one(edition):
    collected, costs, shares = edition
    lines = partner_lines(model=COLLECTING_PARTNER, collected=collected, costs=costs, weights=shares)
    moves = transfers(lines)
    assert len(moves) <= max(0, len(lines) - 1)
    net = {line.partner: line.balance for line in lines}
    for move in moves:
        assert move.amount > 0 and move.payer != move.payee
        net[move.payer] += move.amount
        net[move.payee] -= move.amount
    assert all(value == 0 for value in net.values())
    assert sum(m.amount for m in moves) == sum(line.balance for line in lines if line.balance > 0)


@given(editions())
def test_each_keeps_its_own_transfers_nothing(edition):
    collected, costs, shares = edition
    lines = partner_lines(model=EACH_KEEPS_OWN, collected=collected, costs=costs, weights=shares)
    assert all(line.balance == 0 for line in lines) and transfers(lines) == []
    assert all(line.result == line.collected - line.costs for line in lines)


def test_worked_example_fixed_shares():
    """KUL collects 10,000; costs KUL 2,000, UNED 3,000, OU 1,000; shares 50/30/20 of the 4,000 result."""
    lines = partner_lines(model=COLLECTING_PARTNER, collected={"KUL": Decimal("10000")},
                          costs={"KUL": Decimal("2000"), "UNED": Decimal("3000"), "OU": Decimal("1000")},
                          weights={"KUL": Decimal("50"), "UNED": Decimal("30"), "OU": Decimal("20")})
    by = {line.partner: line for line in lines}
    assert by["KUL"].entitled == Decimal("4000.00") and by["UNED"].entitled == Decimal("4200.00")
    assert by["OU"].entitled == Decimal("1800.00")
    assert [(m.payer, m.payee, m.amount) for m in transfers(lines)] == [
        ("KUL", "UNED", Decimal("4200.00")), ("KUL", "OU", Decimal("1800.00"))]


def test_zero_weights_are_refused_with_a_message():
    with pytest.raises(ValueError, match="zero share"):
        partner_lines(model=COLLECTING_PARTNER, collected={"A": Decimal("1")}, costs={}, weights={"A": Decimal(0)})
