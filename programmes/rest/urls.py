from rest_framework.routers import DefaultRouter

from . import views

router = DefaultRouter(trailing_slash=True)
router.include_root_view = False
router.register("programmes", views.ProgrammeViewSet, basename="programme")
router.register("courses", views.CourseViewSet, basename="course")
router.register("curriculum-versions", views.CurriculumVersionViewSet, basename="curriculum-version")
router.register("editions", views.EditionViewSet, basename="edition")

urlpatterns = router.urls
