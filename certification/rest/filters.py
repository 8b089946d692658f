import django_filters

from consortium.rest.filters import IsoDateTimeFilter

from ..models import Award, AwardKind


class AwardFilter(django_filters.FilterSet):
    edition = django_filters.UUIDFilter(field_name="enrolment__edition_id", help_text="Awards of this edition.")
    programme = django_filters.UUIDFilter(field_name="enrolment__edition__programme_id")
    enrolment = django_filters.UUIDFilter(field_name="enrolment_id")
    kind = django_filters.ChoiceFilter(choices=AwardKind.choices)
    decided_since = IsoDateTimeFilter(field_name="decided_at", lookup_expr="gte")

    class Meta:
        model = Award
        fields = []
