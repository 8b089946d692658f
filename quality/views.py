"""The quality home (the programmes whose quality the user may see) and a programme's quality page, which leads to
its feedback surveys, quality reviews, recruitment (campaigns, funnel) and sustainability dashboard, each with the
figure that tells whether it needs a look."""

from __future__ import annotations

from django.db.models import Q

from consortium.api import policy
from consortium.web import PaginatedListView, PolicyTemplateView
from programmes.api import Programme

from .models import Commitment, CommitmentStatus, SurveyStatus
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
        surveys = programme.feedback_surveys.order_by("-opened_at")
        context.update(
            programme=programme,
            can_manage=self.can("quality.manage", programme),
            can_recruit=self.can("recruitment.view", programme),
            latest_survey=surveys.select_related("edition").first(),
            surveys=surveys.count(),
            open_surveys=surveys.filter(status=SurveyStatus.OPEN).count(),
            reviews=list(programme.quality_reviews.order_by("-year")[:3]),
            editions=programme.editions.count(),
            commitments=Commitment.objects.filter(programme=programme).exclude(
                status=CommitmentStatus.WITHDRAWN).count(),
        )
        return context
