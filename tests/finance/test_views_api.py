"""Finance pages and API: learners see and pay their own invoices, finance officers of the issuing institution
handle them, partners see the edition's finances and settlement but not another partner's invoices or private cost
lines (unless the agreement shares costs)."""

import csv
import io
from decimal import Decimal as D

import pytest
from django.urls import reverse

from consortium.services import apitoken_create
from finance import services
from finance.models import Budget, CostLine, Grant, Invoice
from programmes.models import ProgrammePartner

from ..factories import AgreementFactory, AgreementVersionFactory, RevenueShareFactory
from .conftest import accept, fresh


@pytest.fixture
def invoiced(fin, django_capture_on_commit_callbacks):
    fin.application = accept(fin, django_capture_on_commit_callbacks)
    fin.invoice = Invoice.objects.get(application=fin.application)
    return fin


def agreement(f, *, model="collecting_partner", basis="fixed", costs_shared=False):
    version = AgreementVersionFactory(agreement=AgreementFactory(consortium=f.w.ca), status="in_force",
                                      revenue_model=model, collecting_institution=f.ua if model != "each_keeps_own"
                                      else None, sharing_basis=basis if model != "each_keeps_own" else "",
                                      costs_shared=costs_shared)
    f.programme.agreement = version.agreement
    f.programme.save(update_fields=["agreement"])
    return version


def budget(f):
    b = Budget.objects.create(edition=f.edition, kind="actual")
    CostLine.objects.create(budget=b, category="teaching", description="Lectures UA", borne_by=f.ua,
                            quantity=D("20"), unit_cost=D("50"))
    CostLine.objects.create(budget=b, category="platform_it", description="UB platform", borne_by=f.ub,
                            quantity=D("1"), unit_cost=D("300"))
    return b


# --- Learners ----------------------------------------------------------------------------------------------------


def test_learner_sees_downloads_and_pays_their_invoice(invoiced, client):
    f = invoiced
    client.force_login(f.application.applicant)
    html = client.get(reverse("my-invoices")).content.decode()
    assert f.invoice.number in html and "1350.00" in html and "Pay 1350.00 EUR now" in html
    pdf = client.get(reverse("invoice-download", args=[f.invoice.pk]))
    assert pdf.status_code == 200 and pdf["Content-Type"] == "application/pdf"
    assert pdf["Cache-Control"] == "private, no-store"
    response = client.post(reverse("invoice-demo-pay", args=[f.invoice.pk]), follow=True)
    assert "Payment of 1350.00 EUR received" in response.content.decode()
    f.invoice.refresh_from_db()
    assert f.invoice.status == "paid" and f.invoice.payments.get().method == "provider"


def test_other_people_get_404_on_someone_elses_invoice(invoiced, client, world):
    f = invoiced
    for outsider in (world.people["UB_admin"], f.ub_finance):
        client.force_login(outsider)
        assert client.get(reverse("invoice-download", args=[f.invoice.pk])).status_code == 404
        assert client.post(reverse("invoice-demo-pay", args=[f.invoice.pk])).status_code == 404
        assert client.get(reverse("finance-invoice", args=[f.invoice.pk])).status_code == 404
    client.force_login(f.ua_finance)  # the issuer's finance officer downloads, but does not pay for the learner
    assert client.get(reverse("invoice-download", args=[f.invoice.pk])).status_code == 200
    assert client.post(reverse("invoice-demo-pay", args=[f.invoice.pk])).status_code == 404


def test_empty_state_for_a_learner_without_invoices(db, client):
    from ..factories import UserFactory

    client.force_login(UserFactory())
    assert "You have no invoices." in client.get(reverse("my-invoices")).content.decode()


# --- Finance officers --------------------------------------------------------------------------------------------


def test_issuer_officer_records_a_payment_and_a_credit_note_through_the_pages(invoiced, client):
    f = invoiced
    client.force_login(f.ua_finance)
    html = client.get(reverse("finance-edition", args=[f.edition.pk])).content.decode()
    assert f.invoice.number in html and "Fee table" in html and "Early bird" in html and "ChipCo" in html
    bad = client.post(reverse("finance-payment-add", args=[f.invoice.pk]),
                      {"amount": "9999", "received_on": "2026-01-05", "reference": "X"})
    assert bad.status_code == 200 and "more than the 1350.00 outstanding" in bad.content.decode()
    ok = client.post(reverse("finance-payment-add", args=[f.invoice.pk]),
                     {"amount": "350.00", "received_on": "2026-01-05", "reference": "BANK-9"}, follow=True)
    assert "The payment is recorded." in ok.content.decode() and "Outstanding: 1000.00 EUR" in ok.content.decode()
    note = client.post(reverse("finance-credit-add", args=[f.invoice.pk]),
                       {"amount": "100", "reason": "Goodwill"}, follow=True)
    assert "The credit note is issued." in note.content.decode() and "CN-UA-" in note.content.decode()
    assert services.outstanding(Invoice.objects.get(pk=f.invoice.pk)) == D("900.00")


def test_partner_officer_sees_the_edition_but_not_the_issuers_invoices(invoiced, client):
    f = invoiced
    client.force_login(f.ub_finance)
    html = client.get(reverse("finance-edition", args=[f.edition.pk])).content.decode()
    assert "Fee table" in html and f.invoice.number not in html
    assert "invoices are visible to the finance officers of the institution that issues them" in html
    assert client.get(reverse("finance-payment-add", args=[f.invoice.pk])).status_code == 404


def test_private_cost_lines_unless_the_agreement_shares_costs(invoiced, client):
    f = invoiced
    version = agreement(f, costs_shared=False)
    RevenueShareFactory(version=version, institution=f.ua, percent=D("60"))
    RevenueShareFactory(version=version, institution=f.ub, percent=D("40"))
    budget(f)
    client.force_login(f.ub_finance)
    html = client.get(reverse("finance-edition", args=[f.edition.pk])).content.decode()
    assert "UB platform" in html and "Lectures UA" not in html and "1 cost line of another partner is private" in html
    version.costs_shared = True
    version.save(update_fields=["costs_shared"])
    html = client.get(reverse("finance-edition", args=[f.edition.pk])).content.decode()
    assert "Lectures UA" in html and "is private" not in html


def test_settlement_page_csv_and_api_agree(invoiced, client):
    f = invoiced
    version = agreement(f)
    RevenueShareFactory(version=version, institution=f.ua, percent=D("60"))
    RevenueShareFactory(version=version, institution=f.ub, percent=D("40"))
    budget(f)
    Grant.objects.create(edition=f.edition, funder="Erasmus+ BIP", received_by=f.ua, amount=D("650.00"),
                         participants_covered=15)
    services.payment_record(actor=fresh(f.ua_finance), invoice=f.invoice, amount=D("1350.00"))
    # Income 1,350 + 650 = 2,000 collected by UA; costs UA 1,000, UB 300; result 700 → UA 420, UB 280.
    statement = services.settlement(f.edition)
    by = {f.ua.pk if line.partner == f.ua.pk else f.ub.pk: line for line in statement.lines}
    assert by[f.ub.pk].entitled == D("580.00") and by[f.ua.pk].entitled == D("1420.00")
    assert [(m.payer, m.payee, m.amount) for m in statement.transfers] == [(f.ua.pk, f.ub.pk, D("580.00"))]

    client.force_login(f.ub_finance)
    html = client.get(reverse("finance-edition", args=[f.edition.pk])).content.decode()
    assert "UA pays 580.00 EUR to UB" in html
    rows = list(csv.reader(io.StringIO(client.get(reverse("finance-settlement-csv", args=[f.edition.pk]))
                                       .content.decode("utf-8-sig"))))
    assert ["UA", "UB", "580.00"] in rows and rows[0][0] == "partner"

    token = apitoken_create(actor=None, institution=f.ub, name="UB ERP", scopes=["finance:read"],
                            check_policy=False)[1]
    api = client.get(f"/api/v1/editions/{f.edition.pk}/settlement/", HTTP_AUTHORIZATION=f"Token {token}").json()
    assert api["income"] == "2000.00" and api["transfers"] == [{"payer": "UA", "payee": "UB", "amount": "580.00"}]


def test_each_keeps_its_own_has_no_transfers(invoiced):
    agreement(invoiced, model="each_keeps_own")
    statement = services.settlement(invoiced.edition)
    assert statement.model == "each_keeps_own" and statement.transfers == []


# --- API isolation -----------------------------------------------------------------------------------------------


def test_api_invoices_are_scoped_to_the_issuing_institution(invoiced, client):
    f = invoiced
    ua_token, ub_token, no_scope = (
        apitoken_create(actor=None, institution=i, name=n, scopes=[scope], check_policy=False)[1]
        for i, n, scope in ((f.ua, "UA SIS", "finance:read"), (f.ub, "UB SIS", "finance:read"),
                            (f.ua, "UA other", "institutions:read")))
    mine = client.get("/api/v1/invoices/", HTTP_AUTHORIZATION=f"Token {ua_token}").json()
    assert [i["number"] for i in mine["results"]] == [f.invoice.number]
    assert mine["results"][0]["outstanding"] == "1350.00"
    theirs = client.get("/api/v1/invoices/", HTTP_AUTHORIZATION=f"Token {ub_token}").json()
    assert theirs["results"] == []
    assert client.get(f"/api/v1/invoices/{f.invoice.pk}/", HTTP_AUTHORIZATION=f"Token {ub_token}").status_code == 404
    assert client.get("/api/v1/invoices/", HTTP_AUTHORIZATION=f"Token {no_scope}").status_code == 403
    services.payment_record(actor=fresh(f.ua_finance), invoice=f.invoice, amount=D("100"))
    payments = client.get("/api/v1/payments/", HTTP_AUTHORIZATION=f"Token {ua_token}").json()["results"]
    assert [(p["invoice"], p["amount"]) for p in payments] == [(f.invoice.number, "100.00")]
    assert client.get("/api/v1/payments/", HTTP_AUTHORIZATION=f"Token {ub_token}").json()["results"] == []
    # A partner not in the programme sees no settlement.
    ProgrammePartner.objects.filter(programme=f.programme, institution=f.ub).delete()
    assert client.get(f"/api/v1/editions/{f.edition.pk}/settlement/",
                      HTTP_AUTHORIZATION=f"Token {ub_token}").status_code == 404


def test_business_plan_page(fin, client):
    from finance.models import PlanYear

    PlanYear.objects.create(programme=fin.programme, year=2027, editions=1, learners_per_edition=25,
                            average_fee=D("980"), fixed_cost_per_edition=D("14500"),
                            variable_cost_per_learner=D("120"), public_funding=D("6000"))
    client.force_login(fin.ub_finance)
    home = client.get(reverse("finance-home")).content.decode()
    assert reverse("finance-plan", args=[fin.programme.pk]) in home
    html = client.get(reverse("finance-plan", args=[fin.programme.pk])).content.decode()
    assert "30500.00" in html and "17500.00" in html and "13000.00" in html and "<svg" in html
    assert ">10<" in html  # break-even learners per edition with the grant
    from ..factories import UserFactory

    client.force_login(UserFactory())
    assert client.get(reverse("finance-plan", args=[fin.programme.pk])).status_code in (403, 404)


def test_public_programme_page_shows_the_fee_table(fin, client):
    fin.edition.status = "open"
    fin.edition.save(update_fields=["status"])
    html = client.get(reverse("programme-public", args=[fin.programme.code])).content.decode()
    assert f"Fees of edition {fin.edition.intake_code}" in html
    assert "1500.00" in html and "600.00" in html and "Job seeker" in html and "Early bird: 10.00 %" in html
    assert "Exempt from VAT" in html


def test_personal_data_export_lists_invoices_and_erasure_keeps_them(invoiced):
    from consortium.api import personal_data

    learner = invoiced.application.applicant
    exported = personal_data.export_user(learner)["finance"]
    assert [row["number"] for row in exported] == [invoiced.invoice.number] and exported[0]["total"] == "1350.00"
    personal_data.erase_user(learner)
    assert Invoice.objects.filter(pk=invoiced.invoice.pk).exists()


def test_receipts_and_the_settlement_pdf(invoiced, client):
    from pypdf import PdfReader

    f = invoiced
    payment = services.payment_record(actor=fresh(f.ua_finance), invoice=f.invoice, amount=D("350.00"),
                                      reference="BANK-77")
    client.force_login(f.application.applicant)
    assert reverse("payment-receipt", args=[payment.pk]) in client.get(reverse("my-invoices")).content.decode()
    receipt = client.get(reverse("payment-receipt", args=[payment.pk]))
    text = " ".join(p.extract_text() for p in PdfReader(io.BytesIO(receipt.content)).pages)
    assert receipt.status_code == 200 and "350.00" in text and f.invoice.number in text and "BANK-77" in text
    client.force_login(f.ub_finance)
    assert client.get(reverse("payment-receipt", args=[payment.pk])).status_code == 404
    version = agreement(f)
    RevenueShareFactory(version=version, institution=f.ua, percent=D("50"))
    RevenueShareFactory(version=version, institution=f.ub, percent=D("50"))
    statement = client.get(reverse("finance-settlement-pdf", args=[f.edition.pk]))
    text = " ".join(p.extract_text() for p in PdfReader(io.BytesIO(statement.content)).pages)
    assert statement.status_code == 200 and "UA pays UB" in text and "175.00" in text


def test_the_fake_provider_is_off_unless_configured(invoiced, client, settings):
    """In production (no DEBUG, no PAYMENT_FAKE_PROVIDER) nobody can pay with the demo provider."""
    settings.PAYMENT_PROVIDERS = {}
    f = invoiced
    client.force_login(f.application.applicant)
    assert "Pay 1350.00 EUR now" not in client.get(reverse("my-invoices")).content.decode()
    assert client.post(reverse("invoice-demo-pay", args=[f.invoice.pk])).status_code == 404
    assert client.post("/finance/webhooks/fake/", b"{}", content_type="application/json").status_code == 404
    f.invoice.refresh_from_db()
    assert f.invoice.status == "issued" and not f.invoice.payments.exists()
