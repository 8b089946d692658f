"""Finance pages and the payment providers' webhook."""

from django.urls import path

from . import views

urlpatterns = [
    path("my/invoices/", views.MyInvoicesView.as_view(), name="my-invoices"),
    path("invoices/<uuid:pk>/pdf/", views.InvoiceDownloadView.as_view(), name="invoice-download"),
    path("invoices/<uuid:pk>/pay/", views.DemoPayView.as_view(), name="invoice-demo-pay"),
    path("finance/", views.FinanceHomeView.as_view(), name="finance-home"),
    path("finance/editions/<uuid:pk>/", views.EditionFinanceView.as_view(), name="finance-edition"),
    path("payments/<uuid:pk>/receipt.pdf", views.ReceiptView.as_view(), name="payment-receipt"),
    path("finance/editions/<uuid:pk>/settlement.pdf", views.SettlementPdfView.as_view(), name="finance-settlement-pdf"),
    path("finance/editions/<uuid:pk>/settlement.csv", views.SettlementCsvView.as_view(), name="finance-settlement-csv"),
    path("finance/editions/<uuid:pk>/budgets/new/", views.BudgetStartView.as_view(), name="finance-budget-start"),
    path("finance/editions/<uuid:pk>/<slug:kind>/new/", views.EditionSettingView.as_view(), name="finance-setting"),
    path("finance/editions/<uuid:pk>/<slug:kind>/<uuid:item>/delete/", views.SettingDeleteView.as_view(),
         name="finance-setting-delete"),
    path("finance/budgets/<uuid:pk>/lines/new/", views.CostLineAddView.as_view(), name="finance-cost-add"),
    path("finance/cost-lines/<uuid:pk>/delete/", views.CostLineDeleteView.as_view(), name="finance-cost-delete"),
    path("finance/programmes/<uuid:pk>/plan/", views.BusinessPlanView.as_view(), name="finance-plan"),
    path("finance/programmes/<uuid:pk>/plan/years/", views.PlanYearView.as_view(), name="finance-plan-year"),
    path("finance/invoices/<uuid:pk>/", views.InvoiceDetailView.as_view(), name="finance-invoice"),
    path("finance/invoices/<uuid:pk>/payments/new/", views.PaymentRecordView.as_view(), name="finance-payment-add"),
    path("finance/invoices/<uuid:pk>/credit-notes/new/", views.CreditNoteView.as_view(), name="finance-credit-add"),
    path("finance/webhooks/<slug:provider_name>/", views.WebhookView.as_view(), name="finance-webhook"),
]
