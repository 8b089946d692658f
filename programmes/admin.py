"""Django admin for programmes (platform superusers only)."""

from django.contrib import admin

from . import models


class TextInline(admin.StackedInline):
    model = models.ProgrammeText
    extra = 0


class OutcomeInline(admin.TabularInline):
    model = models.LearningOutcome
    extra = 0


class PartnerInline(admin.TabularInline):
    model = models.ProgrammePartner
    extra = 0


@admin.register(models.Programme)
class ProgrammeAdmin(admin.ModelAdmin):
    list_display = ["code", "consortium", "ects", "qualification_type", "eqf_level", "status"]
    list_filter = ["status", "qualification_type", "eqf_level", "delivery_mode"]
    search_fields = ["code", "texts__title"]
    inlines = [TextInline, OutcomeInline, PartnerInline]


class CourseInline(admin.TabularInline):
    model = models.Course
    extra = 0


@admin.register(models.CurriculumVersion)
class CurriculumVersionAdmin(admin.ModelAdmin):
    list_display = ["programme", "number", "status", "decided_at"]
    list_filter = ["status"]
    inlines = [CourseInline]


@admin.register(models.Edition)
class EditionAdmin(admin.ModelAdmin):
    list_display = ["programme", "intake_code", "status", "starts_on", "capacity"]
    list_filter = ["status"]


@admin.register(models.TeamMember)
class TeamMemberAdmin(admin.ModelAdmin):
    list_display = ["programme", "user", "role", "institution"]


@admin.register(models.TeamTask)
class TeamTaskAdmin(admin.ModelAdmin):
    list_display = ["programme", "title", "phase", "due_on", "done_on"]


for model in (
    models.ProgrammeText,
    models.ProgrammePartner,
    models.LearningOutcome,
    models.StackingLink,
    models.Course,
):
    admin.site.register(model)
