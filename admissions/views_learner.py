"""The learner's side of the joint admission procedure (D4). Thin: form → service → redirect.

A learner applies from a programme's public page, completes one form (answers and documents), submits it,
follows it on a status page (timeline of every message, documents, offer, requests for information),
responds to the offer, withdraws, and asks for exemptions (recognition of prior learning).

Learners only ever see their own applications: every object view looks the application up among the signed-in
user's own, so someone else's id is a 404, and then checks the policy. The documents URL is shared with the
reviewing institution's staff and follows ``application.documents``.
"""

from __future__ import annotations

from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import FileResponse, Http404, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.urls import reverse
from django.utils.text import slugify
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views import View

from consortium.api import DomainError, policy
from consortium.web import PolicyMixin, PolicyTemplateView, ServiceActionView, ServiceFormView
from programmes.api import Edition, ProgrammeStatus

from . import services
from .forms_learner import AnswerForm, ApplicationForm, ExemptionForm, WithdrawForm, upload_help
from .models import (
    Application,
    ApplicationDocument,
    ApplicationMessage,
    ApplicationStatus,
    Criterion,
    ExemptionRequest,
    InstitutionRegistration,
    MessageKind,
)

S = ApplicationStatus

#: Query-string parameters of a campaign, stored on the application when the learner starts it.
CAMPAIGN_PARAMETERS = ("utm_source", "utm_medium", "utm_campaign")
#: While these hold, the learner may ask for exemptions (the service decides; the page offers the form).
EXEMPTION_STATUSES = (S.ADMITTED, S.OFFER_ACCEPTED, S.AWAITING_PAYMENT, S.ENROLLED)
CONTENT_TYPES = {"pdf": "application/pdf", "png": "image/png", "jpeg": "image/jpeg"}
EXTENSIONS = {"pdf": "pdf", "png": "png", "jpeg": "jpg"}

#: What the learner does next, per status (shown in the list and on the status page).
NEXT_STEPS = {
    S.DRAFT: gettext_lazy("Complete your application and submit it before the deadline."),
    S.SUBMITTED: gettext_lazy("Nothing to do: the reviewing institution will look at your application. "
                              "We email you at every change."),
    S.UNDER_REVIEW: gettext_lazy("Nothing to do: your application is being reviewed. We email you at every change."),
    S.INFO_REQUESTED: gettext_lazy("Answer the request for more information."),
    S.ADMITTED: gettext_lazy("Accept or decline the offer before its deadline."),
    S.WAITLISTED: gettext_lazy("Nothing to do: if a place frees up, it is offered to you automatically."),
    S.REJECTED: gettext_lazy("No further step for this edition."),
    S.OFFER_ACCEPTED: gettext_lazy("Nothing to do: your enrolment is being completed."),
    S.AWAITING_PAYMENT: gettext_lazy("Pay the invoice; you are enrolled once the payment is received."),
    S.ENROLLED: gettext_lazy("Follow the programme. You may ask for exemptions from courses you already mastered."),
    S.DECLINED: gettext_lazy("No further step for this edition."),
    S.LAPSED: gettext_lazy("No further step for this edition."),
    S.SUSPENDED: gettext_lazy("Contact the programme to resume your studies."),
    S.COMPLETED: gettext_lazy("Well done: you completed the programme."),
    S.WITHDRAWN: gettext_lazy("No further step for this edition."),
}
#: The colour of a status badge (the stylesheet's status-* classes).
TONES = {
    S.DRAFT: "draft", S.SUBMITTED: "pending", S.UNDER_REVIEW: "pending", S.INFO_REQUESTED: "pending",
    S.WAITLISTED: "pending", S.AWAITING_PAYMENT: "pending", S.SUSPENDED: "pending",
    S.ADMITTED: "ready", S.OFFER_ACCEPTED: "ready", S.ENROLLED: "ready", S.COMPLETED: "ready",
    S.REJECTED: "failed", S.DECLINED: "failed", S.LAPSED: "failed", S.WITHDRAWN: "failed",
}


def _display_zone(name: str) -> str:
    """The edition's time zone when it is a known IANA name, else UTC (a typo must not break the page)."""
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, TypeError):
        return "UTC"
    return name


def _own_applications(user):
    return Application.objects.filter(applicant=user).select_related("edition__programme").prefetch_related(
        "edition__programme__texts")


def _decorate(application: Application) -> Application:
    """What the templates show about an application besides its fields."""
    application.tone = TONES.get(application.status, "draft")
    application.next_step = NEXT_STEPS.get(application.status, "")
    application.editable = application.status in services.EDITABLE
    application.display_zone = _display_zone(application.edition.time_zone)
    return application


def _criteria(edition: Edition) -> list[Criterion]:
    return list(Criterion.objects.filter(framework__edition=edition).order_by("position", "created_at"))


class OwnApplicationMixin:
    """The signed-in learner's application named by the URL (404 for anyone else's, whoever asks)."""

    def get_policy_object(self):
        if getattr(self, "object", None) is None:
            self.object = get_object_or_404(_own_applications(self.request.user), pk=self.kwargs["pk"])
        return self.object

    def status_url(self) -> str:
        return reverse("application-status", args=[self.object.pk])

    def get_cancel_url(self) -> str:
        return self.status_url()

    def get_success_url_for(self, _result) -> str:
        return self.status_url()

    def get_redirect_url(self) -> str:
        return self.status_url()

    def get_context_data(self, **kwargs):
        return {**super().get_context_data(**kwargs), "application": self.object}


# --- Start ---------------------------------------------------------------------------------------------


class ApplicationStartView(PolicyMixin, View):
    """The Apply button of the public programme page (a link, so GET works; POST too). Signs in first."""

    policy_action = "application.apply"
    http_method_names = ["get", "post"]

    def get_policy_object(self):
        if self.object is None:
            self.object = get_object_or_404(Edition.objects.select_related("programme"), pk=self.kwargs["edition_id"])
        return self.object

    def get(self, request, *args, **kwargs):
        return self.start()

    def post(self, request, *args, **kwargs):
        return self.start()

    def campaign(self) -> dict[str, str]:
        found = {}
        for name in CAMPAIGN_PARAMETERS:
            value = (self.request.GET.get(name) or self.request.POST.get(name) or "").strip()
            if value:
                found[name] = value
        return found

    def start(self):
        edition = self.object
        try:
            application = services.application_start(actor=self.request.user, edition=edition, utm=self.campaign())
        except DomainError as exc:
            messages.error(self.request, exc.message)
            if edition.programme.status == ProgrammeStatus.PUBLISHED:
                return HttpResponseRedirect(reverse("programme-public", args=[edition.programme.code]))
            return HttpResponseRedirect(reverse("catalogue"))
        if application.status not in services.EDITABLE:
            messages.info(self.request, _("You already applied to this edition. Here is where your application "
                                          "stands."))
            return HttpResponseRedirect(reverse("application-status", args=[application.pk]))
        return HttpResponseRedirect(reverse("application-edit", args=[application.pk]))


# --- The application form ---------------------------------------------------------------------------------


class ApplicationEditView(OwnApplicationMixin, ServiceFormView):
    """One form for the whole application: answers, documents, then "Save draft" or "Submit application"."""

    policy_action = "application.edit"
    form_class = ApplicationForm
    template_name = "admissions/learner/edit.html"

    def dispatch(self, request, *args, **kwargs):
        self.submit_problems: list[str] = []
        return super().dispatch(request, *args, **kwargs)

    def get(self, request, *args, **kwargs):
        return self.not_editable() or super().get(request, *args, **kwargs)

    def post(self, request, *args, **kwargs):
        return self.not_editable() or super().post(request, *args, **kwargs)

    def not_editable(self):
        if self.object.status in services.EDITABLE:
            return None
        messages.info(self.request, _("Your application is %(status)s; it can no longer be changed.") % {
            "status": self.object.get_status_display().lower()})
        return HttpResponseRedirect(self.status_url())

    def criteria(self) -> list[Criterion]:
        if not hasattr(self, "_criteria"):
            self._criteria = _criteria(self.object.edition)
        return self._criteria

    def get_form_kwargs(self):
        # The form edits a copy; the service applies the cleaned data to the locked row.
        return {**super().get_form_kwargs(), "instance": Application.objects.get(pk=self.object.pk),
                "criteria": self.criteria()}

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        application = _decorate(self.object)
        documents = list(application.documents.order_by("created_at"))
        form = context["form"]
        context.update(
            title=_("Application: %(programme)s") % {"programme": application.edition.programme.title},
            application=application,
            edition=application.edition,
            programme=application.edition.programme,
            display_zone=_display_zone(application.edition.time_zone),
            criteria=self.criteria(),
            document_inputs=[(field, criterion, [d for d in documents if d.criterion_id == criterion.pk])
                             for field, criterion in form.bound_document_fields()],
            other_documents=[d for d in documents if d.criterion_id is None],
            can_submit=application.status == S.DRAFT,
            submit_problems=self.submit_problems,
            upload_help=upload_help(),
        )
        return context

    def form_valid(self, form):
        submit = self.request.POST.get("action") == "submit"
        try:
            application = services.application_save(actor=self.request.user, application=self.object,
                                                    data=form.answers(), documents=form.uploads(),
                                                    esi=form.esi_value())
        except ValidationError as exc:
            self.service_errors(form, exc)
            return self.form_invalid(form)
        except DomainError as exc:
            form.add_error(None, exc.message)
            return self.form_invalid(form)
        self.object = application
        if not submit or application.status != S.DRAFT:
            messages.success(self.request, _("Your answers are saved. You can come back and submit before the "
                                             "deadline."))
            return HttpResponseRedirect(reverse("application-edit", args=[application.pk]))
        try:
            services.application_submit(actor=self.request.user, application=application)
        except DomainError as exc:
            messages.info(self.request, _("Your answers are saved as a draft."))
            details = exc.details.values() if isinstance(exc.details, dict) else [exc.details]
            self.submit_problems = [exc.message, *[str(d) for group in details for d in group]]
            return self.render_to_response(self.get_context_data(form=form))
        messages.success(self.request, _("Your application is submitted. We email you at every change; you can "
                                         "follow it on this page."))
        return HttpResponseRedirect(self.status_url())

    @staticmethod
    def service_errors(form: ApplicationForm, exc: ValidationError) -> None:
        if not hasattr(exc, "error_dict"):
            for error in exc.messages:
                form.add_error(None, error)
            return
        errors = exc.message_dict
        if "documents" in errors:
            form.add_error(None, _("Nothing was saved: a file was refused (see below). Your answers are still in "
                                   "the form; choose the files again and save."))
            form.add_document_errors(errors.pop("documents"))
        for field, messages_ in errors.items():
            for error in messages_:
                form.add_error(field if field in form.fields else None, error)


# --- The learner's applications -----------------------------------------------------------------------------


class MyApplicationsView(PolicyTemplateView):
    policy_action = policy.AUTHENTICATED
    template_name = "admissions/learner/list.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        applications = [_decorate(a) for a in _own_applications(self.request.user).order_by("-created_at")]
        context.update(applications=applications)
        return context


class ApplicationStatusView(OwnApplicationMixin, PolicyTemplateView):
    """Where the application stands: status, next step, timeline, documents, offer, requests, exemptions."""

    policy_action = "application.view"
    template_name = "admissions/learner/status.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        application = _decorate(self.object)
        edition = application.edition
        status = application.status
        timeline = list(ApplicationMessage.objects.filter(application=application).order_by("created_at"))
        requests = [m for m in timeline if m.kind == MessageKind.INFO_REQUEST]
        enrolment = getattr(application, "enrolment", None) if status in (S.ENROLLED, S.SUSPENDED,
                                                                          S.COMPLETED) else None
        document_criteria = Criterion.objects.filter(framework__edition=edition).exclude(document_label="")
        context.update(
            application=application,
            edition=edition,
            programme=edition.programme,
            display_zone=_display_zone(edition.time_zone),
            timeline=timeline,
            info_request=requests[-1] if requests and status == S.INFO_REQUESTED else None,
            answer_form=AnswerForm(criteria=document_criteria) if status == S.INFO_REQUESTED else None,
            documents=application.documents.select_related("criterion").order_by("created_at"),
            can_respond=status == S.ADMITTED,
            can_withdraw=S.WITHDRAWN in services.APPLICATION_TRANSITIONS[status],
            withdraw_form=WithdrawForm(),
            exemption_form=ExemptionForm(edition=edition) if status in EXEMPTION_STATUSES else None,
            exemptions=ExemptionRequest.objects.filter(application=application).select_related("course"),
            registrations=InstitutionRegistration.objects.filter(enrolment=enrolment).select_related(
                "institution") if enrolment else [],
            enrolment=enrolment,
        )
        return context


# --- Answers and responses -----------------------------------------------------------------------------------


class AnswerView(OwnApplicationMixin, ServiceFormView):
    """The answer to a request for more information (text and documents); the application goes back to review."""

    policy_action = "application.edit"
    template_name = "admissions/learner/form.html"
    form_class = AnswerForm
    title = gettext_lazy("Answer the request for information")
    submit_label = gettext_lazy("Send the answer")
    success_message = gettext_lazy("Your answer is sent; the application is back under review.")

    def get_form_kwargs(self):
        criteria = Criterion.objects.filter(framework__edition_id=self.object.edition_id).exclude(document_label="")
        return {**super().get_form_kwargs(), "criteria": criteria}

    def perform(self, form):
        return services.application_answer(actor=self.request.user, application=self.object,
                                           body=form.cleaned_data["body"], documents=form.uploads())


class AcceptOfferView(OwnApplicationMixin, ServiceActionView):
    policy_action = "application.respond"

    def perform(self):
        application = services.application_accept_offer(actor=self.request.user, application=self.object)
        if application.status == S.AWAITING_PAYMENT:
            self.success_message = _("You accepted the offer. You are enrolled once the payment is received.")
        else:
            self.success_message = _("You accepted the offer and are enrolled. Welcome!")
        return application


class DeclineOfferView(OwnApplicationMixin, ServiceActionView):
    policy_action = "application.respond"
    success_message = gettext_lazy("You declined the offer; your place goes to the next person on the waiting list.")

    def perform(self):
        return services.application_decline_offer(actor=self.request.user, application=self.object)


class WithdrawView(OwnApplicationMixin, ServiceFormView):
    """Withdraw, with an optional reason. The status page posts here; without JavaScript this page confirms."""

    policy_action = "application.respond"
    template_name = "admissions/learner/form.html"
    form_class = WithdrawForm
    title = gettext_lazy("Withdraw your application")
    intro = gettext_lazy("Withdrawing is final for this edition: a place you hold goes to the waiting list.")
    submit_label = gettext_lazy("Withdraw")
    extra_context = {"submit_class": "danger"}
    success_message = gettext_lazy("Your application is withdrawn.")

    def perform(self, form):
        return services.application_withdraw(actor=self.request.user, application=self.object,
                                             reason=form.cleaned_data["reason"])


class ExemptionRequestView(OwnApplicationMixin, ServiceFormView):
    """Recognition of prior learning: ask to be exempted from one course of the edition's curriculum."""

    policy_action = "application.respond"
    template_name = "admissions/learner/form.html"
    form_class = ExemptionForm
    title = gettext_lazy("Ask for an exemption from a course")
    intro = gettext_lazy("The examination board decides on the basis of your earlier credentials or experience.")
    submit_label = gettext_lazy("Send the request")
    success_message = gettext_lazy("Your exemption request is sent; the decision appears on your application page.")

    def get_form_kwargs(self):
        return {**super().get_form_kwargs(), "edition": self.object.edition}

    def perform(self, form):
        data = form.cleaned_data
        try:
            return services.exemption_request(actor=self.request.user, application=self.object, course=data["course"],
                                              basis=data["basis"], evidence=data.get("evidence") or None)
        except ValidationError as exc:
            if hasattr(exc, "error_dict"):
                raise
            raise ValidationError({"evidence": exc.messages}) from exc  # the upload was refused


# --- Documents ------------------------------------------------------------------------------------------------


class ApplicationDocumentView(PolicyMixin, View):
    """An uploaded document, to the applicant and to staff the policy lets see it (404 when the application
    itself is invisible to them, 403 when they see the application but not its documents)."""

    policy_action = "application.documents"
    http_method_names = ["get"]

    def get_policy_object(self):
        if self.object is None:
            document = get_object_or_404(
                ApplicationDocument.objects.select_related("application__edition__programme"), pk=self.kwargs["pk"])
            if not policy.can(self.request.user, "application.view", document.application):
                raise Http404
            self.object = document
        return self.object.application

    def get(self, request, *args, **kwargs):
        document = self.object
        if not document.file:
            raise Http404
        name = f"{slugify(document.label) or 'document'}.{EXTENSIONS.get(document.kind, 'bin')}"
        response = FileResponse(document.file.open("rb"), as_attachment=document.kind not in CONTENT_TYPES,
                                filename=name, content_type=CONTENT_TYPES.get(document.kind,
                                                                              "application/octet-stream"))
        response["X-Content-Type-Options"] = "nosniff"
        response["Cache-Control"] = "private, no-store"
        return response

