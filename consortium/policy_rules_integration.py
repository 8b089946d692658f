"""Policy rules for partner integration: the events feed and webhook endpoints (docs/integration.md).

* ``feed.view`` (token scope ``events:read``): partner systems read the events whose audience holds their institution
  and whose resource they may read (the resource's own read scope, ``consortium.feed.RESOURCES``). The audience is
  what the resource lists show that institution's tokens; people read the lists themselves, not the feed (their
  roles narrow what they see in ways an institution-wide audience cannot express).
* ``webhook.manage``: an institution's administrators register, change, disable and delete its endpoints.
* ``webhook.view`` (token scope ``webhooks:read``): the same administrators, and the institution's partner systems
  (read only: no secret is ever shown again).
"""

from . import policy
from .models import Institution, Role
from .policy import Actor

IA = Role.INSTITUTION_ADMIN


@policy.rule("feed.view", api_scope="events:read")
def _feed_view(actor: Actor, event) -> bool:
    if not actor.is_partner_system:
        return False
    if event is None:
        return True
    return event.scope in actor.scopes and event.audience.filter(institution_id__in=actor.institution_ids).exists()


@policy.scope("feed.view")
def _feed_scope(actor: Actor, qs):
    if not actor.is_partner_system:
        return qs.none()
    # One institution per token and one audience row per institution and event: the join repeats no event.
    return qs.filter(scope__in=sorted(actor.scopes), audience__institution_id__in=actor.institution_ids)


def _institution_id(obj):
    return obj.id if isinstance(obj, Institution) else getattr(obj, "institution_id", None)


@policy.rule("webhook.manage")
def _webhook_manage(actor: Actor, obj) -> bool:
    if obj is None:
        return bool(actor.institutions_with_role(IA))
    return actor.has_role(IA, institution=_institution_id(obj))


@policy.scope("webhook.manage")
def _webhook_manage_scope(actor: Actor, qs):
    return qs.filter(institution_id__in=actor.institutions_with_role(IA))


@policy.rule("webhook.view", api_scope="webhooks:read")
def _webhook_view(actor: Actor, obj) -> bool:
    if actor.is_partner_system:
        return obj is None or _institution_id(obj) in actor.institution_ids
    return _webhook_manage(actor, obj)


@policy.scope("webhook.view")
def _webhook_view_scope(actor: Actor, qs):
    if actor.is_partner_system:
        return qs.filter(institution_id__in=actor.institution_ids)
    return _webhook_manage_scope(actor, qs)


