from rest_framework.routers import SimpleRouter

from . import views

router = SimpleRouter(trailing_slash=True)  # no format suffixes: the API speaks JSON only
router.register("institutions", views.InstitutionViewSet, basename="institution")
router.register("consortia", views.ConsortiumViewSet, basename="consortium")
router.register("memberships", views.MembershipViewSet, basename="membership")
router.register("agreements", views.AgreementViewSet, basename="agreement")
router.register("agreement-versions", views.AgreementVersionViewSet, basename="agreement-version")

urlpatterns = router.urls
