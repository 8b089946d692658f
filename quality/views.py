"""The quality home (the programmes whose quality the user may see) and a programme's quality page, which leads to
its feedback surveys, quality reviews, recruitment funnel and sustainability dashboard."""

from __future__ import annotations

from django.db.models import Q

from consortium.api import policy
from consortium.web import PaginatedListView, PolicyTemplateView
from programmes.api import Programme

from .web import QualityObjectMixin


class QualityHomeView(PaginatedListView):
    policy_action = "quality.view"
    template_name = "quality/home.html"

    def get_queryset(self):
        programmes = policy.filter(self.request.user, "quality.view", Programme.objects.all())
        if q := self.request.GET.get("q", "").strip():
            programmes = programmes.filter(Q(texts__title__icontains=q) | Q(code__icontains=q)).distinct()
        return (programmes.select_related("consortium", "lead_institution").prefetch_related("texts")
                .order_by("code"))


class ProgrammeQualityView(QualityObjectMixin, PolicyTemplateView):
    policy_action = "quality.view"
    template_name = "quality/programme.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        programme = self.programme
        context.update(programme=programme, can_manage=self.can("quality.manage", programme),
                       can_recruit=self.can("recruitment.view", programme),
                       editions=programme.editions.order_by("-starts_on"))
        return context
