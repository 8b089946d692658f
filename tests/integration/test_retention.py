"""Retention of the integration records (consortium/personal_data.py, handler ``integration``): old feed events and
finished webhook deliveries are deleted; an event a pending delivery still has to send, and pending deliveries,
stay; the feed carries on after the purge."""

import datetime as dt

import pytest
from django.utils import timezone

from consortium import personal_data
from consortium.models import DeliveryStatus, FeedAudience, FeedEvent, WebhookAttempt, WebhookDelivery

from ..factories import FeedEventFactory, WebhookAttemptFactory, WebhookDeliveryFactory, WebhookEndpointFactory

pytestmark = pytest.mark.django_db


def aged(event: FeedEvent, days: int) -> FeedEvent:
    FeedEvent.objects.filter(pk=event.pk).update(occurred_at=timezone.now() - dt.timedelta(days=days))
    return event


def test_old_feed_events_go_unless_a_delivery_still_has_to_send_them(world, token_client):
    old = aged(FeedEventFactory(institution_ids=[world.ua.pk]), 400)
    waiting = aged(FeedEventFactory(institution_ids=[world.ua.pk]), 400)
    recent = aged(FeedEventFactory(institution_ids=[world.ua.pk]), 30)
    endpoint = WebhookEndpointFactory(institution=world.ua)
    WebhookDeliveryFactory(endpoint=endpoint, event=waiting, status=DeliveryStatus.PENDING)
    done = WebhookDeliveryFactory(endpoint=endpoint, event=old, status=DeliveryStatus.SUCCEEDED,
                                  completed_at=timezone.now() - dt.timedelta(days=10), next_attempt_at=None)

    assert personal_data.apply_retention()["feed_events"] == 1
    assert set(FeedEvent.objects.values_list("seq", flat=True)) == {waiting.seq, recent.seq}
    assert not FeedAudience.objects.filter(event_id=old.seq).exists()
    done.refresh_from_db()
    assert done.event_id is None and done.body  # the delivery log keeps what was sent
    assert personal_data.apply_retention()["feed_events"] == 0  # idempotent

    # The feed carries on: a reader from the start gets what is left, in order.
    answer = token_client(world.ua).get("/api/v1/events/?after=0").json()
    assert [item["seq"] for item in answer["results"]] == [waiting.seq, recent.seq]


def test_finished_deliveries_go_with_their_attempts_after_the_period_pending_ones_stay(world):
    endpoint = WebhookEndpointFactory(institution=world.ua)
    long_ago = timezone.now() - dt.timedelta(days=91)
    old_success = WebhookDeliveryFactory(endpoint=endpoint, status=DeliveryStatus.SUCCEEDED, completed_at=long_ago)
    old_failure = WebhookDeliveryFactory(endpoint=endpoint, status=DeliveryStatus.FAILED, completed_at=long_ago)
    recent = WebhookDeliveryFactory(endpoint=endpoint, status=DeliveryStatus.SUCCEEDED,
                                    completed_at=timezone.now() - dt.timedelta(days=5))
    pending = WebhookDeliveryFactory(endpoint=endpoint, status=DeliveryStatus.PENDING)
    WebhookDelivery.objects.filter(pk=pending.pk).update(created_at=long_ago)
    cancelled_undated = WebhookDeliveryFactory(endpoint=endpoint, status=DeliveryStatus.CANCELLED)
    WebhookDelivery.objects.filter(pk=cancelled_undated.pk).update(created_at=long_ago)
    WebhookAttemptFactory(delivery=old_success, number=1)

    assert personal_data.apply_retention()["webhook_deliveries"] == 3
    assert set(WebhookDelivery.objects.values_list("pk", flat=True)) == {recent.pk, pending.pk}
    assert not WebhookAttempt.objects.filter(delivery_id=old_success.pk).exists()
    assert old_failure.pk not in set(WebhookDelivery.objects.values_list("pk", flat=True))


def test_the_integration_handler_is_in_the_record_of_processing_activities():
    handler = next(h for h in personal_data.handlers() if h.label == "integration")
    assert set(handler.retention_rules) == {"feed_events", "webhook_deliveries"}
    assert all(getattr(handler, name) for name in personal_data.RECORD_FIELDS)
    assert personal_data.retention_periods()["feed_events"] == 365
