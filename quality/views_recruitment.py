"""Recruitment pages (D9): a consortium's learner target segments, a programme's campaigns with their tracked links,
and the recruitment funnel of an edition (chart, tables, visits per day, CSV).

Segments belong to a consortium: its administrators manage them (``segment.manage``); anybody else of the
platform gets a 404 unless they are a member of the consortium, then a 403. Campaigns and funnels belong to a
programme: seen by its team and the consortium's administrators (``recruitment.view``), changed by its team leader
and the administrators (``recruitment.manage``); the programme is a 404 for anyone who may not see its quality.
"""

from __future__ import annotations

import uuid

from django.contrib import messages
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404
from django.urls import reverse
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views import View

from consortium.api import Consortium, policy
from consortium.web import PaginatedListView, PolicyMixin, PolicyTemplateView, ServiceFormView, csv_download
from programmes.api import Edition, Programme

from . import charts, recruitment
from .forms_recruitment import CampaignFilterForm, CampaignForm, SegmentForm
from .models import Campaign, Segment
from .web import QualityObjectMixin

# --- Segments ----------------------------------------------------------------------------------------------------


class ConsortiumMixin(PolicyMixin):
    """The consortium named by ``pk`` (404 unless the user is a member of it) and its segments."""

    def get_policy_object(self):
        if getattr(self, "consortium", None) is None:
            consortium = get_object_or_404(Consortium, pk=self.kwargs["pk"])
            if not policy.can(self.request.user, "consortium.view", consortium):
                raise Http404
            self.consortium = consortium
        return self.consortium

    def segment_list_url(self) -> str:
        return reverse("segment-list", args=[self.consortium.pk])

    def get_cancel_url(self) -> str:
        return self.segment_list_url()

    def get_success_url_for(self, _result) -> str:
        return self.segment_list_url()


class SegmentListView(ConsortiumMixin, PolicyTemplateView):
    policy_action = "segment.manage"
    template_name = "quality/recruitment/segment_list.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        segments = recruitment.segment_list(consortium=self.consortium)
        context.update(consortium=self.consortium, segments=segments,
                       active=[s for s in segments if s.active], archived=[s for s in segments if not s.active])
        return context


class SegmentCreateView(ConsortiumMixin, ServiceFormView):
    policy_action = "segment.manage"
    form_class = SegmentForm
    submit_label = gettext_lazy("Add the segment")
    success_message = gettext_lazy("The segment is added. Campaigns can aim at it now.")

    @property
    def title(self) -> str:
        return _("New learner target segment of %(consortium)s") % {"consortium": self.consortium.acronym}

    def perform(self, form):
        return recruitment.segment_create(actor=self.request.user, consortium=self.consortium,
                                          data=form.service_data())


class SegmentEditView(ConsortiumMixin, ServiceFormView):
    policy_action = "segment.manage"
    form_class = SegmentForm
    submit_label = gettext_lazy("Save the segment")

    def get_policy_object(self):
        if getattr(self, "segment", None) is None:
            segment = get_object_or_404(Segment.objects.select_related("consortium"), pk=self.kwargs["pk"])
            if not policy.can(self.request.user, "consortium.view", segment.consortium):
                raise Http404
            self.segment, self.consortium = segment, segment.consortium
        return self.segment

    @property
    def title(self) -> str:
        return _("Segment %(name)s") % {"name": self.segment.name}

    @property
    def intro(self) -> str:
        used = self.segment.campaigns.count()
        if not used:
            return _("No campaign aims at this segment yet.")
        return _("%(n)d campaign(s) aim at this segment. Archiving it keeps them and their figures; it is then no "
                 "longer offered for new campaigns.") % {"n": used}

    def get_form_kwargs(self):
        kwargs = super().get_form_kwargs()
        segment = self.segment
        kwargs.update(editing=True, initial={"name": segment.name, "description": segment.description,
                                             "position": segment.position, "active": segment.active})
        return kwargs

    def perform(self, form):
        was_active = self.segment.active
        segment = recruitment.segment_update(actor=self.request.user, segment=self.segment,
                                             data=form.service_data())
        if was_active and not segment.active:
            messages.success(self.request, _("%(name)s is archived: its campaigns keep it, new campaigns cannot "
                                             "choose it.") % {"name": segment.name})
        elif not was_active and segment.active:
            messages.success(self.request, _("%(name)s is active again.") % {"name": segment.name})
        else:
            messages.success(self.request, _("The segment is saved."))
        return segment


# --- Campaigns ---------------------------------------------------------------------------------------------------


def edition_picked(request, programme: Programme) -> tuple[list[Edition], Edition | None, bool]:
    """The programme's editions, the one ``?edition=`` names (default: the latest) and whether the parameter was
    wrong (not an id, or not an edition of this programme: both simply "no such edition")."""
    editions = recruitment.funnel_editions(programme)
    value = (request.GET.get("edition") or "").strip()
    if not value:
        return editions, (editions[0] if editions else None), False
    try:
        wanted = uuid.UUID(value)
    except ValueError:
        return editions, None, True
    chosen = next((edition for edition in editions if edition.pk == wanted), None)
    return editions, chosen, chosen is None


class ProgrammeMixin(QualityObjectMixin):
    select_related = ("consortium",)

    def campaign_list_url(self) -> str:
        return reverse("campaign-list", args=[self.programme.pk])

    def get_cancel_url(self) -> str:
        return self.campaign_list_url()

    def get_success_url_for(self, _result) -> str:
        return self.campaign_list_url()


class CampaignListView(ProgrammeMixin, PaginatedListView):
    policy_action = "recruitment.view"
    template_name = "quality/recruitment/campaign_list.html"
    paginate_by = 25

    def filter_form(self) -> CampaignFilterForm:
        if getattr(self, "_filter_form", None) is None:
            self._filter_form = CampaignFilterForm(self.request.GET or None, programme=self.programme)
        return self._filter_form

    def get_queryset(self):
        campaigns = (Campaign.objects.filter(programme=self.programme)
                     .select_related("programme", "segment", "edition").order_by("segment__position", "code", "pk"))
        return campaigns.filter(**self.filter_form().filters())

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        programme = self.programme
        editions, edition, edition_invalid = edition_picked(self.request, programme)
        counts = recruitment.campaign_rows(recruitment.funnel(edition=edition)) if edition else {}
        rows = [(campaign, recruitment.campaign_link(campaign), counts.get(campaign.pk))
                for campaign in context["object_list"]]
        filters = self.filter_form()
        context.update(
            programme=programme, rows=rows, editions=editions, edition=edition, edition_invalid=edition_invalid,
            filter_form=filters, filter_errors=[e for errors in (filters.errors.values() if filters.is_bound else [])
                                                for e in errors],
            stage_labels=[label for _key, label in recruitment.STAGES],
            can_manage=self.can("recruitment.manage", programme),
            can_manage_segments=self.can("segment.manage", programme.consortium),
            segments=recruitment.segments(consortium=programme.consortium))
        return context


class CampaignFormMixin(ProgrammeMixin):
    form_class = CampaignForm
    template_name = "quality/recruitment/campaign_form.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context.update(programme=self.programme, segments=list(context["form"].fields["segment"].queryset),
                       can_manage_segments=self.can("segment.manage", self.programme.consortium))
        return context


class CampaignCreateView(CampaignFormMixin, ServiceFormView):
    policy_action = "recruitment.manage"
    submit_label = gettext_lazy("Create the campaign")
    success_message = gettext_lazy("The campaign is created: copy its tracked link from the list.")

    @property
    def title(self) -> str:
        return _("New campaign for %(programme)s") % {"programme": self.programme.title}

    def get_form_kwargs(self):
        recruitment.segments(consortium=self.programme.consortium)  # the defaults, on first use
        return {**super().get_form_kwargs(), "programme": self.programme}

    def perform(self, form):
        return recruitment.campaign_create(actor=self.request.user, programme=self.programme,
                                           data=form.service_data())


class CampaignEditView(CampaignFormMixin, ServiceFormView):
    policy_action = "recruitment.manage"
    quality_model = Campaign
    select_related = ("programme__consortium", "segment", "edition")
    submit_label = gettext_lazy("Save the campaign")
    success_message = gettext_lazy("The campaign is saved.")

    @property
    def campaign(self) -> Campaign:
        return self.get_policy_object()

    @property
    def title(self) -> str:
        return _("Campaign %(name)s") % {"name": self.campaign.name}

    @property
    def intro(self) -> str:
        return _("Tracked link: %(link)s") % {"link": recruitment.campaign_link(self.campaign)}

    def get_form_kwargs(self):
        campaign = self.campaign
        kwargs = super().get_form_kwargs()
        kwargs.update(programme=campaign.programme, segment=campaign.segment, initial={
            "name": campaign.name, "code": campaign.code, "segment": campaign.segment_id,
            "channel": campaign.channel, "source": campaign.source, "edition": campaign.edition_id,
            "description": campaign.description})
        return kwargs

    def perform(self, form):
        return recruitment.campaign_update(actor=self.request.user, campaign=self.campaign,
                                           data=form.service_data())


# --- The funnel --------------------------------------------------------------------------------------------------


def _percent(rate: float | None) -> str:
    return charts.percent(rate) or "—"


def funnel_figures(result: recruitment.Funnel, *, today=None) -> dict:
    """What the funnel page draws and tabulates, from the funnel of one edition: the funnel chart of the total,
    the stage table, the breakdown rows (segments, their campaigns, direct, total), per-segment bars and the
    visits per day so far."""
    total = result.total
    stages = [{"label": s.label, "count": s.count, "from_previous": _percent(s.rate_from_previous),
               "from_visits": _percent(s.rate_from_visits)} for s in total.stages]
    funnel_chart = charts.funnel([(s.label, s.count) for s in total.stages],
                                 headings=(_("Stage"), _("Count"), _("From the previous stage")))

    def line(row, kind: str, indent: bool = False) -> dict:
        return {"label": row.label, "kind": kind, "indent": indent, "campaign": row.campaign,
                "counts": [s.count for s in row.stages],
                "started_from_visits": _percent(row["started"].rate_from_visits),
                "enrolled_from_started": _percent(recruitment.rate(row["enrolled"].count, row["started"].count))}

    breakdown = []
    for segment in result.segments:
        breakdown.append(line(segment, "segment"))
        breakdown += [line(row, "campaign", indent=True) for row in segment.campaigns]
    breakdown += [line(result.direct, "direct"), line(total, "total")]
    series = (_("Started"), _("Admitted"), _("Enrolled"))
    segment_chart = charts.bar_chart(
        [(row.label, (row["started"].count, row["admitted"].count, row["enrolled"].count))
         for row in (*result.segments, result.direct)],
        series=series, label_heading=_("Segment"))
    days = recruitment.visit_days(result.edition, today=today)
    by_day = recruitment.visits_by_day(programme=result.edition.programme, first=days[0], last=days[1]) if days else []
    day_chart = charts.column_chart(
        [(date_format(day, "DATE_FORMAT"), count) for day, count in by_day],
        axis_labels=[date_format(day, "j M") for day, _count in by_day],
        label_heading=_("Day"), value_heading=_("Page visits"))
    return {"stages": stages, "funnel_chart": funnel_chart, "breakdown": breakdown, "segment_chart": segment_chart,
            "days": days, "day_chart": day_chart, "visits_so_far": sum(count for _day, count in by_day)}


class FunnelView(QualityObjectMixin, PolicyTemplateView):
    policy_action = "recruitment.view"
    template_name = "quality/recruitment/funnel.html"
    select_related = ("consortium",)

    def get(self, request, *args, **kwargs):
        context = self.get_context_data(**kwargs)
        return self.render_to_response(context, status=404 if context["edition_invalid"] else 200)

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        programme = self.programme
        editions, edition, edition_invalid = edition_picked(self.request, programme)
        context.update(programme=programme, editions=editions, edition=edition, edition_invalid=edition_invalid,
                       stage_labels=[label for _key, label in recruitment.STAGES],
                       can_manage=self.can("recruitment.manage", programme))
        if edition is not None:
            edition.programme = programme
            result = recruitment.funnel(edition=edition)
            context.update(funnel=result, **funnel_figures(result))
        return context


class FunnelCsvView(QualityObjectMixin, View):
    policy_action = "recruitment.view"
    http_method_names = ["get"]

    def get(self, request, *args, **kwargs):
        programme = self.programme
        _editions, edition, _invalid = edition_picked(request, programme)
        if edition is None:
            return HttpResponse(_("This programme has no such edition."), status=404,
                                content_type="text/plain; charset=utf-8")
        edition.programme = programme
        rows = recruitment.funnel_csv_rows(recruitment.funnel(edition=edition))
        return csv_download(rows, f"funnel-{programme.code}-{edition.intake_code}.csv")
