import django_filters

from consortium.api import ExternalIdKind, identifiers
from consortium.rest.filters import IsoDateTimeFilter

from ..models import Application, Enrolment, RegistrationStatus


class ExternalIdFilters(django_filters.FilterSet):
    """Lookups by the caller institution's own external ids (never another institution's) and by the ESI."""

    learner_external_id = django_filters.CharFilter(
        method="_learner_external_id", label="Your institution's external id for the learner"
    )
    esi = django_filters.CharFilter(method="_esi", label="The learner's European Student Identifier (exact)")
    learner_field = "applicant"

    def _learner_external_id(self, queryset, name, value):
        ids = identifiers.object_ids(self.request.user, ExternalIdKind.LEARNER, value)
        return queryset.filter(**{f"{self.learner_field}_id__in": ids})

    def _esi(self, queryset, name, value):
        return queryset.filter(**{f"{self.learner_field}__esi__iexact": identifiers.normalise_esi(value)})


class ApplicationFilter(ExternalIdFilters):
    updated_at__gte = IsoDateTimeFilter(field_name="updated_at", lookup_expr="gte")

    class Meta:
        model = Application
        fields = ["edition", "status", "nationality", "route", "possible_duplicate"]


class EnrolmentFilter(ExternalIdFilters):
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
    external_id = django_filters.CharFilter(
        method="_external_id", label="Your institution's external id for the enrolment"
    )
    learner_field = "learner"

    class Meta:
        model = Enrolment
        fields = ["edition"]

    def _external_id(self, queryset, name, value):
        return queryset.filter(pk__in=identifiers.object_ids(self.request.user, ExternalIdKind.ENROLMENT, value))

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
