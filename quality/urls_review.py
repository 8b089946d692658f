"""The quality app's review pages: a programme's reviews, a review (evidence, findings, improvement plan,
transitions) and its PDF report."""

from django.urls import path

from . import views_review as views

urlpatterns = [
    path("quality/programmes/<uuid:pk>/reviews/", views.ReviewListView.as_view(), name="review-list"),
    path("quality/programmes/<uuid:pk>/reviews/new/", views.ReviewCreateView.as_view(), name="review-create"),
    path("quality/reviews/<uuid:pk>/", views.ReviewDetailView.as_view(), name="review-detail"),
    path("quality/reviews/<uuid:pk>/edit/", views.ReviewUpdateView.as_view(), name="review-edit"),
    path("quality/reviews/<uuid:pk>/submit/", views.ReviewSubmitView.as_view(), name="review-submit"),
    path("quality/reviews/<uuid:pk>/decide/", views.ReviewDecideView.as_view(), name="review-decide"),
    path("quality/reviews/<uuid:pk>/report/", views.ReviewReportRequestView.as_view(), name="review-report"),
    path("quality/reviews/<uuid:pk>/report.pdf", views.ReviewPdfView.as_view(), name="review-pdf"),
    path("quality/reviews/<uuid:pk>/findings/new/", views.FindingAddView.as_view(), name="review-finding-add"),
    path("quality/findings/<uuid:pk>/edit/", views.FindingEditView.as_view(), name="review-finding-edit"),
    path("quality/findings/<uuid:pk>/remove/", views.FindingRemoveView.as_view(), name="review-finding-remove"),
    path("quality/reviews/<uuid:pk>/actions/new/", views.ActionAddView.as_view(), name="review-action-add"),
    path("quality/actions/<uuid:pk>/edit/", views.ActionEditView.as_view(), name="review-action-edit"),
    path("quality/actions/<uuid:pk>/<slug:transition>/", views.ActionTransitionView.as_view(),
         name="review-action-transition"),
]
