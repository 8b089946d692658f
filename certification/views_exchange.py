"""The per-partner export of an edition as a browser download (bulk exchange; the API's
``GET /api/v1/editions/{id}/export/`` gives the same file).

Staff who see the programme's approved results (``edition.export``: its team leader, its examination board, the
consortium's administrators) pick the partner (a university running the programme) and the format; the download is
``certification.exchange.partner_export``, audited.
"""

from __future__ import annotations

from django.http import Http404
from django.shortcuts import get_object_or_404
from django.views.generic import TemplateView
from rest_framework.renderers import JSONRenderer

from consortium.api import Institution, policy
from consortium.web import PolicyMixin, csv_download, private_download
from programmes.api import Edition

from . import exchange
from .forms import ExportForm
from .rest.exchange import PartnerExportSerializer


class EditionExportView(PolicyMixin, TemplateView):
    policy_action = "edition.export"
    template_name = "certification/web/export.html"

    def get_policy_object(self):
        if getattr(self, "object", None) is None:
            edition = get_object_or_404(Edition.objects.select_related("programme").prefetch_related(
                "programme__texts", "programme__partners"), pk=self.kwargs["pk"])
            if not policy.can(self.request.user, "edition.export", edition):
                raise Http404
            self.object = edition
        return self.object

    def get(self, request, *args, **kwargs):
        edition = self.object
        allowed = exchange.export_institutions(request.user, edition)
        form = ExportForm(request.GET or None, institutions=Institution.objects.filter(pk__in=[i.pk for i in allowed])
                          .order_by("short_name"), initial={"institution": allowed[0].pk if allowed else None})
        if form.is_bound and form.is_valid():
            institution, file_format = form.cleaned_data["institution"], form.cleaned_data["as"]
            export = exchange.partner_export(actor=request.user, edition=edition, institution=institution,
                                             file_format=file_format)
            name = f"export-{edition.programme.code}-{edition.intake_code}-{institution.short_name}.{file_format}"
            if file_format == "csv":
                return csv_download(exchange.as_rows(export), name)
            return private_download(JSONRenderer().render(PartnerExportSerializer(export).data), name,
                                    "application/json")
        return self.render_to_response(self.get_context_data(form=form, edition=edition,
                                                             programme=edition.programme))
