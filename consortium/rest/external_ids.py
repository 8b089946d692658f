"""``/api/v1/external-ids/``: a partner's own ids for our learners, enrolments and courses.

``PUT`` on the collection attaches (or replaces) the caller institution's id for one record; ``DELETE`` on an item
removes it; ``GET`` lists and reads the caller institution's own ids only. The lists of the records themselves
(``/enrolments/``, ``/courses/``, …) answer ``?external_id=`` and show ``external_id`` on each item. Thin: validate
with a serializer, call one service, answer.
"""

from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import mixins, serializers, status
from rest_framework.response import Response

from consortium import policy, services
from consortium.identifiers import EXTERNAL_ID_MAX_LENGTH
from consortium.models import ExternalId, ExternalIdKind

from .schema import INVALID
from .views import PolicyViewSet


class ExternalIdSerializer(serializers.ModelSerializer):
    institution = serializers.PrimaryKeyRelatedField(read_only=True)

    class Meta:
        model = ExternalId
        fields = ["id", "institution", "kind", "object_id", "value", "created_at", "updated_at"]
        read_only_fields = fields


class ExternalIdAttachSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=ExternalIdKind.choices)
    object_id = serializers.UUIDField(
        help_text="The record's id here: a learner's id (`learner` on applications and enrolments), an enrolment's or "
        "a course's id."
    )
    value = serializers.CharField(
        max_length=EXTERNAL_ID_MAX_LENGTH,
        help_text="Your institution's id for the record: 1–64 printable ASCII characters, no spaces.",
    )


class ExternalIdFilterSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=ExternalIdKind.choices, required=False)
    value = serializers.CharField(max_length=EXTERNAL_ID_MAX_LENGTH, required=False)
    object_id = serializers.UUIDField(required=False)


@extend_schema_view(
    list=extend_schema(
        parameters=[ExternalIdFilterSerializer],
        description="Your institution's external ids (never another institution's), filtered by `kind`, `value` "
        "and `object_id`. Scope `external-ids:read`.",
    ),
    retrieve=extend_schema(description="One of your institution's external ids. Scope `external-ids:read`."),
)
class ExternalIdViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, PolicyViewSet):
    serializer_class = ExternalIdSerializer
    policy_actions = {
        "list": "external_id.view",
        "retrieve": "external_id.view",
        "attach": "external_id.manage",
        "destroy": "external_id.manage",
    }
    filter_backends = []  # filtered by the validated query below

    def get_queryset(self):
        action = self.policy_actions.get(self.action, "external_id.view")
        queryset = policy.filter(self.request.user, action, ExternalId.objects.order_by("kind", "value"))
        if self.action == "list":
            query = ExternalIdFilterSerializer(data=self.request.query_params)
            query.is_valid(raise_exception=True)
            queryset = queryset.filter(**query.validated_data)
        return queryset

    @extend_schema(
        request=ExternalIdAttachSerializer,
        responses={
            200: OpenApiResponse(ExternalIdSerializer, description="Replaced (or unchanged)."),
            201: OpenApiResponse(ExternalIdSerializer, description="Attached."),
            400: INVALID,
        },
        description="Attach your institution's id to a record your institution may see (with the read scope of that "
        "record: `applications:read` for learners, `enrolments:read`, `programmes:read` for courses), or replace the "
        "one it had. One id per record and one record per id, per kind. Scope `external-ids:write`.",
    )
    def attach(self, request):
        serializer = ExternalIdAttachSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        external_id, created = services.external_id_set(actor=request.user, **serializer.validated_data)
        return Response(ExternalIdSerializer(external_id).data,
                        status=status.HTTP_201_CREATED if created else status.HTTP_200_OK)

    @extend_schema(responses={204: OpenApiResponse(description="Removed.")},
                   description="Remove one of your institution's external ids. Scope `external-ids:write`.")
    def destroy(self, request, pk=None):
        services.external_id_remove(actor=request.user, external_id=self.get_object())
        return Response(status=status.HTTP_204_NO_CONTENT)


collection = ExternalIdViewSet.as_view({"get": "list", "put": "attach"})
item = ExternalIdViewSet.as_view({"get": "retrieve", "delete": "destroy"})
