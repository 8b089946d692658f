"""Saving a record after the service's own checks and the model's, with every message reported at once; and the
audit record every quality service writes."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Model
from django.utils.translation import gettext as _

from consortium.api import DomainError, audit


def save_checked(obj: Model, errors: Mapping[str, Sequence[str]] | None = None, *,
                 update_fields: Iterable[str] | None = None) -> None:
    """``full_clean()`` ``obj``, then save it; refused with one ``ValidationError`` holding ``errors`` (what the
    service found before, with a message for a person) and the model's own errors. A field the service already
    reported keeps the service's messages only: the model's would say the same less clearly (a code's length twice).

    ``update_fields``: save only these (and ``updated_at`` when the model has it), so a concurrent change to the
    other fields stands. A clash the database finds (a unique constraint raced) is a ``DomainError``, as
    ``consortium.api.save_validated`` makes it."""
    found = {name: list(messages) for name, messages in (errors or {}).items() if messages}
    try:
        obj.full_clean()
    except ValidationError as exc:
        for name, messages in exc.message_dict.items():
            found.setdefault(name, list(messages))
    if found:
        raise ValidationError(found)
    fields = None
    if update_fields is not None:
        fields = {*update_fields, *(("updated_at",) if hasattr(obj, "updated_at") else ())}
    try:
        with transaction.atomic():
            obj.save(update_fields=fields)
    except IntegrityError as exc:
        raise DomainError(_("This conflicts with an existing record."), details=[str(exc).splitlines()[0]]) from exc


def record(actor, action: str, obj, programme, changes: Mapping | None = None) -> None:
    """An audit event of a quality record. Quality is the lead institution's task (D2): its events belong to it."""
    audit.record(actor, action, obj, changes, consortium_id=programme.consortium_id,
                 institution_id=programme.lead_institution_id)
