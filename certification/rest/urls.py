from django.urls import path, re_path
from rest_framework.routers import SimpleRouter

from . import exchange, views
from .elm import CredentialElmViewSet

router = SimpleRouter(trailing_slash=True)  # no format suffixes: the API speaks JSON only
router.register("awards", views.AwardViewSet, basename="api-award")
router.register("credentials", views.CredentialViewSet, basename="api-credential")
router.register("verify", views.VerifyViewSet, basename="api-verify")

urlpatterns = [
    *router.urls,
    re_path(rf"^credentials/(?P<credential_id>{views.CREDENTIAL_ID})/elm/?$",
            CredentialElmViewSet.as_view({"get": "elm"}), name="api-credential-elm"),
    path("editions/<uuid:pk>/export/", exchange.EditionExportView.as_view(), name="api-edition-export"),
]
