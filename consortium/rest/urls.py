from rest_framework.routers import DefaultRouter

from . import views

router = DefaultRouter(trailing_slash=True)
router.include_root_view = False
router.register("institutions", views.InstitutionViewSet, basename="institution")
router.register("consortia", views.ConsortiumViewSet, basename="consortium")
router.register("memberships", views.MembershipViewSet, basename="membership")
router.register("agreements", views.AgreementViewSet, basename="agreement")
router.register("agreement-versions", views.AgreementVersionViewSet, basename="agreement-version")

urlpatterns = router.urls
