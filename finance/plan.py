"""The business plan of a programme: per year of the medium-term plan, projected income against full cost, the
margin and the break-even number of learners; and the cost/income lines against enrolment drawn as an SVG chart
(server-rendered, no JavaScript)."""

from __future__ import annotations

import math
from dataclasses import dataclass
from decimal import Decimal

from .money import ZERO, cents


@dataclass(frozen=True)
class YearPlan:
    year: int
    editions: int
    learners_per_edition: int
    average_fee: Decimal
    fixed_cost_per_edition: Decimal
    variable_cost_per_learner: Decimal
    public_funding: Decimal

    @property
    def learners(self) -> int:
        return self.editions * self.learners_per_edition

    @property
    def income(self) -> Decimal:
        return cents(self.learners * self.average_fee + self.public_funding)

    @property
    def cost(self) -> Decimal:
        return cents(self.editions * self.fixed_cost_per_edition + self.learners * self.variable_cost_per_learner)

    @property
    def margin(self) -> Decimal:
        return self.income - self.cost

    @property
    def break_even_learners(self) -> int | None:
        """Learners per edition at which income covers cost (public funding spread over the year's editions);
        None when each learner costs at least the average fee (no number of learners breaks even)."""
        contribution = self.average_fee - self.variable_cost_per_learner
        if contribution <= 0:
            return None
        per_edition_funding = self.public_funding / self.editions if self.editions else ZERO
        return max(0, math.ceil((self.fixed_cost_per_edition - per_edition_funding) / contribution))


@dataclass(frozen=True)
class Chart:
    width: int
    height: int
    cost_points: str
    income_points: str
    break_even_x: float | None
    x_ticks: list[tuple[float, int]]
    y_ticks: list[tuple[float, str]]


def chart(plan: YearPlan, *, width: int = 560, height: int = 260, pad: int = 48) -> Chart:
    """Cost and income of one edition against its number of learners (0 … twice the projection or the break-even
    point, whichever is larger), as SVG polyline points."""
    per_edition_funding = plan.public_funding / plan.editions if plan.editions else ZERO
    be = plan.break_even_learners
    top_n = max(10, 2 * plan.learners_per_edition, (be or 0) + 5)

    def cost(n):
        return plan.fixed_cost_per_edition + n * plan.variable_cost_per_learner

    def income(n):
        return n * plan.average_fee + per_edition_funding

    top_y = max(cost(top_n), income(top_n), Decimal(1))

    def x(n):
        return pad + (width - 2 * pad) * n / top_n

    def y(v):
        return height - pad + (pad - height + pad) * float(v / top_y)

    def points(f):
        return " ".join(f"{x(n):.1f},{y(f(n)):.1f}" for n in (0, top_n))

    x_ticks = [(x(n), n) for n in range(0, top_n + 1, max(1, top_n // 5))]
    y_ticks = [(y(top_y * i / 4), f"{int(top_y * i / 4):,}") for i in range(5)]
    return Chart(width, height, points(cost), points(income), x(be) if be is not None and be <= top_n else None,
                 x_ticks, y_ticks)
