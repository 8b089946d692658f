"""Django admin for assessment (platform superusers only: see consortium.admin_site.SuperuserAdminSite).

Examiners and boards work through the assessment pages, where the services apply the rules (conversion,
locking, versioned corrections) and record the audit trail; the admin is the platform operators' repair tool.
Grades are therefore read-only here: a correction is a new version made by the board, never an edit in place.
"""

from django.contrib import admin

from . import models


@admin.register(models.GradingScale)
class GradingScaleAdmin(admin.ModelAdmin):
    list_display = ["name", "country", "pass_grade"]
    search_fields = ["name"]


class ConversionInline(admin.TabularInline):
    model = models.ConversionTable
    extra = 0
    raw_id_fields = ["institution", "national_scale"]


@admin.register(models.ExamRegulation)
class ExamRegulationAdmin(admin.ModelAdmin):
    list_display = ["programme", "number", "status", "joint_scale", "resits_allowed", "final_result", "resit_scope"]
    list_filter = ["status", "final_result", "resit_scope"]
    list_select_related = ["programme", "joint_scale"]
    raw_id_fields = ["programme"]
    inlines = [ConversionInline]


@admin.register(models.ConversionTable)
class ConversionTableAdmin(admin.ModelAdmin):
    list_display = ["regulation", "institution", "national_scale"]
    list_select_related = ["regulation__programme", "regulation__joint_scale", "institution", "national_scale"]
    raw_id_fields = ["regulation", "institution", "national_scale"]


@admin.register(models.EditionRegulation)
class EditionRegulationAdmin(admin.ModelAdmin):
    list_display = ["edition", "regulation"]
    list_select_related = ["edition__programme", "regulation__programme"]
    raw_id_fields = ["edition", "regulation"]


@admin.register(models.Assessment)
class AssessmentAdmin(admin.ModelAdmin):
    list_display = ["title", "course", "edition", "method", "weight", "supervision", "opens_on", "learner_led"]
    list_filter = ["method", "supervision", "learner_led"]
    list_select_related = ["course", "edition__programme"]
    search_fields = ["title", "course__code"]
    raw_id_fields = ["edition", "course"]


@admin.register(models.ResultSheet)
class ResultSheetAdmin(admin.ModelAdmin):
    list_display = ["course", "edition", "attempt", "status", "submitted_at", "decided_at"]
    list_filter = ["status", "attempt"]
    list_select_related = ["course", "edition__programme"]
    search_fields = ["course__code", "edition__intake_code"]
    raw_id_fields = ["edition", "course", "submitted_by", "decided_by"]


@admin.register(models.Grade)
class GradeAdmin(admin.ModelAdmin):
    list_display = ["enrolment", "assessment", "national_grade", "joint_grade", "version", "superseded"]
    list_filter = ["superseded", "sheet__status"]
    list_select_related = ["enrolment__application", "enrolment__edition__programme", "assessment__course"]
    search_fields = ["enrolment__application__email", "enrolment__application__family_names"]
    raw_id_fields = ["sheet", "assessment", "enrolment", "national_scale", "entered_by"]

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(models.Appeal)
class AppealAdmin(admin.ModelAdmin):
    list_display = ["grade", "status", "created_at", "decided_at"]
    list_filter = ["status"]
    list_select_related = [
        "grade__enrolment__application",
        "grade__enrolment__edition__programme",
        "grade__assessment__course",
    ]
    raw_id_fields = ["grade", "decided_by"]
