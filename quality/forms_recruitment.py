"""Recruitment forms: they read what was typed; the rules (codes, segments of the consortium, editions of the
programme) live in ``quality.recruitment`` and come back as form errors."""

from __future__ import annotations

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from .models import CAMPAIGN_CODE_MAX, Channel, Segment


class SegmentForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=80)
    description = forms.CharField(
        label=_("Who belongs to it"), required=False, widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_("The profile in a few lines: background, experience, what they look for. Campaign owners read "
                    "it when they choose the segment a campaign aims at."))
    position = forms.IntegerField(label=_("Position in lists"), required=False, min_value=0, max_value=32767,
                                  help_text=_("Leave empty to put a new segment last."))
    active = forms.BooleanField(
        label=_("Active: offered for new campaigns"), required=False, initial=True,
        help_text=_("Untick to archive the segment. Segments are never deleted: an archived one keeps its "
                    "campaigns and their figures."))

    def __init__(self, *args, editing: bool = False, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        if not editing:
            del self.fields["active"]  # a new segment is active

    def service_data(self) -> dict:
        data = dict(self.cleaned_data)
        if data.get("position") is None:
            data.pop("position", None)
        return data


class ChoiceOf(forms.ModelChoiceField):
    """A record chosen among ``queryset``; a value that is not even an id gets the field's own "invalid choice"
    message too, not the primary key's "not a valid UUID"."""

    def to_python(self, value):
        try:
            return super().to_python(value)
        except ValidationError as exc:
            if getattr(exc, "code", None) == "invalid_choice":
                raise
            raise ValidationError(self.error_messages["invalid_choice"], code="invalid_choice") from exc


class SegmentChoiceField(ChoiceOf):
    def label_from_instance(self, obj: Segment) -> str:
        return obj.name if obj.active else _("%(name)s (archived)") % {"name": obj.name}


class CampaignForm(forms.Form):
    """A campaign of ``programme``: its segments are the consortium's active ones (and, when editing, the
    campaign's own even if archived since), its editions the programme's."""

    name = forms.CharField(label=_("Name"), max_length=120)
    code = forms.CharField(
        label=_("Code"), widget=forms.TextInput(attrs={"maxlength": CAMPAIGN_CODE_MAX, "class": "mono"}),
        help_text=_("Lower-case letters, digits and hyphens, e.g. 'spring-2027-linkedin'. It is the link's "
                    "utm_campaign, unique across the platform, and cannot be changed later."))
    segment = SegmentChoiceField(
        label=_("Target segment"), queryset=Segment.objects.none(), empty_label=_("Choose a segment"),
        error_messages={"invalid_choice": _("Choose one of the active segments of this programme's consortium.")})
    channel = forms.ChoiceField(label=_("Channel"), choices=Channel.choices,
                                help_text=_("Where the link is published (the link's utm_medium)."))
    source = forms.CharField(
        label=_("Source"), required=False, widget=forms.TextInput(attrs={"maxlength": CAMPAIGN_CODE_MAX}),
        help_text=_("Where exactly, e.g. 'linkedin' or 'alumni-newsletter' (the link's utm_source). Leave empty "
                    "to use the channel."))
    edition = ChoiceOf(
        label=_("Edition"), required=False, queryset=None, empty_label=_("All editions (the programme as a whole)"),
        error_messages={"invalid_choice": _("Choose an edition of this programme.")})
    description = forms.CharField(label=_("Notes"), required=False, widget=forms.Textarea(attrs={"rows": 3}))

    def __init__(self, *args, programme, segment=None, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        segments = Segment.objects.filter(consortium_id=programme.consortium_id, active=True)
        if segment is not None:
            segments = Segment.objects.filter(consortium_id=programme.consortium_id).filter(
                pk__in=[*segments.values_list("pk", flat=True), segment.pk])
        self.fields["segment"].queryset = segments.order_by("position", "name")
        self.fields["edition"].queryset = programme.editions.order_by("-application_opens_at", "-starts_on")
        self.fields["edition"].label_from_instance = lambda e: e.intake_code
        if segment is not None:  # editing: the code is the campaign's for good
            self.fields["code"].disabled = True
            self.fields["code"].help_text = _("The code of a campaign never changes: its links are published.")

    def service_data(self) -> dict:
        data = dict(self.cleaned_data)
        if self.fields["code"].disabled:
            data.pop("code", None)
        return data


class CampaignFilterForm(forms.Form):
    """The campaign list's filters (by segment and channel); an invalid value is an error shown above the list
    and is not applied."""

    segment = SegmentChoiceField(label=_("Segment"), required=False, queryset=Segment.objects.none(),
                                 empty_label=_("Every segment"),
                                 error_messages={"invalid_choice": _("There is no such segment.")})
    channel = forms.ChoiceField(label=_("Channel"), required=False,
                                choices=[("", _("Every channel")), *Channel.choices],
                                error_messages={"invalid_choice": _("There is no such channel.")})

    def __init__(self, *args, programme, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["segment"].queryset = Segment.objects.filter(
            consortium_id=programme.consortium_id).order_by("position", "name")

    def filters(self) -> dict:
        if not self.is_valid():
            return {}
        return {key: value for key, value in self.cleaned_data.items() if value}
