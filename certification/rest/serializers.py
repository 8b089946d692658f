from django.urls import NoReverseMatch, reverse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from ..models import Award, AwardKind, Credential, CredentialStatus, Document, DocumentKind, DocumentStatus

#: The browser download of one document (session-authenticated; the page applies the policy). The first name that
#: resolves is used, so the API does not depend on how the pages name it.
DOWNLOAD_URL_NAMES = ("credential-document", "document-download")


def document_download_url(request, document: Document) -> str | None:
    if document.status != DocumentStatus.READY:
        return None
    for name in DOWNLOAD_URL_NAMES:
        try:
            path = reverse(name, args=[document.pk])
        except NoReverseMatch:
            continue
        return request.build_absolute_uri(path) if request is not None else path
    return None


def _absolute(request, name: str, **kwargs) -> str:
    path = reverse(name, kwargs=kwargs)
    return request.build_absolute_uri(path) if request is not None else path


class DocumentSerializer(serializers.ModelSerializer):
    institution = serializers.UUIDField(
        source="institution_id", allow_null=True, read_only=True,
        help_text="For a double/multiple award, the institution whose certificate this is (null: joint document).")
    sha256 = serializers.CharField(read_only=True, help_text="SHA-256 of the PDF (hex), published once it is ready.")
    download_url = serializers.SerializerMethodField(
        help_text="The PDF on the platform (a signed-in browser session), once ready; null before.")

    class Meta:
        model = Document
        fields = ["id", "kind", "institution", "language", "status", "sha256", "attempts", "rendered_at",
                  "download_url"]
        read_only_fields = fields

    @extend_schema_field(serializers.URLField(allow_null=True))
    def get_download_url(self, obj) -> str | None:
        return document_download_url(self.context.get("request"), obj)


class CredentialSummarySerializer(serializers.ModelSerializer):
    url = serializers.SerializerMethodField(help_text="This version in the credentials API.")

    class Meta:
        model = Credential
        fields = ["credential_id", "version", "status", "issued_at", "revoked_at", "url"]
        read_only_fields = fields

    @extend_schema_field(OpenApiTypes.URI)
    def get_url(self, obj) -> str:
        return _absolute(self.context.get("request"), "api-credential-detail", credential_id=obj.credential_id)


class AwardSerializer(serializers.ModelSerializer):
    enrolment = serializers.UUIDField(source="enrolment_id", read_only=True)
    edition = serializers.UUIDField(source="enrolment.edition_id", read_only=True)
    programme = serializers.UUIDField(source="enrolment.edition.programme_id", read_only=True)
    programme_code = serializers.CharField(source="enrolment.edition.programme.code", read_only=True)
    holder = serializers.CharField(source="enrolment.application.full_name", read_only=True)
    issuing_institution = serializers.UUIDField(source="issuing_institution_id", read_only=True)
    credentials = CredentialSummarySerializer(
        many=True, read_only=True, help_text="Every issued version, newest first (one at most is valid).")

    class Meta:
        model = Award
        fields = ["id", "enrolment", "edition", "programme", "programme_code", "holder", "kind", "decided_at",
                  "classification", "issuing_institution", "credentials", "updated_at"]
        read_only_fields = fields


class AwardCreateSerializer(serializers.Serializer):
    enrolment = serializers.UUIDField(help_text="The learner's enrolment.")
    classification = serializers.CharField(
        max_length=64, required=False, allow_blank=True, default="",
        help_text="Overall grade or classification printed on the documents (optional).")


class CredentialSerializer(serializers.ModelSerializer):
    award = serializers.UUIDField(source="award_id", read_only=True)
    kind = serializers.ChoiceField(source="award.kind", choices=AwardKind.choices, read_only=True)
    superseded_by = serializers.CharField(
        source="superseded_by.credential_id", allow_null=True, default=None, read_only=True,
        help_text="The corrected version that replaced this one.")
    verification_url = serializers.SerializerMethodField(help_text="The public verification page (printed on PDFs).")
    verification_api = serializers.SerializerMethodField(help_text="The public verification JSON.")
    documents = DocumentSerializer(many=True, read_only=True)

    class Meta:
        model = Credential
        fields = ["credential_id", "award", "kind", "version", "status", "issued_at", "revoked_at",
                  "revocation_reason", "superseded_by", "verification_url", "verification_api", "documents"]
        read_only_fields = fields

    def get_verification_url(self, obj) -> str:
        from ..rendering import verification_url

        return verification_url(obj.credential_id)

    @extend_schema_field(OpenApiTypes.URI)
    def get_verification_api(self, obj) -> str:
        return _absolute(self.context.get("request"), "api-verify-detail", credential_id=obj.credential_id)


# --- Public verification ------------------------------------------------------------------------------------


class ElementSerializer(serializers.Serializer):
    number = serializers.IntegerField(help_text="1–11, the order of the Council Recommendation (2022).")
    key = serializers.CharField()
    label = serializers.CharField()
    value = serializers.CharField()


class AwardingBodySerializer(serializers.Serializer):
    legal_name = serializers.CharField()
    short_name = serializers.CharField()
    country = serializers.CharField(help_text="ISO 3166-1 alpha-2.")
    country_name = serializers.CharField()
    city = serializers.CharField()


class PublishedDocumentSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=DocumentKind.choices)
    institution = serializers.CharField(allow_null=True, help_text="Short name, for one of several certificates.")
    language = serializers.CharField()
    sha256 = serializers.CharField(help_text="Compare with the SHA-256 of the PDF you were given.")


class VerificationSerializer(serializers.Serializer):
    credential_id = serializers.CharField()
    status = serializers.ChoiceField(choices=CredentialStatus.choices)
    valid = serializers.BooleanField(help_text="True only for the current, unrevoked version.")
    version = serializers.IntegerField()
    revoked_at = serializers.DateTimeField(allow_null=True)
    revocation_reason = serializers.CharField(allow_blank=True)
    superseded_by = serializers.CharField(allow_null=True, help_text="The credential id of the corrected version.")
    kind = serializers.ChoiceField(choices=AwardKind.choices)
    holder = serializers.CharField()
    title = serializers.CharField()
    qualification_name = serializers.CharField(allow_blank=True)
    award_type = serializers.CharField(help_text="joint, double or multiple.")
    awarding_bodies = AwardingBodySerializer(many=True)
    issuer = AwardingBodySerializer()
    issued_at = serializers.DateTimeField()
    issued_on = serializers.DateField()
    elements = ElementSerializer(many=True, help_text="The 11 mandatory EU elements, as frozen when issued.")
    documents = PublishedDocumentSerializer(many=True, help_text="The issued PDFs and their hashes.")
    verification_url = serializers.URLField()
