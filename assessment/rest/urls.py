from django.urls import path
from rest_framework.routers import SimpleRouter

from . import exchange, views

router = SimpleRouter(trailing_slash=True)  # no format suffixes: the API speaks JSON only
router.register("results", views.ResultViewSet, basename="api-result")

urlpatterns = [
    *router.urls,
    path("editions/<uuid:pk>/results/import/", exchange.ResultImportView.as_view(), name="api-edition-results-import"),
]
