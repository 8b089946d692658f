"""Feedback pages (D8): learners answer their edition's survey (``/my/feedback/``), stakeholders answer through the
link in their email (``/feedback/<token>/``, no account), and a programme's team and quality office follow the
surveys, read the results, edit the questions and invite stakeholders.

Thin: each page reads through ``quality.feedback`` and each button calls one of its services. The anonymity of the
answers is the services' and models' business; the pages add nothing that would undo it: the team sees counts and
results (only from ``FEEDBACK_MIN_RESPONSES`` respondents on), never who answered what, and a learner's page is a 404
for anyone not invited (it does not even say that the survey exists)."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views import View
from django.views.generic import TemplateView

from consortium.api import DomainError, policy
from consortium.web import (
    PaginatedListView,
    PolicyMixin,
    PolicyTemplateView,
    ServiceActionView,
    ServiceFormView,
    add_errors,
    csv_download,
)

from . import charts, feedback
from .forms_feedback import LIKERT_CHOICES, InviteForm, MoveForm, QuestionForm, StakeholderSurveyForm, SurveyForm
from .models import Audience, Invitation, Question, QuestionKind, Survey, Theme
from .web import QualityObjectMixin

THANK_YOU = gettext_lazy("Thank you: your answers are saved, anonymously.")
NOT_A_STAKEHOLDER_SURVEY = gettext_lazy("Only stakeholder surveys have invitations by email.")


# --- Answering: learners and stakeholders --------------------------------------------------------------------------


class MyFeedbackView(PolicyTemplateView):
    """The surveys the signed-in learner was invited to: to answer, answered, closed."""

    policy_action = policy.AUTHENTICATED
    template_name = "quality/feedback/my_feedback.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        invitations = feedback.learner_invitations(self.request.user)
        context.update(
            to_answer=[i for i in invitations if i.open and not i.answered],
            answered=[i for i in invitations if i.answered],
            closed=[i for i in invitations if not i.open and not i.answered],
            min_responses=feedback.min_responses(),
        )
        return context


class AnswerView(PolicyMixin, TemplateView):
    """A survey to answer: the form from the survey's frozen questions, or why it cannot be answered (closed,
    answered already). After a submit, a thank-you message and the page in its "answered" state."""

    template_name = "quality/feedback/answer.html"
    invalid_template_name = "quality/feedback/unavailable.html"

    def find(self) -> tuple[Survey | None, str]:
        """The survey and why it cannot be answered ("" when it can); no survey: the page is a 404."""
        raise NotImplementedError

    def submit(self, survey: Survey, answers: dict[str, Any]) -> None:
        raise NotImplementedError

    def unavailable(self, message: str):
        response = self.response_class(request=self.request, template=[self.invalid_template_name],
                                       context={"message": message}, status=404)
        return self._private(response)

    @staticmethod
    def _private(response):
        response["Cache-Control"] = "private, no-store"
        # same-origin, not no-referrer: the link (a stakeholder's token) never leaves for another site, and the
        # form's POST still carries its Origin (with no-referrer browsers send "Origin: null": a CSRF refusal).
        response["Referrer-Policy"] = "same-origin"
        response["X-Robots-Tag"] = "noindex"
        return response

    def page(self, survey: Survey, refusal: str, form: SurveyForm | None = None, status: int = 200):
        if form is None and not refusal:
            form = SurveyForm(items=feedback.survey_items(survey))
        context = self.get_context_data(survey=survey, refusal=refusal, form=form,
                                        answered=refusal == str(feedback.ALREADY_ANSWERED),
                                        min_responses=feedback.min_responses(),
                                        programme=survey.programme, edition=survey.edition)
        return self._private(self.render_to_response(context, status=status))

    def get(self, request, *args, **kwargs):
        survey, refusal = self.find()
        if survey is None:
            return self.unavailable(refusal)
        return self.page(survey, refusal)

    def post(self, request, *args, **kwargs):
        survey, refusal = self.find()
        if survey is None:
            return self.unavailable(refusal)
        if refusal:  # answered already (a second submit), or closed meanwhile
            messages.error(request, refusal)
            return HttpResponseRedirect(request.path)
        form = SurveyForm(request.POST, items=feedback.survey_items(survey))
        if form.is_valid():
            try:
                self.submit(survey, form.answers())
            except ValidationError as exc:
                add_errors(form, exc)
            except DomainError as exc:  # answered or closed between the page and the submit
                messages.error(request, exc.message)
                return HttpResponseRedirect(request.path)
            else:
                messages.success(request, THANK_YOU)
                return HttpResponseRedirect(request.path)
        return self.page(survey, "", form=form)


class MyFeedbackSurveyView(AnswerView):
    """A learner's survey (``feedback.LEARNER_SURVEY_PATH``, the link in their emails)."""

    policy_action = policy.AUTHENTICATED

    def find(self):
        survey = get_object_or_404(Survey.objects.select_related("programme", "edition"), pk=self.kwargs["pk"],
                                   audience=Audience.LEARNER)
        refusal = feedback.learner_refusal(survey=survey, learner=self.request.user)
        if refusal == str(feedback.NOT_INVITED):
            return None, refusal  # a 404 that does not tell whether the survey exists
        return survey, refusal

    def submit(self, survey, answers):
        feedback.response_submit(survey=survey, learner=self.request.user, answers=answers)


class StakeholderSurveyView(AnswerView):
    """A stakeholder's survey: the token in the link is the key (no account); any other path is a clear 404."""

    policy_action = policy.PUBLIC

    def find(self):
        survey, refusal = feedback.survey_for_token(self.kwargs["token"])
        return survey, refusal

    def submit(self, survey, answers):
        feedback.response_submit_by_token(token=self.kwargs["token"], answers=answers)


# --- The team's pages --------------------------------------------------------------------------------------------


class SurveyMixin(QualityObjectMixin):
    quality_model = Survey
    select_related = ("programme", "edition")

    @property
    def survey(self) -> Survey:
        return self.get_policy_object()

    def results_url(self) -> str:
        return reverse("survey-results", args=[self.survey.pk])


class StakeholderSurveyMixin(SurveyMixin):
    """Pages that exist for stakeholder surveys only (a learner survey's pk is a 404)."""

    def get_policy_object(self):
        survey = super().get_policy_object()
        if survey.audience != Audience.STAKEHOLDER:
            raise Http404(NOT_A_STAKEHOLDER_SURVEY)
        return survey


class ProgrammeSurveysView(QualityObjectMixin, PaginatedListView):
    """A programme's surveys, newest first, with their response rates; the team's way to the questions and to a
    stakeholder survey."""

    policy_action = "quality.view"
    template_name = "quality/feedback/surveys.html"
    paginate_by = 20

    def get_queryset(self):
        return feedback.programme_surveys(self.programme)

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        programme = self.programme
        surveys = list(context["object_list"])  # this page's surveys only
        for survey in surveys:
            survey.rate = feedback.response_rate(survey.invited, survey.answered)
        context.update(object_list=surveys, programme=programme, can_manage=self.can("quality.manage", programme),
                       open_stakeholder=feedback.open_stakeholder_survey(programme),
                       min_responses=feedback.min_responses())
        return context


def _likert_chart(result: feedback.Result) -> charts.BarChart:
    data = [(str(label), result.distribution.get(value, 0)) for value, label in LIKERT_CHOICES]
    return charts.bar_chart(data, label_heading=_("Rating"), value_heading=_("Answers"), max_label=30,
                            label_width=190)


def _means_chart(groups: list[feedback.GroupResult], heading: str) -> charts.BarChart | None:
    shown = [(g.label, g.result.mean) for g in groups if g.result.shown and g.result.mean is not None]
    if not shown:
        return None
    return charts.bar_chart(shown, label_heading=heading, value_heading=_("Mean rating (1–5)"))


def _section(q: feedback.QuestionResult) -> dict[str, Any]:
    """One question of the results page: its figures and the charts that draw them."""
    section: dict[str, Any] = {"q": q, "likert": q.kind == QuestionKind.LIKERT,
                               "number": q.kind == QuestionKind.NUMBER, "text": q.kind == QuestionKind.TEXT,
                               "theme": Theme(q.theme).label if q.theme in Theme.values else q.theme}
    if section["likert"] and q.overall.shown:
        section["chart"] = _likert_chart(q.overall)
    if q.per_course and section["likert"]:
        section["course_chart"] = _means_chart(q.by_course, _("Course"))
        section["partner_chart"] = _means_chart(q.by_partner, _("Partner"))
    return section


def _workload_chart(workload: feedback.WorkloadResult) -> charts.BarChart | None:
    if not workload.hours.shown:
        return None
    low, high = workload.expected_low, workload.expected_high
    return charts.bar_chart(
        [(_("Fewer than %(low)s h") % {"low": low}, workload.below),
         (_("%(low)s–%(high)s h") % {"low": low, "high": high}, workload.within),
         (_("More than %(high)s h") % {"high": high}, workload.above)],
        label_heading=_("Hours reported"), value_heading=_("Respondents"))


class SurveyResultsView(SurveyMixin, PolicyTemplateView):
    """A survey's results: response rate, each question's mean and distribution (per course and per partner for
    the questions asked per course), workload against the ECTS, the free texts. While the survey takes answers,
    the response rate only, and when the figures will appear (``feedback.figures_shown``)."""

    policy_action = "quality.view"
    template_name = "quality/feedback/results.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        survey = self.survey
        results = feedback.survey_results(survey)
        workload = results.workload
        context.update(
            survey=survey, programme=survey.programme, results=results,
            sections=[_section(q) for q in results.questions],
            workload=workload, workload_chart=_workload_chart(workload) if workload else None,
            has_text=any(q.kind == QuestionKind.TEXT for q in results.questions),
            can_manage=self.can("quality.manage", survey), is_open=feedback.survey_is_open(survey),
            stakeholders=survey.audience == Audience.STAKEHOLDER,
            ratings=[label for _value, label in LIKERT_CHOICES],
        )
        return context


class SurveyCloseView(SurveyMixin, ServiceActionView):
    policy_action = "quality.manage"
    success_message = gettext_lazy("The survey is closed: answers are no longer accepted.")

    def perform(self):
        feedback.survey_close(actor=self.request.user, survey=self.survey)

    def get_redirect_url(self) -> str:
        return self.results_url()


class SurveyFreeTextView(SurveyMixin, View):
    """The free-text answers as CSV: shuffled, without times, only where enough people answered, once the survey
    takes no more answers (before: back to the results page, which says when)."""

    policy_action = "quality.view"
    http_method_names = ["get"]

    def get(self, request, *args, **kwargs):
        survey = self.survey
        try:
            rows = feedback.free_text_csv_rows(survey)
        except DomainError as exc:
            messages.error(request, exc.message)
            return HttpResponseRedirect(self.results_url())
        what = survey.edition.intake_code if survey.edition_id else f"stakeholders-{survey.opened_at:%Y-%m-%d}"
        return csv_download(rows, f"feedback-{survey.programme.code}-{what}-free-text.csv")


# --- Questions -------------------------------------------------------------------------------------------------------


def _audience(slug: str) -> str:
    if slug not in Audience.values:
        raise Http404
    return slug


class QuestionsView(QualityObjectMixin, ServiceFormView):
    """A programme's questions for one audience: the list in order (edit, move, remove) and a form to add one.
    Open surveys keep the questions they opened with; edits apply to the next survey."""

    policy_action = "quality.view"  # POST (adding) needs quality.manage, set in ``dispatch``
    template_name = "quality/feedback/questions.html"
    form_class = QuestionForm
    success_message = gettext_lazy("Question added at the end of the list.")

    def dispatch(self, request, *args, **kwargs):
        self.audience = _audience(kwargs["audience"])
        if request.method not in ("GET", "HEAD", "OPTIONS"):
            self.policy_action = "quality.manage"
        return super().dispatch(request, *args, **kwargs)

    def get_form_kwargs(self):
        return {**super().get_form_kwargs(), "audience": self.audience}

    def question_set(self):
        if getattr(self, "_question_set", None) is None:
            self._question_set = feedback.question_set_ensure(programme=self.programme, audience=self.audience)
        return self._question_set

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        programme = self.programme
        questions = list(self.question_set().questions.all())
        context.update(
            programme=programme, audience=self.audience, questions=questions,
            audience_label=Audience(self.audience).label, can_manage=self.can("quality.manage", programme),
            other_audience=Audience.STAKEHOLDER if self.audience == Audience.LEARNER else Audience.LEARNER,
        )
        return context

    def perform(self, form):
        return feedback.question_add(actor=self.request.user, question_set=self.question_set(),
                                     data=form.cleaned_data)

    def get_success_url_for(self, _result) -> str:
        return reverse("quality-questions", args=[self.programme.pk, self.audience])

    def get_cancel_url(self) -> str:
        return reverse("quality-surveys", args=[self.programme.pk])


class QuestionMixin(QualityObjectMixin):
    quality_model = Question
    select_related = ("question_set__programme",)

    @property
    def question(self) -> Question:
        return self.get_policy_object()

    def questions_url(self) -> str:
        question_set = self.question.question_set
        return reverse("quality-questions", args=[question_set.programme_id, question_set.audience])


class QuestionEditView(QuestionMixin, ServiceFormView):
    policy_action = "quality.manage"
    form_class = QuestionForm
    title = gettext_lazy("Edit a question")
    intro = gettext_lazy("Surveys already open keep the question as they asked it; the change applies to the next "
                         "survey.")
    success_message = gettext_lazy("Question saved.")

    def get_form_kwargs(self):
        return {**super().get_form_kwargs(), "audience": self.question.question_set.audience}

    def get_initial(self):
        question = self.question
        return {name: getattr(question, name) for name in feedback.EDITABLE_FIELDS}

    def perform(self, form):
        return feedback.question_update(actor=self.request.user, question=self.question, data=form.cleaned_data)

    def get_success_url_for(self, _result) -> str:
        return self.questions_url()

    def get_cancel_url(self) -> str:
        return self.questions_url()


class QuestionRemoveView(QuestionMixin, ServiceActionView):
    policy_action = "quality.manage"
    success_message = gettext_lazy("Question removed. Surveys already open keep it.")

    def perform(self):
        feedback.question_remove(actor=self.request.user, question=self.question)

    def get_redirect_url(self) -> str:
        return self.questions_url()  # from the question loaded before its removal


class QuestionMoveView(QuestionMixin, ServiceActionView):
    policy_action = "quality.manage"

    def perform(self):
        form = MoveForm(self.request.POST)
        if not form.is_valid():
            raise DomainError(_("Choose whether to move the question up or down."))
        offset = -1 if form.cleaned_data["direction"] == "up" else 1
        feedback.question_move(actor=self.request.user, question=self.question, offset=offset)

    def get_redirect_url(self) -> str:
        return self.questions_url()


# --- Stakeholders --------------------------------------------------------------------------------------------------


class StakeholderSurveyOpenView(QualityObjectMixin, ServiceFormView):
    policy_action = "quality.manage"
    form_class = StakeholderSurveyForm
    title = gettext_lazy("Open a stakeholder survey")
    submit_label = gettext_lazy("Open the survey")
    success_message = gettext_lazy("The stakeholder survey is open: invite people by email now.")

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["intro"] = _(
            "Employers and associated partners answer the programme's stakeholder questions (%(count)s now; edit "
            "them before opening: the survey keeps the questions it opened with). One stakeholder survey is open "
            "at a time. Next, you invite people by email: each gets a personal link and needs no account.") % {
            "count": feedback.question_set_ensure(programme=self.programme, audience=Audience.STAKEHOLDER)
            .questions.count()}
        return context

    def perform(self, form):
        return feedback.stakeholder_survey_open(actor=self.request.user, programme=self.programme,
                                                closes_at=form.closes_at())

    def get_success_url_for(self, survey) -> str:
        return reverse("stakeholder-invite", args=[survey.pk])

    def get_cancel_url(self) -> str:
        return reverse("quality-surveys", args=[self.programme.pk])


class StakeholderInviteView(StakeholderSurveyMixin, ServiceFormView):
    policy_action = "quality.manage"
    form_class = InviteForm
    title = gettext_lazy("Invite stakeholders")
    submit_label = gettext_lazy("Send the invitations")

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        survey = self.survey
        context["intro"] = _(
            "Each address gets an email with a personal link to the survey, which closes on %(date)s. The answers "
            "are stored without the address; you see who was invited and whether they answered, never what they "
            "answered.") % {"date": f"{survey.closes_at:%Y-%m-%d}"}
        return context

    def perform(self, form):
        """Invite, then say how many were invited and which addresses were skipped (an address that is not one
        refuses the whole list: the service names each, and the form keeps the text)."""
        result = feedback.stakeholders_invite(actor=self.request.user, survey=self.survey,
                                              emails=form.cleaned_data["emails"])
        messages.success(self.request, _("%(count)s invited; the emails are on their way.") % {
            "count": len(result.invited)})
        if result.already_invited:
            messages.info(self.request, _("Invited before, so not sent again: %(emails)s. Renew a person's link "
                                          "from the list if their email was lost.") % {
                "emails": ", ".join(result.already_invited)})
        return result

    def get_success_url_for(self, _result) -> str:
        return reverse("stakeholder-invitations", args=[self.survey.pk])

    def get_cancel_url(self) -> str:
        return self.results_url()


class StakeholderInvitationsView(StakeholderSurveyMixin, PaginatedListView):
    """Who was invited to a stakeholder survey and whether they answered (never what), with a new link for those
    whose email was lost."""

    policy_action = "quality.view"
    template_name = "quality/feedback/invitations.html"

    def get_queryset(self):
        return feedback.stakeholder_invitations(self.survey, search=self.request.GET.get("q", ""))

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        survey = self.survey
        context.update(survey=survey, programme=survey.programme, can_manage=self.can("quality.manage", survey),
                       is_open=feedback.survey_is_open(survey))
        return context


class InvitationRenewView(QualityObjectMixin, ServiceActionView):
    policy_action = "quality.manage"
    quality_model = Invitation
    select_related = ("survey__programme",)
    success_message = gettext_lazy("A new link is on its way; the previous one no longer works.")

    def perform(self):
        feedback.stakeholder_invitation_renew(actor=self.request.user, invitation=self.get_policy_object())

    def get_redirect_url(self) -> str:
        invitation = self.get_policy_object()
        if invitation.survey.audience != Audience.STAKEHOLDER:
            return reverse("survey-results", args=[invitation.survey_id])
        return reverse("stakeholder-invitations", args=[invitation.survey_id])
