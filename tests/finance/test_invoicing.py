"""Invoices from accepted offers (finance subscribes to admissions' event), the right amount (profile, track, the
best discount, sponsors), gapless numbering, PDFs, payments (manual and provider), the payment gate of enrolment,
credit notes and refunds on withdrawal."""

import datetime as dt
import io
from decimal import Decimal as D

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection
from django.utils import timezone
from pypdf import PdfReader

from admissions import services as admissions
from consortium.api import TransitionError
from consortium.models import AuditEvent
from finance import services
from finance.models import CreditNote, Invoice, NumberSequence, Payment, Sponsorship
from finance.payments import FakeProvider, InvalidWebhook

from ..concurrency import errors, race
from .conftest import accept, admitted, fresh

# --- Pricing and issuing -----------------------------------------------------------------------------------------


def test_accepting_an_offer_issues_an_invoice_with_the_best_discount(fin, django_capture_on_commit_callbacks):
    application = accept(fin, django_capture_on_commit_callbacks, participant_profile="professional")
    invoice = Invoice.objects.get(application=application)
    year = timezone.localdate().year
    assert invoice.number == f"UA-{year}-00001" and invoice.issuer == fin.ua
    # 1,500 for any profile on the assessed track, minus 10 % early bird (the partner-staff 500 does not apply).
    assert [(line.description, line.amount) for line in invoice.lines.all()] == [
        ("Tuition fee: all participants, Assessed, with ECTS credits", D("1500.00")),
        ("Discount: Early bird", D("-150.00"))]
    assert (invoice.net, invoice.vat, invoice.total) == (D("1350.00"), D("0.00"), D("1350.00"))
    assert "Exempt from VAT" in invoice.vat_note and invoice.recipient_email == application.email
    assert invoice.due_on == invoice.issued_on + dt.timedelta(days=30)
    assert AuditEvent.objects.filter(action="invoice.issued", object_id=str(invoice.pk)).exists()
    # The PDF was rendered by the task, and says what the invoice says.
    text = " ".join(p.extract_text() for p in PdfReader(io.BytesIO(invoice.pdf.open("rb").read())).pages)
    assert invoice.number in text and "1350.00" in text and "Early bird" in text


def test_profile_line_track_line_and_the_largest_discount(fin, django_capture_on_commit_callbacks):
    job_seeker = accept(fin, django_capture_on_commit_callbacks, participant_profile="job_seeker")
    assert Invoice.objects.get(application=job_seeker).net == D("540.00")  # 600 − 10 %
    staff = accept(fin, django_capture_on_commit_callbacks, email="colleague@ub.example")
    assert Invoice.objects.get(application=staff).net == D("1000.00")  # 500 fixed beats 10 % of 1,500
    late = accept(fin, django_capture_on_commit_callbacks, track="attendance",
                  submitted_at=timezone.now() + dt.timedelta(days=40))
    invoice = Invoice.objects.get(application=late)
    assert invoice.net == D("400.00") and invoice.lines.count() == 1  # attendance fee, too late for early bird


def test_numbers_follow_each_other_per_issuer_without_gaps(fin, django_capture_on_commit_callbacks):
    numbers = [Invoice.objects.get(application=accept(fin, django_capture_on_commit_callbacks)).number
               for _ in range(3)]
    year = timezone.localdate().year
    assert numbers == [f"UA-{year}-0000{i}" for i in (1, 2, 3)]
    assert NumberSequence.objects.get(institution=fin.ua, kind="invoice", year=year).last_number == 3


def test_issuing_is_idempotent_and_a_rollback_returns_the_number(fin):
    application = admitted(fin, status="offer_accepted")
    first = services.invoice_issue(actor=None, application=application)
    assert services.invoice_issue(actor=None, application=application) == first
    other = admitted(fin, status="offer_accepted")
    with pytest.raises(RuntimeError), __import__("django.db", fromlist=["transaction"]).transaction.atomic():
        services.invoice_issue(actor=None, application=other)
        raise RuntimeError("rolled back after numbering")
    assert services.invoice_issue(actor=None, application=other).sequence_number == first.sequence_number + 1


def test_no_fee_for_the_track_means_no_invoice(fin, django_capture_on_commit_callbacks):
    from finance.models import Fee

    Fee.objects.filter(edition=fin.edition, track="attendance").delete()
    application = accept(fin, django_capture_on_commit_callbacks, track="attendance")
    assert not Invoice.objects.filter(application=application).exists()
    assert application.status == "enrolled"


def test_sponsors_named_learners_and_places(fin, django_capture_on_commit_callbacks):
    named = accept(fin, django_capture_on_commit_callbacks, email="named@chipco.example")
    invoice = Invoice.objects.get(application=named)
    assert invoice.sponsorship == fin.sponsor and invoice.recipient_name == "ChipCo"
    assert invoice.recipient_email == "billing@chipco.example" and "Paid by ChipCo" in invoice.lines.last().description
    assert Sponsorship.objects.get(pk=fin.sponsor.pk).places_used == 0  # named learners take no place
    employees = [accept(fin, django_capture_on_commit_callbacks, employer_sponsor="chipco ") for _ in range(3)]
    recipients = [Invoice.objects.get(application=a).recipient_name for a in employees]
    assert recipients[:2] == ["ChipCo", "ChipCo"] and recipients[2] != "ChipCo"  # two places only
    assert Sponsorship.objects.get(pk=fin.sponsor.pk).places_used == 2


def test_a_free_place_is_paid_at_once_and_enrols(fin_paid, django_capture_on_commit_callbacks):
    from finance.models import Discount

    Discount.objects.create(edition=fin_paid.edition, name="Scholarship", rule="profile", profile="alumni",
                            kind="percent", value=D("100"))
    application = accept(fin_paid, django_capture_on_commit_callbacks, participant_profile="alumni")
    invoice = Invoice.objects.get(application=application)
    assert invoice.total == 0 and invoice.status == "paid" and application.status == "enrolled"


# --- Payments ----------------------------------------------------------------------------------------------------


def test_payment_gate_enrols_once_the_invoice_is_paid(fin_paid, django_capture_on_commit_callbacks):
    f = fin_paid
    application = accept(f, django_capture_on_commit_callbacks)
    assert application.status == "awaiting_payment"
    invoice = Invoice.objects.get(application=application)
    officer = fresh(f.ua_finance)
    with django_capture_on_commit_callbacks(execute=True):
        services.payment_record(actor=officer, invoice=invoice, amount=D("1000"), reference="BANK-1")
    application.refresh_from_db()
    invoice.refresh_from_db()
    assert application.status == "awaiting_payment" and invoice.status == "issued"
    assert services.outstanding(invoice) == D("350.00")
    with django_capture_on_commit_callbacks(execute=True):
        services.payment_record(actor=officer, invoice=invoice, amount=D("350.00"))
    application.refresh_from_db()
    invoice.refresh_from_db()
    assert invoice.status == "paid" and application.status == "enrolled" and hasattr(application, "enrolment")


def test_bad_payments_are_refused_with_a_message(fin, django_capture_on_commit_callbacks):
    invoice = Invoice.objects.get(application=accept(fin, django_capture_on_commit_callbacks))
    officer = fresh(fin.ua_finance)
    for amount, message in ((D("0"), "above zero"), (D("-5"), "above zero"), (D("1350.01"), "more than the")):
        with pytest.raises(ValidationError, match=message):
            services.payment_record(actor=officer, invoice=invoice, amount=amount)
    with pytest.raises(ValidationError, match="future"):
        services.payment_record(actor=officer, invoice=invoice, amount=D("1"),
                                received_on=timezone.localdate() + dt.timedelta(days=1))
    for outsider in (fin.ub_finance, invoice.application.applicant):
        with pytest.raises(PermissionDenied):
            services.payment_record(actor=fresh(outsider), invoice=invoice, amount=D("1"))
    assert not Payment.objects.exists()


def test_provider_webhook_records_once_and_rejects_forgeries(fin, client, django_capture_on_commit_callbacks):
    invoice = Invoice.objects.get(application=accept(fin, django_capture_on_commit_callbacks))
    provider = FakeProvider()
    body, headers = provider.notification(event_id="evt_1", invoice_number=invoice.number, amount=D("1350.00"))
    post = {f"HTTP_{k.upper().replace('-', '_')}": v for k, v in headers.items()}
    for _ in range(2):  # the provider repeats its notification
        response = client.post("/finance/webhooks/fake/", body, content_type="application/json", **post)
        assert response.status_code == 200 and response.json()["recorded"] is True
    assert Payment.objects.filter(invoice=invoice).count() == 1
    invoice.refresh_from_db()
    assert invoice.status == "paid"
    forged = body.replace(b"1350.00", b"1.00")
    assert client.post("/finance/webhooks/fake/", forged, content_type="application/json", **post).status_code == 400
    assert client.post("/finance/webhooks/fake/", b"{", content_type="application/json").status_code == 400
    assert client.post("/finance/webhooks/unknown/", b"{}", content_type="application/json").status_code == 404
    other_body, other_headers = provider.notification(event_id="evt_2", invoice_number="NOPE-1", amount=D("1"))
    other = {f"HTTP_{k.upper().replace('-', '_')}": v for k, v in other_headers.items()}
    assert client.post("/finance/webhooks/fake/", other_body, content_type="application/json",
                       **other).status_code == 404
    with pytest.raises(InvalidWebhook):
        provider.parse_webhook(body, {})


# --- Credit notes and refunds ------------------------------------------------------------------------------------


def test_withdrawal_before_the_start_credits_and_refunds_in_full(fin, django_capture_on_commit_callbacks):
    application = accept(fin, django_capture_on_commit_callbacks)
    invoice = Invoice.objects.get(application=application)
    services.payment_record(actor=fresh(fin.ua_finance), invoice=invoice, amount=D("1350.00"))
    with django_capture_on_commit_callbacks(execute=True):
        admissions.application_withdraw(actor=fresh(application.applicant), application=application)
    note = CreditNote.objects.get(invoice=invoice)
    year = timezone.localdate().year
    assert note.number == f"CN-UA-{year}-00001" and note.amount == D("1350.00")
    assert note.refund.amount == D("-1350.00")
    invoice.refresh_from_db()
    assert invoice.status == "credited" and services.outstanding(invoice) == 0


def test_withdrawal_after_the_start_credits_the_editions_share(fin, django_capture_on_commit_callbacks):
    application = accept(fin, django_capture_on_commit_callbacks)
    invoice = Invoice.objects.get(application=application)
    fin.edition.starts_on = timezone.localdate() - dt.timedelta(days=1)
    fin.edition.save(update_fields=["starts_on"])
    with django_capture_on_commit_callbacks(execute=True):
        admissions.application_withdraw(actor=fresh(application.applicant), application=application)
    note = CreditNote.objects.get(invoice=invoice)
    assert note.amount == D("337.50") and "25" in note.reason  # 25 % of 1,350; nothing paid, so no refund
    assert not hasattr(note, "refund") or note.refund is None
    invoice.refresh_from_db()
    assert invoice.status == "issued" and services.outstanding(invoice) == D("1012.50")


def test_credit_notes_are_limited_and_credited_invoices_take_no_payment(fin, django_capture_on_commit_callbacks):
    invoice = Invoice.objects.get(application=accept(fin, django_capture_on_commit_callbacks))
    officer = fresh(fin.ua_finance)
    with pytest.raises(ValidationError, match="reason"):
        services.credit_note_issue(actor=officer, invoice=invoice, amount=D("1"), reason=" ")
    with pytest.raises(ValidationError, match=r"At most 1350\.00"):
        services.credit_note_issue(actor=officer, invoice=invoice, amount=D("2000"), reason="Error")
    services.credit_note_issue(actor=officer, invoice=invoice, amount=D("1350.00"), reason="Issued in error")
    with pytest.raises(TransitionError):
        services.payment_record(actor=officer, invoice=invoice, amount=D("1"))
    with pytest.raises(PermissionDenied):
        services.credit_note_issue(actor=fresh(fin.ub_finance), invoice=invoice, amount=D("1"), reason="x")


# --- Concurrency (PostgreSQL) ------------------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_two_concurrent_enrolments_get_consecutive_numbers(world):
    if connection.vendor != "postgresql":
        pytest.skip("Needs PostgreSQL (row locks); run with DATABASE_URL=postgres://...")
    from .conftest import build

    f = build(world)
    applications = [admitted(f, status="offer_accepted") for _ in range(6)]
    results = race(*[lambda a=a: services.invoice_issue(actor=None, application=a) for a in applications])
    assert not errors(results), errors(results)
    numbers = sorted(Invoice.objects.filter(edition=f.edition).values_list("sequence_number", flat=True))
    assert numbers == list(range(1, len(applications) + 1))  # no gap, no duplicate
