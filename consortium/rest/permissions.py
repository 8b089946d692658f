from rest_framework.permissions import BasePermission

from consortium import policy


class PolicyPermission(BasePermission):
    """Asks the policy. Views declare ``policy_actions`` ({DRF action: policy action}) or ``policy_action``.

    Collection actions (list, create) are checked without an object; object actions are checked on
    the object. A view that declares nothing is refused.
    """

    object_actions = {"retrieve", "update", "partial_update", "destroy"}

    def _action(self, request, view) -> str | None:
        actions = getattr(view, "policy_actions", None)
        if actions:
            return actions.get(getattr(view, "action", None) or request.method.lower())
        return getattr(view, "policy_action", None)

    def has_permission(self, request, view) -> bool:
        action = self._action(request, view)
        if action is None:
            return False
        if action in (policy.PUBLIC,):
            return True
        if not request.user or not request.user.is_authenticated:
            return False
        is_detail = bool(
            view.kwargs.get(getattr(view, "lookup_url_kwarg", None) or getattr(view, "lookup_field", "pk"))
        )
        if is_detail:
            # The object check follows in has_object_permission; here only the token scope matters.
            actor = policy.actor_for(request.user)
            rule = policy._rule_for(action)
            if rule is None:
                return False
            return actor.token is None or (rule.api_scope is not None and rule.api_scope in actor.scopes)
        return policy.can(request.user, action)

    def has_object_permission(self, request, view, obj) -> bool:
        action = self._action(request, view)
        if action is None:
            return False
        return policy.can(request.user, action, obj)
