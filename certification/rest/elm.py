"""``GET /api/v1/credentials/<credential_id>/elm``: the award as an unsealed European Learning Model (ELM 3) /
Europass EDC JSON-LD credential, for an institution to seal with its eIDAS e-seal outside this system.

The same callers as ``/credentials/<credential_id>/`` (policy ``award.view`` on the award); anyone else gets 404.
"""

from django.http import JsonResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema

from ..vc.elm import build_elm
from .views import CredentialViewSet

CONTENT_TYPE = "application/ld+json"


class CredentialElmViewSet(CredentialViewSet):
    policy_actions = {"elm": "award.view"}

    @extend_schema(
        responses={
            (200, CONTENT_TYPE): OpenApiResponse(OpenApiTypes.OBJECT, description="ELM 3 / EDC JSON-LD credential."),
            404: OpenApiResponse(description="No such credential, or not yours to see."),
        },
        description="The credential as an unsealed European Learning Model (ELM 3) / Europass EDC JSON-LD "
        "credential, built from the snapshot frozen at issue, ready for the institution's eIDAS e-seal outside "
        "this system (scope `awards:read`). No conformance claim: the EDC SHACL shapes are not run here.",
    )
    def elm(self, request, credential_id=None):
        credential = self.get_object()
        return JsonResponse(build_elm(credential), content_type=CONTENT_TYPE, json_dumps_params={"ensure_ascii": False})
