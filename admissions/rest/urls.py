from django.urls import path
from rest_framework.routers import SimpleRouter

from . import exchange, views

router = SimpleRouter(trailing_slash=True)  # no format suffixes: the API speaks JSON only
router.register("applications", views.ApplicationViewSet, basename="api-application")
router.register("enrolments", views.EnrolmentViewSet, basename="api-enrolment")

urlpatterns = [
    *router.urls,
    path("editions/<uuid:pk>/applications/import/", exchange.ApplicantImportView.as_view(),
         name="api-edition-applications-import"),
]
