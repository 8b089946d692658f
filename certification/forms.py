"""Forms of the certification pages. The rules live in the services; these only read what was typed."""

from django import forms
from django.conf import settings
from django.utils.translation import gettext_lazy as _

from consortium.api import validate_upload


class AwardForm(forms.Form):
    """Award one learner (``enrolment``) or, without it, every eligible learner of the edition."""

    enrolment = forms.UUIDField(required=False, widget=forms.HiddenInput)


class RevokeForm(forms.Form):
    reason = forms.CharField(
        label=_("Reason for the revocation"),
        widget=forms.Textarea(attrs={"rows": 3}),
        max_length=2000,
        help_text=_("Shown on the public verification page of this credential."),
    )


class ReissueForm(forms.Form):
    reason = forms.CharField(
        label=_("What was corrected"),
        widget=forms.Textarea(attrs={"rows": 3}),
        max_length=2000,
        help_text=_("A new version is issued from the current data; this one becomes superseded."),
    )


class VerifyUploadForm(forms.Form):
    file = forms.FileField(
        label=_("The PDF you received"),
        help_text=_("We compare its SHA-256 fingerprint with the documents we issued. The file is not stored."),
        widget=forms.ClearableFileInput(attrs={"accept": "application/pdf,.pdf"}),
    )

    def clean_file(self):
        file = self.cleaned_data["file"]
        validate_upload(file, ("pdf",), settings.UPLOAD_MAX_BYTES, active_content_ok=True)  # read, never opened
        return file


class ExportForm(forms.Form):
    """Which partner's export of an edition to download, and as what (a GET form)."""

    institution = forms.ModelChoiceField(
        queryset=None, label=_("Partner institution"), empty_label=None,
        help_text=_("The file holds every enrolment of the edition with its approved results and award; the grades "
                    "are also given on this institution's own scale."),
    )

    def __init__(self, *args, institutions, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["institution"].queryset = institutions
        self.fields["institution"].label_from_instance = lambda i: f"{i.short_name} — {i.legal_name}"
        self.fields["as"] = forms.ChoiceField(label=_("Format"), choices=[("csv", _("CSV (spreadsheet)")),
                                                                          ("json", _("JSON"))], initial="csv")
