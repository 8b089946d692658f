"""The quality app's sustainability pages: a programme's dashboard and its partners' commitments."""

from django.urls import path

from . import views_sustainability as views

urlpatterns = [
    path("quality/programmes/<uuid:pk>/sustainability/", views.SustainabilityView.as_view(), name="sustainability"),
    path("quality/programmes/<uuid:pk>/commitments/new/", views.CommitmentCreateView.as_view(),
         name="commitment-create"),
    path("quality/commitments/<uuid:pk>/edit/", views.CommitmentEditView.as_view(), name="commitment-edit"),
    path("quality/commitments/<uuid:pk>/confirm/", views.CommitmentConfirmView.as_view(), name="commitment-confirm"),
    path("quality/commitments/<uuid:pk>/withdraw/", views.CommitmentWithdrawView.as_view(),
         name="commitment-withdraw"),
]
