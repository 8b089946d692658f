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


personal_data.register("finance", description="Invoices, payments and credit notes (retained as accounting "
                       "records: not erased).", export=_export, erase=_erase)
