"""Open Badge downloads (learner: ``award.view``; public verification page: PUBLIC), the LinkedIn link, and the
public ``POST /api/v1/verify/`` (PUBLIC). The DRF router of ``certification.rest`` only routes
``api/v1/verify/<credential id>/`` (its viewset has no list or create), so ``api/v1/verify/`` reaches this module."""

from django.urls import path

from . import issue, web

urlpatterns = [
    path("api/v1/verify/", web.CredentialVerifyAPIView.as_view(), name="api-verify-credential"),
    path("credentials/<uuid:pk>/open-badge.json", web.OpenBadgeDownloadView.as_view(proof=issue.DATA_INTEGRITY),
         name="credential-open-badge-json"),
    path("credentials/<uuid:pk>/open-badge.jwt", web.OpenBadgeDownloadView.as_view(proof=issue.JWT),
         name="credential-open-badge-jwt"),
    path("credentials/<uuid:pk>/linkedin/", web.LinkedInView.as_view(), name="credential-linkedin"),
    path("verify/<str:credential_id>/open-badge.json", web.PublicOpenBadgeView.as_view(proof=issue.DATA_INTEGRITY),
         name="verify-open-badge"),
    path("verify/<str:credential_id>/open-badge.jwt", web.PublicOpenBadgeView.as_view(proof=issue.JWT),
         name="verify-open-badge-jwt"),
]
