from rest_framework import serializers

from .. import isced
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
    isced_f = serializers.CharField(allow_blank=True, read_only=True, help_text="ISCED-F 2013 field code (or \"\").")
    isced_f_name = serializers.SerializerMethodField(help_text="The field's English name in ISCED-F 2013.")

    class Meta:
        model = Programme
        fields = [
            "id",
            "consortium",
            "status",
            *PROGRAMME_FIELDS,
            "isced_f_name",
            "texts",
            "outcomes",
            "partners",
            "stacks_into",
            "updated_at",
        ]
        read_only_fields = fields

    def get_isced_f_name(self, obj) -> str:
        return isced.name(obj.isced_f)

    def get_partners(self, obj) -> list[dict]:
        return [{"institution": str(p.institution_id), "role": p.role} for p in obj.partners.all()]

    def get_stacks_into(self, obj) -> list[str]:
        return [str(s.target_id) for s in obj.stacks_into.all()]


def _isced_choice(**kwargs) -> serializers.ChoiceField:
    return serializers.ChoiceField(choices=list(isced.fields()), allow_blank=True, **kwargs)


class ProgrammeUpdateSerializer(serializers.ModelSerializer):
    isced_f = _isced_choice(required=False, help_text="ISCED-F 2013 field code, best a detailed one (e.g. 0613).")

    class Meta:
        model = Programme
        fields = [f for f in PROGRAMME_FIELDS if f not in ("code", "lead_institution", "agreement")]


class CourseSerializer(serializers.ModelSerializer):
    programme = serializers.UUIDField(source="version.programme_id", read_only=True)
    curriculum_version = serializers.UUIDField(source="version_id", read_only=True)
    isced_f = serializers.CharField(allow_blank=True, read_only=True, help_text="ISCED-F 2013 field code (or \"\").")
    external_id = serializers.CharField(
        source="external_id_value", read_only=True, allow_null=True, default=None,
        help_text="Your institution's external id for the course (null when it has none).",
    )

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
            "isced_f",
            "external_id",
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
