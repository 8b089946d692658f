"""Quality review pages (D8): a programme's reviews per academic year, one review with all its evidence (tables and
SVG charts with their data), the findings and the improvement plan, the transitions, and the PDF report.

Thin: each page reads through ``quality.review`` / ``quality.evidence`` and each button calls one of its services.
Who sees a review: ``review.view`` (the programme's quality staff and its board); anyone else gets a 404, as if the
review did not exist."""

from __future__ import annotations

from django.contrib import messages
from django.http import Http404, HttpResponseRedirect
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views import View

from consortium.web import PaginatedListView, PolicyTemplateView, ServiceActionView, ServiceFormView
from consortium.web import private_download as download
from programmes.api import Programme

from . import review as services
from .forms_review import ActionForm, DecisionForm, FindingForm, ReviewStartForm, ReviewSummaryForm
from .models import ActionStatus, Finding, ImprovementAction, QualityReview, ReportStatus, ReviewStatus
from .models.review import OPEN_ACTION_STATUSES
from .rendering import evidence_charts, theme_matrix
from .web import QualityObjectMixin

NO_REPORT = gettext_lazy("There is no PDF of this review yet: ask for one on the review's page.")
REPORT_NOT_READY = gettext_lazy("The PDF of this review is being prepared; it will be ready shortly.")
REPORT_FAILED = gettext_lazy("The PDF could not be prepared; ask for it again on the review's page.")


class ReviewObjectMixin(QualityObjectMixin):
    """The review (or the finding, action or programme of ``quality_model``) named by ``pk`` when ``review.view``
    allows the user to see it (else 404): the programme board sees its reviews, not the other quality pages."""

    quality_model = QualityReview
    select_related: tuple[str, ...] = ("programme__consortium", "programme__lead_institution")
    visible_action = "review.view"

    @property
    def review(self) -> QualityReview:
        obj = self.get_policy_object()
        return obj if isinstance(obj, QualityReview) else obj.review

    def review_url(self) -> str:
        return reverse("review-detail", args=[self.review.pk])

    def get_cancel_url(self) -> str:
        return self.review_url()


class ProgrammeReviewsMixin(ReviewObjectMixin):
    quality_model = Programme
    select_related = ("consortium", "lead_institution")

    def get_cancel_url(self) -> str:
        return reverse("review-list", args=[self.programme.pk])


class ReviewListView(ProgrammeReviewsMixin, PaginatedListView):
    """A programme's reviews, newest year first, and the form to start one."""

    policy_action = "review.view"
    template_name = "quality/review/list.html"

    def get_queryset(self):
        return services.review_rows(self.programme)

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        can_manage = self.can("quality.manage", self.programme)
        years = services.years_to_start(self.programme) if can_manage else []
        context.update(programme=self.programme, can_manage=can_manage,
                       can_quality=self.can("quality.view", self.programme),
                       start_form=ReviewStartForm(years=years) if years else None)
        return context


class ReviewCreateView(ProgrammeReviewsMixin, ServiceFormView):
    policy_action = "quality.manage"
    form_class = ReviewStartForm
    title = gettext_lazy("Start a quality review")
    intro = gettext_lazy("The review gathers the evidence of the programme's editions that end in the academic "
                         "year; the team adds its findings and an improvement plan and submits it to the programme "
                         "board.")
    submit_label = gettext_lazy("Start the review")
    success_message = gettext_lazy("The review is started: the evidence below is computed from the data as it is "
                                   "now, until the review is submitted.")

    def get_form_kwargs(self):
        return {**super().get_form_kwargs(), "years": services.years_to_start(self.programme)}

    def perform(self, form):
        return services.review_create(actor=self.request.user, programme=self.programme,
                                      year=form.cleaned_data["year"])


class ReviewDetailView(ReviewObjectMixin, PolicyTemplateView):
    policy_action = "review.view"
    template_name = "quality/review/detail.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        review = self.review
        evidence = services.review_evidence(review)
        actions = list(review.actions.select_related("owner_institution", "finding").order_by("position",
                                                                                               "created_at"))
        findings = list(review.findings.order_by("position", "created_at"))
        numbers = {f.pk: n for n, f in enumerate(findings, start=1)}
        for action in actions:
            action.finding_number = numbers.get(action.finding_id)
        can_manage = self.can("quality.manage", review)
        can_decide = self.can("review.decide", review) and review.status == ReviewStatus.SUBMITTED
        context.update(
            review=review, programme=review.programme, evidence=evidence, charts=evidence_charts(evidence),
            themes=theme_matrix(evidence),
            findings=findings, actions=actions, report=services.current_report(review),
            can_manage=can_manage, can_edit=can_manage and review.editable,
            can_quality=self.can("quality.view", review.programme),
            can_submit=can_manage and review.editable, can_decide=can_decide,
            decision_form=DecisionForm() if can_decide else None,
            open_statuses=OPEN_ACTION_STATUSES, statuses=ActionStatus,
            overdue=sum(a.overdue for a in actions), report_statuses=ReportStatus,
        )
        return context


class ReviewUpdateView(ReviewObjectMixin, ServiceFormView):
    policy_action = "quality.manage"
    form_class = ReviewSummaryForm
    title = gettext_lazy("Summary and conclusions")
    submit_label = gettext_lazy("Save")
    success_message = gettext_lazy("The summary is saved.")

    def get_form_kwargs(self):
        return {**super().get_form_kwargs(), "instance": QualityReview(summary=self.review.summary)}

    def perform(self, form):
        return services.review_update(actor=self.request.user, review=self.review,
                                      data={"summary": form.cleaned_data["summary"]})


class ReviewDecideView(ReviewObjectMixin, ServiceFormView):
    """The programme board's decision: approve (final; the report is rendered) or return with comments."""

    policy_action = "review.decide"
    form_class = DecisionForm
    title = gettext_lazy("The programme board's decision")
    submit_label = gettext_lazy("Record the decision")

    def perform(self, form):
        comment = form.cleaned_data["comment"]
        if form.cleaned_data["decision"] == "approve":
            review = services.review_approve(actor=self.request.user, review=self.review, comment=comment)
            messages.success(self.request, _("Approved: the review is final and its report is being prepared."))
        else:
            review = services.review_return(actor=self.request.user, review=self.review, comment=comment)
            messages.success(self.request, _("Returned to the team with your comments."))
        return review


class ReviewActionView(ReviewObjectMixin, ServiceActionView):
    """A POST button on a review (or one of its findings or actions); a refusal is shown as a message."""

    policy_action = "quality.manage"

    def get_redirect_url(self) -> str:
        return self.review_url()


class ReviewSubmitView(ReviewActionView):
    success_message = gettext_lazy("Submitted to the programme board: the evidence is frozen as it is now.")

    def perform(self):
        services.review_submit(actor=self.request.user, review=self.review)


class ReviewReportRequestView(ReviewActionView):
    policy_action = "review.view"
    success_message = gettext_lazy("The PDF is being prepared; it will be ready shortly.")

    def perform(self):
        services.report_request(actor=self.request.user, review=self.review)


class ReviewPdfView(ReviewObjectMixin, View):
    """The review's report: the final one once approved, else the latest draft (marked DRAFT)."""

    policy_action = "review.view"

    def get(self, request, *args, **kwargs):
        report = services.current_report(self.review)
        if report is None or report.status != ReportStatus.READY or not report.file:
            message = NO_REPORT if report is None else (
                REPORT_FAILED if report.status == ReportStatus.FAILED else REPORT_NOT_READY)
            messages.info(request, str(message))
            return HttpResponseRedirect(self.review_url())
        return download(report.file.open("rb"), services.report_filename(report))


class FindingAddView(ReviewObjectMixin, ServiceFormView):
    policy_action = "quality.manage"
    form_class = FindingForm
    title = gettext_lazy("Add a finding")
    submit_label = gettext_lazy("Add the finding")
    success_message = gettext_lazy("The finding is added.")

    def perform(self, form):
        return services.finding_add(actor=self.request.user, review=self.review, data=form.cleaned_data)

    def get_success_url_for(self, result):
        return self.review_url()


class FindingEditView(ReviewObjectMixin, ServiceFormView):
    policy_action = "quality.manage"
    quality_model = Finding
    select_related = ("review__programme",)
    form_class = FindingForm
    title = gettext_lazy("Edit the finding")
    success_message = gettext_lazy("The finding is saved.")

    def get_form_kwargs(self):
        finding = self.get_policy_object()
        return {**super().get_form_kwargs(),
                "instance": Finding(review=finding.review, kind=finding.kind, theme=finding.theme, text=finding.text)}

    def perform(self, form):
        return services.finding_update(actor=self.request.user, finding=self.get_policy_object(),
                                       data=form.cleaned_data)

    def get_success_url_for(self, result):
        return self.review_url()


class FindingRemoveView(ReviewActionView):
    quality_model = Finding
    select_related = ("review__programme",)
    success_message = gettext_lazy("The finding is removed.")

    def perform(self):
        services.finding_remove(actor=self.request.user, finding=self.get_policy_object())


class ActionFormMixin:
    form_class = ActionForm

    def get_form_kwargs(self):
        return {**super().get_form_kwargs(), "review": self.review}

    def get_success_url_for(self, result):
        return self.review_url()


class ActionAddView(ActionFormMixin, ReviewObjectMixin, ServiceFormView):
    policy_action = "quality.manage"
    title = gettext_lazy("Add an action to the improvement plan")
    submit_label = gettext_lazy("Add the action")
    success_message = gettext_lazy("The action is added to the plan.")

    def perform(self, form):
        return services.action_add(actor=self.request.user, review=self.review, data=form.cleaned_data)


class ActionEditView(ActionFormMixin, ReviewObjectMixin, ServiceFormView):
    policy_action = "quality.manage"
    quality_model = ImprovementAction
    select_related = ("review__programme",)
    title = gettext_lazy("Edit the action")
    success_message = gettext_lazy("The action is saved.")

    def get_form_kwargs(self):
        action = self.get_policy_object()
        copy = ImprovementAction(review=action.review, **{name: getattr(action, name) for name in (
            "title", "description", "finding_id", "owner", "owner_institution_id", "due_on")})
        return {**super().get_form_kwargs(), "instance": copy}

    def perform(self, form):
        return services.action_update(actor=self.request.user, action=self.get_policy_object(),
                                      data=form.cleaned_data)


class ActionTransitionView(ReviewActionView):
    """start / complete / drop (with a ``reason``) an action of the plan."""

    quality_model = ImprovementAction
    select_related = ("review__programme",)
    MESSAGES = {
        "start": gettext_lazy("The action is in progress."),
        "complete": gettext_lazy("The action is done."),
        "drop": gettext_lazy("The action is dropped."),
    }

    def dispatch(self, request, *args, **kwargs):
        if kwargs.get("transition") not in services.ACTION_MOVES:
            raise Http404
        self.success_message = self.MESSAGES[kwargs["transition"]]
        return super().dispatch(request, *args, **kwargs)

    def perform(self):
        reason = self.request.POST.get("reason", "")
        services.action_transition(actor=self.request.user, action=self.get_policy_object(),
                                   move=self.kwargs["transition"], reason=reason[:2000])

