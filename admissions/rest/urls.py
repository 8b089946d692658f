from rest_framework.routers import SimpleRouter

from . import views

router = SimpleRouter(trailing_slash=True)  # no format suffixes: the API speaks JSON only
router.register("applications", views.ApplicationViewSet, basename="api-application")
router.register("enrolments", views.EnrolmentViewSet, basename="api-enrolment")

urlpatterns = router.urls
