from django.conf import settings
from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from . import policy, views
from .rest.urls import urlpatterns as consortium_api


class SchemaView(SpectacularAPIView):
    policy_action = policy.PUBLIC
    permission_classes = []


class DocsView(SpectacularSwaggerSplitView):
    policy_action = policy.PUBLIC
    permission_classes = []


api_v1 = [
    *consortium_api,
    path("", include("programmes.rest.urls")),
    path("", include("admissions.rest.urls")),
    path("", include("assessment.rest.urls")),
    path("", include("certification.rest.urls")),
    path("", include("finance.rest.urls")),
    path("", include("quality.rest.urls")),
    path("", include("consortium.rest.urls_integration")),
]

urlpatterns = [
    path("", views.home, name="home"),
    path("healthz", views.healthz, name="healthz"),
    path("dashboard/", views.DashboardView.as_view(), name="dashboard"),
    path("accounts/", include("allauth.urls")),
    path("i18n/", include("django.conf.urls.i18n")),
    path("admin/", admin.site.urls),
    path("api/v1/", include(api_v1)),
    path("api/schema/", SchemaView.as_view(), name="api-schema"),
    path("api/docs/", DocsView.as_view(url_name="api-schema"), name="api-docs"),
    # Institutions
    path("institutions/", views.InstitutionListView.as_view(), name="institution-list"),
    path("institutions/new/", views.InstitutionCreateView.as_view(), name="institution-create"),
    path("institutions/<uuid:pk>/", views.InstitutionDetailView.as_view(), name="institution-detail"),
    path("institutions/<uuid:pk>/edit/", views.InstitutionUpdateView.as_view(), name="institution-update"),
    path("institutions/<uuid:pk>/contacts/add/", views.ContactAddView.as_view(), name="contact-add"),
    path("institutions/contacts/<uuid:pk>/remove/", views.ContactRemoveView.as_view(), name="contact-remove"),
    path("institutions/<uuid:pk>/logo/", views.institution_logo, name="institution-logo"),
    path("institutions/<uuid:pk>/signature/", views.SignatureImageView.as_view(), name="institution-signature"),
    # Consortia
    path("consortia/", views.ConsortiumListView.as_view(), name="consortium-list"),
    path("consortia/new/", views.ConsortiumCreateView.as_view(), name="consortium-create"),
    path("consortia/<uuid:pk>/", views.ConsortiumDetailView.as_view(), name="consortium-detail"),
    path("consortia/<uuid:pk>/edit/", views.ConsortiumUpdateView.as_view(), name="consortium-update"),
    path("consortia/<uuid:pk>/members/add/", views.MembershipAddView.as_view(), name="membership-add"),
    path("memberships/<uuid:pk>/end/", views.MembershipEndView.as_view(), name="membership-end"),
    # Agreements
    path("consortia/<uuid:pk>/agreements/new/", views.AgreementCreateView.as_view(), name="agreement-create"),
    path("agreements/<uuid:pk>/", views.AgreementDetailView.as_view(), name="agreement-detail"),
    path("agreements/<uuid:pk>/versions/new/", views.VersionStartView.as_view(), name="agreement-version-start"),
    path("agreements/versions/<uuid:pk>/", views.AgreementVersionDetailView.as_view(), name="agreement-version"),
    path("agreements/versions/<uuid:pk>/edit/", views.AgreementSectionsView.as_view(), name="agreement-sections"),
    path(
        "agreements/versions/<uuid:pk>/financial-model/",
        views.FinancialModelView.as_view(),
        name="agreement-financial-model",
    ),
    path("agreements/versions/<uuid:pk>/parties/add/", views.PartyAddView.as_view(), name="agreement-party-add"),
    path("agreements/parties/<uuid:pk>/remove/", views.PartyRemoveView.as_view(), name="agreement-party-remove"),
    path("agreements/versions/<uuid:pk>/sign/", views.SignView.as_view(), name="agreement-sign"),
    path(
        "agreements/versions/<uuid:pk>/<slug:transition>/",
        views.VersionTransitionView.as_view(),
        name="agreement-transition",
    ),
    path("agreements/versions/<uuid:pk>/addenda/new/", views.AddendumCreateView.as_view(), name="addendum-create"),
    path("agreements/addenda/<uuid:pk>/in-force/", views.AddendumInForceView.as_view(), name="addendum-in-force"),
    path("agreements/<slug:kind>/<uuid:pk>/pdf/", views.SignedPdfView.as_view(), name="agreement-pdf"),
    # API tokens, staff, audit
    path("tokens/", views.ApiTokenListView.as_view(), name="token-list"),
    path("tokens/new/", views.ApiTokenCreateView.as_view(), name="token-create"),
    path("tokens/<uuid:pk>/revoke/", views.ApiTokenRevokeView.as_view(), name="token-revoke"),
    path("staff/", views.StaffListView.as_view(), name="staff-list"),
    path("staff/new/", views.StaffAddView.as_view(), name="staff-add"),
    path("staff/<uuid:pk>/roles/grant/", views.RoleGrantView.as_view(), name="role-grant"),
    path("staff/roles/<uuid:pk>/revoke/", views.RoleRevokeView.as_view(), name="role-revoke"),
    path("audit/", views.AuditListView.as_view(), name="audit-list"),
    path("", include("consortium.urls_privacy")),
    path("", include("consortium.urls_integration")),
    path("", include("programmes.urls")),
    path("", include("admissions.urls_learner")),
    path("", include("admissions.urls_staff")),
    path("", include("assessment.urls")),
    path("", include("assessment.urls_learner")),
    path("", include("certification.urls")),
    path("", include("certification.vc.urls")),
    path("", include("certification.vc.status_urls")),
    path("", include("certification.vc.web_urls")),
    path("", include("finance.urls")),
    path("", include("quality.urls")),
]

handler404 = "consortium.views.not_found"
handler500 = "consortium.views.server_error"

if settings.DEBUG:
    from django.conf.urls.static import static

    urlpatterns += static(settings.MEDIA_URL, document_root=settings.MEDIA_ROOT)
