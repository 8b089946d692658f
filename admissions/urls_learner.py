"""The learner's side of admissions: apply, complete, follow and respond (see ``views_learner``)."""

from django.urls import path

from . import views_learner as views

urlpatterns = [
    path("apply/<uuid:edition_id>/", views.ApplicationStartView.as_view(), name="application-start"),
    path("my/applications/", views.MyApplicationsView.as_view(), name="my-applications"),
    path("my/applications/<uuid:pk>/", views.ApplicationStatusView.as_view(), name="application-status"),
    path("my/applications/<uuid:pk>/edit/", views.ApplicationEditView.as_view(), name="application-edit"),
    path("my/applications/<uuid:pk>/answer/", views.AnswerView.as_view(), name="my-application-answer"),
    path("my/applications/<uuid:pk>/accept/", views.AcceptOfferView.as_view(), name="my-application-accept"),
    path("my/applications/<uuid:pk>/decline/", views.DeclineOfferView.as_view(), name="my-application-decline"),
    path("my/applications/<uuid:pk>/withdraw/", views.WithdrawView.as_view(), name="my-application-withdraw"),
    path("my/applications/<uuid:pk>/exemptions/new/", views.ExemptionRequestView.as_view(),
         name="my-application-exemption"),
    path("applications/documents/<uuid:pk>/", views.ApplicationDocumentView.as_view(), name="application-document"),
]
