"""Forms of the learner's side of admissions. They check the shape of the answers; the services decide.

File uploads are checked by content (PDF, JPEG, PNG) and size in the services, before anything is saved;
the forms only offer the inputs and say what is accepted.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from django import forms
from django.conf import settings
from django.template.defaultfilters import filesizeformat, floatformat
from django.utils.translation import gettext_lazy as _

from programmes.api import Course, Edition

from .models import Application, Criterion
from .services import APPLICANT_FIELDS, REQUIRED_TO_SUBMIT

#: What the file inputs offer to the browser's file picker (the service checks the content).
ACCEPT = "application/pdf,image/jpeg,image/png,.pdf,.jpg,.jpeg,.png"

EQF_CHOICES = [
    ("", _("— choose —")),
    (1, _("EQF 1–3: basic or lower secondary education")),
    (4, _("EQF 4: upper secondary education (school-leaving certificate)")),
    (5, _("EQF 5: short-cycle higher education")),
    (6, _("EQF 6: bachelor's degree or equivalent")),
    (7, _("EQF 7: master's degree or equivalent")),
    (8, _("EQF 8: doctorate")),
]


def upload_help() -> str:
    """The accepted files, with the size limit read from the settings when the form is built."""
    return _("PDF, JPEG or PNG, at most %(limit)s.") % {"limit": filesizeformat(settings.UPLOAD_MAX_BYTES)}


class DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self, **kwargs):
        super().__init__(format="%Y-%m-%d", **kwargs)


def _file_input() -> forms.FileInput:
    return forms.FileInput(attrs={"accept": ACCEPT})


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    """Several files in one input (the list is empty when none was chosen)."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("widget", MultipleFileInput(attrs={"accept": ACCEPT}))
        super().__init__(*args, **kwargs)

    def clean(self, data, initial=None):
        single = super().clean
        if isinstance(data, list | tuple):
            return [single(d, initial) for d in data if d]
        return [single(data, initial)] if data else []


class ApplicationForm(forms.ModelForm):
    """Everything the application asks for, on one page: the answers, then one upload per required document.

    Drafts may be incomplete; what a submission needs is checked by ``services.submission_problems``.
    """

    highest_eqf_level = forms.TypedChoiceField(
        label=_("EQF level of your highest qualification"), choices=EQF_CHOICES, coerce=int, empty_value=None,
        required=False,
        help_text=_("The European Qualifications Framework level of your highest completed qualification; "
                    "it is usually printed on your diploma supplement."))
    esi = forms.CharField(
        label=_("European Student Identifier (optional)"), required=False, max_length=255,
        help_text=_("If your university gave you a European Student Identifier (ESI), e.g. "
                    "urn:schac:personalUniqueCode:int:esi:es:12345678Z: it identifies you to the partner universities "
                    "and on your digital credential. It is kept with your account (also on “My data”)."))
    other_document = forms.FileField(label=_("Other document (optional)"), required=False, widget=_file_input())
    other_label = forms.CharField(
        label=_("What is the other document?"), required=False, max_length=200,
        help_text=_("For example: reference letter, CV, certificate of employment."))

    class Meta:
        model = Application
        fields = list(APPLICANT_FIELDS)
        widgets = {
            "date_of_birth": DateInput(),
            "track": forms.RadioSelect,
            "route": forms.RadioSelect,
            "education": forms.Textarea(attrs={"rows": 3}),
            "experience": forms.Textarea(attrs={"rows": 3}),
            "language_proofs": forms.Textarea(attrs={"rows": 3}),
            "motivation": forms.Textarea(attrs={"rows": 5}),
        }
        help_texts = {
            "given_names": _("Exactly as on your passport or identity card: the certificate will carry these names."),
            "family_names": _("Exactly as on your passport or identity card, including every family name."),
            "email": _("We write to this address about your application."),
            "participant_profile": _("Fees and support can differ by profile."),
            "track": _("Assessed: you take the assessments and, when you pass, receive a certificate with ECTS "
                       "credits that universities can recognise. Attendance only: no assessment and no credits; "
                       "you receive a certificate of attendance."),
            "employer_sponsor": _("If your employer pays for or sponsors your participation: its name."),
            "route": _("Choose the alternative route if you have no formal degree at the required level but "
                       "relevant learning or experience; the alternative-route documents are then needed."),
            "education": _("Degrees and diplomas: title, institution, year."),
            "experience": _("Jobs and responsibilities related to the programme."),
            "language_proofs": _("Your level in the programme's language and the proof you have (test, degree)."),
            "motivation": _("Why you apply and what you want to do with what you learn."),
        }

    def __init__(self, *args, criteria: Iterable[Criterion] = (), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["participant_profile"].choices = [("", _("— choose —")),
                                                      *self.fields["participant_profile"].choices[1:]]
        self.needed_to_submit = set(REQUIRED_TO_SUBMIT)
        self.document_fields: list[tuple[str, Criterion]] = []
        help_text = upload_help()
        for criterion in criteria:
            if not criterion.document_label:
                continue
            name = f"document_{criterion.pk.hex}"
            self.fields[name] = forms.FileField(label=criterion.document_label, required=False,
                                                widget=_file_input(), help_text=help_text)
            self.document_fields.append((name, criterion))
        self.fields["other_document"].help_text = help_text
        if not self.is_bound and self.instance.applicant_id:
            self.initial.setdefault("esi", self.instance.applicant.esi)

    def answers(self) -> dict[str, Any]:
        return {name: self.cleaned_data.get(name) for name in APPLICANT_FIELDS}

    def esi_value(self) -> str:
        return (self.cleaned_data.get("esi") or "").strip()

    def other_document_label(self) -> str:
        return (self.cleaned_data.get("other_label") or "").strip() or str(_("Other document"))

    def uploads(self) -> list[tuple[str, Any, Criterion | None]]:
        """(label, upload, criterion) for each file chosen, in the order of the form."""
        chosen = [(criterion.document_label, self.cleaned_data.get(name), criterion)
                  for name, criterion in self.document_fields]
        chosen.append((self.other_document_label(), self.cleaned_data.get("other_document"), None))
        return [(label, upload, criterion) for label, upload, criterion in chosen if upload]

    def add_document_errors(self, errors: Sequence[str]) -> None:
        """Put each refused file's message (``"<label>: <reason>"`` from the service) next to its input."""
        targets = [(criterion.document_label, name) for name, criterion in self.document_fields]
        if self.is_bound and self.cleaned_data.get("other_document"):
            targets.append((self.other_document_label(), "other_document"))
        targets.sort(key=lambda t: len(t[0]), reverse=True)  # the longest label wins when one prefixes another
        for error in errors:
            for label, name in targets:
                if error.startswith(f"{label}: ") and self.cleaned_data.get(name):
                    self.add_error(name, error[len(label) + 2:])
                    break
            else:
                self.add_error(None, error)

    def bound_document_fields(self) -> list[tuple[forms.BoundField, Criterion]]:
        return [(self[name], criterion) for name, criterion in self.document_fields]

    def answer_fields(self) -> list[forms.BoundField]:
        return [self[name] for name in APPLICANT_FIELDS]


class WithdrawForm(forms.Form):
    reason = forms.CharField(label=_("Reason (optional)"), required=False, max_length=2000,
                             widget=forms.Textarea(attrs={"rows": 3}),
                             help_text=_("It helps the programme team; it is kept with your application."))


class AnswerForm(forms.Form):
    """The learner's answer to a request for more information."""

    body = forms.CharField(label=_("Your answer"), max_length=10000, widget=forms.Textarea(attrs={"rows": 5}))
    documents = MultipleFileField(label=_("Documents (optional)"), required=False)
    criterion = forms.ModelChoiceField(
        label=_("The documents are for"), required=False, queryset=Criterion.objects.none(),
        empty_label=_("— other —"),
        help_text=_("When a document proves one of the admission criteria, say which."))
    document_label = forms.CharField(label=_("Document title (optional)"), required=False, max_length=200)

    def __init__(self, *args, criteria=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["documents"].help_text = upload_help()
        if criteria is not None:
            self.fields["criterion"].queryset = criteria
        self.fields["criterion"].label_from_instance = lambda c: c.document_label

    def uploads(self) -> list[tuple[str, Any, Criterion | None]]:
        files = self.cleaned_data.get("documents") or []
        criterion = self.cleaned_data.get("criterion")
        label = (self.cleaned_data.get("document_label") or "").strip() or (
            criterion.document_label if criterion else str(_("Document sent with the answer")))
        if len(files) == 1:
            return [(label, files[0], criterion)]
        return [(f"{label} ({n})", upload, criterion) for n, upload in enumerate(files, start=1)]


class ExemptionForm(forms.Form):
    """A request for exemption from one course of the edition's curriculum (recognition of prior learning)."""

    course = forms.ModelChoiceField(label=_("Course"), queryset=Course.objects.none(),
                                    empty_label=_("— choose a course —"))
    basis = forms.CharField(
        label=_("Earlier credential or experience"), max_length=5000, widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_("What you learned before, where and when, and how it covers the course's learning outcomes."))
    evidence = forms.FileField(label=_("Evidence (optional)"), required=False, widget=_file_input())

    def __init__(self, *args, edition: Edition, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["course"].queryset = Course.objects.filter(version_id=edition.curriculum_id).order_by(
            "position", "code")
        self.fields["course"].label_from_instance = lambda c: f"{c.code} {c.title} ({floatformat(c.ects, -1)} ECTS)"
        self.fields["evidence"].help_text = _("For example a transcript or certificate. %(accepted)s") % {
            "accepted": upload_help()}
