"""View building blocks shared by the quality pages: a programme (or any quality record) named by ``pk`` that the
user may see, else 404 as if it did not exist."""

from __future__ import annotations

from django.http import Http404
from django.shortcuts import get_object_or_404

from consortium.api import policy
from consortium.web import PolicyMixin
from programmes.api import Programme

from .policy_rules import programme_of


class QualityObjectMixin(PolicyMixin):
    """The record of ``quality_model`` (default: the programme) named by ``pk``, when ``visible_action`` (default
    ``quality.view``) allows the user to see it (else 404); ``policy_action`` then decides what the user may do
    with it (else 403)."""

    quality_model = Programme
    select_related: tuple[str, ...] = ()
    visible_action = "quality.view"

    def get_policy_object(self):
        if getattr(self, "quality_object", None) is None:
            queryset = self.quality_model._default_manager.select_related(*self.select_related)
            obj = get_object_or_404(queryset, pk=self.kwargs["pk"])
            if not policy.can(self.request.user, self.visible_action, obj):
                raise Http404
            self.quality_object = obj
        return self.quality_object

    @property
    def programme(self) -> Programme:
        return programme_of(self.get_policy_object())
