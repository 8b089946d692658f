"""Finance pages: learners' invoices (download, pay with the demo provider), finance officers' view of an edition
(fee table, invoices, payments, budget, grants, settlement with CSV export), an invoice with its payments and
credit notes, and the payment providers' webhook."""

from __future__ import annotations

import csv
import uuid

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import FileResponse, Http404, HttpResponse, HttpResponseRedirect, JsonResponse
from django.shortcuts import get_object_or_404
from django.urls import reverse
from django.utils.decorators import method_decorator
from django.utils.translation import gettext as _
from django.views import View
from django.views.decorators.csrf import csrf_exempt

from consortium.api import DomainError, policy
from consortium.web import PolicyMixin, PolicyTemplateView, ServiceFormView
from programmes.api import Edition, Programme

from . import payments, plan, selectors, services
from .forms import CreditNoteForm, PaymentForm


class MyInvoicesView(PolicyTemplateView):
    policy_action = policy.AUTHENTICATED
    template_name = "finance/my_invoices.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["invoices"] = selectors.invoices_of_learner(self.request.user)
        context["demo_provider"] = "fake" in settings.PAYMENT_PROVIDERS
        return context


class InvoiceMixin(PolicyMixin):
    """The invoice named by ``pk`` when the user may see it (else 404, as if it did not exist)."""

    def get_policy_object(self):
        if getattr(self, "invoice", None) is None:
            invoice = get_object_or_404(selectors.invoices(), pk=self.kwargs["pk"])
            if not policy.can(self.request.user, "finance.invoice_view", invoice):
                raise Http404
            self.invoice = invoice
        return self.invoice


class InvoiceDownloadView(InvoiceMixin, View):
    policy_action = "finance.invoice_view"
    http_method_names = ["get"]

    def get(self, request, *args, **kwargs):
        invoice = services.invoice_render(self.invoice.pk)  # rendered already, unless its worker has not run yet
        response = FileResponse(invoice.pdf.open("rb"), content_type="application/pdf", as_attachment=True,
                                filename=f"{invoice.number}.pdf")
        response["Cache-Control"] = "private, no-store"
        return response


class DemoPayView(InvoiceMixin, View):
    """The learner pays the outstanding amount with the fake provider: the same signed notification a provider
    would post to the webhook, verified and applied by the same code."""

    policy_action = "finance.invoice_view"
    http_method_names = ["post"]

    def post(self, request, *args, **kwargs):
        invoice = self.invoice
        if invoice.application.applicant_id != request.user.pk or "fake" not in settings.PAYMENT_PROVIDERS:
            raise Http404
        due = services.outstanding(invoice)
        if due <= 0:
            messages.info(request, _("Nothing is outstanding on %(number)s.") % {"number": invoice.number})
            return HttpResponseRedirect(reverse("my-invoices"))
        provider = payments.provider("fake")
        body, headers = provider.notification(event_id=f"demo-{uuid.uuid4().hex}", invoice_number=invoice.number,
                                              amount=due)
        try:
            services.provider_event_apply(provider.parse_webhook(body, headers))
        except DomainError as exc:
            messages.error(request, exc.message)
        else:
            messages.success(request, _("Payment of %(amount)s EUR received for %(number)s. Thank you.") % {
                "amount": due, "number": invoice.number})
        return HttpResponseRedirect(reverse("my-invoices"))


@method_decorator(csrf_exempt, name="dispatch")
class WebhookView(View):
    """Public: providers post here; the provider class authenticates each notification (signature)."""

    policy_action = policy.PUBLIC
    http_method_names = ["post"]

    def post(self, request, provider_name: str):
        try:
            provider = payments.provider(provider_name)
        except LookupError:
            raise Http404 from None
        body = request.body[:65536]
        try:
            event = provider.parse_webhook(body, request.headers)
            payment = services.provider_event_apply(event)
        except payments.InvalidWebhook as exc:
            return JsonResponse({"detail": str(exc)}, status=400)
        except LookupError as exc:
            return JsonResponse({"detail": str(exc)}, status=404)
        except DomainError as exc:
            return JsonResponse({"detail": exc.message}, status=422)
        except ValidationError as exc:  # an overpayment or a bad amount: refused with the message
            return JsonResponse({"detail": exc.messages}, status=422)
        return JsonResponse({"recorded": payment is not None, "payment": str(payment.pk) if payment else None})


class FinanceHomeView(PolicyTemplateView):
    policy_action = "finance.view"
    template_name = "finance/home.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        editions = list(selectors.editions_for(self.request.user))
        context["editions"] = editions
        context["programmes"] = list({e.programme_id: e.programme for e in editions}.values())
        return context


class EditionMixin(PolicyMixin):
    def get_policy_object(self):
        if getattr(self, "edition", None) is None:
            self.edition = get_object_or_404(Edition.objects.select_related("programme"), pk=self.kwargs["pk"])
            if not policy.can(self.request.user, "finance.view", self.edition):
                raise Http404
        return self.edition


class EditionFinanceView(EditionMixin, PolicyTemplateView):
    policy_action = "finance.view"
    template_name = "finance/edition.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context.update(selectors.edition_overview(self.request.user, self.edition))
        return context


class SettlementCsvView(EditionMixin, View):
    policy_action = "finance.view"
    http_method_names = ["get"]

    def get(self, request, *args, **kwargs):
        try:
            statement = services.settlement(self.edition)
        except DomainError as exc:
            return HttpResponse(exc.message, status=409, content_type="text/plain; charset=utf-8")
        response = HttpResponse(content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="settlement-{self.edition.intake_code}.csv"'
        writer = csv.writer(response)
        for row in services.settlement_csv_rows(statement):
            writer.writerow(row)
        return response


class InvoiceDetailView(InvoiceMixin, PolicyTemplateView):
    policy_action = "finance.invoice_manage"
    template_name = "finance/invoice.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        invoice = self.invoice
        context.update(invoice=invoice, lines=invoice.lines.all(), payments=invoice.payments.all(),
                       credit_notes=invoice.credit_notes.all(), outstanding=services.outstanding(invoice),
                       payment_form=PaymentForm(), credit_form=CreditNoteForm())
        return context


class InvoiceFormMixin(InvoiceMixin):
    policy_action = "finance.invoice_manage"

    def get_success_url_for(self, _result) -> str:
        return reverse("finance-invoice", args=[self.invoice.pk])

    def get_cancel_url(self) -> str:
        return reverse("finance-invoice", args=[self.invoice.pk])


class PaymentRecordView(InvoiceFormMixin, ServiceFormView):
    form_class = PaymentForm
    submit_label = _("Record the payment")
    success_message = _("The payment is recorded.")

    @property
    def title(self):
        return _("Record a payment on %(number)s") % {"number": self.invoice.number}

    def perform(self, form):
        data = form.cleaned_data
        return services.payment_record(actor=self.request.user, invoice=self.invoice, amount=data["amount"],
                                       received_on=data["received_on"], reference=data["reference"])


class CreditNoteView(InvoiceFormMixin, ServiceFormView):
    form_class = CreditNoteForm
    submit_label = _("Issue the credit note")
    success_message = _("The credit note is issued.")

    @property
    def title(self):
        return _("Credit %(number)s") % {"number": self.invoice.number}

    def perform(self, form):
        data = form.cleaned_data
        return services.credit_note_issue(actor=self.request.user, invoice=self.invoice, amount=data["amount"],
                                          reason=data["reason"])


class BusinessPlanView(PolicyTemplateView):
    policy_action = "finance.view"
    template_name = "finance/plan.html"

    def get_policy_object(self):
        if getattr(self, "programme", None) is None:
            self.programme = get_object_or_404(Programme, pk=self.kwargs["pk"])
            if not policy.can(self.request.user, "finance.view", self.programme):
                raise Http404
        return self.programme

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        years = selectors.business_plan(self.programme)
        context.update(programme=self.programme, years=years, chart=plan.chart(years[0]) if years else None,
                       first=years[0] if years else None)
        return context
