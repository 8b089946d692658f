from functools import cached_property

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from consortium.api import policy

from ..models import (
    Application,
    ApplicationDocument,
    Enrolment,
    InstitutionRegistration,
    ParticipantProfile,
    RegistrationStatus,
)


class ApplicationDocumentSerializer(serializers.ModelSerializer):
    """What was uploaded, never where: the files stay on the platform (no URL is exposed)."""

    class Meta:
        model = ApplicationDocument
        fields = ["id", "label", "kind", "size", "criterion", "created_at"]
        read_only_fields = fields


class ApplicationSerializer(serializers.ModelSerializer):
    programme = serializers.UUIDField(source="edition.programme_id", read_only=True)
    nationality = serializers.CharField(source="nationality.code", read_only=True)
    documents = serializers.SerializerMethodField(
        help_text="Labels and kinds of the uploaded documents; null while the caller may not see them (other "
        "institutions see them once a decision is made)."
    )
    enrolment = serializers.SerializerMethodField()
    # Read-only model fields lose ``allow_blank``: declared so the schema admits an application without a profile.
    participant_profile = serializers.ChoiceField(choices=ParticipantProfile.choices, allow_blank=True, read_only=True)
    learner = serializers.UUIDField(source="applicant_id", read_only=True,
                                    help_text="The learner's id (an account may apply to several editions).")
    esi = serializers.CharField(source="applicant.esi", read_only=True, allow_blank=True,
                                help_text="The learner's European Student Identifier, \"\" when they gave none.")
    learner_external_id = serializers.CharField(
        source="learner_external_id_value", read_only=True, allow_null=True, default=None,
        help_text="Your institution's external id for the learner (null when it has none).",
    )

    class Meta:
        model = Application
        fields = [
            "id",
            "edition",
            "programme",
            "status",
            "learner",
            "esi",
            "learner_external_id",
            "given_names",
            "family_names",
            "date_of_birth",
            "nationality",
            "email",
            "participant_profile",
            "track",
            "employer_sponsor",
            "route",
            "education",
            "highest_eqf_level",
            "experience_years",
            "experience",
            "language_proofs",
            "motivation",
            "submitted_at",
            "decided_at",
            "decision_reason",
            "offer_deadline",
            "waitlisted_at",
            "possible_duplicate",
            "documents",
            "enrolment",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields

    @cached_property
    def _document_serializer(self) -> ApplicationDocumentSerializer:
        """One for the whole list (``self`` is the list's shared child): building a serializer per application built
        its fields again for each row, a third of a page's serializing time."""
        return ApplicationDocumentSerializer()

    @extend_schema_field(ApplicationDocumentSerializer(many=True, allow_null=True))
    def get_documents(self, obj) -> list[dict] | None:
        request = self.context.get("request")
        if request is None or not policy.can(request.user, "application.documents", obj):
            return None
        return [self._document_serializer.to_representation(d) for d in obj.documents.all()]

    @extend_schema_field(serializers.UUIDField(allow_null=True))
    def get_enrolment(self, obj) -> str | None:
        enrolment = getattr(obj, "enrolment", None)
        return str(enrolment.pk) if enrolment else None


class ReasonSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=4000, required=False, allow_blank=True, default="")


class RequiredReasonSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=4000, help_text="Shown to the applicant.")


class MessageSerializer(serializers.Serializer):
    message = serializers.CharField(max_length=4000, help_text="What information is needed (sent to the applicant).")


class RegistrationSerializer(serializers.ModelSerializer):
    institution_short_name = serializers.CharField(source="institution.short_name", read_only=True)
    status = serializers.CharField(read_only=True, help_text="pending, registered or failed.")

    class Meta:
        model = InstitutionRegistration
        fields = [
            "id",
            "institution",
            "institution_short_name",
            "status",
            "external_student_number",
            "message",
            "updated_at",
        ]
        read_only_fields = fields


class RegistrationUpdateSerializer(serializers.Serializer):
    """A partial update: fields left out keep their current value."""

    status = serializers.ChoiceField(choices=RegistrationStatus.choices, required=False)
    external_student_number = serializers.CharField(
        max_length=64,
        required=False,
        allow_blank=True,
        help_text="The learner's student number on your systems; required when the status is 'registered'.",
    )
    message = serializers.CharField(max_length=255, required=False, allow_blank=True)


class EnrolmentSerializer(serializers.ModelSerializer):
    programme = serializers.UUIDField(source="edition.programme_id", read_only=True)
    # Plain strings (one enum component per choice set keeps the schema's enum names stable).
    status = serializers.CharField(
        source="application.status",
        read_only=True,
        help_text="The application's status: enrolled, suspended, completed or withdrawn.",
    )
    given_names = serializers.CharField(source="application.given_names", read_only=True)
    family_names = serializers.CharField(source="application.family_names", read_only=True)
    date_of_birth = serializers.DateField(source="application.date_of_birth", read_only=True, allow_null=True)
    email = serializers.EmailField(source="application.email", read_only=True)
    track = serializers.CharField(source="application.track", read_only=True)
    registrations = RegistrationSerializer(many=True, read_only=True)
    esi = serializers.CharField(source="learner.esi", read_only=True, allow_blank=True,
                                help_text="The learner's European Student Identifier, \"\" when they gave none.")
    external_id = serializers.CharField(
        source="external_id_value", read_only=True, allow_null=True, default=None,
        help_text="Your institution's external id for the enrolment (null when it has none).",
    )
    learner_external_id = serializers.CharField(
        source="learner_external_id_value", read_only=True, allow_null=True, default=None,
        help_text="Your institution's external id for the learner (null when it has none).",
    )

    class Meta:
        model = Enrolment
        fields = [
            "id",
            "application",
            "edition",
            "programme",
            "status",
            "learner",
            "esi",
            "external_id",
            "learner_external_id",
            "given_names",
            "family_names",
            "date_of_birth",
            "email",
            "track",
            "enrolled_at",
            "registrations",
            "updated_at",
        ]
        read_only_fields = fields
