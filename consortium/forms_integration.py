"""Forms of the integration pages (webhook endpoints)."""

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from . import feed, policy, webhooks
from .models import Institution, Role


class WebhookForm(forms.Form):
    institution = forms.ModelChoiceField(label=_("Institution"), queryset=Institution.objects.none())
    url = forms.URLField(
        label=_("URL"), max_length=500, assume_scheme="https",
        help_text=_("An https:// address on the public internet. Deliveries are POSTed there, signed."),
    )
    description = forms.CharField(label=_("Description"), max_length=200, required=False,
                                  help_text=_("e.g. 'Student information system, production'"))
    event_types = forms.MultipleChoiceField(label=_("Events"), widget=forms.CheckboxSelectMultiple,
                                            choices=feed.event_type_choices())

    def __init__(self, *args, user, endpoint=None, **kwargs):
        super().__init__(*args, **kwargs)
        if endpoint is not None:
            del self.fields["institution"]  # an endpoint stays with its institution
            self.initial.update(url=endpoint.url, description=endpoint.description,
                                event_types=endpoint.event_types)
        else:
            self.fields["institution"].queryset = Institution.objects.filter(
                id__in=policy.actor_for(user).institutions_with_role(Role.INSTITUTION_ADMIN))

    def clean_url(self):
        url = self.cleaned_data["url"]
        try:
            webhooks.validate_url(url)
        except ValidationError as exc:
            raise forms.ValidationError(exc.messages) from None
        return url
