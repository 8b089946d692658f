"""Integration pages: an institution's administrators manage its webhook endpoints and read their delivery log."""

from django.conf import settings
from django.contrib import messages
from django.core.paginator import Paginator
from django.http import HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from . import policy, webhooks
from .errors import DomainError
from .forms_integration import WebhookForm
from .models import DeliveryStatus, WebhookAttempt, WebhookEndpoint
from .web import PaginatedListView, PolicyTemplateView, ServiceActionView, ServiceFormView

ATTEMPTS_PER_PAGE = 50


def _endpoints(user):
    return policy.filter(user, "webhook.manage", WebhookEndpoint.objects.select_related("institution"))


class WebhookListView(PaginatedListView):
    policy_action = "webhook.manage"
    template_name = "consortium/integration/webhook_list.html"

    def get_queryset(self):
        return _endpoints(self.request.user)


class WebhookCreateView(ServiceFormView):
    policy_action = "webhook.manage"
    form_class = WebhookForm
    title = _("New webhook endpoint")
    intro = _("JointCred POSTs the events you choose to this address, signed with a secret shown once, right after "
              "creation. Store it in the receiving system's secrets.")
    submit_label = _("Create")

    def get_form_kwargs(self):
        return {**super().get_form_kwargs(), "user": self.request.user}

    def get_cancel_url(self):
        return reverse("webhook-list")

    def perform(self, form):
        data = form.cleaned_data
        endpoint, secret = webhooks.webhook_create(
            actor=self.request.user, institution=data["institution"], url=data["url"],
            event_types=data["event_types"], description=data["description"])
        self.created = (endpoint, secret)
        return endpoint

    def form_valid(self, form):
        response = super().form_valid(form)
        if hasattr(self, "created"):
            endpoint, secret = self.created
            return render(self.request, "consortium/integration/webhook_created.html",
                          {"endpoint": endpoint, "secret": secret})
        return response


class _EndpointMixin:
    policy_action = "webhook.manage"
    visible_action = "webhook.manage"
    model = WebhookEndpoint


class WebhookDetailView(_EndpointMixin, PolicyTemplateView):
    """The endpoint page: its settings, why it is disabled (if it is), and the delivery log."""

    template_name = "consortium/integration/webhook_detail.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        attempts = WebhookAttempt.objects.filter(delivery__endpoint=self.object).select_related("delivery")
        page = Paginator(attempts, ATTEMPTS_PER_PAGE).get_page(self.request.GET.get("page"))
        context.update(endpoint=self.object, page_obj=page, attempts=page.object_list, querystring="",
                       now=timezone.now(), overlap_hours=settings.WEBHOOK_SECRET_OVERLAP // 3600,
                       pending=self.object.deliveries.filter(status=DeliveryStatus.PENDING).count())
        return context


class WebhookUpdateView(_EndpointMixin, ServiceFormView):
    form_class = WebhookForm
    success_message = _("Webhook endpoint saved.")

    def get_form_kwargs(self):
        return {**super().get_form_kwargs(), "user": self.request.user, "endpoint": self.object}

    def get_context_data(self, **kwargs):
        return {**super().get_context_data(**kwargs), "title": _("Edit webhook endpoint")}

    def get_cancel_url(self):
        return self.object.get_absolute_url()

    def perform(self, form):
        data = form.cleaned_data
        return webhooks.webhook_update(actor=self.request.user, endpoint=self.object, url=data["url"],
                                       event_types=data["event_types"], description=data["description"])


class _EndpointAction(_EndpointMixin, ServiceActionView):
    def get_redirect_url(self):
        return self.object.get_absolute_url()


class WebhookDisableView(_EndpointAction):
    success_message = _("Endpoint disabled: nothing is sent to it until it is enabled again.")

    def perform(self):
        webhooks.webhook_disable(actor=self.request.user, endpoint=self.object)


class WebhookEnableView(_EndpointAction):
    success_message = _("Endpoint enabled: new events are sent to it again. Missed ones are in the events feed.")

    def perform(self):
        webhooks.webhook_enable(actor=self.request.user, endpoint=self.object)


class WebhookTestView(_EndpointAction):
    success_message = _("Test event queued: its attempt appears in the log below in a moment.")

    def perform(self):
        webhooks.webhook_send_test(actor=self.request.user, endpoint=self.object)


class WebhookRotateSecretView(_EndpointAction):
    """A new signing secret, shown once on the page this POST answers (like at creation)."""

    def post(self, request, *args, **kwargs):
        try:
            endpoint, secret = webhooks.webhook_rotate_secret(actor=request.user, endpoint=self.object)
        except DomainError as exc:
            messages.error(request, exc.message)
            return HttpResponseRedirect(self.get_redirect_url())
        return render(request, "consortium/integration/webhook_created.html",
                      {"endpoint": endpoint, "secret": secret, "rotated": True})


class WebhookDeleteView(_EndpointAction):
    success_message = _("Webhook endpoint deleted.")

    def perform(self):
        webhooks.webhook_delete(actor=self.request.user, endpoint=self.object)

    def get_redirect_url(self):
        return reverse("webhook-list")
