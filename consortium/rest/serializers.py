import uuid

from rest_framework import serializers

from consortium import identifiers, policy
from consortium.models import (
    Addendum,
    Agreement,
    AgreementParty,
    AgreementSignature,
    AgreementVersion,
    Consortium,
    Institution,
    InstitutionContact,
    Membership,
    RevenueShare,
    SharingBasis,
)
from consortium.services import INSTITUTION_FIELDS, SECTION_FIELDS


class InstitutionContactSerializer(serializers.ModelSerializer):
    class Meta:
        model = InstitutionContact
        fields = ["service", "name", "email", "phone"]


class InstitutionSerializer(serializers.ModelSerializer):
    """The joint profile. Contacts appear only for callers allowed to see the institution's private data."""

    contacts = serializers.SerializerMethodField()
    has_signature_image = serializers.SerializerMethodField()

    class Meta:
        model = Institution
        fields = [
            "id",
            "legal_name",
            "short_name",
            "kind",
            "country",
            "city",
            "erasmus_code",
            "pic",
            "schac_code",
            "website",
            "signatory_name",
            "signatory_title",
            "has_signature_image",
            "contacts",
            "updated_at",
        ]
        read_only_fields = ["id", "updated_at"]

    def get_contacts(self, obj) -> list[dict] | None:
        request = self.context.get("request")
        if request is None or not policy.can(request.user, "institution.view_private", obj):
            return None
        return InstitutionContactSerializer(obj.contacts.all(), many=True).data

    def get_has_signature_image(self, obj) -> bool:
        return bool(obj.signatory_signature)


class NormalisedCodeField(serializers.CharField):
    """A code read in its canonical spelling, then checked by the model's format validators."""

    def __init__(self, *, normalise, **kwargs):
        self.normalise = normalise
        super().__init__(**kwargs)

    def to_internal_value(self, data):
        return self.normalise(super().to_internal_value(data))


class InstitutionWriteSerializer(serializers.ModelSerializer):
    erasmus_code = NormalisedCodeField(
        normalise=identifiers.normalise_erasmus_code, max_length=20, required=False, allow_blank=True,
        validators=[identifiers.validate_erasmus_code],
        help_text="e.g. 'B  LEUVEN01' (the country padded to three characters; 'B LEUVEN01' is read as that).",
    )
    schac_code = NormalisedCodeField(
        normalise=identifiers.normalise_schac_code, max_length=128, required=False, allow_blank=True,
        validators=[identifiers.validate_schac_code], help_text="The institution's domain, e.g. 'kuleuven.be'.",
    )

    class Meta:
        model = Institution
        fields = [f for f in INSTITUTION_FIELDS if f not in ("logo", "signatory_signature")]


class ConsortiumSerializer(serializers.ModelSerializer):
    class Meta:
        model = Consortium
        fields = ["id", "name", "acronym", "description", "website", "updated_at"]
        read_only_fields = ["id", "updated_at"]


class MembershipSerializer(serializers.ModelSerializer):
    consortium = serializers.PrimaryKeyRelatedField(queryset=Consortium.objects.all())
    institution = serializers.PrimaryKeyRelatedField(queryset=Institution.objects.all())
    institution_short_name = serializers.CharField(source="institution.short_name", read_only=True)

    class Meta:
        model = Membership
        fields = [
            "id",
            "consortium",
            "institution",
            "institution_short_name",
            "role",
            "joined_on",
            "left_on",
            "updated_at",
        ]
        read_only_fields = ["id", "left_on", "updated_at"]
        extra_kwargs = {"joined_on": {"required": False}}  # membership_add defaults it to today


class MembershipEndSerializer(serializers.Serializer):
    left_on = serializers.DateField(required=False)


class AgreementPartySerializer(serializers.ModelSerializer):
    institution = serializers.PrimaryKeyRelatedField(read_only=True)
    institution_short_name = serializers.CharField(source="institution.short_name", read_only=True)
    joined_by_addendum = serializers.IntegerField(source="joined_by.number", read_only=True, default=None,
                                                  allow_null=True)

    class Meta:
        model = AgreementParty
        fields = ["institution", "institution_short_name", "role", "coordinator_name", "joined_by_addendum"]


class RevenueShareSerializer(serializers.ModelSerializer):
    institution = serializers.PrimaryKeyRelatedField(read_only=True)

    class Meta:
        model = RevenueShare
        fields = ["institution", "percent"]


class AgreementSignatureSerializer(serializers.ModelSerializer):
    institution = serializers.PrimaryKeyRelatedField(read_only=True)

    class Meta:
        model = AgreementSignature
        fields = ["institution", "signed_by_name", "signed_by_title", "signed_on"]


class AddendumSerializer(serializers.ModelSerializer):
    institution = serializers.PrimaryKeyRelatedField(read_only=True)

    class Meta:
        model = Addendum
        fields = ["id", "number", "institution", "role", "summary", "status", "effective_from"]


class AgreementVersionSerializer(serializers.ModelSerializer):
    agreement = serializers.PrimaryKeyRelatedField(read_only=True)
    parties = AgreementPartySerializer(many=True, read_only=True)
    revenue_shares = RevenueShareSerializer(many=True, read_only=True)
    signatures = AgreementSignatureSerializer(many=True, read_only=True)
    addenda = AddendumSerializer(many=True, read_only=True)
    collecting_institution = serializers.PrimaryKeyRelatedField(read_only=True, allow_null=True)
    # Read-only model fields lose ``allow_blank``: declared so the schema says a version without a model is "".
    sharing_basis = serializers.ChoiceField(choices=SharingBasis.choices, allow_blank=True, read_only=True)

    class Meta:
        model = AgreementVersion
        fields = [
            "id",
            "agreement",
            "number",
            "status",
            "effective_from",
            "effective_until",
            "terminated_on",
            "termination_reason",
            *SECTION_FIELDS,
            "revenue_model",
            "collecting_institution",
            "sharing_basis",
            "costs_shared",
            "revenue_shares",
            "parties",
            "signatures",
            "addenda",
            "updated_at",
        ]
        read_only_fields = [f for f in fields if f not in (*SECTION_FIELDS, "effective_until")]


class AgreementVersionUpdateSerializer(serializers.ModelSerializer):
    class Meta:
        model = AgreementVersion
        fields = [*SECTION_FIELDS, "effective_until"]


class AgreementSerializer(serializers.ModelSerializer):
    consortium = serializers.PrimaryKeyRelatedField(queryset=Consortium.objects.all())
    versions = serializers.SerializerMethodField()

    class Meta:
        model = Agreement
        fields = ["id", "consortium", "kind", "title", "reference", "versions", "updated_at"]
        read_only_fields = ["id", "versions", "updated_at"]

    def get_versions(self, obj) -> list[dict]:
        return [{"id": str(v.id), "number": v.number, "status": v.status} for v in obj.versions.all()]


class AgreementCreateSerializer(serializers.Serializer):
    consortium = serializers.PrimaryKeyRelatedField(queryset=Consortium.objects.all())
    kind = serializers.ChoiceField(choices=Agreement._meta.get_field("kind").choices)
    title = serializers.CharField(max_length=255)
    reference = serializers.CharField(max_length=64, required=False, allow_blank=True, default="")
    parties = serializers.PrimaryKeyRelatedField(queryset=Institution.objects.all(), many=True, required=False)


class FinancialModelSerializer(serializers.Serializer):
    revenue_model = serializers.ChoiceField(choices=AgreementVersion._meta.get_field("revenue_model").choices)
    collecting_institution = serializers.PrimaryKeyRelatedField(
        queryset=Institution.objects.all(), required=False, allow_null=True
    )
    sharing_basis = serializers.ChoiceField(
        choices=[("", "—"), *AgreementVersion._meta.get_field("sharing_basis").choices], required=False, default=""
    )
    shares = serializers.DictField(child=serializers.DecimalField(max_digits=5, decimal_places=2), required=False)
    costs_shared = serializers.BooleanField(required=False, default=False)

    def validate_shares(self, value):
        """Keys are institution ids; a malformed one is a field error, not a failed database lookup."""
        malformed = []
        for key in value:
            try:
                uuid.UUID(str(key))
            except ValueError:
                malformed.append(key)
        if malformed:
            raise serializers.ValidationError([f"Unknown institution: {k}" for k in sorted(malformed)])
        return value


class TerminateSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=2000)
    terminated_on = serializers.DateField(required=False)


class BringIntoForceSerializer(serializers.Serializer):
    effective_from = serializers.DateField(required=False)
