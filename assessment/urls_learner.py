"""Results pages: the learner's own results and appeals, and one learner's results for staff."""

from django.urls import path

from . import views_learner as views

urlpatterns = [
    path("my/results/", views.MyResultsView.as_view(), name="my-results"),
    path("my/results/<uuid:enrolment_pk>/", views.MyEnrolmentResultsView.as_view(), name="my-results-detail"),
    path("my/results/<uuid:enrolment_pk>/appeal/", views.AppealLodgeView.as_view(), name="my-results-appeal"),
    path("assessment/enrolments/<uuid:pk>/results/", views.EnrolmentResultsView.as_view(), name="enrolment-results"),
]
