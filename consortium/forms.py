from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from . import identifiers, policy
from .models import (
    AgreementKind,
    AgreementVersion,
    Consortium,
    ContactService,
    Institution,
    MembershipRole,
    RevenueModel,
    Role,
    SharingBasis,
    Via,
)
from .services import CONSORTIUM_FIELDS, INSTITUTION_FIELDS, SECTION_FIELDS
from .uploads import validate_pdf_upload


class DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self, **kwargs):
        super().__init__(format="%Y-%m-%d", **kwargs)


class InstitutionForm(forms.ModelForm):
    class Meta:
        model = Institution
        fields = list(INSTITUTION_FIELDS)
        widgets = {
            "logo": forms.ClearableFileInput(attrs={"accept": "image/png,image/jpeg"}),
            "signatory_signature": forms.ClearableFileInput(attrs={"accept": "image/png,image/jpeg"}),
        }

    # The codes in their canonical spelling before the model checks their format (``b leuven01`` → ``B  LEUVEN01``).
    def clean_erasmus_code(self) -> str:
        return identifiers.normalise_erasmus_code(self.cleaned_data.get("erasmus_code", ""))

    def clean_schac_code(self) -> str:
        return identifiers.normalise_schac_code(self.cleaned_data.get("schac_code", ""))


class ContactForm(forms.Form):
    service = forms.ChoiceField(label=_("Service"), choices=ContactService.choices)
    name = forms.CharField(label=_("Name"), max_length=255)
    email = forms.EmailField(label=_("Email"))
    phone = forms.CharField(label=_("Phone"), max_length=40, required=False)


class ConsortiumForm(forms.ModelForm):
    class Meta:
        model = Consortium
        fields = list(CONSORTIUM_FIELDS)


class MembershipForm(forms.Form):
    institution = forms.ModelChoiceField(label=_("Institution"), queryset=Institution.objects.none())
    role = forms.ChoiceField(label=_("Role"), choices=MembershipRole.choices)
    joined_on = forms.DateField(label=_("Joined on"), widget=DateInput(), initial=timezone.localdate)

    def __init__(self, *args, consortium: Consortium, **kwargs):
        super().__init__(*args, **kwargs)
        current = consortium.memberships.filter(left_on__isnull=True).values("institution_id")
        self.fields["institution"].queryset = Institution.objects.exclude(id__in=current)


class MembershipEndForm(forms.Form):
    left_on = forms.DateField(label=_("Left on"), widget=DateInput(), initial=timezone.localdate)


class AgreementForm(forms.Form):
    kind = forms.ChoiceField(label=_("Kind"), choices=AgreementKind.choices)
    title = forms.CharField(label=_("Title"), max_length=255)
    reference = forms.CharField(label=_("Reference"), max_length=64, required=False)
    parties = forms.ModelMultipleChoiceField(
        label=_("Parties"),
        queryset=Institution.objects.none(),
        widget=forms.CheckboxSelectMultiple,
        required=False,
        help_text=_("Members of the consortium who sign this agreement."),
    )

    def __init__(self, *args, consortium: Consortium, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["parties"].queryset = Institution.objects.filter(
            memberships__consortium=consortium, memberships__left_on__isnull=True
        ).order_by("short_name")


class AgreementSectionsForm(forms.ModelForm):
    class Meta:
        model = AgreementVersion
        fields = [*SECTION_FIELDS, "effective_until"]
        widgets = {**{f: forms.Textarea(attrs={"rows": 4}) for f in SECTION_FIELDS}, "effective_until": DateInput()}


class PartyAddForm(forms.Form):
    institution = forms.ModelChoiceField(label=_("Institution"), queryset=Institution.objects.none())

    def __init__(self, *args, version: AgreementVersion, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["institution"].queryset = (
            Institution.objects.filter(
                memberships__consortium_id=version.agreement.consortium_id, memberships__left_on__isnull=True
            )
            .exclude(agreement_parties__version=version)
            .order_by("short_name")
        )


class FinancialModelForm(forms.Form):
    revenue_model = forms.ChoiceField(label=_("Revenue model"), choices=RevenueModel.choices)
    collecting_institution = forms.ModelChoiceField(
        label=_("Collecting partner"), queryset=Institution.objects.none(), required=False
    )
    sharing_basis = forms.ChoiceField(
        label=_("Sharing basis"), choices=[("", "—"), *SharingBasis.choices], required=False
    )
    costs_shared = forms.BooleanField(label=_("Partners see each other's cost lines"), required=False)

    def __init__(self, *args, version: AgreementVersion, **kwargs):
        super().__init__(*args, **kwargs)
        self.parties = [p.institution for p in version.parties.select_related("institution")]
        self.fields["collecting_institution"].queryset = Institution.objects.filter(id__in=[i.id for i in self.parties])
        current = {s.institution_id: s.percent for s in version.revenue_shares.all()}
        for institution in self.parties:
            self.fields[f"share_{institution.id}"] = forms.DecimalField(
                label=_("Share of %(name)s (%%)") % {"name": institution.short_name},
                max_digits=5,
                decimal_places=2,
                min_value=0,
                max_value=100,
                required=False,
                initial=current.get(institution.id),
            )

    def shares(self):
        return {
            i: self.cleaned_data[f"share_{i.id}"]
            for i in self.parties
            if self.cleaned_data.get(f"share_{i.id}") is not None
        }


class SignatureForm(forms.Form):
    institution = forms.ModelChoiceField(label=_("Signing party"), queryset=Institution.objects.none())
    signed_by_name = forms.CharField(label=_("Signed by"), max_length=255)
    signed_by_title = forms.CharField(label=_("Title"), max_length=255)
    signed_on = forms.DateField(label=_("Signed on"), widget=DateInput(), initial=timezone.localdate)
    signed_pdf = forms.FileField(
        label=_("Signed PDF"),
        validators=[validate_pdf_upload],
        widget=forms.ClearableFileInput(attrs={"accept": "application/pdf"}),
    )

    def __init__(self, *args, version: AgreementVersion, user, **kwargs):
        super().__init__(*args, **kwargs)
        signed = version.signatures.values("institution_id")
        parties = version.parties.select_related("institution", "version__agreement").exclude(institution_id__in=signed)
        allowed = [p.institution_id for p in parties if policy.can(user, "agreement.sign", p)]
        self.fields["institution"].queryset = Institution.objects.filter(id__in=allowed)


class TerminateForm(forms.Form):
    reason = forms.CharField(label=_("Reason"), widget=forms.Textarea(attrs={"rows": 3}), max_length=2000)
    terminated_on = forms.DateField(label=_("Terminated on"), widget=DateInput(), initial=timezone.localdate)


class AddendumForm(forms.Form):
    institution = forms.ModelChoiceField(label=_("Joining institution"), queryset=Institution.objects.none())
    role = forms.ChoiceField(
        label=_("Role"),
        choices=[
            (MembershipRole.PARTNER, MembershipRole.PARTNER.label),
            (MembershipRole.ASSOCIATED, MembershipRole.ASSOCIATED.label),
        ],
    )
    summary = forms.CharField(label=_("Terms of accession"), widget=forms.Textarea(attrs={"rows": 4}))

    def __init__(self, *args, version: AgreementVersion, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["institution"].queryset = (
            Institution.objects.filter(
                memberships__consortium_id=version.agreement.consortium_id, memberships__left_on__isnull=True
            )
            .exclude(agreement_parties__version=version)
            .order_by("short_name")
        )


class AddendumInForceForm(forms.Form):
    effective_from = forms.DateField(label=_("Effective from"), widget=DateInput(), initial=timezone.localdate)
    signed_pdf = forms.FileField(label=_("Signed addendum (PDF)"), validators=[validate_pdf_upload])


class ApiTokenForm(forms.Form):
    institution = forms.ModelChoiceField(label=_("Institution"), queryset=Institution.objects.none())
    name = forms.CharField(label=_("Name"), max_length=100, help_text=_("e.g. 'Student information system'"))
    scopes = forms.MultipleChoiceField(label=_("Scopes"), widget=forms.CheckboxSelectMultiple)
    expires_on = forms.DateField(
        label=_("Expires on"), widget=DateInput(), required=False, help_text=_("Leave empty for one year.")
    )

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        actor = policy.actor_for(user)
        self.fields["institution"].queryset = Institution.objects.filter(
            id__in=actor.institutions_with_role(Role.INSTITUTION_ADMIN)
        )
        self.fields["scopes"].choices = [(s, s) for s in policy.api_scopes()]

    def clean_expires_on(self):
        value = self.cleaned_data.get("expires_on")
        if value is not None and value <= timezone.localdate():
            raise forms.ValidationError(_("The expiry date must be in the future."))
        return value


class StaffAddForm(forms.Form):
    institution = forms.ModelChoiceField(label=_("Institution"), queryset=Institution.objects.none())
    email = forms.EmailField(label=_("Email"))
    full_name = forms.CharField(label=_("Full name"), max_length=255)
    job_title = forms.CharField(label=_("Job title"), max_length=255, required=False)

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        actor = policy.actor_for(user)
        self.fields["institution"].queryset = Institution.objects.filter(
            id__in=actor.institutions_with_role(Role.INSTITUTION_ADMIN)
        )


INSTITUTION_ROLES = [(r.value, r.label) for r in (Role.INSTITUTION_ADMIN, Role.STUDENT_ADMIN, Role.FINANCE_OFFICER,
                                                  Role.QUALITY_OFFICER)]


class RoleGrantForm(forms.Form):
    role = forms.ChoiceField(label=_("Role"), choices=INSTITUTION_ROLES)


#: The most audit entries one CSV export holds (narrow the filters for more).
AUDIT_EXPORT_LIMIT = 50_000


class AuditFilterForm(forms.Form):
    action = forms.CharField(label=_("Action"), required=False, max_length=100,
                             widget=forms.TextInput(attrs={"placeholder": "agreement."}))
    actor = forms.CharField(label=_("Actor"), required=False, max_length=255)
    object = forms.CharField(label=_("Object"), required=False, max_length=255,
                             help_text=_("Its id, or words of its name."))
    via = forms.ChoiceField(label=_("Via"), required=False, choices=[("", _("Any")), *Via.choices])
    since = forms.DateField(label=_("From"), required=False, widget=forms.DateInput(attrs={"type": "date"}))
    until = forms.DateField(label=_("Until"), required=False, widget=forms.DateInput(attrs={"type": "date"}))

    def clean(self):
        data = super().clean()
        if data.get("since") and data.get("until") and data["since"] > data["until"]:
            raise forms.ValidationError(_("The start date is after the end date."))
        return data
