"""Partner API for results (D5).

Examiners' systems at the providing institution enter a course's grades in one request, all or nothing; the
partners' systems and the programme's staff read the grades the policy lets them see (drafts stay with the
providing institution until the examination board approves and locks them). Thin: validate, call the service.
"""

import django_filters
from django.db import transaction
from django.utils.translation import gettext as _
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import mixins, status
from rest_framework.filters import OrderingFilter
from rest_framework.generics import get_object_or_404  # 404, not 400, for an id that is not a UUID
from rest_framework.parsers import JSONParser
from rest_framework.response import Response

from consortium.api import TransitionError, policy
from consortium.rest.views import PolicyViewSet
from programmes.api import Course, Edition

from .. import services
from ..models import Grade, ResultSheet, SheetStatus
from . import serializers as s


class GradeFilter(django_filters.FilterSet):
    edition = django_filters.UUIDFilter(field_name="sheet__edition_id", help_text="Grades of this edition.")
    course = django_filters.UUIDFilter(field_name="sheet__course_id", help_text="Grades of this course.")
    enrolment = django_filters.UUIDFilter(field_name="enrolment_id", help_text="One learner's grades.")
    assessment = django_filters.UUIDFilter(field_name="assessment_id")
    sheet = django_filters.UUIDFilter(field_name="sheet_id")
    attempt = django_filters.NumberFilter(field_name="sheet__attempt")
    status = django_filters.ChoiceFilter(
        field_name="sheet__status", choices=SheetStatus.choices, help_text="The status of the result sheet."
    )

    class Meta:
        model = Grade
        fields = []


def entry_sheet(user, edition: Edition, course: Course, attempt: int) -> ResultSheet:
    """The sheet a partner system enters ``course``'s grades on: refused (403) unless ``user`` enters them, before
    anything is written (the sheet of a first attempt is created here); a resit's sheet must be open (409)."""
    policy.require(user, "grades.enter", ResultSheet(edition=edition, course=course, attempt=attempt))
    if attempt == 1:
        return services.sheet_for(edition=edition, course=course, attempt=1)
    sheet = ResultSheet.objects.filter(edition=edition, course=course, attempt=attempt).first()
    if sheet is None:
        raise TransitionError(
            _(
                "Attempt %(n)s of %(course)s is not open: the programme opens resits once the previous results are "
                "approved."
            )
            % {"n": attempt, "course": course.code}
        )
    return sheet


@extend_schema_view(
    list=extend_schema(
        description="Current grades you may see: every grade of the courses your institution provides (drafts "
        "included), and the approved (locked) grades of the programmes your institution runs as lead or partner. "
        "A corrected grade appears as its latest version. Needs the token scope `results:read`."
    ),
    retrieve=extend_schema(description="One current grade (scope `results:read`)."),
)
class ResultViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, PolicyViewSet):
    list_policy = "grades.view"
    base_queryset = Grade.objects.filter(superseded=False).select_related(
        "sheet__course", "assessment", "national_scale"
    )
    serializer_class = s.GradeSerializer
    # ``create`` checks first that the caller enters grades at all (examiners, partner systems with
    # ``results:write``); the service then requires ``grades.enter`` on the sheet (its course's provider).
    policy_actions = {"list": "grades.view", "retrieve": "grades.view", "create": "grades.enter"}
    filter_backends = [DjangoFilterBackend, OrderingFilter]
    filterset_class = GradeFilter
    parser_classes = [JSONParser]
    ordering_fields = ["updated_at"]
    ordering = ["sheet_id", "enrolment_id", "assessment_id"]

    def get_object(self):
        grade = get_object_or_404(self.get_queryset(), pk=self.kwargs["pk"])
        self.check_object_permissions(self.request, grade.sheet)  # the policy decides on the result sheet
        return grade

    def _sheet(self, data) -> tuple[ResultSheet | None, dict]:
        if data.get("sheet"):
            sheet = ResultSheet.objects.select_related("edition__programme", "course").filter(pk=data["sheet"]).first()
            return sheet, {} if sheet else {"sheet": [_("Unknown result sheet.")]}
        edition = Edition.objects.select_related("programme").filter(pk=data["edition"]).first()
        if edition is None:
            return None, {"edition": [_("Unknown edition.")]}
        course = Course.objects.filter(pk=data["course"], version_id=edition.curriculum_id).first()
        if course is None:
            return None, {"course": [_("Not a course of this edition's curriculum.")]}
        return entry_sheet(self.request.user, edition, course, data.get("attempt") or 1), {}

    @extend_schema(
        request=s.GradeBatchSerializer,
        responses={
            200: s.GradeBatchResultSerializer,
            400: OpenApiResponse(
                description="Nothing was saved. `rows` lists every refused row (`Row 3: 11 is not a grade of Spain "
                "0–10.`); or field messages for the body; or `detail` when a rule refused it (e.g. no conversion "
                "table for your institution)."
            ),
            403: OpenApiResponse(
                description="Only the institution that provides the course enters its grades (token scope "
                "`results:write`; examiners of the course)."
            ),
            409: OpenApiResponse(
                description="The sheet is submitted or approved (locked), or the resit is not open (`detail`)."
            ),
        },
        description="Enter a course's grades in one request, all or nothing, in your institution's own scale; they "
        "are converted to the joint scale by the regulations' conversion table. Name the result sheet, or the "
        "edition, course and attempt (the first attempt's sheet is created when needed). Re-sending a learner's "
        "grade replaces it while the sheet is open (draft or returned). The examiners submit the sheet to the "
        "examination board on the platform.",
    )
    @transaction.atomic
    def create(self, request):
        serializer = s.GradeBatchSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        sheet, errors = self._sheet(data)
        if errors:
            return Response(errors, status=status.HTTP_400_BAD_REQUEST)
        before = Grade.objects.filter(sheet=sheet, superseded=False).count()
        rows = [(row["enrolment"], row["assessment"], row["grade"]) for row in data["grades"]]
        entered = {g.pk for g in services.grades_enter(actor=request.user, sheet=sheet, rows=rows)}
        current = list(self.base_queryset.filter(sheet=sheet))
        body = {
            "sheet": sheet,
            "created": len(current) - before,
            "updated": len(entered) - (len(current) - before),
            "grades": [g for g in current if g.pk in entered],
        }
        return Response(s.GradeBatchResultSerializer(body).data, status=status.HTTP_200_OK)
