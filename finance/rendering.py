"""Finance documents as PDF/A-3b through the platform's pipeline (``consortium.pdf``): invoices (stored),
receipts and settlement statements (rendered on request)."""

from django.template.loader import render_to_string
from django.utils import translation

from consortium.api import pdf

from .models import Invoice


def _render(template: str, edition, **context) -> bytes:
    language = edition.programme.primary_language or "en"
    with translation.override(language):
        html = render_to_string(template, {"edition": edition, "programme": edition.programme,
                                           "language": language, **context})
    return pdf.html_to_pdf(html)


def render_invoice_pdf(invoice: Invoice) -> bytes:
    return _render("finance/pdf/invoice.html", invoice.edition, invoice=invoice, lines=list(invoice.lines.all()),
                   issuer=invoice.issuer)


def render_receipt_pdf(payment) -> bytes:
    """A receipt for one payment (rendered on request: the payment record is the source of truth)."""
    invoice = payment.invoice
    return _render("finance/pdf/receipt.html", invoice.edition, payment=payment, invoice=invoice,
                   issuer=invoice.issuer)


def render_settlement_pdf(statement) -> bytes:
    return _render("finance/pdf/settlement.html", statement.edition, statement=statement, rows=statement.rows(),
                   transfers=statement.transfer_rows())
