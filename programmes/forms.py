import datetime as dt
import zoneinfo

from django import forms
from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from consortium.api import Consortium, Institution, Role, User, policy
from consortium.forms import DateInput

from . import isced
from .models import (
    Course,
    CurriculumVersion,
    Edition,
    LearningOutcome,
    Phase,
    Programme,
    ProgrammeText,
    TeamRole,
)
from .services import EDITION_FIELDS, TEXT_FIELDS


class DateTimeInput(forms.DateTimeInput):
    input_type = "datetime-local"

    def __init__(self, **kwargs):
        super().__init__(format="%Y-%m-%dT%H:%M", **kwargs)


class WallClockDateTimeField(forms.DateTimeField):
    """The date and time as typed, without a time zone: the form attaches the one it belongs to.

    Django's own field reads the input in the server's current time zone; a deadline typed for an intake
    in Madrid must not move with the server's ``TIME_ZONE`` (nor be refused in the server's DST gap).
    """

    def to_python(self, value):
        with timezone.override(dt.UTC):
            result = super().to_python(value)
        return timezone.make_naive(result, dt.UTC) if result is not None and timezone.is_aware(result) else result


LANGUAGE_CHOICES = list(settings.LANGUAGES)


class LanguagesField(forms.MultipleChoiceField):
    widget = forms.CheckboxSelectMultiple

    def __init__(self, **kwargs):
        super().__init__(choices=LANGUAGE_CHOICES, **kwargs)


class IscedFField(forms.ChoiceField):
    """A select of the ISCED-F 2013 fields, grouped by broad field (the model validates the code again)."""

    def __init__(self, **kwargs):
        kwargs.pop("max_length", None)
        kwargs.pop("empty_value", None)
        super().__init__(choices=[("", _("— not classified —")), *isced.choices()], **kwargs)


def _isced_f(form: forms.BaseForm) -> None:
    if "isced_f" in form.fields:
        old = form.fields["isced_f"]
        form.fields["isced_f"] = IscedFField(label=old.label, required=False, help_text=old.help_text)


def _member_institutions(consortium: Consortium | None):
    qs = Institution.objects.filter(memberships__left_on__isnull=True)
    if consortium is not None:
        qs = qs.filter(memberships__consortium=consortium)
    return qs.distinct().order_by("short_name")


# Sections of the programme editor: each a small form over some fields of Programme (sectioned wizard).
SECTIONS = {
    "basics": (
        _("Qualification"),
        [
            "code",
            "agreement",
            "lead_institution",
            "issuing_institution",
            "ects",
            "qualification_type",
            "eqf_level",
            "qf_ehea_cycle",
            "isced_f",
            "award_kind",
        ],
    ),
    "languages": (_("Language policy"), ["primary_language", "languages"]),
    "delivery": (
        _("Delivery and participation"),
        [
            "delivery_mode",
            "synchronicity",
            "pacing",
            "participation_form",
            "duration_weeks",
            "lifespan",
            "recurring_until",
        ],
    ),
    "quality": (
        _("Quality, mobility and recognition"),
        [
            "qa_scheme",
            "mobility_scheme",
            "professional_body",
            "professional_recognition",
            "contact_name",
            "contact_email",
        ],
    ),
    "timeline": (
        _("Timeline"),
        [
            "design_starts_on",
            "development_starts_on",
            "implementation_starts_on",
            "design_started_on",
            "development_started_on",
            "implementation_started_on",
        ],
    ),
}


class ProgrammeCreateForm(forms.ModelForm):
    consortium = forms.ModelChoiceField(label=_("Consortium"), queryset=Consortium.objects.none())
    title = forms.CharField(label=_("Title"), max_length=255)
    qualification_name = forms.CharField(
        label=_("Qualification name"), max_length=255, help_text=_("e.g. 'Expert certificate in chip design'")
    )
    partners = forms.ModelMultipleChoiceField(
        label=_("Partner institutions"),
        queryset=Institution.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    leader_email = forms.EmailField(
        label=_("Team leader"),
        required=False,
        help_text=_("Email of the lead institution's staff member who holds the pen. Leave empty when that is you."),
    )

    class Meta:
        model = Programme
        fields = [
            "code",
            "lead_institution",
            "issuing_institution",
            "ects",
            "qualification_type",
            "eqf_level",
            "qf_ehea_cycle",
            "isced_f",
            "award_kind",
            "primary_language",
            "delivery_mode",
            "synchronicity",
            "pacing",
            "participation_form",
            "duration_weeks",
        ]

    field_order = ["consortium", "title", "qualification_name", "code", "lead_institution", "leader_email"]

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user
        allowed = [c.pk for c in Consortium.objects.all() if policy.can(user, "programme.create", c)]
        self.fields["consortium"].queryset = Consortium.objects.filter(pk__in=allowed)
        institutions = (
            Institution.objects.filter(memberships__consortium__in=allowed, memberships__left_on__isnull=True)
            .distinct()
            .order_by("short_name")
        )
        for name in ("lead_institution", "issuing_institution", "partners"):
            self.fields[name].queryset = institutions
        self.fields["ects"].widget.attrs.update(step="0.1", min="0.1", max="40", **{"data-qualification-hint": "1"})
        _isced_f(self)

    def clean(self):
        data = super().clean()
        consortium = data.get("consortium")
        for name in ("lead_institution", "issuing_institution"):
            institution = data.get(name)
            if (
                consortium
                and institution
                and not institution.memberships.filter(consortium=consortium, left_on__isnull=True).exists()
            ):
                self.add_error(name, _("Must be an active member of the chosen consortium."))
        self._clean_leader(data)
        return data

    def _clean_leader(self, data) -> None:
        """``leader``: the person named, else the author when staff of the lead (the service checks the rule)."""
        lead, email = data.get("lead_institution"), (data.get("leader_email") or "").strip()
        if lead is None:
            return
        if email:
            data["leader"] = User.objects.filter(email__iexact=email).first()
            if data["leader"] is None:
                self.add_error(
                    "leader_email",
                    _("No account uses %(email)s; the person must have an account first.") % {"email": email},
                )
        elif lead.id in policy.actor_for(self.user).institution_ids:
            data["leader"] = self.user
        else:
            self.add_error(
                "leader_email",
                _("You are not staff of %(lead)s: name the staff member of it who leads the team.")
                % {"lead": lead.short_name},
            )


class ProgrammeSectionForm(forms.ModelForm):
    """One section of the programme editor; the fields come from SECTIONS."""

    class Meta:
        model = Programme
        fields = []

    def __init__(self, *args, section: str, **kwargs):
        super().__init__(*args, **kwargs)
        names = SECTIONS[section][1]
        for name in list(self.fields):
            if name not in names:
                del self.fields[name]
        if "languages" in names:
            self.fields["languages"] = LanguagesField(label=_("Languages"), initial=self.instance.languages)
        if "agreement" in names:
            self.fields["agreement"].queryset = self.instance.consortium.agreements.all()
        for name in ("lead_institution", "issuing_institution"):
            if name in self.fields:
                self.fields[name].queryset = _member_institutions(self.instance.consortium)
        for name, field in self.fields.items():
            if isinstance(field, forms.DateField):
                field.widget = DateInput()
            if name == "ects":
                field.widget.attrs.update(step="0.1", min="0.1", max="40")
        _isced_f(self)

    @classmethod
    def for_section(cls, section: str):
        fields = SECTIONS[section][1]
        meta = type("Meta", (), {"model": Programme, "fields": fields})
        return type(f"{section.title()}Form", (cls,), {"Meta": meta})


class ProgrammeTextForm(forms.ModelForm):
    class Meta:
        model = ProgrammeText
        fields = list(TEXT_FIELDS)
        widgets = {
            f: forms.Textarea(attrs={"rows": 3}) for f in TEXT_FIELDS if f not in ("title", "qualification_name")
        }


class OutcomeForm(forms.ModelForm):
    class Meta:
        model = LearningOutcome
        fields = ["category", "text", "esco_uri"]
        widgets = {"text": forms.Textarea(attrs={"rows": 2})}


class PartnerForm(forms.Form):
    institution = forms.ModelChoiceField(label=_("Institution"), queryset=Institution.objects.none())

    def __init__(self, *args, programme: Programme, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["institution"].queryset = _member_institutions(programme.consortium).exclude(
            programme_partnerships__programme=programme
        )


class StackingForm(forms.Form):
    stand_alone = forms.BooleanField(label=_("Stand-alone"), required=False)
    targets = forms.ModelMultipleChoiceField(
        label=_("Stacks towards these programmes"),
        queryset=Programme.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    external = forms.CharField(
        label=_("Stacks towards external degrees (one per line)"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
    )

    def __init__(self, *args, programme: Programme, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["targets"].queryset = Programme.objects.filter(consortium=programme.consortium).exclude(
            pk=programme.pk
        )


class CloneForm(forms.Form):
    code = forms.SlugField(label=_("Code of the copy"), max_length=40)


class TeamAddForm(forms.Form):
    email = forms.EmailField(label=_("Email of the person"))
    role = forms.ChoiceField(label=_("Role"), choices=TeamRole.choices)


class BoardAppointForm(forms.Form):
    email = forms.EmailField(label=_("Email of the staff member"))
    role = forms.ChoiceField(
        label=_("Board"),
        choices=[(Role.PROGRAMME_BOARD, Role.PROGRAMME_BOARD.label), (Role.EXAM_BOARD, Role.EXAM_BOARD.label)],
    )


class TaskForm(forms.Form):
    title = forms.CharField(label=_("Task"), max_length=255)
    phase = forms.ChoiceField(label=_("Phase"), choices=Phase.choices)
    owner = forms.ModelChoiceField(label=_("Owner"), queryset=None, required=False)
    due_on = forms.DateField(label=_("Due on"), required=False, widget=DateInput())

    def __init__(self, *args, programme: Programme, **kwargs):
        super().__init__(*args, **kwargs)
        from consortium.api import User

        self.fields["owner"].queryset = User.objects.filter(programme_teams__programme=programme)


class CourseForm(forms.ModelForm):
    class Meta:
        model = Course
        fields = [
            "code",
            "title",
            "provider",
            "ects",
            "mandatory",
            "assessment_method",
            "supervision",
            "learning_outcomes",
            "isced_f",
        ]
        widgets = {"learning_outcomes": forms.Textarea(attrs={"rows": 3})}

    def __init__(self, *args, version: CurriculumVersion, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["provider"].queryset = Institution.objects.filter(
            programme_partnerships__programme=version.programme
        ).order_by("short_name")
        self.fields["ects"].widget.attrs.update(step="0.1", min="0.1", max="40")
        _isced_f(self)
        if not self.instance.pk and version.programme.isced_f:
            self.initial.setdefault("isced_f", version.programme.isced_f)

    def validate_unique(self):
        """Uniqueness of the code within the version is checked by the service (the version is not on the form)."""


class ElectiveForm(forms.ModelForm):
    class Meta:
        model = CurriculumVersion
        fields = ["required_elective_ects"]


class DecisionForm(forms.Form):
    decision = forms.ChoiceField(
        label=_("Decision"), choices=[("approve", _("Approve")), ("return", _("Return"))], widget=forms.RadioSelect
    )
    comment = forms.CharField(
        label=_("Comments"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("Required when returning the curriculum."),
    )


class EditionForm(forms.ModelForm):
    class Meta:
        model = Edition
        fields = list(EDITION_FIELDS)
        widgets = {
            "application_opens_at": DateTimeInput(),
            "application_closes_at": DateTimeInput(),
            "starts_on": DateInput(),
            "ends_on": DateInput(),
        }
        field_classes = {
            "application_opens_at": WallClockDateTimeField,
            "application_closes_at": WallClockDateTimeField,
        }

    def __init__(self, *args, programme: Programme, **kwargs):
        super().__init__(*args, **kwargs)
        approved = programme.curricula.filter(status="approved")
        curriculum = self.fields["curriculum"]
        curriculum.queryset = approved
        curriculum.empty_label = None
        curriculum.error_messages["invalid_choice"] = _(
            "An edition runs an approved curriculum version of its programme; choose one of the list."
        )
        if not approved.exists():
            none_yet = _("An edition runs an approved curriculum; none is approved yet.")
            curriculum.error_messages.update(required=none_yet, invalid_choice=none_yet)
        self._show_in_edition_zone()

    def validate_unique(self):
        """The intake code's uniqueness is checked by the service (the programme is not on the form)."""

    WINDOW = ("application_opens_at", "application_closes_at")

    def _show_in_edition_zone(self) -> None:
        if self.is_bound or not self.instance.pk:
            return
        zone = zoneinfo.ZoneInfo(self.instance.time_zone)
        for name in self.WINDOW:
            value = getattr(self.instance, name)
            if value:
                self.initial[name] = value.astimezone(zone).replace(tzinfo=None)

    def clean(self):
        """The window is typed in the edition's time zone (deadlines are local to the intake)."""
        data = super().clean()
        zone_name = data.get("time_zone")
        # Without a valid zone the form is invalid anyway (clean_time_zone); UTC keeps the values comparable.
        zone = zoneinfo.ZoneInfo(zone_name) if zone_name else dt.UTC
        for name in self.WINDOW:
            value = data.get(name)
            if value and timezone.is_naive(value):
                data[name] = value.replace(tzinfo=zone)
        opens, closes = data.get("application_opens_at"), data.get("application_closes_at")
        if opens and closes and closes <= opens:
            self.add_error("application_closes_at", _("Applications must close after they open."))
        starts, ends = data.get("starts_on"), data.get("ends_on")
        if starts and ends and ends < starts:
            self.add_error("ends_on", _("The edition cannot end before it starts."))
        return data

    def clean_time_zone(self):
        value = self.cleaned_data["time_zone"]
        if value not in zoneinfo.available_timezones():
            raise forms.ValidationError(_("Unknown time zone; use a name such as Europe/Madrid."))
        return value


class EditionCloneForm(forms.Form):
    intake_code = forms.SlugField(label=_("Intake code of the new edition"), max_length=32)
    shift_days = forms.IntegerField(label=_("Shift dates by (days)"), initial=365, min_value=1, max_value=3650)
