"""Staff pages of admissions (D4): editions, admission criteria, the review queue and one application.

Thin views: a form collects the input, one service applies the rules, a refusal is shown to the user
(form errors, or a message for buttons) and never becomes a server error.
"""

from __future__ import annotations

import datetime as dt
import os

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import FileResponse, Http404, HttpResponseRedirect, QueryDict
from django.shortcuts import get_object_or_404
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views import View

from consortium.api import DomainError, ExternalIdKind, audit, identifiers, policy
from consortium.web import (
    PaginatedListView,
    PolicyMixin,
    PolicyTemplateView,
    ServiceActionView,
    ServiceFormView,
    csv_download,
)
from programmes.api import EditionStatus

from . import selectors, services
from .forms_staff import (
    AssessForm,
    BulkForm,
    CriterionForm,
    ExemptionDecideForm,
    FrameworkForm,
    MessageForm,
    QueueFilterForm,
    RegistrationForm,
    TransitionForm,
)
from .models import (
    AdmissionFramework,
    Application,
    ApplicationStatus,
    Assessment,
    Criterion,
    ExemptionRequest,
    ExemptionStatus,
    InstitutionRegistration,
)

S = ApplicationStatus
BULK_RESULTS_KEY = "admissions_bulk_results"


def _error_text(exc: Exception) -> str:
    """One sentence for a refusal (``DomainError`` with its details, or a ``ValidationError``)."""
    if isinstance(exc, DomainError):
        text = exc.message
        if exc.details:
            groups = exc.details.values() if isinstance(exc.details, dict) else [exc.details]
            text += " " + " ".join(str(d) for group in groups for d in group)
        return text
    assert isinstance(exc, ValidationError)
    return " ".join(exc.messages)


def _framework(edition) -> AdmissionFramework | None:
    return getattr(edition, "admission_framework", None)


def _safe_query(raw: str) -> str:
    """A query string from a form, re-encoded (only ever appended to one of our own URLs)."""
    return QueryDict(raw or "").urlencode()


# --- Loading objects behind the policy ------------------------------------------------------------------


class EditionMixin:
    """Loads the edition of the URL (404 unless its applications are visible to the user)."""

    def get_policy_object(self):
        if getattr(self, "object", None) is None:
            self.object = get_object_or_404(selectors.visible_editions(user=self.request.user), pk=self.kwargs["pk"])
            self.edition = self.object
        return self.object

    def queue_url(self, query: str = "") -> str:
        url = reverse("review-queue", args=[self.edition.pk])
        return f"{url}?{query}" if query else url


class ApplicationMixin:
    """Loads the application of the URL (404 unless the user follows its edition)."""

    def get_policy_object(self):
        if getattr(self, "object", None) is None:
            queryset = selectors.visible_applications(user=self.request.user)
            self.object = get_object_or_404(queryset, pk=self.kwargs["pk"])
            self.application = self.object
        return self.object

    def detail_url(self, anchor: str = "") -> str:
        return reverse("application-detail", args=[self.application.pk]) + (f"#{anchor}" if anchor else "")


class CriterionMixin:
    """Loads a criterion of a visible edition; the policy is checked on its edition."""

    def get_policy_object(self):
        if getattr(self, "object", None) is None:
            editions = selectors.visible_editions(user=self.request.user)
            queryset = Criterion.objects.select_related("framework__edition__programme").filter(
                framework__edition__in=editions.values("pk"))
            self.object = get_object_or_404(queryset, pk=self.kwargs["pk"])
            self.edition = self.object.framework.edition
        return self.edition

    def framework_url(self) -> str:
        return reverse("admission-framework", args=[self.edition.pk]) + "#criteria"


# --- Editions --------------------------------------------------------------------------------------------


class EditionListView(PaginatedListView):
    """The editions whose applications the user follows, with counts per status and places taken."""

    policy_action = "application.view"
    template_name = "admissions/staff/editions.html"

    def get_queryset(self):
        return selectors.edition_list(
            user=self.request.user,
            search=self.request.GET.get("q", "").strip()[:100],
            status=self.request.GET.get("status", "") if self.request.GET.get("status") in EditionStatus.values
            else "",
        )

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        editions = list(context["page_obj"].object_list)
        counts = selectors.status_counts(e.pk for e in editions)
        rows = [
            {
                "edition": e,
                "framework": _framework(e),
                "figures": selectors.EditionFigures(counts.get(e.pk, {}), e.capacity),
                "can_configure": self.can("admissions.configure", e),
                "can_review": self.can("application.review", e),
            }
            for e in editions
        ]
        context.update(rows=rows, edition_statuses=EditionStatus.choices, S=S)
        return context


class FrameworkView(EditionMixin, ServiceFormView):
    """Admission criteria of one edition: who reviews, the offer's validity, payment, and the criteria."""

    policy_action = "admissions.configure"
    form_class = FrameworkForm
    template_name = "admissions/staff/framework.html"
    success_message = gettext_lazy("Admission settings saved.")

    def get_form_kwargs(self):
        framework = AdmissionFramework.objects.filter(edition=self.edition).first()
        return {**super().get_form_kwargs(), "edition": self.edition,
                "instance": framework or AdmissionFramework(edition=self.edition)}

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        framework = AdmissionFramework.objects.filter(edition=self.edition).first()
        context.update(
            edition=self.edition,
            framework=framework,
            criteria=list(framework.criteria.all()) if framework else [],
            criterion_form=CriterionForm(),
            title=_("Admission criteria: %(edition)s") % {"edition": self.edition},
            cancel_url=reverse("admissions-editions"),
        )
        return context

    def perform(self, form):
        return services.framework_save(actor=self.request.user, edition=self.edition, data=form.cleaned_data)

    def get_success_url_for(self, result):
        return reverse("admission-framework", args=[self.edition.pk])


class CriterionAddView(EditionMixin, ServiceFormView):
    policy_action = "admissions.configure"
    form_class = CriterionForm
    title = gettext_lazy("Add an admission criterion")
    success_message = gettext_lazy("Criterion added.")

    def get_context_data(self, **kwargs):
        return {**super().get_context_data(**kwargs),
                "cancel_url": reverse("admission-framework", args=[self.edition.pk])}

    def perform(self, form):
        framework = AdmissionFramework.objects.filter(edition=self.edition).first()
        if framework is None:
            raise DomainError(_("Choose the reviewing institution and save the settings first."))
        return services.criterion_save(actor=self.request.user, framework=framework, data=form.cleaned_data)

    def get_success_url_for(self, result):
        return reverse("admission-framework", args=[self.edition.pk]) + "#criteria"


class CriterionEditView(CriterionMixin, ServiceFormView):
    policy_action = "admissions.configure"
    form_class = CriterionForm
    success_message = gettext_lazy("Criterion saved.")

    def get_form_kwargs(self):
        return {**super().get_form_kwargs(), "instance": Criterion.objects.get(pk=self.object.pk)}

    def get_context_data(self, **kwargs):
        return {**super().get_context_data(**kwargs), "title": _("Edit the criterion"),
                "cancel_url": self.framework_url()}

    def perform(self, form):
        return services.criterion_save(actor=self.request.user, framework=self.object.framework,
                                       data=form.cleaned_data, criterion=self.object)

    def get_success_url_for(self, result):
        return self.framework_url()


class CriterionRemoveView(CriterionMixin, ServiceActionView):
    policy_action = "admissions.configure"
    success_message = gettext_lazy("Criterion removed.")

    def perform(self):
        services.criterion_remove(actor=self.request.user, criterion=self.object)

    def get_redirect_url(self):
        return self.framework_url()


# --- Review queue ----------------------------------------------------------------------------------------


class QueueMixin(EditionMixin):
    """The filtered queue of one edition, shared by the page, the CSV export and the message form."""

    def criteria(self) -> list[Criterion]:
        if not hasattr(self, "_criteria"):
            framework = _framework(self.edition)
            self._criteria = list(framework.criteria.all()) if framework else []
        return self._criteria

    def filter_form(self) -> QueueFilterForm:
        if not hasattr(self, "_filter_form"):
            self._filter_form = QueueFilterForm(self.request.GET, criteria=self.criteria(),
                                                nationalities=selectors.queue_nationalities(self.edition))
        return self._filter_form

    def filtered(self):
        return selectors.review_queue(edition=self.edition, filters=self.filter_form().filters(),
                                      criteria_count=len(self.criteria()))

    def filter_query(self) -> str:
        """The current filters as a query string (without the page)."""
        query = self.request.GET.copy()
        query.pop("page", None)
        return query.urlencode()


class QueueView(QueueMixin, PaginatedListView):
    policy_action = "application.view"
    template_name = "admissions/staff/queue.html"
    paginate_by = 50

    def get_queryset(self):
        return self.filtered()

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        criteria = self.criteria()
        rows = selectors.with_assessments(list(context["page_obj"].object_list), criteria)
        current_sort = self.filter_form().filters().sort
        query = self.request.GET.copy()
        query.pop("page", None)
        sort_links = {}
        for key in ("submitted", "name", "status"):
            query["sort"] = f"-{key}" if current_sort == key else key
            sort_links[key] = query.urlencode()
        context.update(
            edition=self.edition,
            framework=_framework(self.edition),
            criteria=criteria,
            rows=rows,
            figures=selectors.edition_figures(self.edition),
            filter_form=self.filter_form(),
            filters=self.filter_form().filters(),
            sort_links=sort_links,
            current_sort=current_sort,
            filter_query=self.filter_query(),
            can_review=self.can("application.review", self.edition),
            can_configure=self.can("admissions.configure", self.edition),
            can_import=self.can("application.import", self.edition),
            can_export=self.can("edition.export", self.edition),
            bulk_form=BulkForm(),
            message_form=MessageForm(),
            bulk_results=self.request.session.pop(BULK_RESULTS_KEY, None),
            A=Assessment,
        )
        return context


class QueueCsvView(QueueMixin, PolicyTemplateView):
    """The filtered queue as CSV (UTF-8 with a byte order mark, so spreadsheet programs read the accents)."""

    policy_action = "application.view"

    def get(self, request, *args, **kwargs):
        criteria = self.criteria()
        applications = list(self.filtered())
        selectors.with_assessments(applications, criteria)
        header = [
            _("Submitted"), _("Given names"), _("Family names"), _("Email"), _("Date of birth"), _("Nationality"),
            _("Status"), _("Route"), _("Participant profile"), _("Track"), _("Employer sponsor"),
            _("EQF level"), _("Years of experience"), _("Possible duplicate"), _("Decision reason"),
            *[f"{c.get_kind_display()}: {c.description[:40]}" for c in criteria],
        ]
        labels = dict(Assessment.choices)
        rows = [header]
        for a in applications:
            rows.append([
                timezone.localtime(a.submitted_at).strftime("%Y-%m-%d %H:%M") if a.submitted_at else "",
                a.given_names, a.family_names, a.email, a.date_of_birth or "", a.nationality.code or "",
                a.get_status_display(), a.get_route_display(), a.get_participant_profile_display(),
                a.get_track_display(), a.employer_sponsor, a.highest_eqf_level, a.experience_years,
                _("yes") if a.possible_duplicate else "", a.decision_reason,
                *[labels[r] for r in a.results],
            ])
        audit.record(request.user, "admissions.queue_exported", self.edition,
                     {"rows": len(applications), "filters": self.filter_query()},
                     consortium_id=self.edition.programme.consortium_id)
        filename = f"applications-{self.edition.programme.code}-{self.edition.intake_code}.csv"
        return csv_download(rows, filename)


class QueueBulkView(EditionMixin, PolicyMixin, View):
    """One decision on the selected rows; each row succeeds or is refused on its own, with its reason."""

    policy_action = "application.review"
    http_method_names = ["post"]

    def post(self, request, *args, **kwargs):
        query = _safe_query(request.POST.get("query", ""))
        form = BulkForm(request.POST)
        if not form.is_valid():
            for errors in form.errors.values():
                for error in errors:
                    messages.error(request, error)
            return HttpResponseRedirect(self.queue_url(query))
        ids = form.cleaned_data["ids"]
        # First come, first served: when places run out, the earliest submissions get them.
        applications = list(
            Application.objects.filter(edition=self.edition, pk__in=ids)
            .select_related("edition__programme", "edition__admission_framework")
            .order_by("submitted_at", "created_at")
        )
        results = services.applications_bulk(actor=request.user, applications=applications,
                                             action=form.cleaned_data["action"], reason=form.cleaned_data["reason"])
        statuses = dict(Application.objects.filter(pk__in=[a.pk for a in applications]).values_list("pk", "status"))
        request.session[BULK_RESULTS_KEY] = {
            "action": str(dict(form.fields["action"].choices)[form.cleaned_data["action"]]),
            "rows": [
                {"id": str(a.pk), "name": a.full_name, "ok": not refusal, "message": refusal,
                 "status": str(S(statuses.get(a.pk, a.status)).label)}
                for a, refusal in results
            ],
            "done": sum(1 for _a, refusal in results if not refusal),
            "refused": sum(1 for _a, refusal in results if refusal),
            "missing": len(ids) - len(applications),
        }
        return HttpResponseRedirect(self.queue_url(query) + "#bulk-results")


class QueueMessageView(QueueMixin, ServiceFormView):
    """A templated message to every applicant of the filtered queue (not only the page shown)."""

    policy_action = "application.review"
    form_class = MessageForm
    template_name = "admissions/staff/message.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context.update(
            edition=self.edition,
            recipients=self.filtered().count(),
            filter_query=self.filter_query(),
            title=_("Message the applicants"),
            cancel_url=self.queue_url(self.filter_query()),
        )
        return context

    def perform(self, form):
        applications = (
            self.filtered()
            .select_related("edition__programme", "edition__admission_framework")
            .prefetch_related("edition__programme__texts")
        )
        sent = services.messages_send(actor=self.request.user, applications=applications,
                                      subject=form.cleaned_data["subject"], body=form.cleaned_data["body"])
        messages.success(self.request, _("Message sent to %(n)s applicant(s).") % {"n": sent})
        return sent

    def get_success_url_for(self, result):
        return self.queue_url(self.filter_query())


# --- One application -------------------------------------------------------------------------------------

#: The decision buttons of the application page: the service, the status it leads to, whether it takes
#: a text (and whether that text is required), and the success message.
DECISIONS = {
    "review": (services.application_review_start, S.UNDER_REVIEW, None, gettext_lazy("Review started.")),
    "request-info": (services.application_request_info, S.INFO_REQUESTED, "message",
                     gettext_lazy("Information requested; the applicant was notified.")),
    "admit": (services.application_admit, S.ADMITTED, "reason", gettext_lazy("Admitted; the offer was sent.")),
    "waitlist": (services.application_waitlist, S.WAITLISTED, "reason", gettext_lazy("Waitlisted.")),
    "reject": (services.application_reject, S.REJECTED, "reason", gettext_lazy("Rejected; the applicant was told.")),
    "withdraw": (services.application_withdraw, S.WITHDRAWN, "reason", gettext_lazy("Withdrawal recorded.")),
    "suspend": (services.enrolment_suspend, S.SUSPENDED, "reason", gettext_lazy("Studies suspended.")),
    "resume": (services.enrolment_resume, S.ENROLLED, None, gettext_lazy("Studies resumed.")),
    "complete": (services.enrolment_complete, S.COMPLETED, None, gettext_lazy("Marked as completed.")),
}
#: Decisions whose text is required (the services refuse them without one).
TEXT_REQUIRED = {"request-info", "reject", "suspend"}
#: Decisions offered only from some statuses (an accepted offer also leads to "enrolled", but by enrolment).
ONLY_FROM = {"resume": {S.SUSPENDED}}


def _answers(application: Application) -> list[tuple[str, object]]:
    rows = []
    for name in services.APPLICANT_FIELDS:
        field = Application._meta.get_field(name)
        value = getattr(application, name)
        if isinstance(value, dt.date):
            value = value.isoformat()
        elif name == "nationality":
            value = application.nationality.name if application.nationality else ""
        elif field.choices and value:
            value = getattr(application, f"get_{name}_display")()
        rows.append((field.verbose_name, value))
    campaign = " / ".join(v for v in (application.utm_source, application.utm_medium, application.utm_campaign) if v)
    if campaign:
        rows.append((_("Came from (campaign)"), campaign))
    return rows


class ApplicationDetailView(ApplicationMixin, PolicyTemplateView):
    policy_action = "application.view"
    template_name = "admissions/staff/application.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        application = selectors.application_detail(self.application)
        edition = application.edition
        framework = _framework(edition)
        criteria = list(framework.criteria.all()) if framework else []
        assessments = {a.criterion_id: a for a in application.criterion_assessments.select_related("reviewer")}
        can_review = self.can("application.review", application)
        allowed = services.APPLICATION_TRANSITIONS[application.status]
        decisions = [
            {"action": key, "target": target, "label": target.label, "text": text,
             "required": key in TEXT_REQUIRED}
            for key, (_fn, target, text, _msg) in DECISIONS.items()
            if target in allowed and can_review and application.status in ONLY_FROM.get(key, {application.status})
        ]
        enrolment = getattr(application, "enrolment", None)
        registrations = list(selectors.registrations(enrolment)) if enrolment else []
        exemptions = list(application.exemptions.all())
        user = self.request.user
        context.update(
            learner_external_id=identifiers.values_for(user, ExternalIdKind.LEARNER, [application.applicant_id]).get(
                str(application.applicant_id)),
            enrolment_external_id=identifiers.values_for(user, ExternalIdKind.ENROLMENT, [enrolment.pk]).get(
                str(enrolment.pk)) if enrolment else None,
            acts_for_institution=identifiers.acting_institution_id(user) is not None,
            application=application,
            edition=edition,
            framework=framework,
            answers=_answers(application),
            can_review=can_review,
            can_documents=self.can("application.documents", application),
            documents=list(application.documents.all()),
            checklist=[
                {"criterion": c, "assessment": assessments.get(c.pk),
                 "form": AssessForm(initial={"criterion": c.pk,
                                             "result": getattr(assessments.get(c.pk), "result", Assessment.UNKNOWN),
                                             "note": getattr(assessments.get(c.pk), "note", "")},
                                    auto_id=f"id_%s_{c.pk.hex[:8]}")}
                for c in criteria
            ],
            decisions=decisions,
            transition_form=TransitionForm(),
            figures=selectors.edition_figures(edition),
            duplicates=list(selectors.possible_duplicates(application)),
            message_list=list(application.messages.all()),
            enrolment=enrolment,
            registrations=[
                {"registration": r, "can_update": self.can("registration.update", r),
                 "form": RegistrationForm(initial={"status": r.status,
                                                   "external_student_number": r.external_student_number,
                                                   "message": r.message}, auto_id=f"id_%s_{r.pk.hex[:8]}")}
                for r in registrations
            ],
            exemptions=[
                {"exemption": x, "can_decide": x.status == ExemptionStatus.REQUESTED
                 and self.can("exemption.decide", x),
                 "form": ExemptionDecideForm(auto_id=f"id_%s_{x.pk.hex[:8]}")}
                for x in exemptions
            ],
            S=S,
            A=Assessment,
        )
        return context


class ApplicationDecisionView(ApplicationMixin, PolicyMixin, View):
    """A decision button: the service refuses illegal transitions; the refusal is shown, nothing changes."""

    policy_action = "application.review"
    http_method_names = ["post"]

    def post(self, request, *args, **kwargs):
        if self.kwargs["action"] not in DECISIONS:
            raise Http404
        service, _target, text, success = DECISIONS[self.kwargs["action"]]
        form = TransitionForm(request.POST)
        form.is_valid()
        kwargs = {text: form.cleaned_data.get("reason", "")} if text else {}
        try:
            service(actor=request.user, application=self.application, **kwargs)
        except (DomainError, ValidationError) as exc:
            messages.error(request, _error_text(exc))
        else:
            messages.success(request, success)
        return HttpResponseRedirect(self.detail_url())


class CriterionAssessView(ApplicationMixin, PolicyMixin, View):
    """The reviewer's assessment of one criterion (met / not met / not assessed, with a note)."""

    policy_action = "application.review"
    http_method_names = ["post"]

    def post(self, request, *args, **kwargs):
        form = AssessForm(request.POST)
        if not form.is_valid():
            messages.error(request, _("Choose met, not met or not assessed."))
            return HttpResponseRedirect(self.detail_url("criteria"))
        criterion = Criterion.objects.filter(
            pk=form.cleaned_data["criterion"], framework__edition_id=self.application.edition_id).first()
        if criterion is None:
            raise Http404
        try:
            services.criterion_assess(actor=request.user, application=self.application, criterion=criterion,
                                      result=form.cleaned_data["result"], note=form.cleaned_data["note"])
        except (DomainError, ValidationError) as exc:
            messages.error(request, _error_text(exc))
        else:
            messages.success(request, _("Assessment saved: %(criterion)s.") % {
                "criterion": criterion.get_kind_display()})
        return HttpResponseRedirect(self.detail_url("criteria"))


# --- Enrolment: registrations at the institutions ------------------------------------------------------------


class RegistrationUpdateView(ServiceFormView):
    """An institution reports the registration of an enrolled learner (status and student number)."""

    policy_action = "registration.update"
    form_class = RegistrationForm

    def get_policy_object(self):
        if getattr(self, "object", None) is None:
            visible = policy.filter(self.request.user, "application.view", InstitutionRegistration.objects.all())
            queryset = InstitutionRegistration.objects.filter(pk__in=visible.values("pk")).select_related(
                "institution", "enrolment__application", "enrolment__edition__programme")
            self.object = get_object_or_404(queryset, pk=self.kwargs["pk"])
        return self.object

    def get_initial(self):
        r = self.object
        return {"status": r.status, "external_student_number": r.external_student_number, "message": r.message}

    def get_context_data(self, **kwargs):
        r = self.object
        return {**super().get_context_data(**kwargs),
                "title": _("Registration of %(learner)s at %(institution)s") % {
                    "learner": r.enrolment.application.full_name, "institution": r.institution.short_name},
                "cancel_url": self._back()}

    def perform(self, form):
        return services.registration_update(actor=self.request.user, registration=self.object, **form.cleaned_data)

    def _back(self) -> str:
        return reverse("application-detail", args=[self.object.enrolment.application_id]) + "#enrolment"

    def get_success_url_for(self, result):
        messages.success(self.request, _("Registration at %(institution)s saved.") % {
            "institution": self.object.institution.short_name})
        return self._back()


# --- Recognition of prior learning (exemptions) ----------------------------------------------------------


class ExemptionMixin:
    """An exemption request: visible to whoever follows the application or decides exemptions on it."""

    def get_policy_object(self):
        if getattr(self, "object", None) is None:
            exemption = get_object_or_404(
                ExemptionRequest.objects.select_related(
                    "course", "decided_by", "application__edition__programme",
                    "application__edition__admission_framework"),
                pk=self.kwargs["pk"])
            if not (self.can("exemption.decide", exemption) or self.can("application.view", exemption.application)):
                raise Http404
            self.object = exemption
        return self.object


class ExemptionDecideView(ExemptionMixin, ServiceFormView):
    """The examination board (or the course's examiner) grants an exemption, with ECTS, or refuses it."""

    policy_action = "exemption.decide"
    form_class = ExemptionDecideForm
    template_name = "admissions/staff/exemption.html"

    def get_context_data(self, **kwargs):
        return {**super().get_context_data(**kwargs), "exemption": self.object,
                "application": self.object.application,
                "title": _("Exemption from %(course)s") % {"course": self.object.course},
                "cancel_url": self._back()}

    def perform(self, form):
        data = form.cleaned_data
        return services.exemption_decide(actor=self.request.user, exemption=self.object,
                                         granted=data["decision"] == "grant", reason=data["reason"],
                                         ects_recognised=data["ects_recognised"])

    def _back(self) -> str:
        if self.can("application.view", self.object.application):
            return reverse("application-detail", args=[self.object.application_id]) + "#exemptions"
        return reverse("dashboard")

    def get_success_url_for(self, result):
        messages.success(self.request, _("Exemption %(status)s.") % {"status": result.get_status_display().lower()})
        return self._back()


class ExemptionEvidenceView(ExemptionMixin, PolicyTemplateView):
    """The evidence a learner attached to an exemption request, for those who decide on it."""

    policy_action = "exemption.decide"

    def get(self, request, *args, **kwargs):
        if not self.object.evidence:
            raise Http404
        response = FileResponse(self.object.evidence.open("rb"), as_attachment=True,
                                filename=f"exemption-evidence-{self.object.pk}{_suffix(self.object.evidence.name)}")
        response["Cache-Control"] = "private, no-store"
        response["X-Content-Type-Options"] = "nosniff"
        return response


def _suffix(name: str) -> str:
    suffix = os.path.splitext(name)[1].lower()
    return suffix if suffix in (".pdf", ".png", ".jpg", ".jpeg") else ""
