"""Partner API for the consortium domain. Thin: validate with a serializer, call one service, answer."""

from django.shortcuts import get_object_or_404
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from consortium import policy, services
from consortium.models import Agreement, AgreementVersion, Consortium, Institution, Membership

from . import serializers as s
from .filters import InstitutionFilter
from .idempotency import IdempotentWritesMixin
from .schema import CONFLICT


class PolicyViewSet(IdempotentWritesMixin, viewsets.GenericViewSet):
    """Lists are filtered by ``list_policy``; every action is checked by ``PolicyPermission``. POST and PATCH
    accept an ``Idempotency-Key`` (``idempotency.py``)."""

    list_policy: str = ""
    base_queryset = None
    lookup_value_regex = "[0-9a-fA-F-]{36}"

    def get_queryset(self):
        return policy.filter(self.request.user, self.list_policy, self.base_queryset.all())


class InstitutionViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, PolicyViewSet):
    list_policy = "institution.view"
    base_queryset = Institution.objects.prefetch_related("contacts")
    serializer_class = s.InstitutionSerializer
    policy_actions = {
        "list": "institution.view",
        "retrieve": "institution.view",
        "create": "institution.create",
        "partial_update": "institution.change",
    }
    filterset_class = InstitutionFilter
    search_fields = ["legal_name", "short_name", "city", "erasmus_code", "schac_code"]
    ordering_fields = ["short_name", "country", "updated_at"]
    ordering = ["short_name"]

    @extend_schema(request=s.InstitutionWriteSerializer, responses=s.InstitutionSerializer)
    def create(self, request):
        serializer = s.InstitutionWriteSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        institution = services.institution_create(actor=request.user, data=serializer.validated_data)
        return Response(
            s.InstitutionSerializer(institution, context={"request": request}).data, status=status.HTTP_201_CREATED
        )

    @extend_schema(request=s.InstitutionWriteSerializer, responses=s.InstitutionSerializer)
    def partial_update(self, request, pk=None):
        institution = self.get_object()
        serializer = s.InstitutionWriteSerializer(institution, data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        institution = services.institution_update(
            actor=request.user, institution=institution, data=serializer.validated_data
        )
        return Response(s.InstitutionSerializer(institution, context={"request": request}).data)


class ConsortiumViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, PolicyViewSet):
    list_policy = "consortium.view"
    base_queryset = Consortium.objects.all()
    serializer_class = s.ConsortiumSerializer
    policy_actions = {"list": "consortium.view", "retrieve": "consortium.view", "partial_update": "consortium.change"}
    search_fields = ["name", "acronym"]
    ordering_fields = ["acronym", "updated_at"]
    ordering = ["acronym"]

    def partial_update(self, request, pk=None):
        consortium = self.get_object()
        serializer = s.ConsortiumSerializer(consortium, data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        consortium = services.consortium_update(
            actor=request.user, consortium=consortium, data=serializer.validated_data
        )
        return Response(s.ConsortiumSerializer(consortium).data)


class MembershipViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, PolicyViewSet):
    list_policy = "membership.view"
    base_queryset = Membership.objects.select_related("institution")
    serializer_class = s.MembershipSerializer
    policy_actions = {
        "list": "membership.view",
        "retrieve": "membership.view",
        "create": "membership.manage",
        "end": "membership.manage",
    }
    filterset_fields = ["consortium", "institution", "role"]
    ordering_fields = ["joined_on", "updated_at"]
    ordering = ["joined_on"]

    def create(self, request):
        serializer = s.MembershipSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        if not policy.can(request.user, "consortium.view", data["consortium"]):
            return Response({"consortium": ["Unknown consortium."]}, status=status.HTTP_400_BAD_REQUEST)
        membership = services.membership_add(
            actor=request.user,
            consortium=data["consortium"],
            institution=data["institution"],
            role=data["role"],
            joined_on=data.get("joined_on"),
        )
        return Response(s.MembershipSerializer(membership).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=s.MembershipEndSerializer, responses={200: s.MembershipSerializer, 409: CONFLICT})
    @action(detail=True, methods=["post"])
    def end(self, request, pk=None):
        membership = self.get_object()
        serializer = s.MembershipEndSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        membership = services.membership_end(
            actor=request.user, membership=membership, left_on=serializer.validated_data.get("left_on")
        )
        return Response(s.MembershipSerializer(membership).data)


class AgreementViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, PolicyViewSet):
    list_policy = "agreement.view"
    base_queryset = Agreement.objects.prefetch_related("versions")
    serializer_class = s.AgreementSerializer
    policy_actions = {"list": "agreement.view", "retrieve": "agreement.view", "create": "agreement.manage"}
    filterset_fields = ["consortium", "kind"]
    search_fields = ["title", "reference"]
    ordering_fields = ["title", "updated_at"]
    ordering = ["title"]

    @extend_schema(request=s.AgreementCreateSerializer, responses=s.AgreementSerializer)
    def create(self, request):
        serializer = s.AgreementCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        if not policy.can(request.user, "consortium.view", data["consortium"]):
            return Response({"consortium": ["Unknown consortium."]}, status=status.HTTP_400_BAD_REQUEST)
        agreement = services.agreement_create(
            actor=request.user,
            consortium=data["consortium"],
            kind=data["kind"],
            title=data["title"],
            reference=data["reference"],
            parties=data.get("parties", []),
        )
        return Response(s.AgreementSerializer(agreement).data, status=status.HTTP_201_CREATED)


class AgreementVersionViewSet(mixins.RetrieveModelMixin, PolicyViewSet):
    """Versions of agreements: read, edit a draft's sections, and move through the lifecycle."""

    list_policy = "agreement.view"
    base_queryset = AgreementVersion.objects.select_related("agreement").prefetch_related(
        "parties__institution", "parties__joined_by", "revenue_shares", "signatures", "addenda"
    )
    serializer_class = s.AgreementVersionSerializer
    policy_actions = {
        "retrieve": "agreement.view",
        "partial_update": "agreement.manage",
        "financial_model": "agreement.manage",
        "send_for_signature": "agreement.manage",
        "return_to_draft": "agreement.manage",
        "bring_into_force": "agreement.manage",
        "terminate": "agreement.manage",
    }

    def _answer(self, version):
        fresh = get_object_or_404(self.get_queryset(), pk=version.pk)
        return Response(s.AgreementVersionSerializer(fresh).data)

    @extend_schema(
        request=s.AgreementVersionUpdateSerializer, responses={200: s.AgreementVersionSerializer, 409: CONFLICT}
    )
    def partial_update(self, request, pk=None):
        version = self.get_object()
        serializer = s.AgreementVersionUpdateSerializer(version, data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        return self._answer(
            services.agreement_version_update(actor=request.user, version=version, data=serializer.validated_data)
        )

    @extend_schema(request=s.FinancialModelSerializer, responses={200: s.AgreementVersionSerializer, 409: CONFLICT})
    @action(detail=True, methods=["post"], url_path="financial-model")
    def financial_model(self, request, pk=None):
        version = self.get_object()
        serializer = s.FinancialModelSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        institutions = {str(i.id): i for i in Institution.objects.filter(id__in=list(data.get("shares", {})))}
        unknown = sorted(set(data.get("shares", {})) - set(institutions))
        if unknown:
            return Response(
                {"shares": [f"Unknown institution: {u}" for u in unknown]}, status=status.HTTP_400_BAD_REQUEST
            )
        shares = {institutions[k]: v for k, v in data.get("shares", {}).items()}
        return self._answer(
            services.agreement_financial_model_set(
                actor=request.user,
                version=version,
                revenue_model=data["revenue_model"],
                collecting_institution=data.get("collecting_institution"),
                sharing_basis=data.get("sharing_basis", ""),
                shares=shares,
                costs_shared=data.get("costs_shared", False),
            )
        )

    @extend_schema(request=None, responses={200: s.AgreementVersionSerializer, 409: CONFLICT})
    @action(detail=True, methods=["post"], url_path="send-for-signature")
    def send_for_signature(self, request, pk=None):
        return self._answer(services.agreement_send_for_signature(actor=request.user, version=self.get_object()))

    @extend_schema(request=None, responses={200: s.AgreementVersionSerializer, 409: CONFLICT})
    @action(detail=True, methods=["post"], url_path="return-to-draft")
    def return_to_draft(self, request, pk=None):
        return self._answer(services.agreement_return_to_draft(actor=request.user, version=self.get_object()))

    @extend_schema(request=s.BringIntoForceSerializer, responses={200: s.AgreementVersionSerializer, 409: CONFLICT})
    @action(detail=True, methods=["post"], url_path="bring-into-force")
    def bring_into_force(self, request, pk=None):
        version = self.get_object()
        serializer = s.BringIntoForceSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        return self._answer(
            services.agreement_bring_into_force(
                actor=request.user, version=version, effective_from=serializer.validated_data.get("effective_from")
            )
        )

    @extend_schema(request=s.TerminateSerializer, responses={200: s.AgreementVersionSerializer, 409: CONFLICT})
    @action(detail=True, methods=["post"])
    def terminate(self, request, pk=None):
        version = self.get_object()
        serializer = s.TerminateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        return self._answer(
            services.agreement_terminate(
                actor=request.user,
                version=version,
                reason=serializer.validated_data["reason"],
                terminated_on=serializer.validated_data.get("terminated_on"),
            )
        )
