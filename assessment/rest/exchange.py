"""Partner API, bulk exchange: import a course's grades from a file or JSON rows (``assessment.exchange``).

``POST /api/v1/editions/{id}/results/import/?course=<id>&attempt=1``: JSON rows, a ``text/csv`` body or a multipart
``file`` (the columns of the browser's upload); a dry run unless ``?dry_run=false``. Thin: read, call, answer.
"""

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import transaction
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter
from rest_framework import serializers, status
from rest_framework.exceptions import NotFound
from rest_framework.parsers import JSONParser, MultiPartParser
from rest_framework.response import Response
from rest_framework.views import APIView

from consortium.api import policy
from consortium.rest import bulk
from consortium.rest.idempotency import IdempotentWritesMixin
from programmes.api import Course, Edition

from .. import exchange, forms
from ..models import ResultSheet
from .serializers import ResultSheetSerializer
from .views import entry_sheet

_COLUMNS = {
    "enrolment_id": "The learner's enrolment id.",
    "email": "Or the learner's email.",
    "external_id": "Or your institution's own id for the enrolment or the learner.",
    "esi": "Or the learner's European Student Identifier.",
    "assessment": "The assessed component: its title (as in the grid) or its id.",
    "grade": 'On your institution\'s scale, e.g. "7.5"; empty: the row is skipped.',
}


class GradeInSerializer(serializers.Serializer):
    """One grade: the learner (the first of enrolment_id, email, external_id, esi that is given), the assessment
    and the grade, as text. Each row is checked on its own and answered with its outcome."""

    def get_fields(self):
        return {
            name: serializers.CharField(required=False, allow_blank=True, allow_null=True, help_text=text)
            for name, text in _COLUMNS.items()
        }


class ResultImportSerializer(serializers.Serializer):
    rows = GradeInSerializer(many=True, allow_empty=False, max_length=forms.MAX_UPLOAD_ROWS)


class ResultImportQuerySerializer(serializers.Serializer):
    course = serializers.UUIDField(help_text="The course whose grades these are (of the edition's curriculum).")
    attempt = serializers.IntegerField(min_value=1, max_value=6, default=1,
                                       help_text="1 for the first sitting; a resit's sheet once the resit is open.")


class ResultRowSerializer(serializers.Serializer):
    row = serializers.IntegerField(source="line", help_text="The line in the CSV file (the header is line 1), or the "
                                   "position in the JSON list (from 1).")
    learner = serializers.CharField(allow_blank=True, help_text="The learner's name once found, else the reference.")
    enrolment = serializers.UUIDField(source="enrolment.pk", allow_null=True)
    assessment = serializers.UUIDField(source="assessment.pk", allow_null=True)
    assessment_title = serializers.CharField(allow_blank=True)
    grade = serializers.CharField(allow_blank=True)
    joint_grade = serializers.CharField(allow_blank=True, help_text="The grade on the joint scale (checked rows).")
    outcome = serializers.ChoiceField(choices=exchange.OUTCOMES,
                                      help_text="create, update (replaces the grade on the open sheet), unchanged, "
                                      "skipped (no grade) or error.")
    error = serializers.CharField(allow_blank=True)


class ResultImportCountsSerializer(serializers.Serializer):
    rows = serializers.IntegerField()
    create = serializers.IntegerField()
    update = serializers.IntegerField()
    unchanged = serializers.IntegerField()
    skipped = serializers.IntegerField()
    error = serializers.IntegerField()


class ResultImportReportSerializer(serializers.Serializer):
    sheet = ResultSheetSerializer(allow_null=True, help_text="Null for a dry run on a course whose sheet is not "
                                  "open yet (a commit opens it).")
    dry_run = serializers.BooleanField()
    committed = serializers.BooleanField(help_text="Whether the grades were saved (never on a dry run).")
    counts = ResultImportCountsSerializer()
    problems = serializers.ListField(child=serializers.CharField(), help_text="What concerns the whole file.")
    rows = ResultRowSerializer(many=True)


class ResultImportView(IdempotentWritesMixin, APIView):
    policy_action = "grades.enter"
    parser_classes = [JSONParser, bulk.CSVParser, MultiPartParser]

    @bulk.import_schema(
        operation_id="editions_results_import",
        rows=ResultImportSerializer,
        report=ResultImportReportSerializer,
        file_help="A CSV file: enrolment_id, email, external_id or esi; assessment; grade.",
        parameters=(
            OpenApiParameter("course", OpenApiTypes.UUID, OpenApiParameter.QUERY, required=True,
                             description="The course whose grades these are."),
            OpenApiParameter("attempt", OpenApiTypes.INT, OpenApiParameter.QUERY, default=1,
                             description="1 for the first sitting; a resit's attempt once the resit is open."),
        ),
        ok="Every row's outcome (a dry run, or saved).",
        bad_request="The body cannot be read (`file` or `rows`), the course is not of the edition, or a rule refused "
        "the whole sheet (`detail`: no regulations, no conversion table).",
        forbidden="Only the institution that provides the course enters its grades (token scope `results:write`; the "
        "course's examiners).",
        not_found="No such edition with a course your institution provides.",
        description="Import the grades of one course of the edition, in your institution's own scale (scope "
        "`results:write`): JSON (`{\"rows\": [...]}`), a CSV body (`Content-Type: text/csv`) or a multipart `file`, "
        "with the columns of the browser's upload (enrolment_id, email, external_id or esi; assessment; grade). "
        "Every row is checked as the grade grid checks it and answered (`create`, `update`, `unchanged`, `skipped`, "
        "`error` with its reason) with the joint grade. Dry run by default; `?dry_run=false` saves all rows in one "
        "transaction, or none when any row is refused (422). The sheet must be open (409 once submitted or "
        "approved).",
    )
    def post(self, request, pk):
        edition = get_object_or_404(Edition.objects.select_related("programme"), pk=pk)
        courses = list(Course.objects.filter(version_id=edition.curriculum_id).select_related("provider"))
        if not any(policy.can(request.user, "grades.enter", ResultSheet(edition=edition, course=c)) for c in courses):
            raise NotFound
        query = ResultImportQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        course = next((c for c in courses if c.pk == query.validated_data["course"]), None)
        if course is None:
            return Response({"course": [_("Not a course of this edition's curriculum.")]},
                            status=status.HTTP_400_BAD_REQUEST)
        dry_run = bulk.dry_run(request)
        data = bulk.uploaded_csv(request)
        if data is not None:
            try:
                rows = forms.parse_grade_csv(data)
            except DjangoValidationError as exc:
                return Response(bulk.csv_messages(exc), status=status.HTTP_400_BAD_REQUEST)
        else:
            serializer = ResultImportSerializer(data=request.data)
            serializer.is_valid(raise_exception=True)
            rows = forms.grade_rows(serializer.validated_data["rows"])
        attempt = query.validated_data["attempt"]
        opened = ResultSheet.objects.filter(edition=edition, course=course, attempt=attempt).exists()
        with transaction.atomic():
            sheet = entry_sheet(request.user, edition, course, attempt)
            report = exchange.results_import(actor=request.user, sheet=sheet, rows=rows, dry_run=dry_run,
                                             source="json" if data is None else "csv")
            body = ResultImportReportSerializer(report).data
            if not report.committed:
                transaction.set_rollback(True)  # nothing of a dry run stays, not even a first attempt's new sheet
                if not opened:
                    body["sheet"] = None
        answer = status.HTTP_200_OK if dry_run or report.committed else status.HTTP_422_UNPROCESSABLE_ENTITY
        return Response(body, status=answer)
