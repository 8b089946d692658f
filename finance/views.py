"""Finance pages: learners' invoices (download, pay with the demo provider), finance officers' view of an edition
(fee table, invoices, payments, budget, grants, settlement with CSV export), an invoice with its payments and
credit notes, and the payment providers' webhook."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponse, HttpResponseRedirect, JsonResponse
from django.shortcuts import get_object_or_404
from django.urls import reverse
from django.utils.decorators import method_decorator
from django.utils.translation import gettext as _
from django.views import View
from django.views.decorators.csrf import csrf_exempt

from consortium.api import DomainError, Institution, policy
from consortium.web import (
    PolicyMixin,
    PolicyTemplateView,
    ServiceActionView,
    ServiceFormView,
    csv_download,
    private_download,
)
from programmes.api import Edition, Programme

from . import payments, plan, selectors, services
from .forms import CreditNoteForm, PaymentForm, edition_forms
from .models import Budget, CostLine, Discount, Fee, Payment, Sponsorship


class ReturnMixin:
    """Forms and buttons that lead back to one page: after success, on cancel, after a refused action."""

    def return_url(self) -> str:
        raise NotImplementedError

    def get_success_url_for(self, _result) -> str:
        return self.return_url()

    def get_cancel_url(self) -> str:
        return self.return_url()

    def get_redirect_url(self) -> str:
        return self.return_url()


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
        return private_download(invoice.pdf.open("rb"), f"{invoice.number}.pdf")


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
        try:
            event = provider.parse_webhook(request.body, request.headers)
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
        context["can_manage"] = policy.can(self.request.user, "finance.edition_manage", self.edition)
        context["can_enter_costs"] = policy.can(self.request.user, "finance.cost_enter")
        return context


class SettlementCsvView(EditionMixin, View):
    policy_action = "finance.view"
    http_method_names = ["get"]

    def get(self, request, *args, **kwargs):
        try:
            statement = services.settlement(self.edition)
        except DomainError as exc:
            return HttpResponse(exc.message, status=409, content_type="text/plain; charset=utf-8")
        return csv_download(services.settlement_csv_rows(statement), f"settlement-{self.edition.intake_code}.csv")


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


class InvoiceActionView(ReturnMixin, InvoiceMixin, ServiceFormView):
    """A form on one invoice whose fields are the service's keyword arguments (``service``)."""

    policy_action = "finance.invoice_manage"
    title_text = ""
    service = None

    @property
    def title(self):
        return self.title_text % {"number": self.invoice.number}

    def perform(self, form):
        return type(self).service(actor=self.request.user, invoice=self.invoice, **form.cleaned_data)

    def return_url(self) -> str:
        return reverse("finance-invoice", args=[self.invoice.pk])


class PaymentRecordView(InvoiceActionView):
    form_class = PaymentForm
    service = services.payment_record
    title_text = _("Record a payment on %(number)s")
    submit_label = _("Record the payment")
    success_message = _("The payment is recorded.")


class CreditNoteView(InvoiceActionView):
    form_class = CreditNoteForm
    service = services.credit_note_issue
    title_text = _("Credit %(number)s")
    submit_label = _("Issue the credit note")
    success_message = _("The credit note is issued.")


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
                       first=years[0] if years else None,
                       can_plan=policy.can(self.request.user, "finance.plan_manage", self.programme))
        return context


class PlanYearView(ReturnMixin, ServiceFormView):
    """Set one year of a programme's plan (team leader, issuing institution's finance officers)."""

    policy_action = "finance.plan_manage"
    submit_label = _("Save the year")
    success_message = _("The plan is updated.")
    title = _("A year of the business plan")
    intro = _("Projected editions and learners, the average fee actually paid (after discounts) and the full cost. "
              "Saving a year that exists replaces its figures.")

    def get_policy_object(self):
        if getattr(self, "programme", None) is None:
            self.programme = get_object_or_404(Programme, pk=self.kwargs["pk"])
            if not policy.can(self.request.user, "finance.view", self.programme):
                raise Http404
        return self.programme

    def get_form_class(self):
        return edition_forms()["plan"]

    def get_form(self, form_class=None):
        form = super().get_form(form_class)
        form.validate_unique = lambda: None  # replacing an existing year is the point
        return form

    def perform(self, form):
        return services.plan_year_set(actor=self.request.user, programme=self.programme, data=form.cleaned_data)

    def return_url(self) -> str:
        return reverse("finance-plan", args=[self.programme.pk])


# --- Setting up an edition (issuing institution's finance officers, team leaders) --------------------------------

SETTINGS = {
    # kind: (form key, service, title, success message)
    "fee": ("fee", services.fee_set, _("Set a fee"), _("The fee table is updated.")),
    "discount": ("discount", services.discount_add, _("Add a discount"), _("The discount is added.")),
    "sponsor": ("sponsor", services.sponsorship_add, _("Add a sponsor"), _("The sponsor is added.")),
    "grant": ("grant", services.grant_add, _("Record public funding"), _("The grant is recorded.")),
    "terms": ("terms", services.terms_set, _("Financial terms"), _("The financial terms are saved.")),
}


class EditionSettingView(ReturnMixin, EditionMixin, ServiceFormView):
    """One form per kind of setting (``kind`` in the URL): fee line, discount, sponsor, grant, terms."""

    policy_action = "finance.edition_manage"

    def dispatch(self, request, *args, **kwargs):
        if kwargs.get("kind") not in SETTINGS:
            raise Http404
        self.form_key, self.service, self.title, self.success_message = SETTINGS[kwargs["kind"]]
        self.submit_label = _("Save")
        return super().dispatch(request, *args, **kwargs)

    def get_form_class(self):
        return edition_forms()[self.form_key]

    def get_form_kwargs(self):
        kwargs = super().get_form_kwargs()
        if self.form_key == "terms":
            kwargs["instance"] = services.terms(self.edition)
        return kwargs

    def perform(self, form):
        return self.service(actor=self.request.user, edition=self.edition, data=form.cleaned_data)

    def return_url(self) -> str:
        return reverse("finance-edition", args=[self.edition.pk])


class SettingDeleteView(ReturnMixin, EditionMixin, ServiceActionView):
    policy_action = "finance.edition_manage"
    success_message = _("Removed.")
    models = {"fee": Fee, "discount": Discount, "sponsor": Sponsorship}

    def perform(self):
        model = self.models.get(self.kwargs["kind"])
        if model is None:
            raise Http404
        obj = get_object_or_404(model, pk=self.kwargs["item"], edition=self.edition)
        services.setting_delete(actor=self.request.user, obj=obj)

    def return_url(self) -> str:
        return reverse("finance-edition", args=[self.edition.pk])


class BudgetStartView(ReturnMixin, EditionMixin, ServiceActionView):
    policy_action = "finance.edition_manage"
    success_message = _("A new budget version is started from the previous one.")

    def perform(self):
        services.budget_start(actor=self.request.user, edition=self.edition, kind=self.request.POST.get("kind", ""))

    def return_url(self) -> str:
        return reverse("finance-edition", args=[self.edition.pk])


class BudgetMixin(PolicyMixin):
    def get_policy_object(self):
        if getattr(self, "budget", None) is None:
            self.budget = get_object_or_404(Budget.objects.select_related("edition__programme"), pk=self.kwargs["pk"])
            if not policy.can(self.request.user, "finance.view", self.budget.edition):
                raise Http404
        return None  # cost_enter is decided per line, on the institution that bears it


class CostLineAddView(ReturnMixin, BudgetMixin, ServiceFormView):
    policy_action = "finance.cost_enter"
    submit_label = _("Add the cost line")
    success_message = _("The cost line is added.")

    @property
    def title(self):
        return _("Add a cost line to %(budget)s") % {"budget": self.budget}

    def get_form_class(self):
        return edition_forms()["cost"]

    def get_form(self, form_class=None):
        """Only the partners whose costs this user enters: all of them for a team leader, else the user's own."""
        form = super().get_form(form_class)
        partners = Institution.objects.filter(pk__in=self.budget.edition.programme.partners.values("institution_id"))
        actor = policy.actor_for(self.request.user)
        if not (self.request.user.is_superuser
                or actor.has_role("team_leader", target=self.budget.edition.programme_id)):
            partners = partners.filter(pk__in=actor.institutions_with_role("finance_officer"))
        form.fields["borne_by"].queryset = partners
        return form

    def perform(self, form):
        return services.cost_line_add(actor=self.request.user, budget=self.budget, data=form.cleaned_data)

    def return_url(self) -> str:
        return reverse("finance-edition", args=[self.budget.edition_id])


class CostLineDeleteView(ReturnMixin, ServiceActionView):
    policy_action = "finance.cost_enter"
    success_message = _("The cost line is removed.")

    def get_policy_object(self):
        if getattr(self, "line", None) is None:
            self.line = get_object_or_404(CostLine.objects.select_related("budget__edition__programme", "borne_by"),
                                          pk=self.kwargs["pk"])
            if not policy.can(self.request.user, "finance.costs_view", self.line):
                raise Http404
        return self.line

    def perform(self):
        services.cost_line_delete(actor=self.request.user, line=self.line)

    def return_url(self) -> str:
        return reverse("finance-edition", args=[self.line.budget.edition_id])


class SettlementPdfView(EditionMixin, View):
    policy_action = "finance.view"
    http_method_names = ["get"]

    def get(self, request, *args, **kwargs):
        from .rendering import render_settlement_pdf

        try:
            statement = services.settlement(self.edition)
        except DomainError as exc:
            return HttpResponse(exc.message, status=409, content_type="text/plain; charset=utf-8")
        return private_download(render_settlement_pdf(statement), f"settlement-{self.edition.intake_code}.pdf")


class ReceiptView(PolicyMixin, View):
    """A receipt for one payment (not a refund), for whoever may see its invoice."""

    policy_action = "finance.invoice_view"
    http_method_names = ["get"]

    def get_policy_object(self):
        if getattr(self, "payment", None) is None:
            payment = get_object_or_404(Payment.objects.select_related("invoice__issuer", "invoice__edition__programme",
                                                                       "invoice__application"),
                                        pk=self.kwargs["pk"], amount__gt=0)
            if not policy.can(self.request.user, "finance.invoice_view", payment.invoice):
                raise Http404
            self.payment = payment
        return self.payment.invoice

    def get(self, request, *args, **kwargs):
        from .rendering import render_receipt_pdf

        return private_download(render_receipt_pdf(self.payment), f"receipt-{self.payment.invoice.number}.pdf")
