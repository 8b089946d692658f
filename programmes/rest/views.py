"""Partner API for programmes: partners read every programme they participate in; writes follow the policy."""

from django.db.models import Prefetch
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, status
from rest_framework.response import Response

from consortium.api import ExternalIdKind, identifiers, policy
from consortium.rest.views import PolicyViewSet

from .. import services
from ..models import Course, CurriculumVersion, Edition, Programme
from . import serializers as s
from .filters import CourseFilter, ProgrammeFilter


class ProgrammeViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, PolicyViewSet):
    list_policy = "programme.view"
    base_queryset = Programme.objects.prefetch_related("texts", "outcomes", "partners", "stacks_into")
    serializer_class = s.ProgrammeSerializer
    policy_actions = {"list": "programme.view", "retrieve": "programme.view", "partial_update": "programme.change"}
    filterset_class = ProgrammeFilter
    search_fields = ["code", "texts__title"]
    ordering_fields = ["code", "ects", "updated_at"]
    ordering = ["code"]

    @extend_schema(request=s.ProgrammeUpdateSerializer, responses=s.ProgrammeSerializer)
    def partial_update(self, request, pk=None):
        programme = self.get_object()
        serializer = s.ProgrammeUpdateSerializer(programme, data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        programme = services.programme_update(actor=request.user, programme=programme, data=serializer.validated_data)
        return Response(s.ProgrammeSerializer(self.get_queryset().get(pk=programme.pk)).data)


class CourseViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, PolicyViewSet):
    list_policy = "programme.view"
    base_queryset = Course.objects.select_related("version")
    serializer_class = s.CourseSerializer
    policy_actions = {"list": "programme.view", "retrieve": "programme.view"}
    filterset_class = CourseFilter
    search_fields = ["code", "title"]
    ordering = ["version", "position"]

    def get_queryset(self):
        return identifiers.annotate(super().get_queryset(), self.request.user, ExternalIdKind.COURSE)


class CurriculumVersionViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, PolicyViewSet):
    list_policy = "programme.view"
    base_queryset = CurriculumVersion.objects.all()
    serializer_class = s.CurriculumVersionSerializer
    policy_actions = {"list": "programme.view", "retrieve": "programme.view"}
    filterset_fields = ["programme", "status"]
    ordering = ["programme", "-number"]

    def get_queryset(self):
        courses = identifiers.annotate(Course.objects.select_related("version"), self.request.user,
                                       ExternalIdKind.COURSE)
        return super().get_queryset().prefetch_related(Prefetch("courses", queryset=courses))


class EditionViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, PolicyViewSet):
    list_policy = "edition.view"
    base_queryset = Edition.objects.all()
    serializer_class = s.EditionSerializer
    # ``create`` names its programme in the body: the collection check only asks whether the caller changes
    # programmes at all (never a token); the service then requires ``edition.manage`` on that programme.
    # (``edition.manage`` without an object is always refused, so it cannot be the collection check.)
    policy_actions = {"list": "edition.view", "retrieve": "edition.view", "create": "programme.change"}
    filterset_fields = ["programme", "status"]
    ordering_fields = ["starts_on", "updated_at"]
    ordering = ["-starts_on"]

    def create(self, request):
        serializer = s.EditionSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        programme_id = request.data.get("programme")
        programme = (
            policy.filter(request.user, "programme.view", Programme.objects.all()).filter(pk=programme_id).first()
            if programme_id
            else None
        )
        if programme is None:
            return Response({"programme": ["Unknown programme."]}, status=status.HTTP_400_BAD_REQUEST)
        edition = services.edition_save(actor=request.user, programme=programme, data=serializer.validated_data)
        return Response(s.EditionSerializer(edition).data, status=status.HTTP_201_CREATED)
