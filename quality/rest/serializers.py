from rest_framework import serializers

from ..models import Finding, ImprovementAction, QualityReview


class FindingSerializer(serializers.ModelSerializer):
    class Meta:
        model = Finding
        fields = ["id", "position", "kind", "theme", "text"]


class ImprovementActionSerializer(serializers.ModelSerializer):
    finding = serializers.UUIDField(source="finding_id", allow_null=True)
    owner_institution = serializers.CharField(source="owner_institution.short_name", default="")

    class Meta:
        model = ImprovementAction
        fields = ["id", "position", "finding", "title", "description", "owner", "owner_institution", "due_on",
                  "status", "started_at", "done_at", "dropped_at", "dropped_reason"]


class QualityReviewSerializer(serializers.ModelSerializer):
    programme = serializers.UUIDField(source="programme_id")
    programme_code = serializers.CharField(source="programme.code")
    academic_year = serializers.CharField(source="year_label", help_text="E.g. 2026/27: the editions that end "
                                          "from 1 September 2026 to 31 August 2027.")
    evidence = serializers.JSONField(help_text="The figures the programme board approved, frozen when the team "
                                     "submitted the review (docs/quality.md, \"The evidence\").")
    findings = FindingSerializer(many=True)
    actions = ImprovementActionSerializer(many=True, help_text="The improvement plan; its progress is followed up "
                                          "after approval (status, started_at, done_at).")

    class Meta:
        model = QualityReview
        fields = ["id", "programme", "programme_code", "year", "academic_year", "status", "summary",
                  "submitted_at", "decided_at", "board_comment", "evidence_frozen_at", "evidence", "findings",
                  "actions", "updated_at"]
