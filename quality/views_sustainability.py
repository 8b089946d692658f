"""The sustainability pages (D10): a programme's dashboard (partners' commitments per year beside the medium-term
financial plan and the quality reviews) and the commitment forms and transitions. Thin: each calls one service or
selector of ``quality.sustainability``."""

from __future__ import annotations

from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from consortium.web import PolicyTemplateView, ServiceActionView, ServiceFormView

from . import sustainability
from .forms_sustainability import CommitmentForm, WithdrawForm
from .models import Commitment, CommitmentStatus
from .web import QualityObjectMixin


def dashboard_url(programme) -> str:
    return reverse("sustainability", args=[programme.pk])


class SustainabilityView(QualityObjectMixin, PolicyTemplateView):
    policy_action = "quality.view"
    template_name = "quality/sustainability/dashboard.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        programme = self.programme
        context.update(programme=programme, dash=sustainability.dashboard(programme),
                       can_manage=self.can("quality.manage", programme),
                       can_see_plan=self.can("finance.view", programme))
        return context


class _BackToDashboard:
    http_method_names = ["get", "post"]  # a form page (or a button: ServiceActionView narrows it to POST)

    def get_success_url_for(self, _result) -> str:
        return dashboard_url(self.programme)

    def get_cancel_url(self) -> str:
        return dashboard_url(self.programme)

    def get_redirect_url(self) -> str:
        return dashboard_url(self.programme)


class _CommitmentFormView(_BackToDashboard, QualityObjectMixin, ServiceFormView):
    """The commitment form, its choices limited to the programme's partnership and consortium."""

    policy_action = "quality.manage"
    form_class = CommitmentForm

    def get_form_kwargs(self):
        return {**super().get_form_kwargs(), "programme": self.programme}


class CommitmentCreateView(_CommitmentFormView):
    title = _("Propose a commitment")
    intro = _("What one partner contributes to the programme each calendar year over a range of years. It counts on "
              "the sustainability dashboard once it is confirmed.")
    submit_label = _("Propose")
    success_message = _("The commitment is proposed.")

    def perform(self, form):
        return sustainability.commitment_add(actor=self.request.user, programme=self.programme,
                                             data=form.cleaned_data)


class CommitmentEditView(_CommitmentFormView):
    quality_model = Commitment
    select_related = ("programme", "institution")
    title = _("Change a proposed commitment")
    submit_label = _("Save")
    success_message = _("The commitment is saved.")

    @property
    def commitment(self) -> Commitment:
        return self.get_policy_object()

    def get_intro(self) -> str:
        if self.commitment.status != CommitmentStatus.PROPOSED:
            return str(sustainability.ONLY_PROPOSALS_CHANGE)
        return ""

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["intro"] = self.get_intro()
        return context

    def get_initial(self):
        c = self.commitment
        return {"institution": c.institution_id, "kind": c.kind, "first_year": c.first_year,
                "last_year": c.last_year, "amount": c.amount, "description": c.description,
                "agreement": c.agreement_id}

    def perform(self, form):
        return sustainability.commitment_update(actor=self.request.user, commitment=self.commitment,
                                                data=form.cleaned_data)


class CommitmentConfirmView(_BackToDashboard, QualityObjectMixin, ServiceActionView):
    http_method_names = ["post"]
    policy_action = "quality.manage"
    quality_model = Commitment
    select_related = ("programme",)
    success_message = _("The commitment is confirmed.")

    def perform(self):
        sustainability.commitment_confirm(actor=self.request.user, commitment=self.get_policy_object())


class CommitmentWithdrawView(_BackToDashboard, QualityObjectMixin, ServiceFormView):
    policy_action = "quality.manage"
    quality_model = Commitment
    select_related = ("programme", "institution")
    form_class = WithdrawForm
    submit_label = _("Withdraw the commitment")
    success_message = _("The commitment is withdrawn.")

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        c = self.get_policy_object()
        context["title"] = _("Withdraw the commitment of %(institution)s (%(years)s)") % {
            "institution": c.institution.short_name, "years": c.years_label}
        context["intro"] = _("A withdrawn commitment no longer counts on the dashboard; it stays on record with the "
                             "reason.")
        return context

    def perform(self, form):
        return sustainability.commitment_withdraw(actor=self.request.user, commitment=self.get_policy_object(),
                                                  reason=form.cleaned_data["reason"])
