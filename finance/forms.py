"""Finance forms: they read what was typed; the rules live in the services."""

from decimal import Decimal

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class PaymentForm(forms.Form):
    amount = forms.DecimalField(label=_("Amount (EUR)"), max_digits=12, decimal_places=2, min_value=Decimal("0.01"))
    received_on = forms.DateField(label=_("Received on"), initial=timezone.localdate,
                                  widget=forms.DateInput(attrs={"type": "date"}))
    reference = forms.CharField(label=_("Bank reference"), max_length=128, required=False)


class CreditNoteForm(forms.Form):
    amount = forms.DecimalField(label=_("Amount to credit (EUR)"), max_digits=12, decimal_places=2,
                                min_value=Decimal("0.01"))
    reason = forms.CharField(label=_("Reason"), max_length=255)


class ListField(forms.CharField):
    """A list typed as text, one item per line or separated by commas (email domains, learners' emails)."""

    widget = forms.Textarea(attrs={"rows": 3})

    def prepare_value(self, value):
        return "\n".join(value) if isinstance(value, list) else value

    def to_python(self, value):
        text = super().to_python(value) or ""
        return [item.strip() for item in text.replace(",", "\n").splitlines() if item.strip()]


class _ModelForm(forms.ModelForm):
    """Reads and type-checks the fields; the service validates the whole record and saves it."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for name in ("email_domains", "learner_emails"):
            if name in self.fields:
                old = self.fields[name]
                self.fields[name] = ListField(label=old.label, required=False, help_text=old.help_text)


def model_form(model, fields, widgets=None, labels=None):
    meta = type("Meta", (), {"model": model, "fields": fields, "widgets": widgets or {}, "labels": labels or {}})
    return type(f"{model.__name__}Form", (_ModelForm,), {"Meta": meta})


def _date():
    return forms.DateInput(attrs={"type": "date"})


def edition_forms():
    from .models import CostLine, Discount, EditionFinance, Fee, Grant, PlanYear, Sponsorship
    from .services import (
        COST_LINE_FIELDS,
        DISCOUNT_FIELDS,
        FEE_FIELDS,
        GRANT_FIELDS,
        PLAN_FIELDS,
        SPONSORSHIP_FIELDS,
        TERMS_FIELDS,
    )

    return {
        "fee": model_form(Fee, FEE_FIELDS),
        "discount": model_form(Discount, DISCOUNT_FIELDS, widgets={"valid_until": _date()}),
        "sponsor": model_form(Sponsorship, SPONSORSHIP_FIELDS),
        "grant": model_form(Grant, GRANT_FIELDS),
        "terms": model_form(EditionFinance, TERMS_FIELDS),
        "cost": model_form(CostLine, COST_LINE_FIELDS),
        "plan": model_form(PlanYear, PLAN_FIELDS),
    }
