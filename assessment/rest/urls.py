from rest_framework.routers import SimpleRouter

from . import views

router = SimpleRouter(trailing_slash=True)  # no format suffixes: the API speaks JSON only
router.register("results", views.ResultViewSet, basename="api-result")

urlpatterns = router.urls
