from django.urls import path, re_path
from rest_framework.routers import SimpleRouter

from . import external_ids, views

router = SimpleRouter(trailing_slash=True)  # no format suffixes: the API speaks JSON only
router.register("institutions", views.InstitutionViewSet, basename="institution")
router.register("consortia", views.ConsortiumViewSet, basename="consortium")
router.register("memberships", views.MembershipViewSet, basename="membership")
router.register("agreements", views.AgreementViewSet, basename="agreement")
router.register("agreement-versions", views.AgreementVersionViewSet, basename="agreement-version")

urlpatterns = [
    *router.urls,
    # PUT on the collection attaches or replaces (keyed by kind and record), which a router does not route.
    path("external-ids/", external_ids.collection, name="external-id-list"),
    re_path(r"^external-ids/(?P<pk>[0-9a-fA-F-]{36})/$", external_ids.item, name="external-id-detail"),
]
