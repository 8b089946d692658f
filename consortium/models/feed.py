import uuid

from django.db import models
from django.utils import timezone

from .institutions import Institution


class FeedEvent(models.Model):
    """One decision partner systems may want to know about (``consortium.feed.record``), in the ``/api/v1/events/``
    feed and sent to webhooks.

    ``seq`` is allocated from ``FeedCounter`` under a row lock held until the recording transaction commits, so
    numbers appear to readers in commit order, without gaps (``consortium/feed.py`` explains why). ``scope`` is the
    token scope that reads the resource; who may see the event is in ``audience`` (fixed when it is recorded).
    """

    seq = models.BigIntegerField(primary_key=True)
    event_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    event_type = models.CharField(max_length=64)
    resource_type = models.CharField(max_length=32)
    resource_id = models.CharField(max_length=64)
    scope = models.CharField(max_length=64)
    consortium_id = models.UUIDField(null=True, blank=True, db_index=True)
    occurred_at = models.DateTimeField(default=timezone.now)
    data = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["seq"]
        indexes = [models.Index(fields=["resource_type", "resource_id"], name="feed_event_resource")]

    def __str__(self) -> str:
        return f"#{self.seq} {self.event_type} {self.resource_type}:{self.resource_id}"


class FeedAudience(models.Model):
    """An institution whose partner systems (and webhooks) may see the event."""

    event = models.ForeignKey(FeedEvent, on_delete=models.CASCADE, related_name="audience")
    institution = models.ForeignKey(Institution, on_delete=models.CASCADE, related_name="+")

    class Meta:
        constraints = [
            # (institution, event): also the index the feed reads through ("this institution's events after N").
            models.UniqueConstraint(fields=["institution", "event"], name="feed_audience_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.event_id} → {self.institution_id}"


class FeedCounter(models.Model):
    """The feed's one counter row (``id`` 1): the last ``seq`` handed out. Its row lock orders the writers."""

    id = models.PositiveSmallIntegerField(primary_key=True)
    value = models.BigIntegerField(default=0)

    def __str__(self) -> str:
        return f"feed counter {self.value}"
