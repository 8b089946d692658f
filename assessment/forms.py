"""Forms of the assessment staff pages, and the readers of what the grade grid and a CSV upload send.

The readers only turn input into rows (which learner, which assessment, which grade); whether a grade may be
entered is decided by ``services.grades_enter``, which validates every row and saves all or nothing.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from consortium import csv_import
from consortium.api import User
from consortium.forms import DateInput

from .grading import Scale, normalise
from .models import Assessment, ExamRegulation, GradingScale, RegulationStatus
from .services import REGULATION_FIELDS

# --- Regulations -------------------------------------------------------------------------------------


class RegulationForm(forms.ModelForm):
    class Meta:
        model = ExamRegulation
        fields = REGULATION_FIELDS
        widgets = {
            "final_result": forms.RadioSelect,
            "resit_scope": forms.RadioSelect,
            "organisation": forms.Textarea(attrs={"rows": 5}),
        }
        help_texts = {
            "joint_scale": _(
                "The scale every result is expressed in. Each partner keeps grading on its national scale; a "
                "conversion table per partner translates."
            ),
            "resits_allowed": _("How many resits after the first attempt (0 for none)."),
            "final_result": _("When a learner resits: does the last attempt count, or the best one?"),
            "resit_scope": _(
                "Component: a resit replaces only the failed component; the grades of components already "
                "passed are kept and combined with the resit grade. Course: a resit is a new attempt at the "
                "whole course; every component is graded again and replaces the earlier attempt as a whole."
            ),
            "minimum_average": _(
                "Optional award condition: the ECTS-weighted average of the passed courses on the joint scale "
                "(numeric joint scales only). Leave empty for none."
            ),
            "appeals_days": _("Days after the board approves the results during which learners may appeal."),
            "organisation": _("Exam periods, registration for exams, identity checks, accommodations, fraud."),
        }


class ScaleChoiceForm(forms.Form):
    """Which national scale a partner grades on (a GET form: choosing shows the table, saves nothing)."""

    scale = forms.ModelChoiceField(
        queryset=GradingScale.objects.all(),
        label=_("National grading scale"),
        empty_label=_("— choose —"),
    )


class ConversionForm(forms.Form):
    """One select per national grade (best first) offering the joint scale's grades.

    Field names are positions (``g0``, ``g1``…) because grades such as "7.5" are not valid field names; the
    label is the national grade. Nothing is required here: an incomplete or inconsistent table is refused by
    the service, whose reasons are shown.
    """

    national_scale = forms.ModelChoiceField(queryset=GradingScale.objects.all(), widget=forms.HiddenInput)

    def __init__(self, *args, national: GradingScale, joint: Scale, **kwargs):
        super().__init__(*args, **kwargs)
        self.national = national
        self.fields["national_scale"].initial = national.pk
        choices = [("", "—"), *[(g, g) for g in joint.grades]]
        self.rows: list[tuple[str, str, bool]] = []  # (field name, national grade, passes)
        scale = national.scale
        for index, grade in enumerate(scale.grades):
            name = f"g{index}"
            self.fields[name] = forms.ChoiceField(label=grade, choices=choices, required=False)
            self.rows.append((name, grade, scale.passes(grade)))

    def bound_rows(self):
        return [(self[name], grade, passes) for name, grade, passes in self.rows]

    def mapping(self) -> dict[str, str]:
        return {grade: self.cleaned_data[name] for name, grade, _p in self.rows if self.cleaned_data.get(name)}


class EditionRegulationForm(forms.Form):
    regulation = forms.ModelChoiceField(queryset=ExamRegulation.objects.none(), label=_("Regulations"))

    def __init__(self, *args, programme, approved=None, **kwargs):
        """``approved``: the programme's approved regulations, when the caller has them already (the regulations page
        has one form per edition: without them each form would ask the database for its choices)."""
        super().__init__(*args, **kwargs)
        field = self.fields["regulation"]
        field.queryset = ExamRegulation.objects.filter(
            programme=programme, status=RegulationStatus.APPROVED
        ).select_related("joint_scale")
        field.label_from_instance = lambda r: (
            gettext("Version %(n)s (joint scale: %(scale)s)")
            % {
                "n": r.number,
                "scale": r.joint_scale,
            }
        )
        if approved is not None:
            field.choices = [("", field.empty_label), *((r.pk, field.label_from_instance(r)) for r in approved)]
        field.help_text = _("Only approved versions can be assigned; not once grades were entered.")


# --- Assessments and examiners --------------------------------------------------------------------


class AssessmentForm(forms.ModelForm):
    class Meta:
        model = Assessment
        fields = ["title", "method", "weight", "supervision", "opens_on", "closes_on", "learner_led"]
        widgets = {"opens_on": DateInput(), "closes_on": DateInput()}
        help_texts = {
            "weight": _("The weights of a course's components add up to 100 %."),
            "opens_on": _("The exam date, or the first day of the submission window."),
            "closes_on": _("The last day of the window; empty for a single date."),
        }


class ExaminerForm(forms.Form):
    email = forms.EmailField(
        label=_("Email of the examiner"),
        help_text=_("A staff member of the institution that provides the course, with an account here."),
    )

    def clean_email(self) -> User:
        email = self.cleaned_data["email"]
        user = User.objects.filter(email__iexact=email).select_related("staff_profile").first()
        if user is None:
            raise ValidationError(_("Nobody with this email has an account."))
        return user


# --- Board --------------------------------------------------------------------------------------------


class SheetDecisionForm(forms.Form):
    decision = forms.ChoiceField(
        label=_("Decision"),
        choices=[("approve", _("Approve and lock the results")), ("return", _("Return to the examiners"))],
        widget=forms.RadioSelect,
    )
    comment = forms.CharField(
        label=_("Comments"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("Required when returning: say what must be checked."),
    )


class CorrectionForm(forms.Form):
    national_grade = forms.CharField(label=_("Corrected grade (institution's scale)"), max_length=16)
    reason = forms.CharField(
        label=_("Reason for the correction"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )


class AppealDecisionForm(forms.Form):
    upheld = forms.TypedChoiceField(
        label=_("Decision"),
        choices=[("1", _("Uphold the appeal")), ("0", _("Dismiss the appeal"))],
        coerce=lambda v: v == "1",
        widget=forms.RadioSelect,
    )
    outcome = forms.CharField(label=_("Outcome"), required=False, widget=forms.Textarea(attrs={"rows": 3}))
    corrected_grade = forms.CharField(
        label=_("Corrected grade (institution's scale)"),
        required=False,
        max_length=16,
        help_text=_("When upheld and the grade changes; the correction is recorded as a new version."),
    )


# --- Reading the grade grid --------------------------------------------------------------------------

_ROW = re.compile(r"^(?P<label>.+?) (?P<number>\d+): (?P<message>.*)$", re.S)


def row_errors(exc: ValidationError) -> tuple[dict[int, str], list[str]]:
    """Split ``grades_enter``'s refusal (``{"rows": ["Row 3: …"]}``) into {row number: message} and the rest."""
    by_row: dict[int, str] = {}
    other: list[str] = []
    messages = exc.message_dict.get("rows", []) if hasattr(exc, "error_dict") else exc.messages
    if hasattr(exc, "error_dict"):
        other += [m for key, ms in exc.message_dict.items() if key != "rows" for m in ms]
    label = gettext("Row")
    for message in messages:
        match = _ROW.match(message)
        if match and match["label"] == label:
            by_row[int(match["number"])] = match["message"]
        else:
            other.append(message)
    return by_row, other


def read_grid(data, rows) -> tuple[list[tuple[Any, Any, str]], list]:
    """The changed cells of the grid as service rows, and the cells in the same order.

    ``rows`` are ``selectors.GridRow``s; each cell gets the submitted value (so a refused grid is shown as
    typed). Unchanged and empty new cells are not sent; clearing a grade is refused on the cell.
    """
    changed: list[tuple[Any, Any, str]] = []
    cells = []
    for row in rows:
        for cell in row.cells:
            raw = data.get(cell.name)
            if raw is None:
                continue
            cell.value = raw.strip()
            current = cell.grade.national_grade if cell.grade else ""
            if not cell.value:
                if current:
                    cell.error = gettext("A grade cannot be removed; enter the corrected grade.")
                continue
            if normalise(cell.value) == current:
                continue
            changed.append((row.enrolment.pk, cell.assessment.pk, cell.value))
            cells.append(cell)
    return changed, cells


# --- Reading an uploaded CSV or the rows of an import -------------------------------------------------

MAX_UPLOAD_BYTES = 2 * 1024 * 1024
MAX_UPLOAD_ROWS = 10_000
COLUMN_ALIASES = {
    "enrollment_id": "enrolment_id",
    "enrolment": "enrolment_id",
    "e-mail": "email",
    "external-id": "external_id",
}
#: The columns that name the learner, tried in this order (the first one filled in a row counts).
LEARNER_COLUMNS = ("enrolment_id", "email", "external_id", "esi")


@dataclass
class UploadRow:
    line: int
    enrolment_ref: str
    email: str
    assessment_title: str
    grade: str
    external_id: str = ""
    esi: str = ""
    enrolment: Any = None
    assessment: Any = None
    joint_grade: str = ""
    error: str = ""
    skipped: bool = False
    outcome: str = ""  # set by ``exchange.results_import``: create, update, unchanged, skipped or error
    extra: dict[str, str] = field(default_factory=dict)

    @property
    def learner(self) -> str:
        if self.enrolment is not None:
            return self.enrolment.application.full_name
        return self.email or self.enrolment_ref or self.external_id or self.esi


def parse_grade_csv(data: bytes) -> list[UploadRow]:
    """Rows of a grades CSV: a column naming the learner (``enrolment_id``, ``email``, ``external_id`` — your
    institution's own id — or ``esi``), ``assessment`` (its title or id), ``grade``.

    Read by ``consortium.csv_import`` (UTF-8 with or without a byte order mark, or UTF-16 with one; comma, semicolon
    or tab separated). Other columns are ignored. Cells are only ever read as text, so formulas are harmless.
    """
    table = csv_import.read_table(
        data, aliases=COLUMN_ALIASES, max_bytes=MAX_UPLOAD_BYTES, max_rows=MAX_UPLOAD_ROWS
    )
    columns = table.columns
    if "assessment" not in columns or "grade" not in columns or not set(LEARNER_COLUMNS) & columns.keys():
        raise ValidationError(
            _(
                "The first row must name the columns: enrolment_id, email, external_id or esi, assessment, grade "
                "(other columns are ignored). Found: %(found)s."
            )
            % {"found": table.found()}
        )
    rows = [
        UploadRow(
            line=line,
            enrolment_ref=table.cell(record, "enrolment_id"),
            email=table.cell(record, "email"),
            external_id=table.cell(record, "external_id"),
            esi=table.cell(record, "esi"),
            assessment_title=table.cell(record, "assessment"),
            grade=table.cell(record, "grade"),
        )
        for line, record in table.records
    ]
    if not rows:
        raise ValidationError(_("The file has a header row but no grades."))
    return rows


def grade_rows(items: Sequence[Mapping[str, Any]]) -> list[UploadRow]:
    """The rows of a JSON import (``[{"enrolment_id"|"email"|"external_id"|"esi": ..., "assessment": ...,
    "grade": ...}]``) as upload rows, numbered from 1; read like the CSV's cells."""

    def text(item: Mapping[str, Any], name: str) -> str:
        value = item.get(name)
        return "" if value is None else csv_import.unquote(str(value).strip())

    return [
        UploadRow(
            line=number,
            enrolment_ref=text(item, "enrolment_id"),
            email=text(item, "email"),
            external_id=text(item, "external_id"),
            esi=text(item, "esi"),
            assessment_title=text(item, "assessment"),
            grade=text(item, "grade"),
        )
        for number, item in enumerate(items, start=1)
    ]


def resolve_upload(
    rows: list[UploadRow], enrolments, assessments, external_ids: Mapping[str, Any] | None = None
) -> None:
    """Find each row's learner (by enrolment id, else email, else external id, else ESI) and assessment (by title,
    or id), or say why not.

    Rows without a grade are skipped. ``enrolments`` are all learners of the edition (the service refuses those not
    on the assessed track, with its reason); ``external_ids`` maps the caller institution's own ids to them.
    """
    by_id = {str(e.pk): e for e in enrolments}
    by_email: dict[str, Any] = {}
    by_esi: dict[str, Any] = {}
    for e in enrolments:
        for email in (e.application.email, e.learner.email):
            by_email.setdefault(email.strip().lower(), e)
        if getattr(e.learner, "esi", ""):
            by_esi.setdefault(e.learner.esi.strip().lower(), e)
    by_title = {a.title.strip().casefold(): a for a in assessments}
    by_title.update({str(a.pk): a for a in assessments})
    titles = ", ".join(a.title for a in assessments)
    for row in rows:
        if not row.grade:
            row.skipped = True
            continue
        if row.enrolment_ref:
            try:
                key = str(uuid.UUID(row.enrolment_ref))
            except ValueError:
                key = ""
            row.enrolment = by_id.get(key)
            if row.enrolment is None:
                row.error = gettext("No learner of this edition has the enrolment id %(id)s.") % {
                    "id": row.enrolment_ref
                }
                continue
        elif row.email:
            row.enrolment = by_email.get(row.email.lower())
            if row.enrolment is None:
                row.error = gettext("No learner of this edition has the email %(email)s.") % {"email": row.email}
                continue
        elif row.external_id:
            row.enrolment = (external_ids or {}).get(row.external_id)
            if row.enrolment is None:
                row.error = gettext(
                    "No learner of this edition has your institution's external id %(id)s."
                ) % {"id": row.external_id}
                continue
        elif row.esi:
            row.enrolment = by_esi.get(row.esi.lower())
            if row.enrolment is None:
                row.error = gettext("No learner of this edition has the European Student Identifier %(esi)s.") % {
                    "esi": row.esi
                }
                continue
        else:
            row.error = gettext("Neither an enrolment id, an email, an external id nor an ESI.")
            continue
        row.assessment = by_title.get(row.assessment_title.strip().casefold())
        if row.assessment is None:
            row.error = gettext("No assessment titled “%(title)s” (the titles are: %(titles)s).") % {
                "title": row.assessment_title,
                "titles": titles,
            }


class GradeUploadForm(forms.Form):
    file = forms.FileField(
        label=_("CSV file"),
        help_text=_(
            "Columns: enrolment_id, email, external_id (your institution's own id) or esi, assessment (its "
            "title), grade (your institution's scale). UTF-8; comma or semicolon separated; other columns are "
            "ignored; rows without a grade are skipped."
        ),
    )

    def clean_file(self) -> list[UploadRow]:
        upload = self.cleaned_data["file"]
        if upload.size > MAX_UPLOAD_BYTES:
            raise ValidationError(_("The file is larger than 2 MB; split it."))
        return parse_grade_csv(upload.read())
