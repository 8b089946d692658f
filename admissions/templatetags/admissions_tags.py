"""Admissions on the dashboard, without the consortium app knowing about admissions.

``{% admissions_work as work %}`` gives the editions the user reviews (with their submitted and under-review
counts) and the exemption requests awaiting the user's decision.
"""

from django import template

from consortium.api import policy

from .. import selectors

register = template.Library()


@register.simple_tag(takes_context=True)
def admissions_work(context) -> dict:
    request = context.get("request")
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"editions": [], "exemptions": [], "reviewer": False}
    return {
        "editions": selectors.editions_to_review(user=user),
        "exemptions": selectors.exemptions_to_decide(user=user),
        "reviewer": policy.can(user, "application.review"),
    }
