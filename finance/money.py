"""Money: ``Decimal`` EUR amounts rounded to cents **half up** (0.005 → 0.01), the rounding of invoices and
statements; shares are split with the largest-remainder method so the parts always add up to the whole."""

from __future__ import annotations

from collections.abc import Mapping
from decimal import ROUND_DOWN, ROUND_HALF_UP, Decimal
from typing import TypeVar

CENT = Decimal("0.01")
ZERO = Decimal("0.00")
K = TypeVar("K")


def cents(value: Decimal | int | str) -> Decimal:
    """``value`` rounded half up to cents. Floats are refused: they cannot hold cents exactly."""
    if isinstance(value, float):
        raise TypeError("Money is never a float: pass a Decimal, an int or a string.")
    return Decimal(value).quantize(CENT, rounding=ROUND_HALF_UP)


def percent_of(amount: Decimal, percent: Decimal) -> Decimal:
    return cents(Decimal(amount) * Decimal(percent) / Decimal(100))


def allocate(total: Decimal, weights: Mapping[K, Decimal]) -> dict[K, Decimal]:
    """Split ``total`` (cents) in proportion to ``weights`` (non-negative, not all zero): each part is rounded down
    to the cent, then the remaining cents go one by one to the largest remainders (ties: the order of ``weights``).
    The parts add up to ``total`` exactly."""
    total = cents(total)
    keys = list(weights)
    weight_sum = sum((Decimal(weights[k]) for k in keys), Decimal(0))
    if not keys or weight_sum <= 0:
        raise ValueError("Give at least one positive weight.")
    if any(Decimal(weights[k]) < 0 for k in keys):
        raise ValueError("Weights cannot be negative.")
    exact = {k: total * Decimal(weights[k]) / weight_sum for k in keys}
    parts = {k: exact[k].quantize(CENT, rounding=ROUND_DOWN) for k in keys}
    left = int((total - sum(parts.values(), ZERO)) / CENT)
    step = CENT if left >= 0 else -CENT
    order = sorted(keys, key=lambda k: (exact[k] - parts[k]), reverse=left >= 0)
    for k in order[:abs(left)]:
        parts[k] += step
    return parts
