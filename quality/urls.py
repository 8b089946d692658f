"""The quality app's pages: the quality home and a programme's quality page (``views``), then one URL module per
area."""

from django.urls import include, path

from . import views

urlpatterns = [
    path("quality/", views.QualityHomeView.as_view(), name="quality-home"),
    path("quality/programmes/<uuid:pk>/", views.ProgrammeQualityView.as_view(), name="quality-programme"),
    path("", include("quality.urls_feedback")),
    path("", include("quality.urls_recruitment")),
    path("", include("quality.urls_review")),
    path("", include("quality.urls_sustainability")),
]
