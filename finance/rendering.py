"""Invoices as PDF/A-3b through the platform's pipeline (``consortium.pdf``)."""

from django.template.loader import render_to_string
from django.utils import translation

from consortium.api import pdf

from .models import Invoice


def render_invoice_pdf(invoice: Invoice) -> bytes:
    language = invoice.edition.programme.primary_language or "en"
    with translation.override(language):
        html = render_to_string("finance/pdf/invoice.html", {
            "invoice": invoice, "lines": list(invoice.lines.all()), "issuer": invoice.issuer,
            "programme": invoice.edition.programme, "edition": invoice.edition, "language": language,
        })
    return pdf.html_to_pdf(html)


def render_receipt_pdf(payment) -> bytes:
    """A receipt for one payment (rendered on request: the payment record is the source of truth)."""
    invoice = payment.invoice
    language = invoice.edition.programme.primary_language or "en"
    with translation.override(language):
        html = render_to_string("finance/pdf/receipt.html", {
            "payment": payment, "invoice": invoice, "issuer": invoice.issuer, "language": language,
            "programme": invoice.edition.programme, "edition": invoice.edition,
        })
    return pdf.html_to_pdf(html)


def render_settlement_pdf(statement, rows, transfers) -> bytes:
    edition = statement.edition
    language = edition.programme.primary_language or "en"
    with translation.override(language):
        html = render_to_string("finance/pdf/settlement.html", {
            "statement": statement, "rows": rows, "transfers": transfers, "edition": edition,
            "programme": edition.programme, "language": language,
        })
    return pdf.html_to_pdf(html)
