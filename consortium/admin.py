"""Django admin: for platform superusers only (see admin_site.SuperuserAdminSite)."""

from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin

from . import models


class ContactInline(admin.TabularInline):
    model = models.InstitutionContact
    extra = 0


@admin.register(models.Institution)
class InstitutionAdmin(admin.ModelAdmin):
    list_display = ["short_name", "legal_name", "kind", "country", "city"]
    list_filter = ["kind", "country"]
    search_fields = ["short_name", "legal_name", "erasmus_code", "pic", "schac_code"]
    inlines = [ContactInline]


@admin.register(models.Consortium)
class ConsortiumAdmin(admin.ModelAdmin):
    list_display = ["acronym", "name"]
    search_fields = ["acronym", "name"]


@admin.register(models.Membership)
class MembershipAdmin(admin.ModelAdmin):
    list_display = ["consortium", "institution", "role", "joined_on", "left_on"]
    list_filter = ["role", "consortium"]


class PartyInline(admin.TabularInline):
    model = models.AgreementParty
    extra = 0


class ShareInline(admin.TabularInline):
    model = models.RevenueShare
    extra = 0


class SignatureInline(admin.TabularInline):
    model = models.AgreementSignature
    extra = 0


@admin.register(models.Agreement)
class AgreementAdmin(admin.ModelAdmin):
    list_display = ["title", "consortium", "kind"]
    list_filter = ["kind"]


@admin.register(models.AgreementVersion)
class AgreementVersionAdmin(admin.ModelAdmin):
    list_display = ["agreement", "number", "status", "effective_from"]
    list_filter = ["status"]
    inlines = [PartyInline, ShareInline, SignatureInline]


@admin.register(models.Addendum)
class AddendumAdmin(admin.ModelAdmin):
    list_display = ["version", "number", "institution", "status"]


@admin.register(models.User)
class UserAdmin(BaseUserAdmin):
    ordering = ["email"]
    list_display = ["email", "full_name", "is_active", "is_superuser"]
    search_fields = ["email", "full_name", "esi"]
    fieldsets = (
        (None, {"fields": ("email", "password", "full_name", "esi")}),
        ("Permissions", {"fields": ("is_active", "is_staff", "is_superuser", "groups", "user_permissions")}),
    )
    add_fieldsets = ((None, {"classes": ("wide",), "fields": ("email", "password1", "password2")}),)


@admin.register(models.StaffProfile)
class StaffProfileAdmin(admin.ModelAdmin):
    list_display = ["user", "institution", "job_title"]
    list_filter = ["institution"]


@admin.register(models.RoleAssignment)
class RoleAssignmentAdmin(admin.ModelAdmin):
    list_display = ["user", "role", "scope_key"]
    list_filter = ["role"]


@admin.register(models.ExternalId)
class ExternalIdAdmin(admin.ModelAdmin):
    list_display = ["institution", "kind", "value", "object_id", "updated_at"]
    list_filter = ["kind", "institution"]
    search_fields = ["value", "object_id"]


@admin.register(models.ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    list_display = ["name", "institution", "prefix", "expires_at", "revoked_at", "last_used_at"]
    readonly_fields = ["prefix", "key_hash", "last_used_at"]


@admin.register(models.AuditEvent)
class AuditEventAdmin(admin.ModelAdmin):
    """Read-only: the audit trail is append-only, also for superusers."""

    list_display = ["at", "actor_label", "action", "object_repr", "via"]
    list_filter = ["via", "action"]
    search_fields = ["actor_label", "object_repr", "object_id"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
