"""Staff pages of the bulk exchange: a student administrator imports the applicants their institution collected.

Upload a file, see every row's outcome (``exchange.applications_import`` as a dry run), confirm: the checked rows are
kept in the session under a one-time token (as the grade upload does), so confirming neither re-sends nor re-reads
the file, and they are checked again when they are saved, all or nothing.
"""

from __future__ import annotations

import secrets

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpResponseRedirect
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views import View

from consortium.api import DomainError
from consortium.web import PolicyMixin, PolicyTemplateView

from . import exchange
from .forms_staff import ApplicantImportForm
from .views_staff import EditionMixin, _error_text


def _key(edition) -> str:
    return f"admissions-import-{edition.pk}"


class ApplicantImportView(EditionMixin, PolicyTemplateView):
    policy_action = "application.import"
    template_name = "admissions/staff/import.html"

    def get_context_data(self, **kwargs):
        kwargs.setdefault("form", ApplicantImportForm())
        return {**super().get_context_data(**kwargs), "edition": self.edition,
                "columns": exchange.IMPORT_COLUMNS, "required_columns": exchange.REQUIRED_COLUMNS}

    def post(self, request, *args, **kwargs):
        request.session.pop(_key(self.edition), None)
        form = ApplicantImportForm(request.POST, request.FILES)
        if not form.is_valid():
            return self.render_to_response(self.get_context_data(form=form))
        rows, ignored = form.cleaned_data["file"]
        try:
            report = exchange.applications_import(actor=request.user, edition=self.edition, rows=rows,
                                                  source=form.source, ignored_columns=ignored)
        except (DomainError, ValidationError) as exc:
            form.add_error(None, _error_text(exc))
            return self.render_to_response(self.get_context_data(form=form))
        to_save = [r for r in report.rows if r.outcome in (exchange.CREATE, exchange.UPDATE)]
        token = ""
        if to_save and not report.has_errors:
            token = secrets.token_urlsafe(16)
            request.session[_key(self.edition)] = {
                "token": token, "source": form.source, "ignored": ignored,
                "rows": [[row.row, row.values] for row in rows],
            }
        return self.render_to_response(self.get_context_data(
            report=report, counts=report.counts, to_save=len(to_save), token=token,
            file_name=request.FILES["file"].name))


class ApplicantImportConfirmView(EditionMixin, PolicyMixin, View):
    policy_action = "application.import"
    http_method_names = ["post"]

    def post(self, request, *args, **kwargs):
        stored = request.session.pop(_key(self.edition), None)
        import_url = reverse("applicants-import", args=[self.edition.pk])
        if not stored or not secrets.compare_digest(stored["token"], request.POST.get("token", "")):
            messages.error(request, _("There is no previewed file to save; upload it again."))
            return HttpResponseRedirect(import_url)
        rows = [exchange.ApplicantRow(row, values) for row, values in stored["rows"]]
        try:
            report = exchange.applications_import(actor=request.user, edition=self.edition, rows=rows,
                                                  dry_run=False, source=stored["source"],
                                                  ignored_columns=stored["ignored"])
        except (DomainError, ValidationError) as exc:
            messages.error(request, _("Nothing was saved: %(reason)s") % {"reason": _error_text(exc)})
            return HttpResponseRedirect(import_url)
        if not report.committed:
            reasons = [f"{_('Row')} {r.row}: {'; '.join(m for ms in r.errors.values() for m in ms)}"
                       for r in report.rows if r.errors]
            messages.error(request, _("Nothing was saved: %(reasons)s") % {"reasons": " ".join(reasons[:10])})
            return HttpResponseRedirect(import_url)
        counts = report.counts
        messages.success(request, _("Imported: %(create)s new applications submitted, %(update)s corrected, "
                                    "%(duplicate)s duplicates left as they were.") % counts)
        return HttpResponseRedirect(self.queue_url())
