"""Building blocks for thin browser views: every view declares its policy; services do the work.

``PolicyMixin`` enforces ``policy_action`` (login first, then the policy); ``ServiceFormView`` shows a
form, calls one service and turns a refusal into form errors, so nothing the user typed is lost;
``ServiceActionView`` is the POST-only button for a state transition.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.mixins import AccessMixin
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import FileResponse, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.utils.http import url_has_allowed_host_and_scheme
from django.views import View
from django.views.generic import FormView, TemplateView

from . import policy
from .csv_export import csv_bytes
from .errors import DomainError


class PolicyMixin(AccessMixin):
    """Declares and enforces the view's policy. Object views override ``get_policy_object``."""

    policy_action: str = ""
    #: For object views: the policy action that decides whether the object is visible at all (404 if not).
    visible_action: str = ""
    model = None

    def get_policy_object(self) -> Any:
        if self.model is None or "pk" not in self.kwargs:
            return None
        if not hasattr(self, "object") or self.object is None:
            queryset = self.model._default_manager.all()
            if self.visible_action:
                queryset = policy.filter(self.request.user, self.visible_action, queryset)
            self.object = get_object_or_404(queryset, pk=self.kwargs["pk"])
        return self.object

    def dispatch(self, request, *args, **kwargs):
        if not self.policy_action:
            raise PermissionDenied("This view declares no policy.")
        if self.policy_action != policy.PUBLIC and not request.user.is_authenticated:
            return self.handle_no_permission()
        self.object = None
        if not policy.can(request.user, self.policy_action, self.get_policy_object()):
            raise PermissionDenied
        return super().dispatch(request, *args, **kwargs)

    def can(self, action: str, obj: Any = None) -> bool:
        return policy.can(self.request.user, action, obj)


class PolicyTemplateView(PolicyMixin, TemplateView):
    pass


class PaginatedListView(PolicyMixin, TemplateView):
    """A searchable, paginated list: ``get_queryset`` returns the policy-filtered rows."""

    paginate_by = 25

    def get_queryset(self):
        raise NotImplementedError

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        page = Paginator(self.get_queryset(), self.paginate_by).get_page(self.request.GET.get("page"))
        query = self.request.GET.copy()
        query.pop("page", None)
        context.update(page_obj=page, object_list=page.object_list, querystring=query.urlencode())
        return context


def add_errors(form, exc: Exception) -> None:
    """A service's refusal (a ``DomainError`` or a ``ValidationError``) as the form's errors: each on its field when
    the form has one of that name, else above the form."""
    if isinstance(exc, DomainError):
        form.add_error(None, exc.message)
        details = exc.details.items() if isinstance(exc.details, dict) else [(None, exc.details)]
        for field, reasons in details:
            for reason in reasons:
                form.add_error(field if field in form.fields else None, reason)
        return
    assert isinstance(exc, ValidationError)
    if hasattr(exc, "error_dict"):
        for field, errors in exc.message_dict.items():
            for error in errors:
                form.add_error(field if field in form.fields else None, error)
    else:
        for error in exc.messages:
            form.add_error(None, error)


class ServiceFormView(PolicyMixin, FormView):
    """A form whose valid submission calls one service (``perform``). Refusals become form errors."""

    template_name = "form.html"
    title = ""
    intro = ""
    submit_label = ""
    success_message = ""

    def perform(self, form) -> Any:
        raise NotImplementedError

    def get_success_url_for(self, result: Any) -> str:
        return result.get_absolute_url()

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context.update(
            title=self.title, intro=self.intro, submit_label=self.submit_label, cancel_url=self.get_cancel_url()
        )
        return context

    def get_cancel_url(self) -> str:
        return self._safe_next() or "/dashboard/"

    def _safe_next(self) -> str:
        target = self.request.GET.get("next") or self.request.POST.get("next") or ""
        if target and url_has_allowed_host_and_scheme(target, {self.request.get_host()}):
            return target
        return ""

    def form_valid(self, form):
        try:
            result = self.perform(form)
        except (DomainError, ValidationError) as exc:
            add_errors(form, exc)
            return self.form_invalid(form)
        if self.success_message:
            messages.success(self.request, self.success_message)
        return HttpResponseRedirect(self.get_success_url_for(result))


class ServiceActionView(PolicyMixin, View):
    """A POST-only button (a state transition). A refusal (a ``DomainError``, or a ``ValidationError`` from a model's
    checks) is shown as a message; nothing changes."""

    http_method_names = ["post"]
    success_message = ""

    def perform(self) -> Any:
        raise NotImplementedError

    def get_redirect_url(self) -> str:
        raise NotImplementedError

    def post(self, request, *args, **kwargs):
        try:
            self.perform()
        except DomainError as exc:
            text = exc.message
            if exc.details:
                details = exc.details.values() if isinstance(exc.details, dict) else [exc.details]
                text += " " + " ".join(str(d) for group in details for d in group)
            messages.error(request, text)
        except ValidationError as exc:  # a model's own check (``full_clean``) refused the change
            messages.error(request, " ".join(exc.messages))
        else:
            if self.success_message:
                messages.success(request, self.success_message)
        return HttpResponseRedirect(self.get_redirect_url())


def private_download(content, filename: str, content_type: str = "application/pdf") -> HttpResponse:
    """A download of private data (bytes, or an open file): an attachment that no cache keeps."""
    if isinstance(content, bytes | str):
        response = HttpResponse(content, content_type=content_type)
        response["Content-Disposition"] = f'attachment; filename="{filename}"'
    else:
        response = FileResponse(content, content_type=content_type, as_attachment=True, filename=filename)
    response["Cache-Control"] = "private, no-store"
    return response


def csv_download(rows, filename: str) -> HttpResponse:
    """Rows (the header first) as a private CSV download, safe to open in a spreadsheet (``csv_export``)."""
    return private_download(csv_bytes(rows), filename, "text/csv; charset=utf-8")
