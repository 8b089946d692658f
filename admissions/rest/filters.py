import django_filters

from consortium.rest.filters import IsoDateTimeFilter

from ..models import Application, Enrolment, RegistrationStatus


class ApplicationFilter(django_filters.FilterSet):
    updated_at__gte = IsoDateTimeFilter(field_name="updated_at", lookup_expr="gte")

    class Meta:
        model = Application
        fields = ["edition", "status", "nationality", "route", "possible_duplicate"]


class EnrolmentFilter(django_filters.FilterSet):
    """``registration_institution`` and ``registration_status`` match the same registration row, so
    ``?registration_institution=<yours>&registration_status=pending`` lists what your institution still has to do."""

    registration_institution = django_filters.UUIDFilter(
        method="_deferred", label="Has a registration at this institution (id)"
    )
    registration_status = django_filters.ChoiceFilter(
        choices=RegistrationStatus.choices,
        method="_deferred",
        label="Has a registration in this status (at registration_institution when given)",
    )
    status = django_filters.CharFilter(field_name="application__status", label="The application's status")
    updated_at__gte = IsoDateTimeFilter(field_name="updated_at", lookup_expr="gte")

    class Meta:
        model = Enrolment
        fields = ["edition"]

    def _deferred(self, queryset, name, value):
        return queryset  # applied together in filter_queryset

    def filter_queryset(self, queryset):
        queryset = super().filter_queryset(queryset)
        lookups = {}
        if self.form.cleaned_data.get("registration_institution"):
            lookups["registrations__institution_id"] = self.form.cleaned_data["registration_institution"]
        if self.form.cleaned_data.get("registration_status"):
            lookups["registrations__status"] = self.form.cleaned_data["registration_status"]
        return queryset.filter(**lookups).distinct() if lookups else queryset
