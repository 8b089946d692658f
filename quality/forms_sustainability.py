"""Forms of the sustainability pages: they read and type-check what was typed; the rules live in
``quality.sustainability`` and the model's ``clean``."""

from decimal import Decimal

from django import forms
from django.utils.translation import gettext_lazy as _

from consortium.api import Agreement, Institution
from programmes.api import Programme, partnership_institution_ids

from .models import COMMITMENT_YEAR_MAX, COMMITMENT_YEAR_MIN, CommitmentKind

TEXT_MAX = 2000


class CommitmentForm(forms.Form):
    institution = forms.ModelChoiceField(
        label=_("Partner institution"), queryset=Institution.objects.none(),
        help_text=_("The lead institution or a partner of the programme."))
    kind = forms.ChoiceField(label=_("Kind"), choices=CommitmentKind.choices)
    first_year = forms.IntegerField(label=_("First year"), min_value=COMMITMENT_YEAR_MIN,
                                    max_value=COMMITMENT_YEAR_MAX)
    last_year = forms.IntegerField(label=_("Last year"), min_value=COMMITMENT_YEAR_MIN, max_value=COMMITMENT_YEAR_MAX,
                                   help_text=_("Every calendar year from the first to the last is covered."))
    amount = forms.DecimalField(
        label=_("Amount per year"), max_digits=12, decimal_places=2, min_value=Decimal("0"),
        help_text=_("EUR per year for money; hours per year for staff time; the estimated value in EUR per year "
                    "for a contribution in kind (0 if not valued)."))
    description = forms.CharField(
        label=_("Description"), required=False, max_length=TEXT_MAX, widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("What the contribution pays for or consists of (required for contributions in kind)."))
    agreement = forms.ModelChoiceField(
        label=_("Recorded in agreement"), queryset=Agreement.objects.none(), required=False,
        help_text=_("The consortium agreement that records the commitment, if any."))

    def __init__(self, *args, programme: Programme, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["institution"].queryset = Institution.objects.filter(
            pk__in=partnership_institution_ids(programme)).order_by("short_name")
        self.fields["agreement"].queryset = Agreement.objects.filter(
            consortium_id=programme.consortium_id).order_by("title")


class WithdrawForm(forms.Form):
    reason = forms.CharField(label=_("Reason"), required=False, max_length=TEXT_MAX,
                             widget=forms.Textarea(attrs={"rows": 3}),
                             help_text=_("Why the partner withdraws (kept with the commitment)."))
