"""The settlement of an edition between its partners, as pure arithmetic on ``Decimal`` cents (property-tested).

Two financial models come from the consortium agreement in force (``consortium.models.RevenueModel``):

* **collecting partner** — one partner collects the fees; every partner is reimbursed the costs it bore and gets
  its share of the result (income − costs, a loss is shared the same way), by the agreed basis: fixed percentages,
  ECTS taught, or learners registered. ``entitled = costs + share × result``; ``balance = entitled − collected``.
* **each keeps its own** — every partner keeps what it collected and bears its own costs: all balances are zero
  and nothing is transferred; the statement still shows income, costs and each partner's result.

Balances add up to zero exactly (``money.allocate`` splits the result to the cent). Transfers go from partners with
a negative balance (holding money due to others) to those with a positive one, largest first: at most n − 1
transfers for n partners.
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping
from dataclasses import dataclass
from decimal import Decimal

from .money import ZERO, allocate, cents

COLLECTING_PARTNER = "collecting_partner"
EACH_KEEPS_OWN = "each_keeps_own"


@dataclass(frozen=True)
class PartnerLine:
    partner: Hashable
    collected: Decimal
    costs: Decimal
    weight: Decimal
    entitled: Decimal

    @property
    def balance(self) -> Decimal:
        """Positive: the partner receives this much; negative: it pays it out."""
        return self.entitled - self.collected

    @property
    def result(self) -> Decimal:
        return self.entitled - self.costs


@dataclass(frozen=True)
class Transfer:
    payer: Hashable
    payee: Hashable
    amount: Decimal


def partner_lines(*, model: str, collected: Mapping[Hashable, Decimal], costs: Mapping[Hashable, Decimal],
                  weights: Mapping[Hashable, Decimal]) -> list[PartnerLine]:
    """One line per partner named in any of the three mappings (missing amounts are zero), in the order of
    ``weights`` then the others."""
    partners = list(dict.fromkeys([*weights, *collected, *costs]))
    got = {p: cents(collected.get(p, ZERO)) for p in partners}
    bore = {p: cents(costs.get(p, ZERO)) for p in partners}
    weight = {p: Decimal(weights.get(p, 0)) for p in partners}
    if model == EACH_KEEPS_OWN:
        return [PartnerLine(p, got[p], bore[p], weight[p], got[p]) for p in partners]
    if model != COLLECTING_PARTNER:
        raise ValueError(f"Unknown financial model {model!r}.")
    result = sum(got.values(), ZERO) - sum(bore.values(), ZERO)
    if not any(w > 0 for w in weight.values()):
        raise ValueError("The sharing basis gives every partner a zero share: nothing to share the result by.")
    shares = allocate(result, weight)
    return [PartnerLine(p, got[p], bore[p], weight[p], bore[p] + shares[p]) for p in partners]


def transfers(lines: list[PartnerLine]) -> list[Transfer]:
    """The payments that bring every balance to zero, largest debtor to largest creditor first."""
    debtors = sorted(([line.partner, -line.balance] for line in lines if line.balance < 0), key=lambda d: -d[1])
    creditors = sorted(([line.partner, line.balance] for line in lines if line.balance > 0), key=lambda c: -c[1])
    moves: list[Transfer] = []
    i = j = 0
    while i < len(debtors) and j < len(creditors):
        amount = min(debtors[i][1], creditors[j][1])
        moves.append(Transfer(debtors[i][0], creditors[j][0], amount))
        debtors[i][1] -= amount
        creditors[j][1] -= amount
        if debtors[i][1] == 0:
            i += 1
        if creditors[j][1] == 0:
            j += 1
    return moves
