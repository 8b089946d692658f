import django_filters

from consortium.api import ExternalIdKind, identifiers

from ..models import Course, Programme

ISCED_HELP = "ISCED-F 2013 field, matched as a prefix: `06` finds every ICT field, `061` and `0613` narrower ones."


class IscedFilterMixin(django_filters.FilterSet):
    isced_f = django_filters.CharFilter(field_name="isced_f", lookup_expr="startswith", label=ISCED_HELP)


class ProgrammeFilter(IscedFilterMixin):
    class Meta:
        model = Programme
        fields = ["status", "eqf_level", "delivery_mode", "qualification_type", "consortium"]


class CourseFilter(IscedFilterMixin):
    external_id = django_filters.CharFilter(
        method="_external_id", label="Your institution's external id for the course (never another institution's)"
    )

    class Meta:
        model = Course
        fields = ["version", "provider", "mandatory", "version__programme", "version__status"]

    def _external_id(self, queryset, name, value):
        return queryset.filter(pk__in=identifiers.object_ids(self.request.user, ExternalIdKind.COURSE, value))
