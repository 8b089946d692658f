"""Finance API (read only): invoices and payments for the issuing institution's finance officers and partner
systems (scope ``finance:read``; a learner sees their own), and an edition's settlement for the partners
concerned (``finance.view``)."""

import django_filters
from django.shortcuts import get_object_or_404
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import mixins
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.filters import OrderingFilter
from rest_framework.response import Response
from rest_framework.views import APIView

from consortium.api import DomainError, policy
from consortium.rest.views import PolicyViewSet
from programmes.api import Edition

from .. import selectors, services
from ..models import Invoice, InvoiceStatus, Payment
from . import serializers as s


class InvoiceFilter(django_filters.FilterSet):
    edition = django_filters.UUIDFilter(field_name="edition_id")
    status = django_filters.ChoiceFilter(choices=InvoiceStatus.choices)
    issued_since = django_filters.DateFilter(field_name="issued_on", lookup_expr="gte")

    class Meta:
        model = Invoice
        fields = []


@extend_schema_view(
    list=extend_schema(description="Invoices you may see: those issued by your institution (scope `finance:read`)."),
    retrieve=extend_schema(description="One invoice with its lines and credit notes."),
)
class InvoiceViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, PolicyViewSet):
    list_policy = "finance.invoice_view"
    base_queryset = selectors.invoices().prefetch_related("lines", "credit_notes", "payments")
    serializer_class = s.InvoiceSerializer
    policy_actions = {"list": "finance.invoice_view", "retrieve": "finance.invoice_view"}
    filter_backends = [DjangoFilterBackend, OrderingFilter]
    filterset_class = InvoiceFilter
    ordering_fields = ["issued_on", "number"]
    ordering = ["-issued_on", "-sequence_number"]


class PaymentFilter(django_filters.FilterSet):
    edition = django_filters.UUIDFilter(field_name="invoice__edition_id")
    invoice = django_filters.UUIDFilter(field_name="invoice_id")

    class Meta:
        model = Payment
        fields = []


@extend_schema_view(list=extend_schema(description="Payments (refunds are negative) on the invoices you may see."),
                    retrieve=extend_schema(description="One payment."))
class PaymentViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, PolicyViewSet):
    serializer_class = s.PaymentSerializer
    policy_actions = {"list": "finance.invoice_view", "retrieve": "finance.invoice_view"}
    filter_backends = [DjangoFilterBackend, OrderingFilter]
    filterset_class = PaymentFilter
    ordering_fields = ["received_on"]
    ordering = ["-received_on", "-created_at"]

    def get_queryset(self):
        visible = policy.filter(self.request.user, "finance.invoice_view", Invoice.objects.all())
        return Payment.objects.select_related("invoice", "credit_note").filter(invoice__in=visible)

    def check_object_permissions(self, request, obj):
        """The policy decides on the payment's invoice."""
        super().check_object_permissions(request, obj.invoice)


class SettlementView(APIView):
    policy_action = "finance.view"
    serializer_class = s.SettlementSerializer

    @extend_schema(responses=s.SettlementSerializer,
                   description="An edition's settlement: income collected, costs borne, each partner's entitlement "
                   "and balance, and the transfers between partners (scope `finance:read`).")
    def get(self, request, pk):
        edition = get_object_or_404(Edition.objects.select_related("programme"), pk=pk)
        if not policy.can(request.user, "finance.view", edition):
            raise NotFound
        try:
            statement = services.settlement(edition)
        except DomainError as exc:
            raise ValidationError({"detail": exc.message}) from exc
        return Response(s.SettlementSerializer({
            "edition": edition.pk, "model": statement.model, "basis": statement.basis,
            "income": statement.income, "costs": statement.costs,
            "partners": [{"institution": r["name"], "collected": r["line"].collected, "costs": r["line"].costs,
                          "weight": r["line"].weight, "entitled": r["line"].entitled, "result": r["line"].result,
                          "balance": r["line"].balance} for r in statement.rows()],
            "transfers": statement.transfer_rows(),
        }).data)
