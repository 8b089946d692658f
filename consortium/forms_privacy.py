from django import forms
from django.utils.translation import gettext_lazy as _

from .models import ErasureStatus, User


class ErasureAskForm(forms.Form):
    reason = forms.CharField(label=_("Anything we should know (optional)"), required=False,
                             widget=forms.Textarea(attrs={"rows": 3}), max_length=2000)


class ErasureRecordForm(forms.Form):
    """An administrator records a request received by email or letter."""

    email = forms.EmailField(label=_("Email of the person's account"))
    reason = forms.CharField(label=_("How the request reached us, and what it says"), required=False,
                             widget=forms.Textarea(attrs={"rows": 3}), max_length=2000)

    def clean_email(self) -> User:
        user = User.objects.filter(email__iexact=self.cleaned_data["email"].strip()).first()
        if user is None:
            raise forms.ValidationError(_("No account has this email address."))
        return user


class ErasureDecisionForm(forms.Form):
    note = forms.CharField(label=_("Note"), required=False, widget=forms.Textarea(attrs={"rows": 3}),
                           max_length=2000)


class ErasureRefuseForm(forms.Form):
    note = forms.CharField(label=_("Reason for the refusal (shown to the person)"),
                           widget=forms.Textarea(attrs={"rows": 3}), max_length=2000)


class ErasureFilterForm(forms.Form):
    status = forms.ChoiceField(choices=[("", _("Any status")), *ErasureStatus.choices], required=False)


class EsiForm(forms.Form):
    esi = forms.CharField(
        label=_("European Student Identifier"), required=False, max_length=255,
        help_text=_("The identifier your university gave you for studying abroad (from MyAcademicID or your "
                    "university's account page), e.g. urn:schac:personalUniqueCode:int:esi:es:12345678Z. Leave empty "
                    "to remove it."))
