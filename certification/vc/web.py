"""Pages and endpoints around the signed Open Badges 3.0 credential:

* the learner (and staff who may view the award, policy ``award.view``) downloads the current valid credential as
  an Open Badge: JSON with an embedded Data Integrity proof, or a VC-JOSE-COSE JWT; anyone else gets a 404;
* the learner adds it to a LinkedIn profile (a redirect to LinkedIn's "Add to profile" form, filled in);
* anyone downloads the JSON Open Badge of a valid credential from its public verification page;
* anyone verifies a credential with ``POST /api/v1/verify/`` (public, throttled per IP).
"""

from __future__ import annotations

import datetime as dt
import json
from urllib.parse import urlencode

from django.conf import settings
from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext as _
from django.views import View
from drf_spectacular.utils import OpenApiResponse, extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.parsers import JSONParser, MultiPartParser
from rest_framework.response import Response
from rest_framework.views import APIView

from consortium.api import policy, validate_upload
from consortium.web import PolicyMixin

from .. import selectors
from .. import snapshot as snap
from ..models import Credential, CredentialStatus
from ..rest.views import VerifyRateThrottle
from . import issue, keys, ob3, verifier

LINKEDIN_ADD = "https://www.linkedin.com/profile/add"


def _attachment(body: str, content_type: str, filename: str, *, private: bool) -> HttpResponse:
    response = HttpResponse(body, content_type=content_type)
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    response["Cache-Control"] = "private, no-store" if private else "no-store"
    response["X-Content-Type-Options"] = "nosniff"
    return response


def badge_response(credential: Credential, proof: str, *, private: bool = True) -> HttpResponse:
    try:
        signed = issue.signed_copy(credential, proof)
    except keys.IssuerKeyError:
        return HttpResponse("The credential cannot be signed right now.", status=503, content_type="text/plain")
    name = f"open-badge-{credential.credential_id}-v{credential.version}"
    if proof == issue.JWT:
        return _attachment(signed, "application/vc+jwt", f"{name}.jwt", private=private)
    body = json.dumps(signed, ensure_ascii=False, indent=2)
    return _attachment(body, "application/vc+ld+json", f"{name}.json", private=private)


def linkedin_url(credential: Credential) -> str:
    """LinkedIn's "Add licence or certification" form, filled in from the frozen snapshot."""
    data = credential.snapshot
    issued = dt.datetime.fromisoformat(data["issued_at"])
    title = next(e["value"] for e in snap.elements(data, public=True) if e["key"] == "title")
    return LINKEDIN_ADD + "?" + urlencode({
        "startTask": "CERTIFICATION_NAME",
        "name": title,
        "organizationName": data["issuer"]["legal_name"],
        "issueYear": issued.year,
        "issueMonth": issued.month,
        "certUrl": ob3.credential_url(credential),
        "certId": credential.credential_id,
    })


class OwnCredentialMixin(PolicyMixin):
    """The credential named by ``pk``, valid and visible to the user (``award.view`` on its award), else 404."""

    policy_action = "award.view"
    http_method_names = ["get"]

    def get_policy_object(self):
        if getattr(self, "credential", None) is None:
            credential = get_object_or_404(
                Credential.objects.select_related("award__enrolment__edition__programme", "award__issuing_institution"),
                pk=self.kwargs["pk"], status=CredentialStatus.VALID)
            if not policy.can(self.request.user, "award.view", credential.award):
                raise Http404
            self.credential = credential
        return self.credential.award


class OpenBadgeDownloadView(OwnCredentialMixin, View):
    """The credential as an Open Badge: ``proof`` is ``"data-integrity"`` (JSON) or ``"jwt"`` (set by the URL)."""

    proof = issue.DATA_INTEGRITY

    def get(self, request, *args, **kwargs):
        return badge_response(self.credential, self.proof)


class LinkedInView(OwnCredentialMixin, View):
    """Redirects to LinkedIn's "Add to profile" form for the credential."""

    def get(self, request, *args, **kwargs):
        return HttpResponseRedirect(linkedin_url(self.credential))


class PublicOpenBadgeView(PolicyMixin, View):
    """Anyone: the Open Badge of a valid credential, from its verification page: JSON (Data Integrity proof) or
    JWT (``proof``, set by the URL). The kept signed copy is served, so a request never signs anything."""

    policy_action = policy.PUBLIC
    http_method_names = ["get"]
    proof = issue.DATA_INTEGRITY

    def get(self, request, *args, **kwargs):
        credential = selectors.credential_by_id(kwargs.get("credential_id", ""))
        if credential is None or credential.status != CredentialStatus.VALID:
            raise Http404
        return badge_response(credential, self.proof, private=False)


_CHECK_FIELDS = {
    "name": serializers.ChoiceField(choices=verifier.PDF_CHECKS + verifier.CHECKS), "ok": serializers.BooleanField(),
    "message": serializers.CharField(),
}


def _read_upload(file) -> bytes:
    """The uploaded PDF's bytes, checked by content and size (``ValidationError`` with a message otherwise)."""
    validate_upload(file, ("pdf",), settings.UPLOAD_MAX_BYTES, active_content_ok=True)  # read, never opened
    try:
        file.seek(0)
        content = file.read(settings.UPLOAD_MAX_BYTES + 1)
    except (OSError, ValueError) as exc:
        raise ValidationError(_("The file could not be read. Please upload it again.")) from exc
    if len(content) > settings.UPLOAD_MAX_BYTES:  # the size the client announced was wrong
        raise ValidationError(_("The file is larger than the limit."))
    return content


class CredentialVerifyAPIView(APIView):
    """Public: no authentication (a token or session is ignored), throttled per IP like the other verify endpoint.
    Takes a credential (JSON body) or a sealed PDF (multipart ``pdf``)."""

    policy_action = policy.PUBLIC
    authentication_classes: list = []
    throttle_classes = [VerifyRateThrottle]
    parser_classes = [JSONParser, MultiPartParser]

    @extend_schema(
        auth=[],
        request={
            "application/json": inline_serializer("VerifyCredentialRequest", {
                "credential": serializers.JSONField(help_text="The OB 3.0 credential: a JSON object with an "
                                                    "embedded DataIntegrityProof, or a VC-JOSE-COSE JWT string."),
            }),
            "multipart/form-data": inline_serializer("VerifyPdfRequest", {
                "pdf": serializers.FileField(help_text="A certificate or supplement PDF issued here (sealed, with "
                                             "the signed credential embedded)."),
            }),
        },
        responses={
            200: inline_serializer("VerifyCredentialResult", {
                "valid": serializers.BooleanField(),
                "checks": inline_serializer("VerificationCheck", _CHECK_FIELDS, many=True),
                "failed": serializers.ListField(child=serializers.CharField()),
            }),
            400: OpenApiResponse(description="No credential or PDF; neither a JSON object nor a compact JWS; or "
                                             "the file is not a PDF or too large."),
        },
        description="Verify an Open Badges 3.0 credential issued here (public; no authentication). A credential "
        "answers five checks: issuer_key (the key is the issuer's, published here), signature, dates "
        "(validFrom/validUntil), status (not revoked in the issuer's Bitstring Status List) and eu_elements (the 11 "
        "EU elements). A PDF (multipart field `pdf`) answers three more first: seal (PAdES seal intact, by one of "
        "our seal certificates), embedded_credential and issued_document (its SHA-256 is a document issued here), "
        "then the five checks of the embedded credential. A tampered or revoked credential answers 200 with "
        "`valid: false` and the failed checks.",
    )
    def post(self, request, *args, **kwargs):
        upload = request.FILES.get("pdf")
        if upload is not None:
            try:
                content = _read_upload(upload)
            except ValidationError as exc:
                return Response({"pdf": exc.messages}, status=status.HTTP_400_BAD_REQUEST)
            return Response(verifier.as_json(verifier.verify_pdf(content)))
        data = request.data
        credential = data.get("credential") if hasattr(data, "get") else None
        if not isinstance(credential, dict | str) or not credential:
            return Response({"detail": "Give {\"credential\": <JSON object or JWT string>} or a PDF as the "
                                       "multipart field \"pdf\"."}, status=status.HTTP_400_BAD_REQUEST)
        try:
            results = verifier.verify(credential)
        except verifier.MalformedCredential as exc:
            return Response({"detail": str(exc)}, status=status.HTTP_400_BAD_REQUEST)
        return Response(verifier.as_json(results))
