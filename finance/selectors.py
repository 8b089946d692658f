"""Finance reads: what a learner, a finance officer or a team leader may see (policy-filtered)."""

from __future__ import annotations

from django.db.models import Prefetch, QuerySet, Sum

from consortium.api import DomainError, policy
from programmes.api import Edition

from . import services
from .models import Budget, CostLine, Discount, Fee, Grant, Invoice, Payment, Sponsorship


def invoices() -> QuerySet[Invoice]:
    return Invoice.objects.select_related("issuer", "edition__programme", "application", "sponsorship")


def invoices_of_learner(user) -> list[dict]:
    rows = []
    for invoice in invoices().filter(application__applicant=user).prefetch_related("payments", "credit_notes"):
        rows.append({"invoice": invoice, "outstanding": services.outstanding(invoice),
                     "payments": list(invoice.payments.all()), "credit_notes": list(invoice.credit_notes.all())})
    return rows


def editions_for(user) -> QuerySet[Edition]:
    editions = Edition.objects.select_related("programme").order_by("-starts_on")
    return policy.filter(user, "finance.view", editions)


def edition_overview(user, edition: Edition) -> dict:
    """Everything the edition's finance page shows to ``user``: the fee table, discounts and sponsors (joint
    information), the invoices and payments the user may see (the issuer's finance officers), the cost lines the
    policy shows (own lines; others' only when the agreement shares costs), grants and the settlement."""
    visible_invoices = policy.filter(user, "finance.invoice_view", invoices().filter(edition=edition))
    budget = services.current_budget(edition)
    lines = []
    hidden_lines = 0
    if budget is not None:
        for line in CostLine.objects.filter(budget=budget).select_related("borne_by", "budget__edition__programme"):
            if policy.can(user, "finance.costs_view", line):
                lines.append(line)
            else:
                hidden_lines += 1
    try:
        statement, statement_error = services.settlement(edition), ""
    except DomainError as exc:
        statement, statement_error = None, exc.message
    return {
        "edition": edition,
        "terms": services.terms(edition),
        "fees": Fee.objects.filter(edition=edition).order_by("track", "profile"),
        "discounts": Discount.objects.filter(edition=edition),
        "sponsorships": Sponsorship.objects.filter(edition=edition),
        "invoices": visible_invoices.prefetch_related(Prefetch("payments", queryset=Payment.objects.all()))
        .order_by("-issued_on", "-sequence_number")[:200],
        "invoiced_total": visible_invoices.aggregate(s=Sum("total"))["s"],
        "budget": budget,
        "budgets": Budget.objects.filter(edition=edition).order_by("kind", "-version"),
        "cost_lines": lines,
        "hidden_cost_lines": hidden_lines,
        "grants": Grant.objects.filter(edition=edition).select_related("received_by"),
        "statement": statement,
        "statement_error": statement_error,
        "statement_rows": statement.rows() if statement else [],
        "transfer_rows": statement.transfer_rows() if statement else [],
    }


def business_plan(programme) -> list:
    from .models import PlanYear
    from .plan import YearPlan

    return [YearPlan(year=y.year, editions=y.editions, learners_per_edition=y.learners_per_edition,
                     average_fee=y.average_fee, fixed_cost_per_edition=y.fixed_cost_per_edition,
                     variable_cost_per_learner=y.variable_cost_per_learner, public_funding=y.public_funding)
            for y in PlanYear.objects.filter(programme=programme).order_by("year")]
