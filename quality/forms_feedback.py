"""Forms of the feedback pages. The survey form is built from what the survey asks (``feedback.survey_items``):
one field per item, named like the item, so the service's errors land on the right field. The forms check the
shape of the input; the services decide (and check again)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from django import forms
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from . import feedback
from .models import Audience, QuestionKind, Theme
from .models.feedback import NUMBER_MAX, NUMBER_MIN, QUESTION_TEXT_MAX_LENGTH, TEXT_MAX_LENGTH

#: The ratings as the survey offers them (1 strongly disagree … 5 strongly agree).
LIKERT_CHOICES = [
    (1, _("1 — strongly disagree")),
    (2, _("2 — disagree")),
    (3, _("3 — neither agree nor disagree")),
    (4, _("4 — agree")),
    (5, _("5 — strongly agree")),
]
#: How far ahead a stakeholder survey may close.
LONGEST_OPEN = dt.timedelta(days=366)


def _answer_field(item: feedback.SurveyItem) -> forms.Field:
    required = {"required": feedback.REQUIRED}
    if item.kind == QuestionKind.LIKERT:
        return forms.TypedChoiceField(
            choices=LIKERT_CHOICES, coerce=int, empty_value=None, required=item.required, widget=forms.RadioSelect,
            error_messages={**required, "invalid_choice": feedback.RATING_RANGE})
    if item.kind == QuestionKind.NUMBER:
        message = feedback.NUMBER_RANGE
        return forms.IntegerField(
            min_value=NUMBER_MIN, max_value=NUMBER_MAX, required=item.required,
            widget=forms.NumberInput(attrs={"min": NUMBER_MIN, "max": NUMBER_MAX, "step": 1, "inputmode": "numeric"}),
            error_messages={**required, "invalid": message, "min_value": message, "max_value": message})
    return forms.CharField(
        max_length=TEXT_MAX_LENGTH, required=item.required, widget=forms.Textarea(attrs={"rows": 4}),
        error_messages={**required, "max_length": _("Write at most %(limit_value)d characters (this has "
                                                    "%(show_value)d).")})


class SurveyForm(forms.Form):
    """The answers to a survey: one optional or required field per ``SurveyItem`` (Likert: radio buttons from 1 to
    5; hours: a whole number; free text: a text area)."""

    def __init__(self, *args, items: Sequence[feedback.SurveyItem], **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.items = list(items)
        for item in self.items:
            field = _answer_field(item)
            field.label = item.course if item.course_id else item.text
            field.help_text = "" if item.course_id else item.help_text
            self.fields[item.name] = field

    def answers(self) -> dict[str, object]:
        """The items answered, as ``feedback.response_submit`` takes them (blank ones left out)."""
        return {name: value for name, value in self.cleaned_data.items() if value not in (None, "")}

    def groups(self) -> list[dict]:
        """What the page shows, in the survey's order: each question once; a question asked for each course with
        one entry per course under it."""
        groups: list[dict] = []
        for item in self.items:
            entry = {"field": self[item.name], "item": item}
            if item.course_id and groups and groups[-1]["per_course"] and groups[-1]["question_id"] == item.question_id:
                groups[-1]["entries"].append(entry)
                continue
            groups.append({"question_id": item.question_id, "text": item.text, "help_text": item.help_text,
                           "kind": item.kind, "per_course": bool(item.course_id), "required": item.required,
                           "entries": [entry]})
        return groups


class QuestionForm(forms.Form):
    text = forms.CharField(label=_("Question"), max_length=QUESTION_TEXT_MAX_LENGTH,
                           widget=forms.Textarea(attrs={"rows": 2}),
                           help_text=_("For a rating, write a statement people agree or disagree with."))
    help_text = forms.CharField(label=_("Explanation"), max_length=QUESTION_TEXT_MAX_LENGTH, required=False,
                                help_text=_("Optional: shown under the question."))
    kind = forms.ChoiceField(label=_("Kind of answer"), choices=QuestionKind.choices)
    theme = forms.ChoiceField(label=_("Theme"), choices=Theme.choices, initial=Theme.GENERAL,
                              help_text=_("What the question is about (after the ESG standards)."))
    per_course = forms.BooleanField(
        label=_("Ask it for each course"), required=False,
        help_text=_("Learners answer it once for each course of their edition; results per course and partner. "
                    "Such a question cannot be required."))
    required = forms.BooleanField(label=_("Required"), required=False)

    def __init__(self, *args, audience: str = Audience.LEARNER, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        if audience == Audience.STAKEHOLDER:
            del self.fields["per_course"]


class StakeholderSurveyForm(forms.Form):
    closes_on = forms.DateField(
        label=_("Closes on"), required=False, widget=forms.DateInput(attrs={"type": "date"}),
        help_text=_("Answers are accepted until the end of this day (UTC). Leave empty for three weeks from now."))

    def clean_closes_on(self):
        closes_on = self.cleaned_data.get("closes_on")
        if closes_on is None:
            return None
        today = timezone.localdate()
        if closes_on <= today:
            raise forms.ValidationError(_("Choose a day after today."))
        if closes_on > today + LONGEST_OPEN:
            raise forms.ValidationError(_("Choose a day within a year from today."))
        return closes_on

    def closes_at(self) -> dt.datetime | None:
        closes_on = self.cleaned_data.get("closes_on")
        if closes_on is None:
            return None
        return timezone.make_aware(dt.datetime.combine(closes_on, dt.time(23, 59, 59)))


class InviteForm(forms.Form):
    emails = forms.CharField(label=_("Email addresses"), widget=forms.Textarea(attrs={"rows": 8}), max_length=60_000)

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["emails"].help_text = gettext(
            "One a line, or separated by commas or semicolons; at most %(max)s at a time. Each person gets their "
            "own link; addresses invited before are skipped.") % {"max": feedback.MAX_INVITES_PER_CALL}


class MoveForm(forms.Form):
    direction = forms.ChoiceField(choices=[("up", _("Up")), ("down", _("Down"))])
