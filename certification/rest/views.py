"""Certification API (D6): awards, issued credentials and their documents, and public verification.

- ``/awards/``: the awards a caller may see (policy scope ``award.view``: the programmes its institution takes part
  in, for partner systems with ``awards:read`` and student administrators; the programme's board and team leader;
  a learner's own). ``POST`` awards an enrolment: only the examination board decides (``award.decide``), with its
  browser session. **API tokens are refused (403)**: a token acts for a whole institution and no board-scoped token
  exists, so no partner system can award.
- ``/credentials/<credential_id>/``: one issued version with its status and documents (status, SHA-256, download
  link), for the same callers.
- ``/verify/<credential_id>/``: public, no authentication, throttled per IP: what a verifier needs (status,
  holder, awarding bodies, the 11 EU elements as frozen when issued, the published hashes).
"""

from django.db.models import Prefetch
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext as _
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import mixins, status, viewsets
from rest_framework.exceptions import NotFound
from rest_framework.filters import OrderingFilter
from rest_framework.parsers import JSONParser
from rest_framework.response import Response

from admissions.api import Enrolment
from consortium.api import policy
from consortium.rest.throttling import PerTokenRateThrottle
from consortium.rest.views import PolicyViewSet

from .. import services
from .. import snapshot as snap
from ..models import Award, Credential, CredentialStatus, Document, DocumentStatus
from ..rendering import verification_url
from . import serializers as s
from .filters import AwardFilter

#: ``secrets.token_urlsafe(16)``: 22 URL-safe characters (a little leeway either side).
CREDENTIAL_ID = "[A-Za-z0-9_-]{16,43}"


class VerifyRateThrottle(PerTokenRateThrottle):
    """Public verification: one budget per IP (``DEFAULT_THROTTLE_RATES["verify"]``, else 60/minute)."""

    scope = "verify"
    default_rate = "60/minute"

    def get_rate(self):
        return self.THROTTLE_RATES.get(self.scope) or self.default_rate


def _awards():
    return Award.objects.select_related(
        "enrolment__application", "enrolment__edition__programme", "issuing_institution"
    ).prefetch_related(Prefetch("credentials", queryset=Credential.objects.order_by("-version")))


@extend_schema_view(
    list=extend_schema(
        description="Awards you may see: of the programmes your institution takes part in (token scope "
        "`awards:read`), newest first, each with its issued versions."
    ),
    retrieve=extend_schema(description="One award (scope `awards:read`)."),
)
class AwardViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, PolicyViewSet):
    list_policy = "award.view"
    base_queryset = _awards()
    serializer_class = s.AwardSerializer
    policy_actions = {"list": "award.view", "retrieve": "award.view", "create": "award.decide"}
    filter_backends = [DjangoFilterBackend, OrderingFilter]
    filterset_class = AwardFilter
    parser_classes = [JSONParser]
    ordering_fields = ["decided_at"]
    ordering = ["-decided_at"]

    @extend_schema(
        request=s.AwardCreateSerializer,
        responses={
            201: s.AwardSerializer,
            200: OpenApiResponse(s.AwardSerializer, description="Already awarded: the existing award."),
            400: OpenApiResponse(
                description="Unknown enrolment, or the award conditions are not met / a mandatory EU element "
                "has no data (`detail` and `reasons`)."
            ),
            403: OpenApiResponse(
                description="Only the programme's examination board awards, signed in on the platform. API tokens "
                "are always refused: no board-scoped token exists."
            ),
        },
        description="The examination board awards an eligible enrolment; the credential is issued and its PDFs are "
        "rendered in the background (see the credential's documents). Idempotent: awarding an enrolment again "
        "returns its award (200).",
    )
    def create(self, request):
        serializer = s.AwardCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        enrolment = (
            Enrolment.objects.select_related("application", "edition__programme").filter(pk=data["enrolment"]).first()
        )
        if enrolment is None or not (
            policy.can(request.user, "award.view", enrolment) or policy.can(request.user, "award.decide", enrolment)
        ):
            return Response({"enrolment": [_("Unknown enrolment.")]}, status=status.HTTP_400_BAD_REQUEST)
        existed = Award.objects.filter(enrolment=enrolment).exists()
        award = services.award_decide(actor=request.user, enrolment=enrolment, classification=data["classification"])
        fresh = _awards().get(pk=award.pk)
        return Response(
            s.AwardSerializer(fresh, context=self.get_serializer_context()).data,
            status=status.HTTP_200_OK if existed else status.HTTP_201_CREATED,
        )


@extend_schema_view(
    retrieve=extend_schema(
        description="One issued version of an award: status, and its documents with their status, SHA-256 and "
        "download link (scope `awards:read`)."
    ),
)
class CredentialViewSet(mixins.RetrieveModelMixin, PolicyViewSet):
    serializer_class = s.CredentialSerializer
    policy_actions = {"retrieve": "award.view"}
    lookup_field = "credential_id"
    lookup_value_regex = CREDENTIAL_ID

    def get_queryset(self):
        awards = policy.filter(self.request.user, "award.view", Award.objects.all())
        return (
            Credential.objects.filter(award__in=awards)
            .select_related("award__enrolment__edition__programme", "superseded_by")
            .prefetch_related(Prefetch("documents", queryset=Document.objects.order_by("kind", "slot", "language")))
        )

    def get_object(self):
        credential = get_object_or_404(self.get_queryset(), credential_id=self.kwargs["credential_id"])
        self.check_object_permissions(self.request, credential.award)  # the policy decides on the award
        return credential


def verification(credential: Credential) -> dict:
    """What the public may know about a credential: all from the frozen snapshot, never the live records."""
    data = credential.snapshot
    programme = data["programme"]
    language = programme["primary_language"]
    bodies = data["awarding_bodies"] or [data["issuer"]]
    names = {str(d.institution_id): d.institution.short_name for d in credential.documents.all() if d.institution_id}
    public = ("legal_name", "short_name", "country", "country_name", "city")
    return {
        "credential_id": credential.credential_id,
        "status": credential.status,
        "valid": credential.status == CredentialStatus.VALID,
        "version": credential.version,
        "revoked_at": credential.revoked_at,
        "revocation_reason": credential.revocation_reason,
        "superseded_by": credential.superseded_by.credential_id if credential.superseded_by_id else None,
        "kind": data["kind"],
        "holder": snap.holder(data),
        "title": programme["titles"].get(language, ""),
        "qualification_name": programme["qualification_names"].get(language, ""),
        "award_type": programme["award_kind"],
        "awarding_bodies": [{k: b[k] for k in public} for b in bodies],
        "issuer": {k: data["issuer"][k] for k in public},
        "issued_at": data["issued_at"],
        "issued_on": data["issued_at"][:10],
        "elements": snap.elements(data, language, public=True),
        "documents": [
            {"kind": d.kind, "institution": names.get(str(d.institution_id)), "language": d.language,
             "sha256": d.sha256}
            for d in credential.documents.all()
            if d.status == DocumentStatus.READY
        ],
        "verification_url": verification_url(credential.credential_id),
    }


class VerifyViewSet(viewsets.GenericViewSet):
    """Public: no authentication (a token or session is ignored), throttled per IP."""

    authentication_classes: list = []
    throttle_classes = [VerifyRateThrottle]
    policy_actions = {"retrieve": policy.PUBLIC}
    lookup_field = "credential_id"
    lookup_value_regex = CREDENTIAL_ID
    serializer_class = s.VerificationSerializer
    pagination_class = None
    filter_backends: list = []

    def get_queryset(self):
        return Credential.objects.select_related("superseded_by").prefetch_related(
            Prefetch("documents", queryset=Document.objects.select_related("institution").order_by("kind", "slot"))
        )

    @extend_schema(
        auth=[],
        responses={200: s.VerificationSerializer, 404: OpenApiResponse(description="No such credential.")},
        description="Verify a credential by the id printed on its documents (public; no authentication). "
        "`status` is valid, revoked (with the date and reason) or superseded (by a corrected version); the "
        "elements are the 11 mandatory EU elements as frozen when the credential was issued; `documents` lists "
        "the SHA-256 of each issued PDF.",
    )
    def retrieve(self, request, credential_id=None):
        credential = self.get_queryset().filter(credential_id=credential_id).first()
        if credential is None:
            raise NotFound(_("Unknown credential."))
        return Response(s.VerificationSerializer(verification(credential)).data)
