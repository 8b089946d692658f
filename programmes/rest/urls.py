from rest_framework.routers import SimpleRouter

from . import views

router = SimpleRouter(trailing_slash=True)  # no format suffixes: the API speaks JSON only
router.register("programmes", views.ProgrammeViewSet, basename="programme")
router.register("courses", views.CourseViewSet, basename="course")
router.register("curriculum-versions", views.CurriculumVersionViewSet, basename="curriculum-version")
router.register("editions", views.EditionViewSet, basename="edition")

urlpatterns = router.urls
