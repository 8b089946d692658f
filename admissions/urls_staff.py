"""Staff pages of admissions, under /admissions/ (every view declares its policy)."""

from django.urls import path

from . import views_exchange
from . import views_staff as views

urlpatterns = [
    path("admissions/", views.EditionListView.as_view(), name="admissions-editions"),
    # Admission criteria of an edition
    path("admissions/editions/<uuid:pk>/criteria/", views.FrameworkView.as_view(), name="admission-framework"),
    path("admissions/editions/<uuid:pk>/criteria/add/", views.CriterionAddView.as_view(), name="criterion-add"),
    path("admissions/criteria/<uuid:pk>/edit/", views.CriterionEditView.as_view(), name="criterion-edit"),
    path("admissions/criteria/<uuid:pk>/remove/", views.CriterionRemoveView.as_view(), name="criterion-remove"),
    # Review queue of an edition
    path("admissions/editions/<uuid:pk>/queue/", views.QueueView.as_view(), name="review-queue"),
    path("admissions/editions/<uuid:pk>/queue.csv", views.QueueCsvView.as_view(), name="review-queue-csv"),
    path("admissions/editions/<uuid:pk>/queue/bulk/", views.QueueBulkView.as_view(), name="review-queue-bulk"),
    path("admissions/editions/<uuid:pk>/queue/message/", views.QueueMessageView.as_view(),
         name="review-queue-message"),
    # Bulk exchange: a partner's applicants
    path("admissions/editions/<uuid:pk>/import/", views_exchange.ApplicantImportView.as_view(),
         name="applicants-import"),
    path("admissions/editions/<uuid:pk>/import/confirm/", views_exchange.ApplicantImportConfirmView.as_view(),
         name="applicants-import-confirm"),
    # One application
    path("admissions/applications/<uuid:pk>/", views.ApplicationDetailView.as_view(), name="application-detail"),
    path("admissions/applications/<uuid:pk>/assess/", views.CriterionAssessView.as_view(),
         name="application-assess"),
    path("admissions/applications/<uuid:pk>/decision/<slug:action>/", views.ApplicationDecisionView.as_view(),
         name="application-decision"),
    path("admissions/registrations/<uuid:pk>/", views.RegistrationUpdateView.as_view(), name="registration-update"),
    path("admissions/exemptions/<uuid:pk>/decide/", views.ExemptionDecideView.as_view(), name="exemption-decide"),
    path("admissions/exemptions/<uuid:pk>/evidence/", views.ExemptionEvidenceView.as_view(),
         name="exemption-evidence"),
]
