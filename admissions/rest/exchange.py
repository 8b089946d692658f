"""Partner API, bulk exchange: import the applicants a partner collected into an edition (``admissions.exchange``).

``POST /api/v1/editions/{id}/applications/import/``: JSON rows, a ``text/csv`` body or a multipart ``file``; a dry run
unless ``?dry_run=false``. Thin: read the body, call the service, answer every row's outcome.
"""

from django.core.exceptions import ValidationError as DjangoValidationError
from django.shortcuts import get_object_or_404
from rest_framework import serializers, status
from rest_framework.exceptions import NotFound
from rest_framework.parsers import JSONParser, MultiPartParser
from rest_framework.response import Response
from rest_framework.views import APIView

from consortium.api import policy
from consortium.rest import bulk
from consortium.rest.idempotency import IdempotentWritesMixin
from programmes.api import Edition

from .. import exchange
from ..models import Application, ParticipantProfile, Route, Track

_HELP = {
    "email": "Required in every row; the applicant's account is found by it, or created (unverified, no password).",
    "date_of_birth": "YYYY-MM-DD.",
    "nationality": "ISO 3166 code (BE, BEL) or the country's English name.",
    "participant_profile": f"One of {', '.join(ParticipantProfile.values)} (or its label).",
    "track": f"One of {', '.join(Track.values)} (or its label); empty: assessed.",
    "route": f"One of {', '.join(Route.values)} (or its label); empty: standard.",
    "highest_eqf_level": "1 to 8.",
    "esi": "The learner's European Student Identifier (optional): stored on a new account, checked against an "
    "existing one.",
    "external_id": "Your institution's own id for the learner (optional): attached to the learner (needs the scope "
    "external-ids:write).",
}


def _help(name: str) -> str:
    if name in exchange.IDENTITY_COLUMNS:
        return _HELP[name]
    label = str(Application._meta.get_field(name).verbose_name)
    return f"{label[:1].upper()}{label[1:]}. {_HELP.get(name, '')}".strip()


class ApplicantInSerializer(serializers.Serializer):
    """One applicant: the application's fields as text, every one optional here. The import checks each row as the
    learner's own application is checked and answers that row's field messages."""

    def get_fields(self):
        return {
            name: serializers.CharField(required=False, allow_blank=True, allow_null=True, help_text=_help(name))
            for name in exchange.IMPORT_COLUMNS
        }


class ApplicantImportSerializer(serializers.Serializer):
    applicants = ApplicantInSerializer(many=True, allow_empty=False, max_length=exchange.MAX_ROWS)


class ApplicantOutcomeSerializer(serializers.Serializer):
    row = serializers.IntegerField(help_text="The line in the CSV file (the header is line 1), or the position in "
                                   "the JSON list (from 1).")
    email = serializers.CharField(allow_blank=True)
    outcome = serializers.ChoiceField(choices=exchange.OUTCOMES, help_text="create, update, duplicate or error.")
    application = serializers.UUIDField(
        source="application.pk", allow_null=True, help_text="The existing application (update, duplicate), or the "
        "one created (after a commit); null otherwise.")
    message = serializers.CharField(allow_blank=True, help_text="Why a row updates or is a duplicate.")
    errors = serializers.DictField(child=serializers.ListField(child=serializers.CharField()),
                                   help_text="Messages by field (an error row).")
    warnings = serializers.ListField(child=serializers.CharField())


class ApplicantImportCountsSerializer(serializers.Serializer):
    rows = serializers.IntegerField()
    create = serializers.IntegerField()
    update = serializers.IntegerField()
    duplicate = serializers.IntegerField()
    error = serializers.IntegerField()


class ApplicantImportReportSerializer(serializers.Serializer):
    edition = serializers.UUIDField(source="edition.pk")
    dry_run = serializers.BooleanField()
    committed = serializers.BooleanField(help_text="Whether the rows were saved (never on a dry run).")
    counts = ApplicantImportCountsSerializer()
    ignored_columns = serializers.ListField(child=serializers.CharField(), help_text="CSV columns not read.")
    rows = ApplicantOutcomeSerializer(many=True)


REPORT_DESCRIPTION = ("Every row's outcome. A dry run answers 200 whatever the rows; a commit answers 200 once "
                      "saved.")


class ApplicantImportView(IdempotentWritesMixin, APIView):
    policy_action = "application.import"
    parser_classes = [JSONParser, bulk.CSVParser, MultiPartParser]

    @bulk.import_schema(
        operation_id="editions_applications_import",
        rows=ApplicantImportSerializer,
        report=ApplicantImportReportSerializer,
        file_help="A CSV file with a header row: given_names, family_names, email and any other field.",
        ok=REPORT_DESCRIPTION,
        bad_request="The body cannot be read (`file` or `applicants` messages: not CSV, no header, too many rows), "
        "or the edition does not accept applications now (`detail`). Nothing was saved.",
        forbidden="The token lacks the scope `applications:write`.",
        not_found="No such edition of a programme your institution takes part in.",
        description="Import applicants collected by your institution into an edition of a programme it takes part "
        "in (scope `applications:write`): JSON (`{\"applicants\": [...]}`), a CSV body (`Content-Type: text/csv`) or "
        "a multipart `file`, with the application's fields. Every row is checked as the learner's own application "
        "is (fields, what a submission needs, age) and answered: `create` (a new application, submitted on the "
        "applicant's behalf; their account is found by email or created unverified, without a password), `update` "
        "(your own earlier import, not yet under review: corrected), `duplicate` (the applicant's own, another "
        "partner's, or one under review: left as it is) or `error` with messages by field. Dry run by default; "
        "`?dry_run=false` saves all rows in one transaction, or none when any row is an error (422).",
    )
    def post(self, request, pk):
        edition = get_object_or_404(Edition.objects.select_related("programme"), pk=pk)
        if not policy.can(request.user, "application.import", edition):
            raise NotFound
        dry_run = bulk.dry_run(request)
        data, ignored = bulk.uploaded_csv(request), []
        if data is not None:
            try:
                rows, ignored = exchange.read_csv(data)
            except DjangoValidationError as exc:
                return Response(bulk.csv_messages(exc), status=status.HTTP_400_BAD_REQUEST)
        else:
            serializer = ApplicantImportSerializer(data=request.data)
            serializer.is_valid(raise_exception=True)
            rows = exchange.read_items(serializer.validated_data["applicants"])
        report = exchange.applications_import(actor=request.user, edition=edition, rows=rows, dry_run=dry_run,
                                              source="json" if data is None else "csv", ignored_columns=ignored)
        answer = status.HTTP_200_OK if dry_run or report.committed else status.HTTP_422_UNPROCESSABLE_ENTITY
        return Response(ApplicantImportReportSerializer(report).data, status=answer)
