"""Personal data held by finance: invoices (recipient, learner), payments and credit notes.

Erasure keeps them: invoices, credit notes and payments are accounting records that the issuing institution must
retain by law (GDPR Art. 17(3)(b); typically 7–10 years under national accounting and VAT rules). The export
lists them all."""

from consortium.api import personal_data

from .models import Invoice


def _export(user) -> list[dict]:
    rows = []
    for invoice in Invoice.objects.filter(application__applicant=user).select_related("issuer", "edition"):
        rows.append({
            "number": invoice.number, "issuer": invoice.issuer.legal_name, "edition": str(invoice.edition),
            "recipient": invoice.recipient_name, "learner": invoice.learner_name, "email": invoice.recipient_email,
            "total": str(invoice.total), "status": invoice.status, "issued_on": invoice.issued_on.isoformat(),
            "payments": [{"amount": str(p.amount), "received_on": p.received_on.isoformat(), "reference": p.reference}
                         for p in invoice.payments.all()],
            "credit_notes": [{"number": c.number, "amount": str(c.amount), "reason": c.reason}
                             for c in invoice.credit_notes.all()],
        })
    return rows


def _erase(user) -> None:
    """Accounting records are retained by law (see the module docstring): nothing is erased here."""


def _files(user):
    for invoice in Invoice.objects.filter(application__applicant=user).exclude(pdf=""):
        yield f"invoice-{invoice.number}.pdf", invoice.pdf


personal_data.register(
    "finance",
    description="Invoices, payments and credit notes (retained as accounting records: not erased).",
    export=_export,
    erase=_erase,
    files=_files,
    purpose="Invoicing the programme fee, recording payments, refunds and credit notes, and settling income "
            "between the partner institutions.",
    legal_basis="Art. 6(1)(b) (the learning contract) and 6(1)(c) (accounting and VAT law of the issuing "
                "institution's country).",
    data_subjects="Learners, and the employers or sponsors who pay for them.",
    data_categories="Recipient name, address, email and VAT number, learner name, amounts, payment references "
                    "and dates, credit notes and their reasons, invoice PDFs.",
    recipients="Finance officers of the issuing institution and its partner system (finance:read); the payment "
               "provider; auditors and tax authorities where the law requires. Other partners see aggregated "
               "income only.",
    retention="As national accounting and VAT rules require (typically 7 to 10 years); not erased on request "
              "(Art. 17(3)(b)).",
)
