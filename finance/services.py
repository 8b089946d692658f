"""Finance: pricing an application (fee table, the best discount, a sponsor), invoices numbered without gaps,
payments (manual or from a payment provider), credit notes and refunds, and the edition's settlement.

Finance reacts to admissions through domain events (``finance.subscribers``); admissions never imports finance.
When an edition requires payment before enrolment, a fully paid invoice tells admissions
(``admissions.api.application_payment_received``), which enrols the learner."""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from dataclasses import dataclass, field
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.db import IntegrityError, transaction
from django.db.models import Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from admissions.api import Application, ApplicationStatus, Enrolment, application_payment_received
from consortium.api import (
    AgreementStatus,
    DomainError,
    Institution,
    TransitionError,
    audit,
    feed,
    policy,
    save_validated,
)
from programmes.api import Edition

from . import settlement as rules
from .models import (
    Budget,
    BudgetKind,
    CostLine,
    CreditNote,
    Discount,
    DiscountKind,
    DiscountRule,
    EditionFinance,
    Fee,
    Grant,
    Invoice,
    InvoiceLine,
    InvoiceStatus,
    NumberSequence,
    Payment,
    PaymentMethod,
    SequenceKind,
    Sponsorship,
)
from .money import ZERO, cents, percent_of


def _record(actor, action: str, obj, edition: Edition, changes=None, institution_id=None) -> None:
    audit.record(actor, action, obj, changes, consortium_id=edition.programme.consortium_id,
                 institution_id=institution_id or edition.programme.issuing_institution_id)


def _person(actor):
    """The signed-in user who acts (kept on the record), or None for tasks, tokens and providers."""
    return actor if getattr(actor, "is_authenticated", False) and getattr(actor, "token", None) is None else None


def terms(edition: Edition) -> EditionFinance:
    """The edition's financial terms (defaults until a finance officer sets them: VAT-exempt, 30 days)."""
    return EditionFinance.objects.filter(edition=edition).first() or EditionFinance(edition=edition)


# --- Pricing -----------------------------------------------------------------------------------------------------


@dataclass
class Quote:
    fee: Fee
    discount: Discount | None = None
    discount_amount: Decimal = ZERO
    sponsorship: Sponsorship | None = None
    lines: list[tuple[str, Decimal]] = field(default_factory=list)

    @property
    def net(self) -> Decimal:
        return cents(self.fee.amount - self.discount_amount)


def fee_for(application: Application) -> Fee | None:
    """The fee-table line for the application's profile and track, else the track's line for any profile."""
    fees = {(f.profile, f.track): f for f in Fee.objects.filter(edition_id=application.edition_id)}
    return fees.get((application.participant_profile, application.track)) or fees.get(("", application.track))


def _email_domain(email: str) -> str:
    return email.rsplit("@", 1)[-1].lower() if "@" in email else ""


def _qualifies(discount: Discount, application: Application) -> bool:
    if discount.rule == DiscountRule.EARLY_BIRD:
        submitted = application.submitted_at or application.created_at
        return submitted is not None and timezone.localdate(submitted) <= discount.valid_until
    if discount.rule == DiscountRule.PARTNER_STAFF:
        return _email_domain(application.email) in {d.lower().lstrip("@") for d in discount.email_domains}
    if discount.rule == DiscountRule.PROFILE:
        return application.participant_profile == discount.profile
    return False


def _discount_amount(discount: Discount, fee: Decimal) -> Decimal:
    if discount.kind == DiscountKind.PERCENT:
        return min(fee, percent_of(fee, discount.value))
    return min(fee, cents(discount.value))


def _sponsorship(application: Application, *, lock: bool) -> Sponsorship | None:
    """The sponsor paying for this learner: one that names their email, else the employer they named on the
    application while it has places left (``lock``: take the place under a row lock)."""
    email = application.email.lower()
    candidates = Sponsorship.objects.filter(edition_id=application.edition_id).order_by("sponsor_name")
    if lock:
        candidates = candidates.select_for_update()
    named = [s for s in candidates if email in {e.lower() for e in s.learner_emails}]
    if named:
        return named[0]
    employer = application.employer_sponsor.strip().lower()
    if not employer:
        return None
    for sponsorship in candidates:
        if sponsorship.sponsor_name.strip().lower() == employer and sponsorship.places is not None \
                and sponsorship.places_used < sponsorship.places:
            return sponsorship
    return None


def quote(application: Application, *, lock: bool = False) -> Quote | None:
    """What this learner pays (None: the edition has no fee for their track). The single largest discount they
    qualify for applies (no stacking)."""
    fee = fee_for(application)
    if fee is None:
        return None
    best, best_amount = None, ZERO
    for discount in Discount.objects.filter(edition_id=application.edition_id).order_by("name"):
        if _qualifies(discount, application):
            amount = _discount_amount(discount, fee.amount)
            if amount > best_amount:
                best, best_amount = discount, amount
    result = Quote(fee=fee, discount=best, discount_amount=best_amount,
                   sponsorship=_sponsorship(application, lock=lock))
    result.lines = [(_("Tuition fee: %(profile)s, %(track)s") % {
        "profile": fee.get_profile_display() or _("all participants"), "track": fee.get_track_display()},
        cents(fee.amount))]
    if best is not None:
        result.lines.append((_("Discount: %(name)s") % {"name": best.name}, -best_amount))
    return result


# --- Numbering ---------------------------------------------------------------------------------------------------


def _prefix(institution: Institution) -> str:
    return re.sub(r"[^A-Z0-9]", "", institution.short_name.upper())[:12] or "INV"


def next_number(institution: Institution, kind: str, year: int) -> tuple[int, str]:
    """The next number of the institution's series for ``kind`` and ``year``. Must run inside the transaction
    that saves the document: the sequence row stays locked until it commits, and a rollback returns the number,
    so the series has no gaps and no duplicates however many workers issue at once."""
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("next_number must run inside the transaction that saves the numbered document.")
    try:
        with transaction.atomic():
            NumberSequence.objects.get_or_create(institution=institution, kind=kind, year=year)
    except IntegrityError:  # created at the same moment by another transaction
        pass
    sequence = NumberSequence.objects.select_for_update().get(institution=institution, kind=kind, year=year)
    sequence.last_number += 1
    sequence.save(update_fields=["last_number", "updated_at"])
    prefix = "CN-" if kind == SequenceKind.CREDIT_NOTE else ""
    return sequence.last_number, f"{prefix}{_prefix(institution)}-{year}-{sequence.last_number:05d}"


# --- Invoices ----------------------------------------------------------------------------------------------------


def _paid(invoice: Invoice) -> Decimal:
    return cents(invoice.payments.aggregate(s=Sum("amount"))["s"] or ZERO)


def _credited(invoice: Invoice) -> Decimal:
    return cents(invoice.credit_notes.aggregate(s=Sum("amount"))["s"] or ZERO)


def outstanding(invoice: Invoice, *, payments=None, credit_notes=None) -> Decimal:
    """What is still to be paid: total − credited − paid (refunds count as negative payments).

    ``payments``/``credit_notes``: the invoice's rows when the caller has them already (a list that prefetched them),
    instead of two sums in the database per invoice."""
    paid = _paid(invoice) if payments is None else cents(sum((p.amount for p in payments), ZERO))
    credited = _credited(invoice) if credit_notes is None else cents(sum((c.amount for c in credit_notes), ZERO))
    return cents(invoice.total - credited - paid)


@transaction.atomic
def invoice_issue(*, actor, application: Application) -> Invoice | None:
    """The invoice for an accepted offer (idempotent: one per application). None when the edition charges nothing
    for the learner's track. A free place (100 % discount) is issued and paid at once."""
    application = Application.objects.select_for_update().select_related("edition__programme").get(
        pk=application.pk)
    existing = Invoice.objects.filter(application=application).first()
    if existing is not None:
        return existing
    priced = quote(application, lock=True)
    if priced is None:
        return None
    edition = application.edition
    issuer = edition.programme.issuing_institution
    conditions = terms(edition)
    today = timezone.localdate()
    sequence_number, number = next_number(issuer, SequenceKind.INVOICE, today.year)
    net = priced.net
    vat = percent_of(net, conditions.vat_rate)
    learner = " ".join(x for x in (application.given_names, application.family_names) if x)
    sponsor = priced.sponsorship
    invoice = Invoice.objects.create(
        number=number, issuer=issuer, sequence_year=today.year, sequence_number=sequence_number, edition=edition,
        application=application, sponsorship=sponsor, learner_name=learner,
        recipient_name=sponsor.sponsor_name if sponsor else learner,
        recipient_address=sponsor.sponsor_address if sponsor else "",
        recipient_email=(sponsor.sponsor_email if sponsor else application.email) or application.email,
        recipient_vat_number=sponsor.sponsor_vat_number if sponsor else "",
        issued_on=today, due_on=today + dt.timedelta(days=conditions.payment_terms_days),
        net=net, vat_rate=conditions.vat_rate, vat=vat, total=net + vat,
        vat_note=conditions.vat_note if conditions.vat_rate == 0 else "")
    lines = list(priced.lines)
    if sponsor is not None:
        lines.append((_("Paid by %(sponsor)s for %(learner)s") % {"sponsor": sponsor.sponsor_name,
                                                                   "learner": learner}, ZERO))
        if application.email.lower() not in {e.lower() for e in sponsor.learner_emails}:  # took a place
            Sponsorship.objects.filter(pk=sponsor.pk).update(places_used=sponsor.places_used + 1)
    InvoiceLine.objects.bulk_create([InvoiceLine(invoice=invoice, position=i, description=d, amount=a)
                                     for i, (d, a) in enumerate(lines)])
    _record(actor, "invoice.issued", invoice, edition, {"number": number, "total": str(invoice.total),
                                                         "sponsor": sponsor.sponsor_name if sponsor else ""},
            institution_id=issuer.pk)
    if invoice.total == 0:
        _mark_paid(actor, invoice)
    from .tasks import render_invoice

    render_invoice.delay_on_commit(str(invoice.pk))
    return invoice


def _touch(invoice: Invoice) -> None:
    """The invoice shows what is outstanding and its credit notes: a payment or a credit note changes it too."""
    Invoice.objects.filter(pk=invoice.pk).update(updated_at=timezone.now())


def _mark_paid(actor, invoice: Invoice) -> None:
    invoice.status = InvoiceStatus.PAID
    invoice.save(update_fields=["status", "updated_at"])
    application = invoice.application
    if application.status == ApplicationStatus.AWAITING_PAYMENT:
        application_payment_received(actor=actor, application=application)
    # The partners' feed (consortium.feed), as the last write (after the enrolment above): only the issuing
    # institution lists its invoices (finance.invoice_view), so it alone sees the event.
    feed.record("invoice.paid", invoice, consortium_id=invoice.edition.programme.consortium_id,
                institution_ids=[invoice.issuer_id],
                data={"number": invoice.number, "total": invoice.total, "application": invoice.application_id})


@transaction.atomic
def payment_record(*, actor, invoice: Invoice, amount: Decimal, received_on: dt.date | None = None,
                   reference: str = "", method: str = PaymentMethod.MANUAL, provider: str = "",
                   provider_event_id: str = "") -> Payment:
    """Record money received. Refused for more than is outstanding, for a credited invoice, or for nothing. The
    payment that settles the invoice marks it paid and, when the edition waits for payment, enrols the learner."""
    if method == PaymentMethod.MANUAL:
        policy.require(actor, "finance.invoice_manage", invoice)
    invoice = Invoice.objects.select_for_update().select_related("application", "edition__programme").get(
        pk=invoice.pk)
    if provider_event_id:
        seen = Payment.objects.filter(provider=provider, provider_event_id=provider_event_id).first()
        if seen is not None:
            return seen  # a provider repeating its notification
    amount = cents(amount)
    if amount <= 0:
        raise ValidationError({"amount": [_("Enter an amount above zero.")]})
    if invoice.status == InvoiceStatus.CREDITED:
        raise TransitionError(_("The invoice was credited: no payment can be recorded on it."))
    due = outstanding(invoice)
    if amount > due:
        raise ValidationError({"amount": [_("%(amount)s is more than the %(due)s outstanding on %(number)s.") % {
            "amount": amount, "due": due, "number": invoice.number}]})
    received_on = received_on or timezone.localdate()
    if received_on > timezone.localdate():
        raise ValidationError({"received_on": [_("A payment cannot be received in the future.")]})
    payment = Payment.objects.create(invoice=invoice, amount=amount, method=method, reference=reference[:128],
                                     provider=provider, provider_event_id=provider_event_id, received_on=received_on,
                                     recorded_by=_person(actor))
    _record(actor, "payment.recorded", payment, invoice.edition, {"invoice": invoice.number, "amount": str(amount),
                                                                  "method": method}, institution_id=invoice.issuer_id)
    if outstanding(invoice) == 0:
        _mark_paid(actor, invoice)
    else:
        _touch(invoice)
    return payment


@transaction.atomic
def credit_note_issue(*, actor, invoice: Invoice, amount: Decimal, reason: str,
                      check_policy: bool = True) -> CreditNote:
    """Credit all or part of an invoice; money already paid beyond what remains due is refunded (a negative
    payment linked to the credit note)."""
    if check_policy:
        policy.require(actor, "finance.invoice_manage", invoice)
    if not reason.strip():
        raise ValidationError({"reason": [_("Say why the invoice is credited.")]})
    invoice = Invoice.objects.select_for_update().select_related("edition__programme", "issuer").get(pk=invoice.pk)
    amount = cents(amount)
    creditable = cents(invoice.total - _credited(invoice))
    if amount <= 0:
        raise ValidationError({"amount": [_("Enter an amount above zero.")]})
    if amount > creditable:
        raise ValidationError({"amount": [_("At most %(max)s can still be credited on %(number)s.") % {
            "max": creditable, "number": invoice.number}]})
    today = timezone.localdate()
    sequence_number, number = next_number(invoice.issuer, SequenceKind.CREDIT_NOTE, today.year)
    note = CreditNote.objects.create(invoice=invoice, number=number, sequence_year=today.year,
                                     sequence_number=sequence_number, issuer=invoice.issuer, amount=amount,
                                     reason=reason[:255], issued_on=today,
                                     issued_by=_person(actor))
    refund = cents(_paid(invoice) - (invoice.total - _credited(invoice)))
    if refund > 0:
        Payment.objects.create(invoice=invoice, amount=-refund, method=PaymentMethod.MANUAL, credit_note=note,
                               reference=_("Refund for %(number)s") % {"number": number}, received_on=today)
    if _credited(invoice) == invoice.total:
        invoice.status = InvoiceStatus.CREDITED
        invoice.save(update_fields=["status", "updated_at"])
    else:
        _touch(invoice)
    _record(actor, "credit_note.issued", note, invoice.edition, {"invoice": invoice.number, "amount": str(amount),
                                                                 "refund": str(max(refund, ZERO)), "reason": reason},
            institution_id=invoice.issuer_id)
    return note


def withdrawal_credit(*, application_id) -> CreditNote | None:
    """A withdrawn learner's invoice is credited by the edition's terms: in full before the start, the edition's
    refund percentage after it (nothing when that is 0 %)."""
    invoice = Invoice.objects.select_related("edition").filter(application_id=application_id).first()
    if invoice is None or invoice.status == InvoiceStatus.CREDITED:
        return None
    started = timezone.localdate() >= invoice.edition.starts_on
    creditable = cents(invoice.total - _credited(invoice))
    if started:
        amount = min(creditable, percent_of(invoice.total, terms(invoice.edition).refund_percent_after_start))
        reason = _("Withdrawal after the start of the edition (%(p)s %% refundable)") % {
            "p": terms(invoice.edition).refund_percent_after_start}
    else:
        amount, reason = creditable, _("Withdrawal before the start of the edition")
    if amount <= 0:
        return None
    return credit_note_issue(actor=None, invoice=invoice, amount=amount, reason=reason, check_policy=False)


def invoice_render(invoice_id) -> Invoice:
    """The invoice's PDF (idempotent: rendered once; an invoice never changes after issuing)."""
    from .rendering import render_invoice_pdf

    invoice = Invoice.objects.select_related("issuer", "edition__programme").get(pk=invoice_id)
    if invoice.pdf:
        return invoice
    pdf = render_invoice_pdf(invoice)
    with transaction.atomic():
        invoice = Invoice.objects.select_for_update().get(pk=invoice_id)
        if invoice.pdf:
            return invoice
        invoice.pdf.save(f"{invoice.number}.pdf", ContentFile(pdf), save=False)
        invoice.pdf_sha256 = hashlib.sha256(pdf).hexdigest()
        invoice.save(update_fields=["pdf", "pdf_sha256", "updated_at"])
    return invoice


# --- Settlement --------------------------------------------------------------------------------------------------


@dataclass
class Statement:
    edition: Edition
    model: str
    basis: str
    collecting: Institution | None
    lines: list[rules.PartnerLine]
    transfers: list[rules.Transfer]
    names: dict
    budget: Budget | None
    basis_label: str = ""

    @property
    def income(self) -> Decimal:
        return sum((line.collected for line in self.lines), ZERO)

    @property
    def costs(self) -> Decimal:
        return sum((line.costs for line in self.lines), ZERO)

    def rows(self) -> list[dict]:
        """One row per partner, named (what the page, the PDF, the CSV and the API show)."""
        return [{"name": self.names[line.partner].short_name, "line": line} for line in self.lines]

    def transfer_rows(self) -> list[dict]:
        return [{"payer": self.names[m.payer].short_name, "payee": self.names[m.payee].short_name,
                 "amount": m.amount} for m in self.transfers]


def _agreement_version(edition: Edition):
    agreement = edition.programme.agreement
    if agreement is None:
        return None
    return agreement.versions.filter(status=AgreementStatus.IN_FORCE).order_by("-number").first()


def current_budget(edition: Edition) -> Budget | None:
    """The latest actual budget, else the latest planned one."""
    return (Budget.objects.filter(edition=edition, kind=BudgetKind.ACTUAL).order_by("-version").first()
            or Budget.objects.filter(edition=edition, kind=BudgetKind.PLANNED).order_by("-version").first())


def settlement(edition: Edition) -> Statement:
    """Income collected (payments net of refunds, grants), costs borne (the current budget), each partner's
    entitlement and the transfers, under the financial model of the consortium agreement in force."""
    version = _agreement_version(edition)
    model = version.revenue_model if version else rules.EACH_KEEPS_OWN
    basis = (version.sharing_basis if version else "") or ""
    partners = [p.institution for p in edition.programme.partners.select_related("institution")
                .order_by("institution__short_name")]
    names = {i.pk: i for i in partners}
    collected: dict = {}
    for row in Payment.objects.filter(invoice__edition=edition).values("invoice__issuer_id").annotate(s=Sum("amount")):
        collected[row["invoice__issuer_id"]] = cents(row["s"])
    for grant in Grant.objects.filter(edition=edition):
        collected[grant.received_by_id] = collected.get(grant.received_by_id, ZERO) + cents(grant.amount)
    budget = current_budget(edition)
    costs: dict = {}
    if budget is not None:
        for line in budget.lines.all():
            costs[line.borne_by_id] = costs.get(line.borne_by_id, ZERO) + line.amount
    weights = _weights(edition, version, basis, partners)
    missing = {*collected, *costs} - set(names)
    names.update({i.pk: i for i in Institution.objects.filter(pk__in=missing)})
    if model == rules.COLLECTING_PARTNER and not any(w > 0 for w in weights.values()):
        raise DomainError(_("The agreement's sharing basis gives every partner a zero share for this edition."))
    lines = rules.partner_lines(model=model, collected=collected, costs=costs, weights=weights)
    return Statement(edition=edition, model=model, basis=basis,
                     collecting=version.collecting_institution if version else None, lines=lines,
                     transfers=rules.transfers(lines), names=names, budget=budget,
                     basis_label=version.get_sharing_basis_display() if version else "")


def _weights(edition: Edition, version, basis: str, partners) -> dict:
    if version is None or version.revenue_model != rules.COLLECTING_PARTNER:
        return {p.pk: Decimal(0) for p in partners}
    if basis == "fixed":
        shares = {s.institution_id: s.percent for s in version.revenue_shares.all()}
        return {**{p.pk: Decimal(0) for p in partners}, **shares}
    if basis == "ects_taught":
        ects: dict = {p.pk: Decimal(0) for p in partners}
        if edition.curriculum_id:
            for course in edition.curriculum.courses.all():
                ects[course.provider_id] = ects.get(course.provider_id, Decimal(0)) + course.ects
        return ects
    counts: dict = {p.pk: Decimal(0) for p in partners}  # learners_enrolled: learners registered at each partner
    for enrolment in Enrolment.objects.filter(edition=edition).prefetch_related("registrations"):
        for registration in enrolment.registrations.all():
            counts[registration.institution_id] = counts.get(registration.institution_id, Decimal(0)) + 1
    return counts


def settlement_csv_rows(statement: Statement) -> list[list[str]]:
    rows = [["partner", "collected", "costs", "share_basis_weight", "entitled", "result", "balance"]]
    for row in statement.rows():
        line = row["line"]
        rows.append([row["name"], str(line.collected), str(line.costs), str(line.weight), str(line.entitled),
                     str(line.result), str(line.balance)])
    rows += [[], ["transfer_from", "transfer_to", "amount"]]
    rows += [[t["payer"], t["payee"], str(t["amount"])] for t in statement.transfer_rows()]
    return rows


def provider_event_apply(event) -> Payment | None:
    """A payment provider's notification (already authenticated by the provider class): a succeeded payment is
    recorded once per provider event id; other statuses change nothing. ``LookupError`` for an unknown invoice."""
    if not event.succeeded:
        return None
    invoice = Invoice.objects.filter(number=event.invoice_number).first()
    if invoice is None:
        raise LookupError(f"Unknown invoice {event.invoice_number!r}.")
    return payment_record(actor=None, invoice=invoice, amount=event.amount, method=PaymentMethod.PROVIDER,
                          provider=event.provider, provider_event_id=event.event_id, reference=event.event_id)


# --- Setting up an edition's finances (finance officers, team leaders) --------------------------------------------

FEE_FIELDS = ("profile", "track", "amount")
DISCOUNT_FIELDS = ("name", "rule", "kind", "value", "valid_until", "profile", "email_domains")
SPONSORSHIP_FIELDS = ("sponsor_name", "sponsor_address", "sponsor_vat_number", "sponsor_email", "learner_emails",
                      "places")
GRANT_FIELDS = ("funder", "received_by", "amount", "participants_covered", "eligibility_notes")
COST_LINE_FIELDS = ("category", "description", "borne_by", "quantity", "unit_cost", "per_learner")
TERMS_FIELDS = ("vat_rate", "vat_note", "payment_terms_days", "refund_percent_after_start")


def _create(actor, model, edition: Edition, data: dict, fields, action: str):
    policy.require(actor, "finance.edition_manage", edition)
    obj = model(edition=edition, **{f: data[f] for f in fields if f in data})
    save_validated(obj)
    _record(actor, action, obj, edition, {f: str(getattr(obj, f)) for f in fields if f in data})
    return obj


@transaction.atomic
def fee_set(*, actor, edition: Edition, data: dict) -> Fee:
    """The fee for a profile and track (replaces the existing line for them)."""
    policy.require(actor, "finance.edition_manage", edition)
    fee = Fee.objects.filter(edition=edition, profile=data.get("profile", ""), track=data["track"]).first() \
        or Fee(edition=edition, profile=data.get("profile", ""), track=data["track"])
    fee.amount = data["amount"]
    save_validated(fee)
    _record(actor, "fee.set", fee, edition, {"profile": fee.profile, "track": fee.track, "amount": str(fee.amount)})
    return fee


@transaction.atomic
def discount_add(*, actor, edition: Edition, data: dict) -> Discount:
    return _create(actor, Discount, edition, data, DISCOUNT_FIELDS, "discount.added")


@transaction.atomic
def sponsorship_add(*, actor, edition: Edition, data: dict) -> Sponsorship:
    return _create(actor, Sponsorship, edition, data, SPONSORSHIP_FIELDS, "sponsorship.added")


@transaction.atomic
def grant_add(*, actor, edition: Edition, data: dict) -> Grant:
    return _create(actor, Grant, edition, data, GRANT_FIELDS, "grant.added")


@transaction.atomic
def terms_set(*, actor, edition: Edition, data: dict) -> EditionFinance:
    policy.require(actor, "finance.edition_manage", edition)
    terms_obj = EditionFinance.objects.filter(edition=edition).first() or EditionFinance(edition=edition)
    for name in TERMS_FIELDS:
        if name in data:
            setattr(terms_obj, name, data[name])
    save_validated(terms_obj)
    _record(actor, "finance_terms.set", terms_obj, edition, {f: str(getattr(terms_obj, f)) for f in TERMS_FIELDS})
    return terms_obj


@transaction.atomic
def setting_delete(*, actor, obj) -> None:
    """Remove a fee line, a discount or a sponsor (invoices already issued keep their amounts and lines)."""
    if not isinstance(obj, Fee | Discount | Sponsorship):
        raise TypeError("Only fee lines, discounts and sponsors are removed this way.")
    edition = obj.edition
    policy.require(actor, "finance.edition_manage", edition)
    if isinstance(obj, Sponsorship) and obj.invoices.exists():
        raise DomainError(_("%(sponsor)s was already invoiced: a sponsor with invoices stays.") % {
            "sponsor": obj.sponsor_name})
    _record(actor, f"{obj._meta.model_name}.deleted", obj, edition, {"was": str(obj)})
    obj.delete()


@transaction.atomic
def budget_start(*, actor, edition: Edition, kind: str) -> Budget:
    """A new version of the planned or actual budget, starting from the latest version of that kind (or, for the
    first actual budget, from the latest planned one)."""
    policy.require(actor, "finance.edition_manage", edition)
    if kind not in BudgetKind.values:
        raise DomainError(_("Choose planned or actual."))
    Edition.objects.select_for_update().filter(pk=edition.pk).first()  # two officers starting versions at once
    previous = Budget.objects.filter(edition=edition, kind=kind).order_by("-version").first()
    source = previous or (Budget.objects.filter(edition=edition, kind=BudgetKind.PLANNED).order_by("-version").first()
                          if kind == BudgetKind.ACTUAL else None)
    budget = Budget.objects.create(edition=edition, kind=kind, version=(previous.version + 1) if previous else 1,
                                   created_by=_person(actor))
    if source is not None:
        CostLine.objects.bulk_create([CostLine(budget=budget, **{f: getattr(line, f) for f in COST_LINE_FIELDS})
                                      for line in source.lines.all()])
    _record(actor, "budget.started", budget, edition, {"kind": kind, "version": budget.version})
    return budget


@transaction.atomic
def cost_line_add(*, actor, budget: Budget, data: dict) -> CostLine:
    """A cost line borne by one of the programme's partners. A finance officer enters its own institution's lines;
    a team leader any partner's."""
    edition = budget.edition
    line = CostLine(budget=budget, **{f: data[f] for f in COST_LINE_FIELDS if f in data})
    policy.require(actor, "finance.cost_enter", line)
    partners = set(edition.programme.partners.values_list("institution_id", flat=True))
    if line.borne_by_id not in partners:
        raise ValidationError({"borne_by": [_("Only a partner of the programme bears its costs.")]})
    save_validated(line)
    _record(actor, "cost_line.added", line, edition, {"description": line.description, "amount": str(line.amount),
                                                      "borne_by": str(line.borne_by)},
            institution_id=line.borne_by_id)
    return line


@transaction.atomic
def cost_line_delete(*, actor, line: CostLine) -> None:
    policy.require(actor, "finance.cost_enter", line)
    _record(actor, "cost_line.deleted", line, line.budget.edition, {"was": line.description},
            institution_id=line.borne_by_id)
    line.delete()


PLAN_FIELDS = ("year", "editions", "learners_per_edition", "average_fee", "fixed_cost_per_edition",
               "variable_cost_per_learner", "public_funding")


@transaction.atomic
def plan_year_set(*, actor, programme, data: dict):
    """One year of the programme's medium-term plan (replaces that year's figures)."""
    from .models import PlanYear

    policy.require(actor, "finance.plan_manage", programme)
    row = PlanYear.objects.filter(programme=programme, year=data["year"]).first() or PlanYear(programme=programme)
    for name in PLAN_FIELDS:
        if name in data:
            setattr(row, name, data[name])
    save_validated(row)
    audit.record(actor, "plan_year.set", row, {f: str(getattr(row, f)) for f in PLAN_FIELDS},
                 consortium_id=programme.consortium_id, institution_id=programme.issuing_institution_id)
    return row
