"""Django admin for admissions (platform superusers only: see consortium.admin_site.SuperuserAdminSite).

Staff work through the admissions pages, where the services apply the rules and record the audit trail;
the admin is the platform operators' repair tool.
"""

from django.contrib import admin

from . import models


class CriterionInline(admin.TabularInline):
    model = models.Criterion
    extra = 0


@admin.register(models.AdmissionFramework)
class AdmissionFrameworkAdmin(admin.ModelAdmin):
    list_display = ["edition", "reviewing_institution", "offer_valid_days", "payment_required"]
    list_filter = ["payment_required", "reviewing_institution"]
    list_select_related = ["edition__programme", "reviewing_institution"]
    raw_id_fields = ["edition"]
    inlines = [CriterionInline]


@admin.register(models.Criterion)
class CriterionAdmin(admin.ModelAdmin):
    list_display = ["framework", "kind", "description", "position"]
    list_filter = ["kind"]
    search_fields = ["description", "document_label"]
    raw_id_fields = ["framework"]


class DocumentInline(admin.TabularInline):
    model = models.ApplicationDocument
    extra = 0
    readonly_fields = ["kind", "size"]
    raw_id_fields = ["criterion"]


class AssessmentInline(admin.TabularInline):
    model = models.CriterionAssessment
    extra = 0
    raw_id_fields = ["criterion", "reviewer"]


class MessageInline(admin.StackedInline):
    model = models.ApplicationMessage
    extra = 0
    raw_id_fields = ["author"]


@admin.register(models.Application)
class ApplicationAdmin(admin.ModelAdmin):
    list_display = ["family_names", "given_names", "email", "edition", "status", "submitted_at", "possible_duplicate"]
    list_filter = ["status", "route", "possible_duplicate"]
    search_fields = ["given_names", "family_names", "email"]
    list_select_related = ["edition__programme"]
    raw_id_fields = ["edition", "applicant"]
    date_hierarchy = "submitted_at"
    inlines = [DocumentInline, AssessmentInline, MessageInline]


@admin.register(models.ApplicationDocument)
class ApplicationDocumentAdmin(admin.ModelAdmin):
    list_display = ["label", "application", "kind", "size", "created_at"]
    list_filter = ["kind"]
    readonly_fields = ["kind", "size"]
    raw_id_fields = ["application", "criterion"]


@admin.register(models.CriterionAssessment)
class CriterionAssessmentAdmin(admin.ModelAdmin):
    list_display = ["application", "criterion", "result", "reviewer"]
    list_filter = ["result"]
    raw_id_fields = ["application", "criterion", "reviewer"]


@admin.register(models.ApplicationMessage)
class ApplicationMessageAdmin(admin.ModelAdmin):
    list_display = ["subject", "application", "kind", "author", "created_at"]
    list_filter = ["kind"]
    search_fields = ["subject", "body"]
    raw_id_fields = ["application", "author"]


class RegistrationInline(admin.TabularInline):
    model = models.InstitutionRegistration
    extra = 0


@admin.register(models.Enrolment)
class EnrolmentAdmin(admin.ModelAdmin):
    list_display = ["application", "edition", "learner", "enrolled_at"]
    list_select_related = ["application", "edition__programme", "learner"]
    raw_id_fields = ["application", "edition", "learner"]
    inlines = [RegistrationInline]


@admin.register(models.InstitutionRegistration)
class InstitutionRegistrationAdmin(admin.ModelAdmin):
    list_display = ["enrolment", "institution", "status", "external_student_number"]
    list_filter = ["status", "institution"]
    search_fields = ["external_student_number"]
    raw_id_fields = ["enrolment"]


@admin.register(models.ExemptionRequest)
class ExemptionRequestAdmin(admin.ModelAdmin):
    list_display = ["application", "course", "status", "ects_recognised", "decided_by", "decided_at"]
    list_filter = ["status"]
    raw_id_fields = ["application", "course", "decided_by"]
