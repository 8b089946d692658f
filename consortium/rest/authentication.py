from django.utils.translation import gettext_lazy as _
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import authentication, exceptions

from consortium.policy import ServicePrincipal
from consortium.services import apitoken_authenticate


class ApiTokenAuthentication(authentication.TokenAuthentication):
    """``Authorization: Token <key>`` for partner systems; the key is looked up by its SHA-256."""

    keyword = "Token"

    def authenticate_credentials(self, key: str):
        token = apitoken_authenticate(key)
        if token is None:
            raise exceptions.AuthenticationFailed(_("Invalid, expired or revoked token."))
        return ServicePrincipal(token), token


class ApiTokenScheme(OpenApiAuthenticationExtension):
    target_class = "consortium.rest.authentication.ApiTokenAuthentication"
    name = "tokenAuth"

    def get_security_definition(self, auto_schema):
        return {
            "type": "apiKey",
            "in": "header",
            "name": "Authorization",
            "description": "`Token <key>`: a key created by your institution's administrator.",
        }
