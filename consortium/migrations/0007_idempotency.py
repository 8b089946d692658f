"""Idempotency keys for API writes."""

import uuid

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("consortium", "0006_feed_webhooks")]
    operations = [
        migrations.CreateModel(
            name="IdempotencyKey",
            fields=[
                ("id", models.UUIDField(default=uuid.uuid4, editable=False, primary_key=True, serialize=False)),
                ("created_at", models.DateTimeField(auto_now_add=True)),
                ("updated_at", models.DateTimeField(auto_now=True, db_index=True)),
                ("scope", models.CharField(max_length=80)),
                ("key", models.CharField(max_length=255)),
                (
                    "fingerprint",
                    models.CharField(help_text="SHA-256 of method, path, query, media type and body.", max_length=64),
                ),
                ("method", models.CharField(max_length=10)),
                ("path", models.TextField()),
                (
                    "status",
                    models.CharField(
                        choices=[("in_progress", "in progress"), ("completed", "completed")],
                        default="in_progress",
                        max_length=20,
                    ),
                ),
                ("locked_until", models.DateTimeField(blank=True, null=True)),
                ("response_status", models.PositiveSmallIntegerField(blank=True, null=True)),
                ("response_headers", models.JSONField(blank=True, default=list)),
                ("response_body", models.BinaryField(blank=True, default=b"")),
                ("expires_at", models.DateTimeField(db_index=True)),
            ],
            options={
                "constraints": [
                    models.UniqueConstraint(fields=("scope", "key"), name="idempotency_key_unique_per_caller"),
                ],
            },
        ),
    ]
