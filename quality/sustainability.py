"""Sustainability (D10): the partners' multi-year commitments (services) and the per-programme dashboard that puts
them beside the medium-term financial plan (``finance.api.business_plan``) and the annual quality reviews.

Commitments: ``commitment_add`` proposes one, ``commitment_update`` changes a proposal, ``commitment_confirm`` and
``commitment_withdraw`` move it along ``TRANSITIONS`` (proposed → confirmed → withdrawn, or proposed → withdrawn).
A confirmed commitment is not edited: it is withdrawn and a new one proposed, so the trail shows both. Each action
needs ``quality.manage`` on the programme and writes an audit event. The institution must be the lead or a partner
of the programme (``programmes.api.in_partnership``) when the commitment is proposed, changed or confirmed; a
partner that has left the programme can still have its commitments withdrawn.

The dashboard (``dashboard(programme)``) lists the programme's quality reviews (academic year, status) and counts
**confirmed** commitments only; proposals are shown beside them.
Per calendar year of the horizon (every year of the plan and of the commitments not withdrawn, in order):

money per partner
    the sum of the partner's confirmed money commitments covering the year (EUR); ``money_total`` their sum;
staff hours
    the sum of the confirmed staff-time commitments covering the year (hours, all partners);
in kind
    the confirmed in-kind commitments covering the year, listed, and the sum of their estimated values (EUR; not
    counted as money);
proposed money
    the sum of the money commitments still proposed that cover the year (EUR; not counted);
plan figures
    the plan's income, full cost, margin and break-even learners per edition for the year (``finance.plan``);
coverage
    ``money_total / full cost`` (shown as a percentage with one decimal), none when the year has no plan or its
    cost is 0;
balance and gap
    ``balance = income + money_total - full cost``; ``gap = max(0, -balance)``: what is still missing.

Over the plan's years the totals are sums (the gap total is the sum of the yearly gaps, a surplus in one year not
covering another) and the coverage is ``Σ money_total / Σ full cost``.

Warnings (``DashboardWarning.kind``):

``uncommitted``
    a partner that provides courses in the curriculum (the latest approved version, else the latest version) has
    no confirmed commitment of any kind covering a year of the plan (one warning per partner, naming the years);
``ends_early``
    a partner's confirmed commitments of one kind all end before the plan's last year (one per partner and kind);
``shortfall``
    a year of the plan where income + committed money < full cost (the gap is named).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import OuterRef, Subquery
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from consortium.api import Institution, TransitionError, audit, policy, save_validated
from finance.api import YearPlan, business_plan
from programmes.api import (
    Course,
    CurriculumStatus,
    CurriculumVersion,
    Programme,
    ProgrammePartner,
    partnership_institution_ids,
)

from . import charts
from .models import Commitment, CommitmentKind, CommitmentStatus, QualityReview
from .saving import record

ZERO = Decimal("0")
CENT = Decimal("0.01")
K = CommitmentKind
S = CommitmentStatus

#: What ``commitment_add`` and ``commitment_update`` take from ``data``.
COMMITMENT_FIELDS = ("institution", "first_year", "last_year", "kind", "amount", "description", "agreement")

TRANSITIONS: dict[str, set[str]] = {
    S.PROPOSED: {S.CONFIRMED, S.WITHDRAWN},
    S.CONFIRMED: {S.WITHDRAWN},
    S.WITHDRAWN: set(),
}
TRANSITION_REFUSED = gettext_lazy("This commitment is %(status)s; it cannot be %(target)s.")
TARGET_WORDS = {S.CONFIRMED: gettext_lazy("confirmed"), S.WITHDRAWN: gettext_lazy("withdrawn")}
ONLY_PROPOSALS_CHANGE = gettext_lazy("Only a proposed commitment can be changed. A confirmed one stays as agreed: "
                                     "withdraw it and propose a new one.")
LEFT_THE_PARTNERSHIP = gettext_lazy("%(institution)s is no longer the lead or a partner of the programme, so its "
                                    "proposal cannot be confirmed. Withdraw it, or add the institution to the "
                                    "programme's partners first.")
#: How the warnings name a kind of commitment.
KIND_NOUNS = {K.MONEY: gettext_lazy("money"), K.STAFF_HOURS: gettext_lazy("staff time"),
              K.IN_KIND: gettext_lazy("contributions in kind")}


# --- Services ----------------------------------------------------------------------------------------------------


def _snapshot(commitment: Commitment) -> dict[str, Any]:
    return audit.snapshot(commitment, ("institution", "first_year", "last_year", "kind", "amount", "description",
                                       "agreement", "status"))


def _cents(value):
    """An amount with at most two decimals written with exactly two (as it is stored, so the audit trail shows it
    so); anything else is left for the validation to refuse."""
    if isinstance(value, int) and not isinstance(value, bool):
        value = Decimal(value)
    if isinstance(value, Decimal) and value.is_finite():
        try:
            quantized = value.quantize(CENT)
        except InvalidOperation:
            return value
        return quantized if quantized == value else value
    return value


def _save_proposal(commitment: Commitment) -> None:
    """Validate a new or changed proposal (the model's rules and the partnership, every error at once) and save."""
    errors = commitment.partnership_errors()
    if errors:
        try:
            commitment.full_clean()
        except ValidationError as exc:
            errors = {**exc.message_dict, **errors}
        raise ValidationError(errors)
    save_validated(commitment)


def _save_transition(commitment: Commitment, fields: tuple[str, ...]) -> None:
    """Save a change of status: only its own fields (a concurrent edit of the others is not overwritten)."""
    commitment.full_clean()
    commitment.save(update_fields=[*fields, "updated_at"])


def _apply(commitment: Commitment, data: Mapping[str, Any]) -> None:
    for name in COMMITMENT_FIELDS:
        if name in data:
            value = data[name]
            if name == "description":
                value = (value or "").strip()
            elif name == "amount":
                value = _cents(value)
            setattr(commitment, name, value)


@transaction.atomic
def commitment_add(*, actor, programme: Programme, data: Mapping[str, Any]) -> Commitment:
    """Propose a commitment of a partner of ``programme``. ``data``: ``institution`` (the lead or a partner of the
    programme), ``first_year``, ``last_year`` (calendar years, at most ``COMMITMENT_MAX_YEARS`` of them), ``kind``
    (``CommitmentKind``), ``amount`` per year (EUR, or hours for staff time; ≥ 0), optionally ``description``
    (required in kind) and ``agreement`` (of the programme's consortium)."""
    policy.require(actor, "quality.manage", programme)
    commitment = Commitment(programme=programme)
    _apply(commitment, data)
    _save_proposal(commitment)
    record(actor, "commitment.proposed", commitment, commitment.programme, _snapshot(commitment))
    return commitment


def _locked(commitment: Commitment) -> Commitment:
    return Commitment.objects.select_for_update().select_related("programme", "institution").get(pk=commitment.pk)


@transaction.atomic
def commitment_update(*, actor, commitment: Commitment, data: Mapping[str, Any]) -> Commitment:
    """Change a proposed commitment (any of ``COMMITMENT_FIELDS``)."""
    commitment = _locked(commitment)
    policy.require(actor, "quality.manage", commitment)
    if commitment.status != S.PROPOSED:
        raise TransitionError(str(ONLY_PROPOSALS_CHANGE))
    before = _snapshot(commitment)
    _apply(commitment, data)
    _save_proposal(commitment)
    changes = audit.diff(before, _snapshot(commitment))
    if changes:
        record(actor, "commitment.updated", commitment, commitment.programme, changes)
    return commitment


def _move(actor, commitment: Commitment, target: str) -> Commitment:
    commitment = _locked(commitment)
    policy.require(actor, "quality.manage", commitment)
    if target not in TRANSITIONS[commitment.status]:
        raise TransitionError(str(TRANSITION_REFUSED) % {"status": commitment.get_status_display().lower(),
                                                         "target": TARGET_WORDS[target]})
    return commitment


@transaction.atomic
def commitment_confirm(*, actor, commitment: Commitment) -> Commitment:
    """The partner confirmed its proposal: from now on it counts on the dashboard. The institution must still be
    in the programme's partnership."""
    commitment = _move(actor, commitment, S.CONFIRMED)
    if commitment.partnership_errors():
        raise ValidationError({"institution": str(LEFT_THE_PARTNERSHIP) % {
            "institution": commitment.institution.short_name}})
    commitment.status, commitment.confirmed_at = S.CONFIRMED, timezone.now()
    _save_transition(commitment, ("status", "confirmed_at"))
    record(actor, "commitment.confirmed", commitment, commitment.programme, {"status": [S.PROPOSED, S.CONFIRMED]})
    return commitment


@transaction.atomic
def commitment_withdraw(*, actor, commitment: Commitment, reason: str = "") -> Commitment:
    """The partner withdrew its proposal or its confirmed commitment: it no longer counts (and stays on record).
    Also for a partner that has left the programme."""
    commitment = _move(actor, commitment, S.WITHDRAWN)
    before = commitment.status
    commitment.status, commitment.withdrawn_at = S.WITHDRAWN, timezone.now()
    commitment.withdrawal_reason = (reason or "").strip()
    _save_transition(commitment, ("status", "withdrawn_at", "withdrawal_reason"))
    record(actor, "commitment.withdrawn", commitment, commitment.programme,
            {"status": [before, S.WITHDRAWN], "reason": commitment.withdrawal_reason})
    return commitment


# --- Selectors ---------------------------------------------------------------------------------------------------


PARTNER_ORDER = {"lead": 0, "partner": 1, "associated": 2}


def partnership(programme: Programme) -> list[Institution]:
    """The programme's partnership (``programmes.api.partnership_institution_ids``): the lead institution, then
    the partners (universities, then associated partners) by name."""
    role = ProgrammePartner.objects.filter(programme=programme, institution=OuterRef("pk")).values("role")[:1]
    institutions = Institution.objects.filter(pk__in=partnership_institution_ids(programme)).annotate(
        partner_role=Subquery(role))

    def rank(institution: Institution) -> tuple[int, str]:
        first = 0 if institution.pk == programme.lead_institution_id else PARTNER_ORDER.get(institution.partner_role, 3)
        return first, institution.short_name.lower()

    return sorted(institutions, key=rank)


def curriculum_of(programme: Programme) -> CurriculumVersion | None:
    """The curriculum whose course providers are expected to commit: the latest approved version, else the latest
    version (a programme still being designed)."""
    versions = CurriculumVersion.objects.filter(programme=programme)
    return (versions.filter(status=CurriculumStatus.APPROVED).order_by("-number").first()
            or versions.order_by("-number").first())


def commitments_of(programme: Programme):
    return (Commitment.objects.filter(programme=programme).select_related("institution", "agreement")
            .order_by("first_year", "institution__short_name", "kind", "created_at"))


def reviews_of(programme: Programme) -> list[QualityReview]:
    """The programme's annual quality reviews, the latest academic year first."""
    return list(QualityReview.objects.filter(programme=programme).order_by("-year"))


def _percent(ratio: Decimal | None) -> Decimal | None:
    return None if ratio is None else (ratio * 100).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)


@dataclass
class YearRow:
    """One calendar year of the dashboard (see the module's docstring for each figure)."""

    year: int
    plan: YearPlan | None
    money: list[Decimal]  # per partner, in the order of ``Dashboard.partners``
    money_total: Decimal
    hours_total: Decimal
    in_kind: list[Commitment]
    in_kind_value: Decimal
    proposed_money: Decimal
    partners: list[Institution] = field(default_factory=list, repr=False)

    @property
    def in_plan(self) -> bool:
        return self.plan is not None

    @property
    def income(self) -> Decimal | None:
        return self.plan.income if self.plan else None

    @property
    def cost(self) -> Decimal | None:
        return self.plan.cost if self.plan else None

    @property
    def margin(self) -> Decimal | None:
        return self.plan.margin if self.plan else None

    @property
    def break_even_learners(self) -> int | None:
        return self.plan.break_even_learners if self.plan else None

    @property
    def coverage(self) -> Decimal | None:
        """Committed money over the full cost, as a ratio (None without a plan for the year, or a cost of 0)."""
        if not self.plan or not self.plan.cost:
            return None
        return self.money_total / self.plan.cost

    @property
    def coverage_percent(self) -> Decimal | None:
        return _percent(self.coverage)

    @property
    def balance(self) -> Decimal | None:
        return None if not self.plan else self.plan.income + self.money_total - self.plan.cost

    @property
    def gap(self) -> Decimal | None:
        balance = self.balance
        return None if balance is None else max(ZERO, -balance)

    @property
    def money_cells(self) -> list[tuple[Institution, Decimal]]:
        return list(zip(self.partners, self.money, strict=True))


@dataclass(frozen=True)
class DashboardWarning:
    kind: str  # "uncommitted", "ends_early", "shortfall"
    message: str
    institution: Institution | None = None
    years: tuple[int, ...] = ()
    gap: Decimal | None = None


@dataclass(frozen=True)
class PlanTotals:
    """The sums over the plan's years (the horizon's years without a plan do not count)."""

    income: Decimal
    cost: Decimal
    margin: Decimal
    money: Decimal
    gap: Decimal

    @property
    def coverage(self) -> Decimal | None:
        return self.money / self.cost if self.cost else None

    @property
    def coverage_percent(self) -> Decimal | None:
        return _percent(self.coverage)


@dataclass
class Dashboard:
    programme: Programme
    partners: list[Institution]
    rows: list[YearRow]
    commitments: list[Commitment]
    warnings: list[DashboardWarning]
    plan_years: list[int]
    money_totals: list[Decimal]  # per partner over the horizon
    money_total: Decimal
    hours_total: Decimal
    plan_totals: PlanTotals | None
    course_providers: list[Institution]
    chart: StackChart
    reviews: list[QualityReview] = field(default_factory=list)

    @property
    def plan_rows(self) -> list[YearRow]:
        return [row for row in self.rows if row.plan]

    @property
    def money_total_cells(self) -> list[tuple[Institution, Decimal]]:
        return list(zip(self.partners, self.money_totals, strict=True))

    @property
    def has_commitments(self) -> bool:
        return bool(self.commitments)


def _years_text(years) -> str:
    return ", ".join(str(y) for y in years)


def _money(value: Decimal) -> str:
    return f"{value:,.2f}"


def dashboard(programme: Programme) -> Dashboard:
    """Every figure of the sustainability dashboard of ``programme`` (definitions in the module's docstring)."""
    plan = {y.year: y for y in business_plan(programme)}
    commitments = list(commitments_of(programme))
    partners = partnership(programme)
    known = {p.pk for p in partners}
    live = [c for c in commitments if c.status != S.WITHDRAWN]
    for c in live:  # a partner that left the programme keeps a column while a commitment of it is not withdrawn
        if c.institution_id not in known:
            partners.append(c.institution)
            known.add(c.institution_id)
    column = {p.pk: i for i, p in enumerate(partners)}
    confirmed = [c for c in live if c.status == S.CONFIRMED]
    horizon = sorted(set(plan) | {y for c in live for y in c.years})

    rows = []
    for year in horizon:
        money = [ZERO] * len(partners)
        hours, in_kind, in_kind_value, proposed = ZERO, [], ZERO, ZERO
        for c in live:
            if not c.covers(year):
                continue
            if c.status == S.PROPOSED:
                if c.kind == K.MONEY:
                    proposed += c.amount
                continue
            if c.kind == K.MONEY:
                money[column[c.institution_id]] += c.amount
            elif c.kind == K.STAFF_HOURS:
                hours += c.amount
            else:
                in_kind.append(c)
                in_kind_value += c.amount
        rows.append(YearRow(year=year, plan=plan.get(year), money=money, money_total=sum(money, ZERO),
                            hours_total=hours, in_kind=in_kind, in_kind_value=in_kind_value,
                            proposed_money=proposed, partners=partners))

    curriculum = curriculum_of(programme)
    provider_ids = set()
    if curriculum is not None:
        provider_ids = set(Course.objects.filter(version=curriculum).values_list("provider_id", flat=True))
    providers = [p for p in partners if p.pk in provider_ids]
    missing = provider_ids - known
    if missing:  # a course given by an institution outside the partnership: it still counts
        providers += sorted(Institution.objects.filter(pk__in=missing), key=lambda i: i.short_name.lower())

    plan_rows = [row for row in rows if row.plan]
    totals = None
    if plan_rows:
        totals = PlanTotals(
            income=sum((r.income for r in plan_rows), ZERO), cost=sum((r.cost for r in plan_rows), ZERO),
            margin=sum((r.margin for r in plan_rows), ZERO), money=sum((r.money_total for r in plan_rows), ZERO),
            gap=sum((r.gap for r in plan_rows), ZERO))
    return Dashboard(
        programme=programme, partners=partners, rows=rows, commitments=commitments,
        warnings=_warnings(sorted(plan), confirmed, providers, plan_rows),
        plan_years=sorted(plan),
        money_totals=[sum((r.money[i] for r in rows), ZERO) for i in range(len(partners))],
        money_total=sum((r.money_total for r in rows), ZERO), hours_total=sum((r.hours_total for r in rows), ZERO),
        plan_totals=totals, course_providers=providers, chart=stack_chart(rows, partners),
        reviews=reviews_of(programme),
    )


def _warnings(plan_years: list[int], confirmed: list[Commitment], providers: list[Institution],
              plan_rows: list[YearRow]) -> list[DashboardWarning]:
    warnings = []
    for institution in providers:
        own = [c for c in confirmed if c.institution_id == institution.pk]
        uncovered = tuple(y for y in plan_years if not any(c.covers(y) for c in own))
        if uncovered:
            warnings.append(DashboardWarning(
                kind="uncommitted", institution=institution, years=uncovered,
                message=_("%(institution)s provides courses of the curriculum but has committed nothing for "
                          "%(years)s.") % {"institution": institution.short_name, "years": _years_text(uncovered)}))
    if plan_years:
        end = plan_years[-1]
        last: dict[tuple[Any, str], tuple[int, Institution]] = {}
        for c in confirmed:
            key = (c.institution_id, c.kind)
            if key not in last or c.last_year > last[key][0]:
                last[key] = (c.last_year, c.institution)
        for (_id, kind), (last_year, institution) in sorted(
                last.items(), key=lambda item: (item[1][1].short_name.lower(), item[0][1])):
            if last_year < end:
                warnings.append(DashboardWarning(
                    kind="ends_early", institution=institution, years=(last_year,),
                    message=_("%(institution)s commits %(kind)s only until %(last)d; the plan runs until "
                              "%(end)d.") % {"institution": institution.short_name, "kind": KIND_NOUNS[kind],
                                             "last": last_year, "end": end}))
    for row in plan_rows:
        if row.gap and row.gap > 0:
            warnings.append(DashboardWarning(
                kind="shortfall", years=(row.year,), gap=row.gap,
                message=_("In %(year)d the plan's income and the committed money fall %(gap)s EUR short of the "
                          "full cost.") % {"year": row.year, "gap": _money(row.gap)}))
    return warnings


# --- The chart: stacked bars per year (plan income + each partner's committed money) against the full cost ---------

INCOME_COLOUR = "#bbbbbb"
COST_COLOUR = "#000000"


def r(value: float) -> float:
    return round(float(value) + 0.0, 1)


@dataclass(frozen=True)
class StackSegment:
    series: str
    colour: str
    value: Decimal
    x: float
    y: float
    width: float
    height: float
    title: str


@dataclass(frozen=True)
class StackColumn:
    year: int
    label_x: float
    segments: tuple[StackSegment, ...]
    cost: Decimal | None
    cost_y: float | None
    cost_x1: float
    cost_x2: float
    title: str


@dataclass(frozen=True)
class StackChart:
    width: int
    height: int
    font_size: int
    plot_left: float
    plot_right: float
    plot_top: float
    plot_bottom: float
    label_y: float
    columns: tuple[StackColumn, ...]
    ticks: tuple[tuple[float, str], ...]  # (y, label)
    legend: tuple[charts.Legend, ...]
    cost_points: str
    cost_colour: str = COST_COLOUR

    @property
    def empty(self) -> bool:
        return not self.columns

    @property
    def view_box(self) -> str:
        return f"0 0 {self.width} {self.height}"

    @property
    def tick_label_x(self) -> float:
        """Where the scale's labels end, just left of the plot."""
        return r(self.plot_left - 6)


def stack_chart(rows: list[YearRow], partners: list[Institution], *, width: int = 560, height: int = 280,
                left: int = 72, right: int = 16, top: int = 12, bottom: int = 28, font_size: int = 11) -> StackChart:
    """One column per year: the plan's income at the bottom, then each partner's committed money stacked on it;
    a black mark (and a line through the marks) at the year's full cost. Values in EUR; coordinates in the
    chart's viewBox, rounded to 0.1."""
    plot_left, plot_right = float(left), float(width - right)
    plot_top, plot_bottom = float(top), float(height - bottom)
    stacks = []
    for row in rows:
        parts = [(_("Plan income"), INCOME_COLOUR, row.income or ZERO)]
        parts += [(p.short_name, charts.PALETTE[i % len(charts.PALETTE)], v)
                  for i, (p, v) in enumerate(zip(partners, row.money, strict=True))]
        stacks.append((row, parts))
    maximum = max([float(sum((v for _s, _c, v in parts), ZERO)) for _r, parts in stacks]
                  + [float(row.cost or 0) for row in rows] + [0.0])
    top_value, step = charts.nice_scale(maximum)
    scale = (plot_bottom - plot_top) / top_value

    def y(value) -> float:
        return r(plot_bottom - float(value) * scale)

    slot = (plot_right - plot_left) / len(rows) if rows else 0.0
    bar = min(slot * 0.6, 72.0)
    columns, cost_points = [], []
    for index, (row, parts) in enumerate(stacks):
        centre = plot_left + slot * (index + 0.5)
        x = r(centre - bar / 2)
        base, segments = ZERO, []
        for series, colour, value in parts:
            if value <= 0:
                continue
            segments.append(StackSegment(
                series=series, colour=colour, value=value, x=x, y=y(base + value), width=r(bar),
                height=r(float(value) * scale), title=f"{row.year}, {series}: {charts.number(float(value))} EUR"))
            base += value
        cost_y = y(row.cost) if row.cost is not None else None
        if cost_y is not None:
            cost_points.append(f"{r(centre)},{cost_y}")
        title = _("%(year)d: income and commitments %(total)s EUR") % {
            "year": row.year, "total": charts.number(float(base))}
        if row.cost is not None:
            title += "; " + _("full cost %(cost)s EUR") % {"cost": charts.number(float(row.cost))}
        columns.append(StackColumn(year=row.year, label_x=r(centre), segments=tuple(segments), cost=row.cost,
                                   cost_y=cost_y, cost_x1=r(centre - bar / 2 - 6), cost_x2=r(centre + bar / 2 + 6),
                                   title=title))
    ticks = []
    if rows:
        for i in range(round(top_value / step) + 1):
            value = step * i
            ticks.append((y(value), charts.number(int(value) if float(value).is_integer() else value)))
    legend = (charts.Legend(_("Plan income"), INCOME_COLOUR),
              *(charts.Legend(p.short_name, charts.PALETTE[i % len(charts.PALETTE)]) for i, p in enumerate(partners)))
    return StackChart(width=width, height=height, font_size=font_size, plot_left=plot_left, plot_right=plot_right,
                      plot_top=plot_top, plot_bottom=plot_bottom, label_y=r(plot_bottom + bottom - 10),
                      columns=tuple(columns), ticks=tuple(ticks), legend=legend if rows else (),
                      cost_points=" ".join(cost_points) if len(cost_points) > 1 else "")
