from rest_framework import serializers

from ..models import CreditNote, Invoice, InvoiceLine, Payment


class InvoiceLineSerializer(serializers.ModelSerializer):
    class Meta:
        model = InvoiceLine
        fields = ["position", "description", "amount"]


class CreditNoteSerializer(serializers.ModelSerializer):
    class Meta:
        model = CreditNote
        fields = ["id", "number", "amount", "reason", "issued_on"]


class InvoiceSerializer(serializers.ModelSerializer):
    issuer = serializers.CharField(source="issuer.short_name")
    edition = serializers.UUIDField(source="edition_id")
    application = serializers.UUIDField(source="application_id")
    sponsor = serializers.CharField(source="sponsorship.sponsor_name", default="")
    lines = InvoiceLineSerializer(many=True)
    credit_notes = CreditNoteSerializer(many=True)
    outstanding = serializers.SerializerMethodField()

    class Meta:
        model = Invoice
        fields = ["id", "number", "issuer", "edition", "application", "status", "issued_on", "due_on",
                  "recipient_name", "learner_name", "sponsor", "net", "vat_rate", "vat", "total", "outstanding",
                  "lines", "credit_notes", "updated_at"]

    def get_outstanding(self, invoice) -> str:
        from ..services import outstanding

        # The API's invoices come with their payments and credit notes prefetched.
        return str(outstanding(invoice, payments=invoice.payments.all(), credit_notes=invoice.credit_notes.all()))


class PaymentSerializer(serializers.ModelSerializer):
    invoice = serializers.CharField(source="invoice.number")
    credit_note = serializers.CharField(source="credit_note.number", default="")

    class Meta:
        model = Payment
        fields = ["id", "invoice", "amount", "method", "reference", "provider", "received_on", "credit_note",
                  "updated_at"]


class SettlementLineSerializer(serializers.Serializer):
    institution = serializers.CharField()
    collected = serializers.DecimalField(max_digits=14, decimal_places=2)
    costs = serializers.DecimalField(max_digits=14, decimal_places=2)
    weight = serializers.DecimalField(max_digits=14, decimal_places=4)
    entitled = serializers.DecimalField(max_digits=14, decimal_places=2)
    result = serializers.DecimalField(max_digits=14, decimal_places=2)
    balance = serializers.DecimalField(max_digits=14, decimal_places=2)


class TransferSerializer(serializers.Serializer):
    payer = serializers.CharField()
    payee = serializers.CharField()
    amount = serializers.DecimalField(max_digits=14, decimal_places=2)


class SettlementSerializer(serializers.Serializer):
    edition = serializers.UUIDField()
    model = serializers.CharField()
    basis = serializers.CharField()
    income = serializers.DecimalField(max_digits=14, decimal_places=2)
    costs = serializers.DecimalField(max_digits=14, decimal_places=2)
    partners = SettlementLineSerializer(many=True)
    transfers = TransferSerializer(many=True)
