"""Forms of the staff pages of admissions. They collect input; the rules live in ``admissions.services``."""

from __future__ import annotations

import json
import uuid

from django import forms
from django.utils.translation import gettext_lazy as _

from consortium import csv_import
from consortium.api import Institution

from . import exchange
from .models import (
    AdmissionFramework,
    ApplicationStatus,
    Assessment,
    Criterion,
    RegistrationStatus,
    Route,
)
from .selectors import QueueFilters

SORT_CHOICES = [
    ("submitted", _("Submitted (oldest first)")),
    ("-submitted", _("Submitted (newest first)")),
    ("name", _("Name (A–Z)")),
    ("-name", _("Name (Z–A)")),
    ("status", _("Status")),
    ("-status", _("Status (reversed)")),
]

BULK_ACTIONS = [
    ("review", _("Start the review")),
    ("admit", _("Admit")),
    ("waitlist", _("Waitlist")),
    ("reject", _("Reject")),
]


class FrameworkForm(forms.ModelForm):
    """Who reviews, how long an offer stays valid, and whether payment gates the enrolment."""

    class Meta:
        model = AdmissionFramework
        fields = ["reviewing_institution", "offer_valid_days", "payment_required"]

    def __init__(self, *args, edition, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["reviewing_institution"].queryset = Institution.objects.filter(
            pk__in=edition.programme.partners.values("institution_id")
        ).order_by("short_name")
        self.fields["reviewing_institution"].label_from_instance = lambda i: f"{i.legal_name} ({i.short_name})"
        self.fields["reviewing_institution"].help_text = _(
            "One institution reviews the eligibility of all applicants, for equal treatment. Only institutions "
            "participating in the programme can review."
        )


class CriterionForm(forms.ModelForm):
    class Meta:
        model = Criterion
        fields = [
            "kind", "description", "language", "min_cefr", "accepted_proofs", "min_eqf_level", "min_years", "field",
            "document_label",
        ]
        widgets = {
            "description": forms.Textarea(attrs={"rows": 2}),
            "accepted_proofs": forms.Textarea(attrs={"rows": 2}),
        }
        help_texts = {
            "language": _("For language criteria: an ISO 639-1 code, e.g. 'en'."),
            "accepted_proofs": _("For language criteria: the certificates or evidence accepted."),
            "min_eqf_level": _("For prior degree criteria."),
            "min_years": _("For experience criteria."),
            "field": _("For experience criteria: the field of the experience."),
        }


class QueueFilterForm(forms.Form):
    """The GET parameters of the review queue. Invalid values are ignored rather than refused."""

    q = forms.CharField(label=_("Search"), required=False, max_length=200)
    status = forms.ChoiceField(label=_("Status"), required=False,
                               choices=[("", _("Any (submitted and later)")), *ApplicationStatus.choices])
    criterion = forms.ChoiceField(label=_("Criterion"), required=False)
    assessment = forms.ChoiceField(label=_("Assessment"), required=False,
                                   choices=[("", _("Any")), *Assessment.choices])
    nationality = forms.ChoiceField(label=_("Nationality"), required=False)
    route = forms.ChoiceField(label=_("Route"), required=False, choices=[("", _("Any")), *Route.choices])
    duplicate = forms.BooleanField(label=_("Possible duplicates only"), required=False)
    sort = forms.ChoiceField(label=_("Sort by"), required=False, choices=SORT_CHOICES)

    def __init__(self, *args, criteria, nationalities, **kwargs):
        super().__init__(*args, **kwargs)
        self.criteria = list(criteria)  # choices from the list already loaded: no query to validate or render
        self.fields["criterion"].choices = [("", _("All criteria")), *((str(c.pk), str(c)) for c in self.criteria)]
        self.fields["nationality"].choices = [("", _("Any")), *nationalities]

    def filters(self) -> QueueFilters:
        self.is_valid()
        data = self.cleaned_data  # the valid parameters only: an invalid one is ignored
        criterion_id = data.get("criterion") or ""
        return QueueFilters(
            status=data.get("status") or "",
            search=(data.get("q") or "").strip(),
            nationality=data.get("nationality") or "",
            route=data.get("route") or "",
            duplicate=bool(data.get("duplicate")),
            criterion=next((c for c in self.criteria if str(c.pk) == criterion_id), None),
            assessment=data.get("assessment") or "",
            sort=data.get("sort") or "submitted",
        )


class UUIDListField(forms.Field):
    """The ids of the rows ticked in a list (``<input type=checkbox name=ids value=…>``)."""

    widget = forms.MultipleHiddenInput
    default_error_messages = {
        "required": _("Select at least one application."),
        "invalid": _("The selection is not valid; reload the page and try again."),
    }

    def to_python(self, value):
        if not value:
            return []
        try:
            return [uuid.UUID(str(v)) for v in value]
        except ValueError as exc:
            raise forms.ValidationError(self.error_messages["invalid"], code="invalid") from exc


class BulkForm(forms.Form):
    action = forms.ChoiceField(label=_("Action"), choices=BULK_ACTIONS)
    reason = forms.CharField(label=_("Reason (required to reject; the applicants read it)"), required=False,
                             widget=forms.Textarea(attrs={"rows": 2}))
    ids = UUIDListField(label=_("Applications"))


class MessageForm(forms.Form):
    subject = forms.CharField(label=_("Subject"), max_length=255)
    body = forms.CharField(
        label=_("Message"), widget=forms.Textarea(attrs={"rows": 6}),
        help_text=_("Placeholders: {{ given_names }}, {{ family_names }}, {{ programme }} and {{ status }} are "
                    "replaced for each applicant."),
    )


class TransitionForm(forms.Form):
    """The optional text sent with a decision (a reason, or the information requested)."""

    reason = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 2}))


class AssessForm(forms.Form):
    criterion = forms.UUIDField(widget=forms.HiddenInput)
    result = forms.ChoiceField(label=_("Assessment"), choices=Assessment.choices)
    note = forms.CharField(label=_("Note"), required=False, widget=forms.Textarea(attrs={"rows": 1}))


class RegistrationForm(forms.Form):
    """A partner's registration of an enrolled learner (the service checks the student number)."""

    status = forms.ChoiceField(label=_("Status"), choices=RegistrationStatus.choices)
    external_student_number = forms.CharField(label=_("Student number"), max_length=64, required=False,
                                              help_text=_("Required once the learner is registered."))
    message = forms.CharField(label=_("Message"), max_length=255, required=False)


class ExemptionDecideForm(forms.Form):
    decision = forms.ChoiceField(label=_("Decision"), widget=forms.RadioSelect,
                                 choices=[("grant", _("Grant the exemption")), ("refuse", _("Refuse"))])
    ects_recognised = forms.DecimalField(
        label=_("ECTS recognised"), required=False, max_digits=4, decimal_places=1, min_value=0,
        help_text=_("When granting: leave empty to recognise the course's full ECTS."))
    reason = forms.CharField(label=_("Reason"), required=False, widget=forms.Textarea(attrs={"rows": 2}),
                             help_text=_("Required to refuse; the learner reads it."))


class ApplicantImportForm(forms.Form):
    """A partner's file of applicants (CSV, or JSON): read here, checked row by row by ``exchange.applications_import``.
    """

    file = forms.FileField(
        label=_("File of applicants (CSV or JSON)"),
        help_text=_("A header row with given_names, family_names and email, and any other field of the "
                    "application. UTF-8; comma or semicolon separated; other columns are ignored. Or a JSON list of "
                    "objects with the same names."),
    )

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if upload.size > csv_import.MAX_BYTES:
            raise forms.ValidationError(_("The file is larger than 2 MB; split it."))
        data = upload.read()
        self.source = "csv"
        if upload.name.lower().endswith(".json") or data.lstrip(b"\xef\xbb\xbf \t\r\n")[:1] in (b"[", b"{"):
            self.source = "json"
            try:
                items = json.loads(data.decode("utf-8-sig"))
            except (UnicodeDecodeError, ValueError) as exc:
                raise forms.ValidationError(_("The file is not valid JSON: %(error)s") % {"error": exc}) from exc
            if isinstance(items, dict):
                items = items.get("applicants")
            if not isinstance(items, list) or not items or not all(isinstance(i, dict) for i in items):
                raise forms.ValidationError(_("A JSON file holds a list of applicants (objects), or "
                                              "{\"applicants\": [...]}."))
            return exchange.read_items(items), []
        return exchange.read_csv(data)
