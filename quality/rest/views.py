"""Quality API (read only): the approved quality reviews of the programmes a partner institution takes part in, with
their frozen evidence, findings and improvement plan (scope ``quality:read``), for the partners' own quality
assurance systems. Drafts, submitted and returned reviews stay in the browser."""

import django_filters
from django.db.models import Prefetch
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import mixins
from rest_framework.filters import OrderingFilter

from consortium.rest.views import PolicyViewSet

from ..models import ImprovementAction, QualityReview
from . import serializers as s


class ReviewFilter(django_filters.FilterSet):
    programme = django_filters.UUIDFilter(field_name="programme_id")
    year = django_filters.NumberFilter(field_name="year")

    class Meta:
        model = QualityReview
        fields = []


@extend_schema_view(
    list=extend_schema(description="The approved annual quality reviews of the programmes your institution takes "
                       "part in (lead or partner; scope `quality:read`), newest year first. Filter by `programme` "
                       "and `year` (the academic year's first calendar year: 2026 is 2026/27)."),
    retrieve=extend_schema(description="One approved quality review: the evidence as the programme board approved "
                           "it, the findings and the improvement plan with its progress."),
)
class QualityReviewViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, PolicyViewSet):
    list_policy = "review.published"
    base_queryset = QualityReview.objects.select_related("programme").prefetch_related(
        "findings", Prefetch("actions", queryset=ImprovementAction.objects.select_related("owner_institution")))
    serializer_class = s.QualityReviewSerializer
    policy_actions = {"list": "review.published", "retrieve": "review.published"}
    filter_backends = [DjangoFilterBackend, OrderingFilter]
    filterset_class = ReviewFilter
    ordering_fields = ["year", "decided_at"]
    ordering = ["-year", "programme__code"]
