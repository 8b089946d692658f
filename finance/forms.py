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
