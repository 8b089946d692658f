from django.contrib import admin

from . import models


class CostLineInline(admin.TabularInline):
    model = models.CostLine
    extra = 1


@admin.register(models.Budget)
class BudgetAdmin(admin.ModelAdmin):
    list_display = ["edition", "kind", "version", "note"]
    list_filter = ["kind"]
    inlines = [CostLineInline]


@admin.register(models.Fee)
class FeeAdmin(admin.ModelAdmin):
    list_display = ["edition", "track", "profile", "amount"]


@admin.register(models.Discount)
class DiscountAdmin(admin.ModelAdmin):
    list_display = ["edition", "name", "rule", "kind", "value", "valid_until"]


@admin.register(models.Sponsorship)
class SponsorshipAdmin(admin.ModelAdmin):
    list_display = ["edition", "sponsor_name", "places", "places_used"]
    readonly_fields = ["places_used"]


@admin.register(models.EditionFinance)
class EditionFinanceAdmin(admin.ModelAdmin):
    list_display = ["edition", "vat_rate", "payment_terms_days", "refund_percent_after_start"]


@admin.register(models.Grant)
class GrantAdmin(admin.ModelAdmin):
    list_display = ["edition", "funder", "received_by", "amount"]


@admin.register(models.PlanYear)
class PlanYearAdmin(admin.ModelAdmin):
    list_display = ["programme", "year", "editions", "learners_per_edition", "average_fee"]


@admin.register(models.Invoice)
class InvoiceAdmin(admin.ModelAdmin):
    """Read-only: invoices change only through the finance services (payments, credit notes)."""

    list_display = ["number", "issuer", "recipient_name", "total", "status", "issued_on"]
    list_filter = ["status", "issuer"]
    search_fields = ["number", "recipient_name", "learner_name"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
