from rest_framework.routers import DefaultRouter

from . import views

router = DefaultRouter(trailing_slash=True)
router.include_root_view = False
router.register("quality-reviews", views.QualityReviewViewSet, basename="api-quality-review")

urlpatterns = [*router.urls]
