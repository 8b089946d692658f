"""Public endpoints of the verifiable credentials (all policy PUBLIC)."""

from django.urls import path

from . import views

urlpatterns = [
    path("issuers/<uuid:institution_id>/did.json", views.issuer_did, name="issuer-did"),
    path("issuers/<uuid:institution_id>/jwks.json", views.issuer_jwks, name="issuer-jwks"),
    path("contexts/jointcred-v1.jsonld", views.extension_context, name="jointcred-context"),
]
