"""Demo finance for the CDF edition: financial terms, a fee table by profile and track, two discounts, two
sponsors, planned and actual budgets borne by the partners, an Erasmus+ grant, invoices for every accepted offer,
payments (bank transfers and the demo provider), a refund for the learner who withdrew, and a 3-year plan.

Admissions' demo accepted the offers in the same transaction, so its events reach finance when the seed commits:
they find the invoices issued here (issuing is idempotent) and credit the withdrawal (with its refund)."""

import datetime as dt
from decimal import Decimal as D

from django.conf import settings

from admissions.api import Application
from consortium.api import Institution
from programmes.api import Edition

from . import payments, services
from .models import Budget, CostLine, Discount, EditionFinance, Fee, Grant, Invoice, PlanYear, Sponsorship

INVOICED = ("offer_accepted", "awaiting_payment", "enrolled", "suspended", "completed", "withdrawn")


def seed(ctx: dict) -> list[str]:
    if EditionFinance.objects.exists():
        return ["Demo finance already exists."]
    edition = Edition.objects.filter(programme__code="euchip-cdf", status="open").select_related("programme").first()
    if edition is None:
        return []
    kul, uned, ou = (Institution.objects.get(short_name=n) for n in ("KU Leuven", "UNED", "OU NL"))
    EditionFinance.objects.create(edition=edition, payment_terms_days=30, refund_percent_after_start=D("25"))
    for profile, track, amount in (("", "assessed", "1250.00"), ("degree_student", "assessed", "450.00"),
                                   ("job_seeker", "assessed", "300.00"), ("alumni", "assessed", "950.00"),
                                   ("", "attendance", "350.00")):
        Fee.objects.create(edition=edition, profile=profile, track=track, amount=D(amount))
    Discount.objects.create(edition=edition, name="Early bird", rule="early_bird", kind="percent", value=D("10"),
                            valid_until=edition.application_closes_at.date() - dt.timedelta(days=20))
    Discount.objects.create(edition=edition, name="Staff of a partner university", rule="partner_staff",
                            kind="percent", value=D("25"),
                            email_domains=["kuleuven.example", "uned.example", "ou.example"])
    applications = list(Application.objects.filter(edition=edition, status__in=INVOICED).order_by("email"))
    named = [a.email for a in applications[:3]]
    Sponsorship.objects.create(edition=edition, sponsor_name="EuroChip Industry Association",
                               sponsor_address="Rue de la Loi 1\n1000 Brussels\nBelgium",
                               sponsor_vat_number="BE0123456789", sponsor_email="accounts@eurochip.example",
                               learner_emails=named[:2])
    Sponsorship.objects.create(edition=edition, sponsor_name="Semicon Foundry BV",
                               sponsor_address="Fabweg 10\n5600 Eindhoven\nNetherlands",
                               sponsor_email="ap@semicon.example", learner_emails=named[2:3], places=2)
    for kind, factor in (("planned", D("1")), ("actual", D("1.08"))):
        budget = Budget.objects.create(edition=edition, kind=kind, note="Demo full-cost budget")
        for category, description, who, quantity, unit in (
            ("curriculum_development", "Curriculum development (share of the first edition)", kul, 60, "65.00"),
            ("teaching", "Teaching hours, CDF1", kul, 24, "90.00"),
            ("teaching", "Teaching hours, CDF2", uned, 24, "70.00"),
            ("teaching", "Teaching hours, CDF3 and team lab", ou, 30, "85.00"),
            ("platform_it", "Learning platform and virtual lab licences", ou, 1, "1800.00"),
            ("student_administration", "Joint admissions and records", uned, 40, "45.00"),
            ("invited_speakers", "Two industry speakers", kul, 2, "400.00"),
        ):
            CostLine.objects.create(budget=budget, category=category, description=description, borne_by=who,
                                    quantity=D(quantity), unit_cost=(D(unit) * factor).quantize(D("0.01")))
    Grant.objects.create(edition=edition, funder="Erasmus+ Blended Intensive Programme", received_by=kul,
                         amount=D("6000.00"), participants_covered=15,
                         eligibility_notes="Physical mobility of at least 5 days plus a virtual component.")
    invoices = [services.invoice_issue(actor=None, application=a) for a in applications]
    invoices = [i for i in invoices if i is not None]
    officer = ctx["people"].get("finance@kuleuven.example")
    paid = 0
    for index, invoice in enumerate(invoices):
        due = services.outstanding(invoice)
        if due <= 0:
            continue
        by_provider = index % 3 == 1 and "fake" in settings.PAYMENT_PROVIDERS  # the demo provider is DEBUG-only
        if invoice.application.status == "withdrawn" or index % 3 == 0 or (index % 3 == 1 and not by_provider):
            services.payment_record(actor=officer, invoice=invoice, amount=due, reference=f"BANK-{index:03d}",
                                    received_on=invoice.issued_on)
            paid += 1
        elif by_provider:
            provider = payments.provider("fake")
            body, headers = provider.notification(event_id=f"demo-evt-{index}", invoice_number=invoice.number,
                                                  amount=due)
            services.provider_event_apply(provider.parse_webhook(body, headers))
            paid += 1
    start = edition.starts_on.year
    for offset, learners in enumerate((25, 32, 40)):
        PlanYear.objects.create(programme=edition.programme, year=start + offset, editions=1,
                                learners_per_edition=learners, average_fee=D("980.00"),
                                fixed_cost_per_edition=D("14500.00"), variable_cost_per_learner=D("120.00"),
                                public_funding=D("6000.00") if offset == 0 else D("0"))
    count = Invoice.objects.filter(edition=edition).count()
    return [f"Finance: fee table, 2 discounts, 2 sponsors, budgets and an Erasmus+ grant for the CDF edition; "
            f"{count} invoices from KU Leuven ({paid} paid, the withdrawn learner refunded when the seed commits); "
            f"finance@kuleuven.example handles them, finance@ou.example sees the settlement at /finance/."]
