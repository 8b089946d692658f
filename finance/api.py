"""The finance app's public surface for higher apps (quality). Import from here, not from its internals.

* ``business_plan(programme)`` — the programme's medium-term plan, one ``YearPlan`` per planned year in order
  (projected learners, income, full cost, margin, break-even learners per edition); an empty list without a plan.
* ``YearPlan`` — one year of it (a frozen dataclass; the figures are properties, in EUR, rounded to cents).
"""

from .plan import YearPlan
from .selectors import business_plan

__all__ = ["YearPlan", "business_plan"]
