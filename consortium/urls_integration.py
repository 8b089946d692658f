from django.urls import path

from . import views_integration as views

urlpatterns = [
    path("integration/webhooks/", views.WebhookListView.as_view(), name="webhook-list"),
    path("integration/webhooks/new/", views.WebhookCreateView.as_view(), name="webhook-create"),
    path("integration/webhooks/<uuid:pk>/", views.WebhookDetailView.as_view(), name="webhook-detail"),
    path("integration/webhooks/<uuid:pk>/edit/", views.WebhookUpdateView.as_view(), name="webhook-update"),
    path("integration/webhooks/<uuid:pk>/disable/", views.WebhookDisableView.as_view(), name="webhook-disable"),
    path("integration/webhooks/<uuid:pk>/enable/", views.WebhookEnableView.as_view(), name="webhook-enable"),
    path("integration/webhooks/<uuid:pk>/test/", views.WebhookTestView.as_view(), name="webhook-test"),
    path("integration/webhooks/<uuid:pk>/rotate-secret/", views.WebhookRotateSecretView.as_view(),
         name="webhook-rotate-secret"),
    path("integration/webhooks/<uuid:pk>/delete/", views.WebhookDeleteView.as_view(), name="webhook-delete"),
]
