"""Filters shared by the API's lists."""

import datetime as dt

import django_filters
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django_filters.fields import IsoDateTimeField

from consortium import identifiers
from consortium.models import Institution

DATETIME_OUT_OF_RANGE = _("Enter a date and time between the years 1 and 9999 in UTC.")


class UtcIsoDateTimeField(IsoDateTimeField):
    """An ISO 8601 date-time the database can compare with: one that leaves the years 1–9999 once converted to UTC
    (``0001-01-01T00:00:00+01:00``) is refused with a message instead of overflowing in the database adapter."""

    def to_python(self, value):
        value = super().to_python(value)
        if value is not None and timezone.is_aware(value):
            # In UTC: PostgreSQL refuses offsets beyond ±15:59 (``+21:46`` is valid ISO 8601 but not a zone).
            try:
                value = value.astimezone(dt.UTC)
            except OverflowError:
                raise ValidationError(DATETIME_OUT_OF_RANGE, code="out_of_range") from None
        return value


class IsoDateTimeFilter(django_filters.IsoDateTimeFilter):
    field_class = UtcIsoDateTimeField


class InstitutionFilter(django_filters.FilterSet):
    """``erasmus_code`` and ``schac_code`` match whatever spelling a partner system sends (``B LEUVEN01``,
    ``KULeuven.be``): the codes are compared in their canonical form."""

    erasmus_code = django_filters.CharFilter(method="_code", label="Erasmus code (e.g. 'B  LEUVEN01')")
    schac_code = django_filters.CharFilter(method="_code", label="SCHAC home organisation (e.g. 'kuleuven.be')")

    class Meta:
        model = Institution
        fields = ["country", "kind"]

    def _code(self, queryset, name, value):
        normalise = {"erasmus_code": identifiers.normalise_erasmus_code,
                     "schac_code": identifiers.normalise_schac_code}[name]
        return queryset.filter(**{name: normalise(value)})
