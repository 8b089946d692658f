"""Certification pages: the board's award pages, staff award detail, the learner's credentials, downloads and the
public verification page."""

from django.urls import path

from . import views, views_exchange

urlpatterns = [
    path("credentials/<uuid:pk>/language/", views.DocumentLanguageView.as_view(), name="credential-language"),
    # Examination board
    path("awards/", views.AwardsHomeView.as_view(), name="awards-home"),
    path("awards/editions/<uuid:pk>/", views.EditionAwardsView.as_view(), name="award-edition"),
    path("awards/editions/<uuid:pk>/award/", views.EditionAwardView.as_view(), name="award-edition-award"),
    path("awards/bulk/<uuid:pk>/progress/", views.BulkProgressView.as_view(), name="award-bulk-progress"),
    path("awards/documents/<uuid:pk>/retry/", views.DocumentRetryView.as_view(), name="award-document-retry"),
    # Bulk exchange: one partner's file of the edition (enrolments, results, awards)
    path("awards/editions/<uuid:pk>/export/", views_exchange.EditionExportView.as_view(), name="edition-export"),
    # Staff: one award, its versions
    path("awards/<uuid:pk>/", views.AwardDetailView.as_view(), name="award-detail"),
    path("awards/credentials/<uuid:pk>/revoke/", views.CredentialRevokeView.as_view(), name="credential-revoke"),
    path("awards/credentials/<uuid:pk>/reissue/", views.CredentialReissueView.as_view(), name="credential-reissue"),
    # Learners (and staff who may view the award): documents and transcripts
    path("my/credentials/", views.MyCredentialsView.as_view(), name="my-credentials"),
    path("credentials/documents/<uuid:pk>/", views.DocumentDownloadView.as_view(), name="document-download"),
    path("transcripts/<uuid:pk>/", views.TranscriptView.as_view(), name="transcript"),
    # Public
    path("verify/<str:credential_id>/", views.VerifyView.as_view(), name="verify"),
]
