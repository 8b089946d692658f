"""Django admin for certification (platform superusers only: see consortium.admin_site.SuperuserAdminSite).

The board awards, revokes and re-issues through the award pages, where the services apply the rules and record
the audit trail; the admin is the operators' repair tool. Issued snapshots, hashes and files are read-only here:
changing them would break verification.
"""

from django.contrib import admin

from . import models


class CredentialInline(admin.TabularInline):
    model = models.Credential
    extra = 0
    can_delete = False
    fields = ["version", "credential_id", "status", "issued_at", "revoked_at", "superseded_by"]
    readonly_fields = fields
    show_change_link = True


class DocumentInline(admin.TabularInline):
    model = models.Document
    extra = 0
    can_delete = False
    fields = ["kind", "institution", "language", "status", "attempts", "rendered_at", "sha256", "error"]
    readonly_fields = ["kind", "institution", "language", "rendered_at", "sha256"]


@admin.register(models.Award)
class AwardAdmin(admin.ModelAdmin):
    list_display = ["enrolment", "kind", "decided_at", "decided_by", "issuing_institution", "classification"]
    list_filter = ["kind", "issuing_institution"]
    search_fields = ["enrolment__application__family_names", "enrolment__application__given_names",
                     "enrolment__application__email"]
    list_select_related = ["enrolment__application", "enrolment__edition__programme", "decided_by",
                           "issuing_institution"]
    raw_id_fields = ["enrolment", "decided_by"]
    date_hierarchy = "decided_at"
    inlines = [CredentialInline]


@admin.register(models.Credential)
class CredentialAdmin(admin.ModelAdmin):
    list_display = ["credential_id", "version", "award", "status", "issued_at", "revoked_at"]
    list_filter = ["status"]
    search_fields = ["credential_id", "award__enrolment__application__family_names",
                     "award__enrolment__application__email"]
    list_select_related = ["award__enrolment__application", "award__enrolment__edition__programme"]
    raw_id_fields = ["award", "superseded_by"]
    readonly_fields = ["credential_id", "snapshot", "snapshot_schema", "issued_at"]
    date_hierarchy = "issued_at"
    inlines = [DocumentInline]


@admin.register(models.Document)
class DocumentAdmin(admin.ModelAdmin):
    list_display = ["credential", "kind", "institution", "language", "status", "attempts", "rendered_at"]
    list_filter = ["status", "kind", "language"]
    search_fields = ["credential__credential_id", "sha256"]
    list_select_related = ["credential", "institution"]
    raw_id_fields = ["credential", "institution"]
    readonly_fields = ["slot", "file", "sha256", "rendered_at"]


@admin.register(models.BulkIssue)
class BulkIssueAdmin(admin.ModelAdmin):
    list_display = ["created_at", "edition_id", "requested_by", "award_count"]
    list_select_related = ["requested_by"]
    raw_id_fields = ["requested_by"]
    readonly_fields = ["edition_id", "enrolment_ids"]

    @admin.display(description="awards")
    def award_count(self, obj) -> int:
        return len(obj.enrolment_ids or [])
