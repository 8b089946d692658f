"""Personal data pages (GDPR): a person's "My data" (what is held and why, the download, asking for erasure), and
for platform administrators (``privacy.manage``) the erasure requests and the record of processing activities."""

from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.views import View

from . import personal_data, policy, selectors, services
from .forms_privacy import (
    ErasureAskForm,
    ErasureDecisionForm,
    ErasureFilterForm,
    ErasureRecordForm,
    ErasureRefuseForm,
    EsiForm,
)
from .models import ErasureRequest, ErasureStatus
from .web import PaginatedListView, PolicyMixin, PolicyTemplateView, ServiceFormView, private_download

# --- The person: My data ----------------------------------------------------------------------------------------


class MyDataView(PolicyTemplateView):
    """What the platform holds about the signed-in person, why and for how long; the download; erasure."""

    policy_action = policy.AUTHENTICATED
    template_name = "consortium/privacy/my_data.html"

    def get_context_data(self, **kwargs):
        requests = list(selectors.own_erasure_requests(user=self.request.user))
        return {
            **super().get_context_data(**kwargs),
            "held": personal_data.summary(self.request.user),
            "requests": requests,
            "open_request": next((r for r in requests if r.status == ErasureStatus.REQUESTED), None),
        }


class MyDataDownloadView(PolicyMixin, View):
    """A ZIP of everything held about the signed-in person: data.json and their files."""

    policy_action = policy.AUTHENTICATED
    http_method_names = ["get"]

    def get(self, request, *args, **kwargs):
        archive = services.personal_data_export(actor=request.user, user=request.user)
        return private_download(archive, f"my-data-{timezone.localdate():%Y-%m-%d}.zip", "application/zip")


class MyErasureRequestView(ServiceFormView):
    policy_action = policy.AUTHENTICATED
    form_class = ErasureAskForm
    title = _("Ask us to erase your personal data")
    intro = _("A platform administrator checks the request and carries it out, usually within a month. Your "
              "account is then closed and your name, contact details, documents and messages are removed. "
              "Results and awards stay as academic records without your name (their verification links keep "
              "working); invoices stay as accounting records. Download your data first if you want to keep it.")
    submit_label = _("Send the request")
    success_message = _("Your request was sent. You can follow it on this page.")

    def perform(self, form):
        user = self.request.user
        return services.erasure_request(actor=user, user=user, reason=form.cleaned_data["reason"])

    def get_success_url_for(self, result) -> str:
        return reverse("my-data")

    def get_cancel_url(self) -> str:
        return reverse("my-data")


class MyEsiView(ServiceFormView):
    """The person's own European Student Identifier (used in their applications and on their credentials)."""

    policy_action = policy.AUTHENTICATED
    form_class = EsiForm
    title = _("My European Student Identifier")
    intro = _("Partner universities use it to recognise you across Europe, and your digital credentials name you by "
              "it. Credentials already issued keep the identifier they were issued with.")
    submit_label = _("Save")
    success_message = _("Your European Student Identifier is saved.")

    def get_initial(self):
        return {"esi": self.request.user.esi}

    def perform(self, form):
        return services.user_esi_set(actor=self.request.user, user=self.request.user, esi=form.cleaned_data["esi"])

    def get_success_url_for(self, result) -> str:
        return reverse("my-data")

    def get_cancel_url(self) -> str:
        return reverse("my-data")


# --- Platform administrators: erasure requests ---------------------------------------------------------------


class ErasureListView(PaginatedListView):
    policy_action = "privacy.manage"
    template_name = "consortium/privacy/erasure_list.html"

    def get_queryset(self):
        form = ErasureFilterForm(self.request.GET)
        status = form.cleaned_data["status"] if form.is_valid() else ""
        return selectors.erasure_request_list(user=self.request.user, status=status,
                                              search=self.request.GET.get("q", "").strip())

    def get_context_data(self, **kwargs):
        return {**super().get_context_data(**kwargs), "filter_form": ErasureFilterForm(self.request.GET)}


class ErasureRecordView(ServiceFormView):
    """Record a request that reached the administrators another way (email, letter)."""

    policy_action = "privacy.manage"
    form_class = ErasureRecordForm
    title = _("Record an erasure request")
    intro = _("For a request received by email or letter. Check first that it comes from the account's owner.")
    submit_label = _("Record the request")
    success_message = _("The request is recorded.")

    def perform(self, form):
        return services.erasure_request(actor=self.request.user, user=form.cleaned_data["email"],
                                        reason=form.cleaned_data["reason"])

    def get_cancel_url(self) -> str:
        return reverse("erasure-list")


class ErasureRequestMixin:
    """The request named by ``pk`` (404 for anyone who may not see it, as everywhere)."""

    policy_action = "privacy.manage"
    visible_action = "privacy.manage"
    model = ErasureRequest

    def get_cancel_url(self) -> str:
        return reverse("erasure-detail", args=[self.kwargs["pk"]])

    def get_success_url_for(self, result) -> str:
        return result.get_absolute_url()


class ErasureDetailView(ErasureRequestMixin, PolicyTemplateView):
    template_name = "consortium/privacy/erasure_detail.html"

    def get_context_data(self, **kwargs):
        request = self.object
        is_open = request.status == ErasureStatus.REQUESTED
        return {
            **super().get_context_data(**kwargs),
            "erasure": request,
            "is_open": is_open,
            "held": personal_data.summary(request.user) if is_open else [],
            "decision_form": ErasureDecisionForm(auto_id="carry_%s"),
            "refuse_form": ErasureRefuseForm(auto_id="refuse_%s"),
        }


class ErasureCarryOutView(ErasureRequestMixin, ServiceFormView):
    form_class = ErasureDecisionForm
    title = _("Carry out the erasure")
    intro = _("Every app erases or pseudonymises its records of this person, in one transaction, and the account "
              "is closed. Academic records (results, awards) and accounting records (invoices) stay without the "
              "person's name. This cannot be undone.")
    submit_label = _("Erase now")
    success_message = _("The personal data was erased.")

    def perform(self, form):
        return services.erasure_carry_out(actor=self.request.user, request=self.object,
                                          note=form.cleaned_data["note"])


class ErasureRefuseView(ErasureRequestMixin, ServiceFormView):
    form_class = ErasureRefuseForm
    title = _("Refuse the erasure request")
    intro = _("Say why (for example: the request did not come from the account's owner). The person sees the "
              "reason on their My data page.")
    submit_label = _("Refuse")
    success_message = _("The request was refused.")

    def perform(self, form):
        return services.erasure_refuse(actor=self.request.user, request=self.object, note=form.cleaned_data["note"])


# --- Platform administrators: record of processing activities ---------------------------------------------------


class ProcessingRecordView(PolicyTemplateView):
    """GDPR Art. 30: each processing activity (a registered personal-data handler) with its purpose, legal basis,
    data subjects and categories, recipients and retention, and the configured retention periods."""

    policy_action = "privacy.manage"
    template_name = "consortium/privacy/processing.html"

    def get_context_data(self, **kwargs):
        periods = personal_data.retention_periods()
        activities = [
            {"handler": h, "periods": [(category, periods.get(category, "missing")) for category in h.retention_rules]}
            for h in personal_data.handlers()
        ]
        return {**super().get_context_data(**kwargs), "activities": activities, "generated_at": timezone.now()}
