"""What the public programme page shows of finance: each upcoming edition's fee table and discounts. Programmes
asks for it through ``settings.PROGRAMME_FEE_TABLES`` (a dotted path), so it never imports finance."""

from __future__ import annotations

from django.utils.translation import gettext as _

from .models import Discount, DiscountKind, EditionFinance, Fee


def fee_tables(edition_ids) -> dict:
    """``{edition id: {"fees": [{"track", "profile", "amount"}], "discounts": [str], "vat": str}}`` for the
    editions that have a fee table."""
    tables: dict = {}
    for fee in Fee.objects.filter(edition_id__in=list(edition_ids)).order_by("track", "profile"):
        table = tables.setdefault(fee.edition_id, {"fees": [], "discounts": [], "vat": ""})
        table["fees"].append({"track": fee.get_track_display(), "profile": fee.get_profile_display() or
                              _("Any other participant"), "amount": fee.amount})
    for discount in Discount.objects.filter(edition_id__in=list(tables)).order_by("name"):
        value = f"{discount.value} %" if discount.kind == DiscountKind.PERCENT else f"{discount.value} EUR"
        until = (" " + _("(applications by %(date)s)") % {"date": discount.valid_until.isoformat()}
                 if discount.valid_until else "")
        tables[discount.edition_id]["discounts"].append(f"{discount.name}: {value}{until}")
    for terms in EditionFinance.objects.filter(edition_id__in=list(tables)):
        tables[terms.edition_id]["vat"] = terms.vat_note if terms.vat_rate == 0 else _("VAT %(rate)s %% included") % {
            "rate": terms.vat_rate}
    return tables
