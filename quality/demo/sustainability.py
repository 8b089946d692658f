"""Demo sustainability data: the CDF partners' commitments over the years of finance's 3-year plan (finance's demo
runs before this one). KU Leuven and OU NL commit for the whole plan; UNED's money ends a year before the plan
does and EuroChip's sponsorship is still a proposal, so the dashboard shows its warnings. Idempotent: nothing is
added when the programme already has commitments."""

from decimal import Decimal as D

from finance.api import business_plan
from programmes.api import Programme

from .. import sustainability
from ..models import Commitment

#: (institution, kind, amount per year, years of the plan covered (offsets), confirmed?, description)
COMMITMENTS = (
    ("KU Leuven", "money", "6000.00", (0, 1, 2), True, "Coordination, joint admissions and records"),
    ("KU Leuven", "staff_hours", "200", (0, 1, 2), True, "Team leader and programme coordinator"),
    ("UNED", "money", "3500.00", (0, 1), True, "Teaching of CDF2 (RTL verification)"),
    ("OU NL", "in_kind", "1800.00", (0, 1, 2), True, "Learning platform and virtual lab licences"),
    ("OU NL", "staff_hours", "120", (0, 1, 2), True, "Teaching of CDF3 and the team lab"),
    ("EuroChip", "money", "2500.00", (1, 2), False, "Industry sponsorship of the capstone project"),
)


def seed(ctx: dict) -> list[str]:
    programme = Programme.objects.filter(code="euchip-cdf").select_related("agreement").first()
    if programme is None:
        return []
    if Commitment.objects.filter(programme=programme).exists():
        return ["Demo commitments already exist."]
    years = [y.year for y in business_plan(programme)]
    if not years:
        return []
    leader = ctx["people"]["leader@kuleuven.example"]
    institutions = ctx["institutions"]
    for name, kind, amount, offsets, confirmed, description in COMMITMENTS:
        commitment = sustainability.commitment_add(actor=leader, programme=programme, data={
            "institution": institutions[name], "kind": kind, "amount": D(amount),
            "first_year": years[offsets[0]], "last_year": years[offsets[-1]], "description": description,
            "agreement": programme.agreement if confirmed else None,
        })
        if confirmed:
            sustainability.commitment_confirm(actor=leader, commitment=commitment)
    return [f"Sustainability: {len(COMMITMENTS)} commitments of the CDF partners over {years[0]}–{years[-1]} "
            f"(UNED's money ends in {years[1]}, a year before the plan, so the dashboard warns; EuroChip's is still "
            f"proposed): /quality/programmes/{programme.pk}/sustainability/ (leader@kuleuven.example)."]
