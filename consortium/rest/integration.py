"""Partner integration API: the events feed (``/api/v1/events/``) and the institution's webhook endpoints (read only).

Thin: validate the query, ask the policy, answer. What an event is and who sees it: ``consortium/feed.py``.
"""

from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import mixins, serializers
from rest_framework.generics import GenericAPIView
from rest_framework.response import Response
from rest_framework.utils.urls import replace_query_param

from consortium import feed, policy
from consortium.models import FeedEvent, WebhookEndpoint

from .schema import INVALID
from .views import PolicyViewSet

MAX_SEQ = 2**63 - 1
FEED_LIMIT_DEFAULT = 100
FEED_LIMIT_MAX = 500


class FeedQuerySerializer(serializers.Serializer):
    after = serializers.IntegerField(
        min_value=0, max_value=MAX_SEQ, required=False, default=0,
        help_text="Events after this sequence number (the `after` of your previous call; 0 from the start).")
    limit = serializers.IntegerField(
        min_value=1, max_value=FEED_LIMIT_MAX, required=False, default=FEED_LIMIT_DEFAULT,
        help_text=f"At most this many events (1–{FEED_LIMIT_MAX}).")


class FeedResourceSerializer(serializers.Serializer):
    type = serializers.ChoiceField(choices=sorted(feed.RESOURCES), help_text="The kind of record.")
    id = serializers.CharField(help_text="Its id (a credential's is the printed credential id).")
    url = serializers.URLField(allow_null=True, help_text="Where the API serves it now; null for a deletion.")


class FeedItemSerializer(serializers.Serializer):
    """An event: the same JSON in the feed and in webhook deliveries."""

    seq = serializers.IntegerField(help_text="Position in the feed: increases in commit order, without gaps.")
    id = serializers.UUIDField(help_text="The event's id (stable: deduplicate on it).")
    type = serializers.CharField(help_text="e.g. `application.decided`, `enrolment.withdrawn`, `result.approved`, "
                                 "`award.issued`, `credential.revoked`, `invoice.paid`, `<resource>.deleted`.")
    occurred_at = serializers.DateTimeField()
    resource = FeedResourceSerializer()
    consortium = serializers.UUIDField(allow_null=True)
    tombstone = serializers.BooleanField(
        help_text="The record left the lists (`.deleted`) or the learner left the programme (`.withdrawn`).")
    data = serializers.DictField(help_text="Ids and statuses about the change; never personal data.")

    def to_representation(self, instance):
        return feed.as_item(instance)


class FeedPageSerializer(serializers.Serializer):
    next = serializers.URLField(allow_null=True, help_text="The next page when this one is full, else null.")
    after = serializers.IntegerField(help_text="Pass it as `after` next time: the last `seq` of this page (or your "
                                     "`after` when nothing new happened).")
    results = FeedItemSerializer(many=True)


class EventFeedView(GenericAPIView):
    policy_action = "feed.view"
    serializer_class = FeedItemSerializer
    pagination_class = None
    filter_backends: list = []

    @extend_schema(
        operation_id="events_list",
        parameters=[FeedQuerySerializer],
        responses={200: FeedPageSerializer, 400: INVALID},
        description="The events your institution may see (token scope `events:read`, and the read scope of each "
        "event's resource), in the order they committed: `seq` never goes backwards (the numbers you do not see "
        "belong to other institutions' events). Poll with `after` = the `after` of your previous answer; follow `next` "
        "while it is not null. Tombstones (`tombstone: true`) say a record left the lists (`<resource>.deleted`) or a "
        "learner withdrew (`.withdrawn`).",
    )
    def get(self, request):
        query = FeedQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        after, limit = query.validated_data["after"], query.validated_data["limit"]
        events = list(policy.filter(request.user, "feed.view", FeedEvent.objects.all())
                      .filter(seq__gt=after).order_by("seq")[:limit])
        last = events[-1].seq if events else after
        next_link = None
        if len(events) == limit:
            next_link = replace_query_param(request.build_absolute_uri(), "after", last)
        return Response({"next": next_link, "after": last,
                         "results": FeedItemSerializer(events, many=True).data})


class WebhookEndpointSerializer(serializers.ModelSerializer):
    event_types = serializers.ListField(child=serializers.CharField(), read_only=True)
    secret_hint = serializers.CharField(source="secret_prefix", read_only=True,
                                        help_text="The start of the signing secret (the secret is shown once).")

    class Meta:
        model = WebhookEndpoint
        fields = ["id", "institution", "url", "description", "event_types", "is_active", "disabled_at",
                  "disabled_automatically", "disabled_reason", "consecutive_failures", "failing_since",
                  "last_success_at", "secret_hint", "created_at", "updated_at"]
        read_only_fields = fields


@extend_schema_view(
    list=extend_schema(description="Your institution's webhook endpoints (token scope `webhooks:read`). They are "
                       "registered and changed by its administrators in the browser (Integration → Webhooks)."),
    retrieve=extend_schema(description="One endpoint, with its state (disabled automatically, and why).",
                           responses={200: WebhookEndpointSerializer,
                                      404: OpenApiResponse(description="No such endpoint of your institution.")}),
)
class WebhookEndpointViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, PolicyViewSet):
    list_policy = "webhook.view"
    base_queryset = WebhookEndpoint.objects.all()
    serializer_class = WebhookEndpointSerializer
    policy_actions = {"list": "webhook.view", "retrieve": "webhook.view"}
    filterset_fields = ["is_active"]
    search_fields = ["url", "description"]
    ordering_fields = ["url", "updated_at"]
    ordering = ["url"]
