from rest_framework import serializers

from ..models import Course, CurriculumVersion, Edition, LearningOutcome, Programme, ProgrammeText, QfEheaCycle
from ..services import EDITION_FIELDS, PROGRAMME_FIELDS


class ProgrammeTextSerializer(serializers.ModelSerializer):
    class Meta:
        model = ProgrammeText
        exclude = ["id", "programme", "created_at", "updated_at"]


class OutcomeSerializer(serializers.ModelSerializer):
    class Meta:
        model = LearningOutcome
        fields = ["category", "text", "esco_uri"]


class ProgrammeSerializer(serializers.ModelSerializer):
    texts = ProgrammeTextSerializer(many=True, read_only=True)
    outcomes = OutcomeSerializer(many=True, read_only=True)
    partners = serializers.SerializerMethodField()
    stacks_into = serializers.SerializerMethodField()
    # Read-only model fields lose ``allow_blank``: declared so the schema admits the empty values.
    qf_ehea_cycle = serializers.ChoiceField(choices=QfEheaCycle.choices, allow_blank=True, read_only=True)
    contact_email = serializers.EmailField(allow_blank=True, read_only=True)

    class Meta:
        model = Programme
        fields = [
            "id",
            "consortium",
            "status",
            *PROGRAMME_FIELDS,
            "texts",
            "outcomes",
            "partners",
            "stacks_into",
            "updated_at",
        ]
        read_only_fields = fields

    def get_partners(self, obj) -> list[dict]:
        return [{"institution": str(p.institution_id), "role": p.role} for p in obj.partners.all()]

    def get_stacks_into(self, obj) -> list[str]:
        return [str(s.target_id) for s in obj.stacks_into.all()]


class ProgrammeUpdateSerializer(serializers.ModelSerializer):
    class Meta:
        model = Programme
        fields = [f for f in PROGRAMME_FIELDS if f not in ("code", "lead_institution", "agreement")]


class CourseSerializer(serializers.ModelSerializer):
    programme = serializers.UUIDField(source="version.programme_id", read_only=True)
    curriculum_version = serializers.UUIDField(source="version_id", read_only=True)

    class Meta:
        model = Course
        fields = [
            "id",
            "programme",
            "curriculum_version",
            "code",
            "title",
            "provider",
            "ects",
            "mandatory",
            "assessment_method",
            "supervision",
            "learning_outcomes",
            "updated_at",
        ]
        read_only_fields = fields


class CurriculumVersionSerializer(serializers.ModelSerializer):
    courses = CourseSerializer(many=True, read_only=True)

    class Meta:
        model = CurriculumVersion
        fields = [
            "id",
            "programme",
            "number",
            "status",
            "required_elective_ects",
            "submitted_at",
            "decided_at",
            "decision_comment",
            "courses",
            "updated_at",
        ]
        read_only_fields = fields


class EditionSerializer(serializers.ModelSerializer):
    class Meta:
        model = Edition
        fields = ["id", "programme", *EDITION_FIELDS, "status", "updated_at"]
        read_only_fields = ["id", "programme", "status", "updated_at"]
