from rest_framework.routers import DefaultRouter

from . import views

router = DefaultRouter(trailing_slash=True)
router.include_root_view = False
router.register("applications", views.ApplicationViewSet, basename="api-application")
router.register("enrolments", views.EnrolmentViewSet, basename="api-enrolment")

urlpatterns = router.urls
