import uuid

from django.db import models


class UUIDModel(models.Model):
    """Public ids are UUIDs: they appear in URLs and the API and reveal nothing about volumes."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True, db_index=True)

    class Meta:
        abstract = True
