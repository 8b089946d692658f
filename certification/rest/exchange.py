"""Partner API, bulk exchange: one partner institution's export of an edition (``certification.exchange``).

``GET /api/v1/editions/{id}/export/?as=json|csv``: a partner system gets its own institution's file (scopes
``enrolments:read``, ``results:read``, ``awards:read``); staff name the partner with ``?institution=``. ``as``
rather than ``format`` (DRF's format parameter) chooses the media type.
"""

from django.shortcuts import get_object_or_404
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.exceptions import NotFound, PermissionDenied
from rest_framework.exceptions import ValidationError as BadRequest
from rest_framework.response import Response
from rest_framework.views import APIView

from consortium.api import policy
from consortium.rest.schema import ERROR, INVALID
from consortium.web import csv_download
from programmes.api import Edition

from .. import exchange
from ..policy_rules import EXPORT_SCOPES


class ExportQuerySerializer(serializers.Serializer):
    def get_fields(self):
        return {  # ``as`` is a Python keyword, so the fields are declared here
            "as": serializers.ChoiceField(choices=exchange.FORMATS, default="json"),
            "institution": serializers.UUIDField(required=False),
        }


class ExportComponentSerializer(serializers.Serializer):
    assessment = serializers.UUIDField(source="assessment_id")
    title = serializers.CharField(source="assessment")
    weight = serializers.DecimalField(max_digits=5, decimal_places=2)
    attempt = serializers.IntegerField()
    joint_grade = serializers.CharField(source="joint")
    provider_grade = serializers.CharField(source="national", help_text="As the providing institution entered it.")
    grade = serializers.CharField(allow_blank=True, help_text="On the partner's scale (empty without a table).")


class ExportResultSerializer(serializers.Serializer):
    course = serializers.UUIDField(source="course.pk")
    course_code = serializers.CharField(source="course.code")
    course_title = serializers.CharField(source="course.title")
    course_provider = serializers.CharField(source="course.provider.short_name")
    course_ects = serializers.DecimalField(source="course.ects", max_digits=4, decimal_places=1)
    status = serializers.ChoiceField(choices=["passed", "failed", "exempted", "pending"])
    joint_grade = serializers.CharField(allow_blank=True, help_text="On the joint scale (a weighted average of the "
                                        "components for numeric scales).")
    grade = serializers.CharField(allow_blank=True, help_text="On the partner's own scale (empty without a "
                                  "conversion table, or without a grade).")
    grade_note = serializers.CharField(allow_blank=True, help_text="Why there is no grade on the partner's scale.")
    ects_earned = serializers.DecimalField(source="ects", max_digits=4, decimal_places=1)
    components = ExportComponentSerializer(many=True)


class ExportAwardSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    kind = serializers.CharField()
    decided_at = serializers.DateTimeField()
    issuing_institution = serializers.CharField(source="issuing_institution.short_name")
    classification = serializers.CharField(allow_blank=True)


class ExportEnrolmentSerializer(serializers.Serializer):
    id = serializers.UUIDField(source="enrolment.pk")
    application = serializers.UUIDField(source="enrolment.application_id")
    student_number = serializers.CharField(allow_blank=True, help_text="The partner's student number for the "
                                           "learner, as it reported the registration (empty when none).")
    given_names = serializers.CharField(source="application.given_names")
    family_names = serializers.CharField(source="application.family_names")
    email = serializers.CharField(source="application.email")
    date_of_birth = serializers.DateField(source="application.date_of_birth", allow_null=True)
    nationality = serializers.CharField(source="application.nationality.code", allow_blank=True, allow_null=True)
    track = serializers.CharField(source="application.track")
    status = serializers.CharField(source="application.status", help_text="enrolled, suspended, completed or "
                                   "withdrawn.")
    enrolled_at = serializers.DateTimeField(source="enrolment.enrolled_at")
    results = ExportResultSerializer(many=True)
    award = ExportAwardSerializer(allow_null=True)
    credential_id = serializers.CharField(source="credential.credential_id", allow_null=True)
    credential_status = serializers.CharField(source="credential.status", allow_null=True)
    verification_url = serializers.CharField(allow_blank=True)


class ExportScaleSerializer(serializers.Serializer):
    joint = serializers.CharField(source="joint_name", allow_blank=True)
    partner = serializers.CharField(source="name", allow_blank=True, help_text="The partner's national scale; empty "
                                    "when the regulations have no conversion table for it.")
    problem = serializers.CharField(allow_blank=True)


class ExportInstitutionSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    short_name = serializers.CharField()
    legal_name = serializers.CharField()


class ExportEditionSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    programme = serializers.UUIDField(source="programme_id")
    programme_code = serializers.CharField(source="programme.code")
    intake_code = serializers.CharField()
    starts_on = serializers.DateField()
    ends_on = serializers.DateField()


class PartnerExportSerializer(serializers.Serializer):
    edition = ExportEditionSerializer()
    institution = ExportInstitutionSerializer()
    scale = ExportScaleSerializer()
    generated_at = serializers.DateTimeField()
    enrolments = ExportEnrolmentSerializer(many=True)


class EditionExportView(APIView):
    policy_action = "edition.export"

    @extend_schema(
        operation_id="editions_export",
        parameters=[
            OpenApiParameter("as", OpenApiTypes.STR, OpenApiParameter.QUERY, enum=list(exchange.FORMATS),
                             default="json", description="json (nested: enrolments with their results and award) "
                             "or csv (one row per enrolment and course, UTF-8 with a byte order mark)."),
            OpenApiParameter("institution", OpenApiTypes.UUID, OpenApiParameter.QUERY,
                             description="The partner institution (staff). A partner system gets its own; another "
                             "is refused (403)."),
        ],
        responses={
            (200, "application/json"): PartnerExportSerializer,
            (200, "text/csv"): OpenApiTypes.STR,
            400: INVALID,
            403: OpenApiResponse(ERROR, description="The token lacks a scope (`enrolments:read`, `results:read`, "
                                 "`awards:read`), or names another institution."),
            404: OpenApiResponse(ERROR, description="No such edition of a programme your institution runs."),
        },
        description="Your institution's file of an edition: its enrolments, their approved results and their "
        "awards, the grades also on your institution's own national scale (the regulations' conversion table run "
        "backwards: the best grade of your scale whose joint grade does not exceed the result, a pass staying a "
        "pass; where there is no table for your institution each result says so in `grade_note`). JSON or CSV "
        "(`?as=csv`) hold the same data. Needs the scopes `enrolments:read`, `results:read` and `awards:read`.",
    )
    def get(self, request, pk):
        actor = policy.actor_for(request.user)
        if actor.is_partner_system and not actor.scopes >= EXPORT_SCOPES:  # as the permission class does for one
            raise PermissionDenied(_("The export needs the scopes %(scopes)s.") % {
                "scopes": ", ".join(sorted(EXPORT_SCOPES))})
        edition = get_object_or_404(Edition.objects.select_related("programme"), pk=pk)
        if not policy.can(request.user, "edition.export", edition):
            raise NotFound
        query = ExportQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        allowed = exchange.export_institutions(request.user, edition)
        chosen = query.validated_data.get("institution")
        if actor.is_partner_system:
            if chosen and chosen != allowed[0].pk:
                raise PermissionDenied(_("A partner system exports its own institution's file only."))
            institution = allowed[0]
        else:
            names = ", ".join(f"{i.short_name} ({i.pk})" for i in allowed)
            institution = next((i for i in allowed if i.pk == chosen), None)
            if institution is None and chosen is None and len(allowed) == 1:
                institution = allowed[0]
            if institution is None:
                raise BadRequest({"institution": [_("Choose the partner institution: %(names)s.") % {"names": names}]})
        file_format = query.validated_data["as"]
        export = exchange.partner_export(actor=request.user, edition=edition, institution=institution,
                                         file_format=file_format)
        if file_format == "csv":
            name = f"export-{edition.programme.code}-{edition.intake_code}-{institution.short_name}.csv"
            return csv_download(exchange.as_rows(export), name)
        return Response(PartnerExportSerializer(export).data)
