"""Forms of the quality review pages: starting a review, its summary, findings, improvement actions and the
programme board's decision. They read input only; the rules are in ``quality.review``."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from consortium.api import Institution
from programmes.api import partnership_institution_ids

from .models import Finding, ImprovementAction, QualityReview, academic_year_bounds, academic_year_label

TEXTAREA = {"rows": 4}


def year_choice(year: int) -> tuple[int, str]:
    first, last = academic_year_bounds(year)
    return year, _("%(label)s (editions ending %(first)s to %(last)s)") % {
        "label": academic_year_label(year), "first": first.isoformat(), "last": last.isoformat()}


class ReviewStartForm(forms.Form):
    year = forms.TypedChoiceField(label=_("Academic year"), coerce=int, choices=())

    def __init__(self, *args, years=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["year"].choices = [year_choice(y) for y in years]
        self.fields["year"].help_text = _("A review covers the programme's editions that end in the academic year "
                                          "(1 September to 31 August).")


class ReviewSummaryForm(forms.ModelForm):
    class Meta:
        model = QualityReview
        fields = ["summary"]
        widgets = {"summary": forms.Textarea(attrs={"rows": 8})}


class DecisionForm(forms.Form):
    decision = forms.ChoiceField(
        label=_("Decision"), widget=forms.RadioSelect,
        choices=[("approve", _("Approve the review")), ("return", _("Return it to the team"))])
    comment = forms.CharField(label=_("Comments"), required=False, max_length=2000,
                              widget=forms.Textarea(attrs=TEXTAREA),
                              help_text=_("Required when returning the review."))


class FindingForm(forms.ModelForm):
    class Meta:
        model = Finding
        fields = ["kind", "theme", "text"]
        widgets = {"text": forms.Textarea(attrs=TEXTAREA)}


class ActionForm(forms.ModelForm):
    """An action of the plan: the finding it answers among the review's, the owner's institution among the
    programme's lead and partners."""

    class Meta:
        model = ImprovementAction
        fields = ["title", "description", "finding", "owner", "owner_institution", "due_on"]
        widgets = {"description": forms.Textarea(attrs=TEXTAREA), "due_on": forms.DateInput(attrs={"type": "date"})}

    def __init__(self, *args, review: QualityReview, **kwargs):
        super().__init__(*args, **kwargs)
        programme = review.programme
        self.fields["finding"].queryset = Finding.objects.filter(review=review).order_by("position", "created_at")
        self.fields["finding"].label_from_instance = lambda f: f"{f.get_kind_display()}: {f.text[:80]}"
        self.fields["owner_institution"].queryset = Institution.objects.filter(
            pk__in=partnership_institution_ids(programme)).order_by("short_name")
        self.fields["owner_institution"].label_from_instance = lambda i: i.short_name

    def validate_unique(self) -> None:
        """The service validates the saved action (``full_clean``); the form only reads input."""
