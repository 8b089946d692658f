from django.urls import path
from rest_framework.routers import SimpleRouter

from . import integration

router = SimpleRouter(trailing_slash=True)  # no format suffixes: the API speaks JSON only
router.register("webhooks", integration.WebhookEndpointViewSet, basename="api-webhook")

urlpatterns = [
    path("events/", integration.EventFeedView.as_view(), name="api-event-list"),
    *router.urls,
]
