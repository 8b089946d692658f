"""Certification pages (D6): the examination board awards an edition and follows the rendering of the documents;
staff open an award (versions, documents, revoke, re-issue); learners find and share their credentials and
download a transcript of records; anyone verifies a credential and checks a PDF against what was issued.

Issued PDFs live in private storage and are served only through ``DocumentDownloadView`` (the learner, or staff
who may view the award; everyone else gets a 404, as if the document did not exist).
"""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponseRedirect, JsonResponse
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext
from django.views import View

from admissions.api import Enrolment
from consortium.api import policy
from consortium.web import PolicyMixin, PolicyTemplateView, ServiceActionView, ServiceFormView, private_download
from programmes.api import Edition

from . import selectors, services
from .forms import AwardForm, ReissueForm, RevokeForm, VerifyUploadForm
from .models import Award, BulkIssue, Credential, CredentialStatus, Document, DocumentStatus
from .vc import ob3, verifier

# --- The examination board: awarding an edition ----------------------------------------------------------------


class AwardsHomeView(PolicyTemplateView):
    """The editions whose awards the user decides."""

    policy_action = "award.decide"
    template_name = "certification/web/awards_home.html"

    def get_context_data(self, **kwargs):
        return {**super().get_context_data(**kwargs), "editions": selectors.board_editions(self.request.user)}


class EditionMixin:
    """The edition named by the URL (``pk``); 404 if it does not exist, then the view's policy on it."""

    def get_policy_object(self):
        if getattr(self, "object", None) is None:
            self.object = get_object_or_404(
                Edition.objects.select_related("programme").prefetch_related("programme__texts"), pk=self.kwargs["pk"]
            )
        return self.object

    def edition_url(self) -> str:
        return reverse("award-edition", args=[self.object.pk])


class EditionAwardsView(EditionMixin, PolicyTemplateView):
    """Every enrolment of the edition (eligible or not, with the reasons), awarding, and the progress of the
    documents of the last bulk issue (polled by static/js/bulk_progress.js)."""

    policy_action = "award.decide"
    template_name = "certification/web/edition.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        edition = self.object
        previews = selectors.edition_preview(edition)
        bulk = selectors.last_bulk(edition)
        context.update(
            edition=edition,
            programme=edition.programme,
            previews=previews,
            eligible=sum(1 for p in previews if p.eligible),
            awarded=sum(1 for p in previews if p.award is not None),
            bulk=bulk,
            progress=selectors.bulk_status(bulk) if bulk else None,
        )
        return context


class EditionAwardView(EditionMixin, PolicyMixin, View):
    """POST: award one learner (``enrolment``) or every eligible learner of the edition (services.bulk_award)."""

    policy_action = "award.decide"
    http_method_names = ["post"]

    def post(self, request, *args, **kwargs):
        edition = self.object
        form = AwardForm(request.POST)
        if not form.is_valid():
            messages.error(request, _("Choose a learner of this edition."))
            return HttpResponseRedirect(self.edition_url())
        chosen = form.cleaned_data["enrolment"]
        if chosen:
            enrolment = Enrolment.objects.filter(edition=edition, pk=chosen).select_related(
                "application", "edition__programme").first()
            if enrolment is None:
                messages.error(request, _("This learner is not enrolled in this edition."))
                return HttpResponseRedirect(self.edition_url())
            preview = services.award_preview(enrolment)
            if not preview.eligible:
                messages.error(request, _("%(name)s cannot be awarded: %(reasons)s") % {
                    "name": enrolment.application.full_name, "reasons": " ".join(preview.reasons)})
                return HttpResponseRedirect(self.edition_url())
            enrolments = [enrolment]
        else:
            enrolments = [p.enrolment for p in services.bulk_preview(edition) if p.eligible]
            if not enrolments:
                messages.info(request, _("No learner of this edition is eligible for the award now."))
                return HttpResponseRedirect(self.edition_url())
        bulk = services.bulk_award(actor=request.user, edition=edition, enrolments=enrolments)
        count = len(bulk.enrolment_ids)
        if count:
            messages.success(request, ngettext(
                "%(count)d learner awarded; the documents are being rendered.",
                "%(count)d learners awarded; the documents are being rendered.", count) % {"count": count})
        if count < len(enrolments):
            messages.error(request, _("%(count)d could not be awarded: their award conditions are no longer met.")
                           % {"count": len(enrolments) - count})
        return HttpResponseRedirect(self.edition_url() + "#progress")


class BulkProgressView(PolicyMixin, View):
    """JSON: how far the rendering of the documents of one bulk issue is (done / total, failures)."""

    policy_action = "award.decide"
    http_method_names = ["get"]

    def get_policy_object(self):
        if getattr(self, "bulk", None) is None:
            self.bulk = get_object_or_404(BulkIssue, pk=self.kwargs["pk"])
            self.edition = get_object_or_404(Edition.objects.select_related("programme"), pk=self.bulk.edition_id)
        return self.edition

    def get(self, request, *args, **kwargs):
        response = JsonResponse(selectors.bulk_status(self.bulk))
        response["Cache-Control"] = "no-store"
        return response


class DocumentRetryView(ServiceActionView):
    """Render a failed document again."""

    policy_action = "award.decide"
    success_message = gettext_lazy("The document is queued for rendering again.")

    def get_policy_object(self):
        if getattr(self, "document", None) is None:
            self.document = get_object_or_404(
                Document.objects.select_related("credential__award__enrolment__edition__programme"),
                pk=self.kwargs["pk"],
            )
        return self.document.credential.award.enrolment

    def perform(self):
        return services.document_retry(actor=self.request.user, document=self.document)

    def get_redirect_url(self) -> str:
        target = self.request.POST.get("next", "")
        if target and url_has_allowed_host_and_scheme(target, {self.request.get_host()}):
            return target
        return reverse("award-detail", args=[self.document.credential.award_id])


# --- Staff: one award ------------------------------------------------------------------------------------------


class AwardDetailView(PolicyTemplateView):
    """The decision, the credential versions (valid / superseded / revoked), their documents, and for the
    examination board the revoke and re-issue forms."""

    policy_action = "award.view"
    template_name = "certification/web/award.html"
    model = Award

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        award = selectors.award_with_versions(self.object)
        enrolment = award.enrolment
        versions = list(award.credentials.all())
        context.update(
            award=award,
            enrolment=enrolment,
            programme=enrolment.edition.programme,
            versions=versions,
            current=next((c for c in versions if c.status == CredentialStatus.VALID), None),
            can_decide=self.can("award.decide", enrolment),
            revoke_form=RevokeForm(auto_id="revoke_%s"),
            reissue_form=ReissueForm(auto_id="reissue_%s"),
        )
        return context


class CredentialMixin:
    """A credential version; the policy is asked about its enrolment."""

    def get_policy_object(self):
        if getattr(self, "object", None) is None:
            self.object = get_object_or_404(
                Credential.objects.select_related("award__enrolment__edition__programme"), pk=self.kwargs["pk"]
            )
        return self.object.award.enrolment

    def award_url(self) -> str:
        return reverse("award-detail", args=[self.object.award_id])

    def get_cancel_url(self) -> str:
        return self.award_url()

    def get_success_url_for(self, _result) -> str:
        return self.award_url()


class CredentialRevokeView(CredentialMixin, ServiceFormView):
    policy_action = "award.decide"
    form_class = RevokeForm
    title = gettext_lazy("Revoke the credential")
    intro = gettext_lazy("The credential stays on record; its verification page then says it was revoked, when "
                         "and why. This cannot be undone: a correction is a re-issue instead.")
    submit_label = gettext_lazy("Revoke")
    success_message = gettext_lazy("The credential is revoked.")

    def perform(self, form):
        return services.credential_revoke(actor=self.request.user, credential=self.object,
                                          reason=form.cleaned_data["reason"])


class CredentialReissueView(CredentialMixin, ServiceFormView):
    policy_action = "award.decide"
    form_class = ReissueForm
    title = gettext_lazy("Re-issue the credential")
    intro = gettext_lazy("A new version is issued from the current data (corrected name, grades, …) with new "
                         "documents; the verification page of this version points to the new one.")
    submit_label = gettext_lazy("Re-issue")
    success_message = gettext_lazy("A new version is issued; its documents are being rendered.")

    def perform(self, form):
        return services.credential_reissue(actor=self.request.user, credential=self.object,
                                           reason=form.cleaned_data["reason"])


# --- The learner -------------------------------------------------------------------------------------------------


class MyCredentialsView(PolicyTemplateView):
    """The signed-in learner's awards: documents, share link, and a transcript of records per enrolment."""

    policy_action = policy.AUTHENTICATED
    template_name = "certification/web/my_credentials.html"

    def get_context_data(self, **kwargs):
        return {**super().get_context_data(**kwargs), "enrolments": selectors.own_enrolments(self.request.user)}


class DocumentLanguageView(ServiceActionView):
    """The learner (or staff) asks for the documents in another language of the programme."""

    policy_action = "award.view"

    def get_policy_object(self):
        if getattr(self, "credential", None) is None:
            self.credential = get_object_or_404(Credential.objects.select_related("award__enrolment__edition"),
                                                pk=self.kwargs["pk"])
            if not policy.can(self.request.user, "award.view", self.credential.award):
                raise Http404
        return self.credential.award

    def perform(self):
        services.documents_request_language(actor=self.request.user, credential=self.credential,
                                            language=self.request.POST.get("language", ""))
        messages.success(self.request, _("The documents are being prepared in that language."))

    def get_redirect_url(self):
        return reverse("my-credentials")


class TranscriptView(PolicyMixin, View):
    """A transcript of records of one enrolment, rendered now from the current approved results (PROVISIONAL
    until awarded). The learner and staff who may view the award; anyone else gets a 404."""

    policy_action = "award.view"
    http_method_names = ["get"]

    def get_policy_object(self):
        if getattr(self, "object", None) is None:
            enrolment = (
                Enrolment.objects.select_related("application", "edition__programme", "edition__curriculum")
                .filter(pk=self.kwargs["pk"])
                .first()
            )
            if enrolment is None or not policy.can(self.request.user, "award.view", enrolment):
                raise Http404
            self.object = enrolment
        return self.object

    def get(self, request, *args, **kwargs):
        try:
            pdf, provisional = selectors.transcript_pdf(self.object)
        except ValueError as exc:  # e.g. a name in a script no installed font covers (rendering.MissingGlyphs)
            messages.error(request, _("The transcript could not be produced: %(e)s") % {"e": exc})
            return HttpResponseRedirect(reverse("my-credentials"))
        name = f"transcript-{self.object.edition.programme.code}-{self.object.edition.intake_code}"
        return private_download(pdf, f"{name}{'-provisional' if provisional else ''}.pdf")


class DocumentDownloadView(PolicyMixin, View):
    """An issued PDF, as an attachment from private storage (never a public media URL)."""

    policy_action = "award.view"
    http_method_names = ["get"]

    def get_policy_object(self):
        if getattr(self, "document", None) is None:
            self.document = selectors.document_for(self.request.user, self.kwargs["pk"])
            if self.document is None:
                raise Http404
        return self.document.credential.award

    def get(self, request, *args, **kwargs):
        document = self.document
        if document.status != DocumentStatus.READY or not document.file:
            raise Http404
        credential = document.credential
        slot = f"-{document.institution.short_name}" if document.institution_id else ""
        return private_download(document.file.open("rb"),
                                f"{document.kind}{slot}-{credential.credential_id}-v{credential.version}.pdf")


# --- Public verification ---------------------------------------------------------------------------------------------


class VerifyView(PolicyMixin, View):
    """Anyone: the credential's holder, title, awarding bodies, date, the 11 EU elements, its status and the checks
    of its signed digital credential; and a PDF upload that says whether the file is one we issued for this
    credential (SHA-256) and checks its seal and the credential embedded in it."""

    policy_action = policy.PUBLIC
    http_method_names = ["get", "post"]
    template_name = "certification/web/verify.html"

    def dispatch(self, request, *args, **kwargs):
        self.credential = selectors.credential_by_id(kwargs.get("credential_id", ""))
        if self.credential is None:
            return render(request, "certification/web/verify_unknown.html",
                          {"credential_id": kwargs.get("credential_id", "")[:64]}, status=404)
        return super().dispatch(request, *args, **kwargs)

    def page(self, form, *, match=None, checked=False, pdf_checks=None, throttled=False, status=200):
        checks = verifier.verify_stored(self.credential)
        context = {
            "v": selectors.verification(self.credential),
            "credential": self.credential,
            "checks": checks,
            "checks_valid": checks is not None and verifier.is_valid(checks),
            "form": form,
            "checked": checked,
            "match": match,
            "pdf_checks": pdf_checks,
            "pdf_valid": bool(pdf_checks) and verifier.is_valid(pdf_checks),
            "throttled": throttled,
            "max_bytes": settings.UPLOAD_MAX_BYTES,
        }
        return render(self.request, self.template_name, context, status=status)

    def get(self, request, *args, **kwargs):
        return self.page(VerifyUploadForm())

    def post(self, request, *args, **kwargs):
        from .rest.views import VerifyRateThrottle

        # Checking a PDF costs a seal validation and a canonicalisation: the same per-IP budget as the API.
        if not VerifyRateThrottle().allow_request(request, self):
            return self.page(VerifyUploadForm(), throttled=True, status=429)
        form = VerifyUploadForm(request.POST, request.FILES)
        if not form.is_valid():
            return self.page(form)
        file = form.cleaned_data["file"]
        try:
            file.seek(0)
            content = file.read(settings.UPLOAD_MAX_BYTES + 1)
        except (OSError, ValueError):
            form.add_error("file", _("The file could not be read. Please upload it again."))
            return self.page(form)
        if len(content) > settings.UPLOAD_MAX_BYTES:  # the size the client announced was wrong
            form.add_error("file", ValidationError(_("The file is larger than the limit.")))
            return self.page(form)
        return self.page(VerifyUploadForm(), match=services.verify_pdf(self.credential, content), checked=True,
                         pdf_checks=verifier.verify_pdf(content, expected_url=ob3.credential_url(self.credential)))
