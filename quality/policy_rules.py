"""Who may do what with the quality app's records (registered at start-up by ``QualityConfig.ready``).

* ``segment.manage`` — a consortium's learner target segments: its consortium administrators;
* ``recruitment.manage`` — a programme's campaigns: its team leader and the consortium's administrators;
* ``recruitment.view`` — a programme's campaigns and funnels: its team (leader and members) and the consortium's
  administrators (with a list scope).
"""

from django.db.models import Q

from consortium.api import Role, policy
from programmes.api import Edition, Programme

from .models import Campaign, Segment

Actor = policy.Actor

CA = Role.CONSORTIUM_ADMIN
TEAM = (Role.TEAM_LEADER, Role.TEAM_MEMBER)


def _programme_of(obj) -> Programme | None:
    if isinstance(obj, Programme):
        return obj
    if isinstance(obj, Campaign | Edition):
        return obj.programme
    return None


@policy.rule("segment.manage")
def _segment_manage(actor: Actor, obj) -> bool:
    """A consortium's segments: its administrators."""
    if obj is None:
        return bool(actor.consortia_with_role(CA))
    consortium_id = obj.consortium_id if isinstance(obj, Segment) else getattr(obj, "pk", None)
    return actor.has_role(CA, consortium=consortium_id)


@policy.rule("recruitment.manage")
def _manage(actor: Actor, obj) -> bool:
    """A programme's campaigns: its team leader and the consortium's administrators."""
    programme = _programme_of(obj)
    if programme is None:
        return bool(actor.targets_with_role(Role.TEAM_LEADER) or actor.consortia_with_role(CA))
    return actor.has_role(Role.TEAM_LEADER, target=programme.pk) or actor.has_role(
        CA, consortium=programme.consortium_id)


@policy.rule("recruitment.view")
def _view(actor: Actor, obj) -> bool:
    """A programme's campaigns and funnels: its team (leader and members) and the consortium's administrators."""
    programme = _programme_of(obj)
    if programme is None:
        return bool(actor.targets_with_role(*TEAM) or actor.consortia_with_role(CA))
    return actor.has_role(*TEAM, target=programme.pk) or actor.has_role(CA, consortium=programme.consortium_id)


@policy.scope("recruitment.view")
def _view_scope(actor: Actor, queryset):
    """Programmes, editions or campaigns whose recruitment the actor may see."""
    prefix = "" if queryset.model is Programme else "programme__"
    return queryset.filter(Q(**{f"{prefix}pk__in": actor.targets_with_role(*TEAM)})
                           | Q(**{f"{prefix}consortium_id__in": actor.consortia_with_role(CA)}))
