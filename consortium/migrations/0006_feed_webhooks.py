"""Change feed events and webhooks (partner integration)."""

import uuid

import django.db.models.deletion
import django.utils.timezone
from django.conf import settings
from django.db import migrations, models


def create_counter(apps, schema_editor):
    """The feed's counter row exists from the start (``consortium.feed`` also creates it when it is missing)."""
    apps.get_model("consortium", "FeedCounter").objects.get_or_create(id=1, defaults={"value": 0})


class Migration(migrations.Migration):
    dependencies = [("consortium", "0005_audit_append_only")]
    operations = [
        migrations.CreateModel(
            name="FeedCounter",
            fields=[
                ("id", models.PositiveSmallIntegerField(primary_key=True, serialize=False)),
                ("value", models.BigIntegerField(default=0)),
            ],
        ),
        migrations.CreateModel(
            name="FeedEvent",
            fields=[
                ("seq", models.BigIntegerField(primary_key=True, serialize=False)),
                ("event_id", models.UUIDField(default=uuid.uuid4, editable=False, unique=True)),
                ("event_type", models.CharField(max_length=64)),
                ("resource_type", models.CharField(max_length=32)),
                ("resource_id", models.CharField(max_length=64)),
                ("scope", models.CharField(max_length=64)),
                ("consortium_id", models.UUIDField(blank=True, db_index=True, null=True)),
                ("occurred_at", models.DateTimeField(default=django.utils.timezone.now)),
                ("data", models.JSONField(blank=True, default=dict)),
            ],
            options={"ordering": ["seq"]},
        ),
        migrations.AddIndex(
            model_name="feedevent",
            index=models.Index(fields=["resource_type", "resource_id"], name="feed_event_resource"),
        ),
        migrations.CreateModel(
            name="FeedAudience",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                (
                    "event",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE, related_name="audience",
                        to="consortium.feedevent",
                    ),
                ),
                (
                    "institution",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE, related_name="+", to="consortium.institution"
                    ),
                ),
            ],
        ),
        migrations.AddConstraint(
            model_name="feedaudience",
            constraint=models.UniqueConstraint(fields=("institution", "event"), name="feed_audience_unique"),
        ),
        migrations.CreateModel(
            name="WebhookEndpoint",
            fields=[
                ("id", models.UUIDField(default=uuid.uuid4, editable=False, primary_key=True, serialize=False)),
                ("created_at", models.DateTimeField(auto_now_add=True)),
                ("updated_at", models.DateTimeField(auto_now=True, db_index=True)),
                ("url", models.URLField(max_length=500, verbose_name="URL")),
                ("description", models.CharField(blank=True, max_length=200, verbose_name="description")),
                ("event_types", models.JSONField(default=list, verbose_name="event types")),
                ("secret_encrypted", models.TextField(editable=False)),
                ("secret_prefix", models.CharField(editable=False, max_length=16)),
                ("is_active", models.BooleanField(default=True, verbose_name="active")),
                ("disabled_at", models.DateTimeField(blank=True, null=True)),
                ("disabled_automatically", models.BooleanField(default=False)),
                ("disabled_reason", models.CharField(blank=True, max_length=500)),
                ("consecutive_failures", models.PositiveIntegerField(default=0)),
                ("failing_since", models.DateTimeField(blank=True, null=True)),
                ("last_success_at", models.DateTimeField(blank=True, null=True)),
                (
                    "created_by",
                    models.ForeignKey(
                        blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name="+",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
                (
                    "institution",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE, related_name="webhook_endpoints",
                        to="consortium.institution",
                    ),
                ),
            ],
            options={"ordering": ["institution", "url"]},
        ),
        migrations.CreateModel(
            name="WebhookDelivery",
            fields=[
                ("id", models.UUIDField(default=uuid.uuid4, editable=False, primary_key=True, serialize=False)),
                ("created_at", models.DateTimeField(auto_now_add=True)),
                ("updated_at", models.DateTimeField(auto_now=True, db_index=True)),
                ("event_type", models.CharField(max_length=64)),
                ("body", models.TextField()),
                (
                    "status",
                    models.CharField(
                        choices=[
                            ("pending", "pending"),
                            ("succeeded", "succeeded"),
                            ("failed", "failed (gave up)"),
                            ("cancelled", "cancelled (endpoint disabled)"),
                        ],
                        default="pending",
                        max_length=20,
                    ),
                ),
                ("attempts", models.PositiveIntegerField(default=0)),
                ("first_attempt_at", models.DateTimeField(blank=True, null=True)),
                ("next_attempt_at", models.DateTimeField(blank=True, db_index=True, null=True)),
                ("completed_at", models.DateTimeField(blank=True, null=True)),
                ("last_status_code", models.PositiveSmallIntegerField(blank=True, null=True)),
                ("last_error", models.CharField(blank=True, max_length=500)),
                (
                    "endpoint",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE, related_name="deliveries",
                        to="consortium.webhookendpoint",
                    ),
                ),
                (
                    "event",
                    models.ForeignKey(
                        blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name="+",
                        to="consortium.feedevent",
                    ),
                ),
            ],
            options={"ordering": ["-created_at"]},
        ),
        migrations.AddIndex(
            model_name="webhookdelivery",
            index=models.Index(fields=["status", "next_attempt_at"], name="webhook_delivery_due"),
        ),
        migrations.CreateModel(
            name="WebhookAttempt",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("number", models.PositiveIntegerField()),
                ("started_at", models.DateTimeField()),
                ("duration_ms", models.PositiveIntegerField(default=0)),
                ("status_code", models.PositiveSmallIntegerField(blank=True, null=True)),
                ("error", models.CharField(blank=True, max_length=500)),
                ("succeeded", models.BooleanField(default=False)),
                (
                    "delivery",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE, related_name="attempt_log",
                        to="consortium.webhookdelivery",
                    ),
                ),
            ],
            options={"ordering": ["-started_at", "-number"]},
        ),
        migrations.AddConstraint(
            model_name="webhookattempt",
            constraint=models.UniqueConstraint(fields=("delivery", "number"), name="webhook_attempt_number_unique"),
        ),
        migrations.RunPython(create_counter, migrations.RunPython.noop),
    ]
