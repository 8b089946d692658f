from django.urls import path
from rest_framework.routers import DefaultRouter

from . import views

router = DefaultRouter(trailing_slash=True)
router.include_root_view = False
router.register("invoices", views.InvoiceViewSet, basename="api-invoice")
router.register("payments", views.PaymentViewSet, basename="api-payment")

urlpatterns = [
    *router.urls,
    path("editions/<uuid:pk>/settlement/", views.SettlementView.as_view(), name="api-edition-settlement"),
]
