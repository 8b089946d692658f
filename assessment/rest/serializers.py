from rest_framework import serializers

from ..models import Grade, ResultSheet, SheetStatus

#: The most rows one request may carry (a cohort's grades for one course fit many times over).
MAX_ROWS = 5000


class GradeSerializer(serializers.ModelSerializer):
    """One learner's current grade for one assessed component, in the provider's scale and the joint scale."""

    sheet = serializers.UUIDField(source="sheet_id", read_only=True)
    edition = serializers.UUIDField(source="sheet.edition_id", read_only=True)
    course = serializers.UUIDField(source="sheet.course_id", read_only=True)
    course_code = serializers.CharField(source="sheet.course.code", read_only=True)
    attempt = serializers.IntegerField(source="sheet.attempt", read_only=True)
    status = serializers.ChoiceField(
        source="sheet.status",
        choices=SheetStatus.choices,
        read_only=True,
        help_text="The status of the result sheet: draft and returned grades may still change; approved ones are "
        "locked (corrections create a new version).",
    )
    approved_at = serializers.SerializerMethodField(help_text="When the examination board approved the sheet.")
    enrolment = serializers.UUIDField(source="enrolment_id", read_only=True)
    assessment = serializers.UUIDField(source="assessment_id", read_only=True)
    assessment_title = serializers.CharField(source="assessment.title", read_only=True)
    national_scale = serializers.CharField(source="national_scale.name", read_only=True)

    class Meta:
        model = Grade
        fields = [
            "id",
            "sheet",
            "edition",
            "course",
            "course_code",
            "attempt",
            "status",
            "approved_at",
            "enrolment",
            "assessment",
            "assessment_title",
            "national_grade",
            "national_scale",
            "joint_grade",
            "version",
            "correction_reason",
            "updated_at",
        ]
        read_only_fields = fields

    def get_approved_at(self, obj) -> str | None:
        if obj.sheet.status != SheetStatus.APPROVED or obj.sheet.decided_at is None:
            return None
        return serializers.DateTimeField().to_representation(obj.sheet.decided_at)


class GradeRowSerializer(serializers.Serializer):
    """Ids are checked by the service, which names every bad row (``Row 3: ...``)."""

    enrolment = serializers.CharField(max_length=64, help_text="The learner's enrolment id.")
    assessment = serializers.CharField(max_length=64, help_text="The assessed component's id.")
    grade = serializers.CharField(
        max_length=16, allow_blank=True, help_text='In your institution\'s own scale, e.g. "7.5" (a string).'
    )


class GradeBatchSerializer(serializers.Serializer):
    sheet = serializers.UUIDField(required=False, help_text="The result sheet; or give edition, course and attempt.")
    edition = serializers.UUIDField(required=False)
    course = serializers.UUIDField(required=False)
    attempt = serializers.IntegerField(
        required=False,
        min_value=1,
        max_value=6,
        default=1,
        help_text="1 for the first sitting; a resit's sheet exists once the programme opened the resit.",
    )
    grades = GradeRowSerializer(many=True, allow_empty=False, max_length=MAX_ROWS)

    def validate(self, attrs):
        if attrs.get("sheet"):
            if attrs.get("edition") or attrs.get("course"):
                raise serializers.ValidationError("Give either the sheet, or the edition and the course.")
        elif not (attrs.get("edition") and attrs.get("course")):
            raise serializers.ValidationError("Give the sheet, or the edition and the course.")
        return attrs


class ResultSheetSerializer(serializers.ModelSerializer):
    course_code = serializers.CharField(source="course.code", read_only=True)

    class Meta:
        model = ResultSheet
        fields = ["id", "edition", "course", "course_code", "attempt", "status", "submitted_at", "decided_at"]
        read_only_fields = fields


class GradeBatchResultSerializer(serializers.Serializer):
    sheet = ResultSheetSerializer()
    created = serializers.IntegerField(help_text="Grades entered for the first time.")
    updated = serializers.IntegerField(help_text="Grades that replaced an earlier entry on this (open) sheet.")
    grades = GradeSerializer(many=True)
