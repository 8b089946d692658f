from rest_framework.routers import DefaultRouter

from . import views

router = DefaultRouter(trailing_slash=True)
router.include_root_view = False
router.register("awards", views.AwardViewSet, basename="api-award")
router.register("credentials", views.CredentialViewSet, basename="api-credential")
router.register("verify", views.VerifyViewSet, basename="api-verify")

urlpatterns = router.urls
