"""One policy, deny by default.

``can(user, action, obj)`` decides every permission question; ``filter(user, action, queryset)``
narrows a list to what the user may see. Views (``PolicyMixin``), the API (``PolicyPermission``) and
tasks all ask here. Each app registers its rules (``@rule``/``@scope``) in its ``policy_rules`` module;
an action without a rule is refused.

The user may be a person (``User``) or a partner system (``ServicePrincipal`` from an API token). A
token acts for its institution and only within its scopes (``<resource>:read`` / ``<resource>:write``).
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import cached_property
from typing import Any
from uuid import UUID

from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet

#: Marker for views anyone may use (public catalogue, verification, health check).
PUBLIC = "public"
#: Marker for views any signed-in user may use (their own dashboard, their own data).
AUTHENTICATED = "authenticated"


@dataclass(frozen=True)
class Rule:
    action: str
    check: Callable[[Actor, Any], bool]
    api_scope: str | None


_rules: dict[str, Rule] = {}
_scopes: dict[str, Callable[[Actor, QuerySet], QuerySet]] = {}


def rule(action: str, *, api_scope: str | None = None):
    """Register the check for ``action``. ``api_scope`` is the token scope a partner system needs."""

    def decorator(fn: Callable[[Actor, Any], bool]):
        if action in _rules:
            raise ValueError(f"Policy rule {action!r} registered twice.")
        _rules[action] = Rule(action, fn, api_scope)
        return fn

    return decorator


def scope(action: str):
    """Register the queryset filter used for lists under ``action``."""

    def decorator(fn: Callable[[Actor, QuerySet], QuerySet]):
        _scopes[action] = fn
        return fn

    return decorator


def registered_actions() -> list[str]:
    return sorted(_rules)


def api_scopes() -> list[str]:
    """Every token scope some rule asks for (offered when an institution creates a token)."""
    return sorted({r.api_scope for r in _rules.values() if r.api_scope})


class ServicePrincipal:
    """The caller behind an API token: acts for the token's institution, within its scopes."""

    is_authenticated = True
    is_anonymous = False
    is_superuser = False
    is_active = True
    pk = None

    def __init__(self, token) -> None:
        self.token = token
        self.institution = token.institution

    def __str__(self) -> str:
        return f"token:{self.token.name}@{self.institution.short_name}"


class Actor:
    """What the policy knows about whoever acts: identity, institution, roles, token scopes."""

    def __init__(self, user) -> None:
        self.user = user
        self.token = getattr(user, "token", None) if isinstance(user, ServicePrincipal) else None
        self.is_authenticated = bool(user is not None and user.is_authenticated)
        self.is_superuser = bool(self.is_authenticated and self.token is None and user.is_superuser)

    @cached_property
    def scopes(self) -> frozenset[str] | None:
        return frozenset(self.token.scopes) if self.token else None

    @cached_property
    def institution_ids(self) -> frozenset[UUID]:
        """The institution this actor works for (staff profile) or acts for (token)."""
        if not self.is_authenticated:
            return frozenset()
        if self.token:
            return frozenset({self.token.institution_id})
        from .models import StaffProfile

        return frozenset(StaffProfile.objects.filter(user=self.user).values_list("institution_id", flat=True))

    @property
    def is_staff_member(self) -> bool:
        return bool(self.institution_ids) and self.token is None

    @property
    def is_partner_system(self) -> bool:
        return self.token is not None

    @cached_property
    def assignments(self) -> tuple[tuple[str, UUID | None, UUID | None, UUID | None], ...]:
        if not self.is_authenticated or self.token:
            return ()
        from .models import RoleAssignment

        return tuple(
            RoleAssignment.objects.filter(user=self.user).values_list(
                "role", "consortium_id", "institution_id", "target_id"
            )
        )

    def has_role(
        self,
        *roles: str,
        consortium: UUID | None = None,
        institution: UUID | None = None,
        target: UUID | None = None,
    ) -> bool:
        for role, c, i, t in self.assignments:
            if role not in roles:
                continue
            if consortium is not None and c != consortium:
                continue
            if institution is not None and i != institution:
                continue
            if target is not None and t != target:
                continue
            if target is None and institution is not None and t is not None:
                continue  # an institution role narrowed to one programme is not institution-wide
            return True
        return False

    def consortia_with_role(self, *roles: str) -> set[UUID]:
        return {c for role, c, _i, _t in self.assignments if role in roles and c}

    def institutions_with_role(self, *roles: str) -> set[UUID]:
        """Institutions on which the actor holds one of ``roles`` institution-wide (not narrowed)."""
        return {i for role, _c, i, t in self.assignments if role in roles and i and t is None}

    def targets_with_role(self, *roles: str) -> set[UUID]:
        return {t for role, _c, _i, t in self.assignments if role in roles and t}

    @cached_property
    def member_consortium_ids(self) -> frozenset[UUID]:
        """Consortia in which this actor's institution is an active member, plus those it administers."""
        from .models import Membership

        ids = set(
            Membership.objects.filter(institution_id__in=self.institution_ids, left_on__isnull=True).values_list(
                "consortium_id", flat=True
            )
        )
        return frozenset(ids | self.consortia_with_role("consortium_admin"))

    @cached_property
    def administered_member_ids(self) -> frozenset[UUID]:
        """Institutions that are active members of a consortium this actor administers (one query, not one per
        institution: lists ask about every row)."""
        admin_of = self.consortia_with_role("consortium_admin")
        if not admin_of:
            return frozenset()
        from .models import Membership

        return frozenset(
            Membership.objects.filter(consortium_id__in=admin_of, left_on__isnull=True).values_list(
                "institution_id", flat=True
            )
        )


_generation = 0


def actor_for(user) -> Actor:
    """The ``Actor`` for a user, cached on the user object (a request's user lives for one request).

    Any change of roles in this process (``forget``) invalidates every cached actor, so a command or
    test that grants a role and then acts sees the new role on every copy of the user object.
    """
    if user is None:
        return Actor(None)
    cached = getattr(user, "_policy_actor", None)
    if cached is None or cached.generation != _generation:
        cached = Actor(user)
        cached.generation = _generation
        with contextlib.suppress(AttributeError):  # objects that refuse attributes are not cached
            user._policy_actor = cached
    return cached


def forget(user) -> None:
    """Drop cached ``Actor``s after ``user``'s roles or institution changed (all copies of it)."""
    global _generation
    _generation += 1
    if user is not None and hasattr(user, "_policy_actor"):
        with contextlib.suppress(AttributeError):
            del user._policy_actor


def _rule_for(action: str) -> Rule | None:
    return _rules.get(action)


def can(user, action: str, obj: Any = None) -> bool:
    """May ``user`` perform ``action`` (on ``obj``, or in general when ``obj`` is None)?"""
    if action == PUBLIC:
        return True
    actor = actor_for(user)
    if action == AUTHENTICATED:
        return actor.is_authenticated and actor.token is None
    found = _rule_for(action)
    if found is None or not actor.is_authenticated:
        return False
    if actor.is_superuser:
        return True
    if actor.token is not None and (found.api_scope is None or found.api_scope not in actor.scopes):
        return False
    return bool(found.check(actor, obj))


def require(user, action: str, obj: Any = None) -> None:
    if not can(user, action, obj):
        raise PermissionDenied(f"Not allowed: {action}.")


def filter(user, action: str, queryset: QuerySet) -> QuerySet:
    """Narrow ``queryset`` to the rows on which ``user`` may perform ``action``."""
    actor = actor_for(user)
    found = _rule_for(action)
    if found is None or not actor.is_authenticated:
        return queryset.none()
    if actor.is_superuser:
        return queryset
    if actor.token is not None and (found.api_scope is None or found.api_scope not in actor.scopes):
        return queryset.none()
    narrow = _scopes.get(action)
    if narrow is None:
        return queryset.none()
    return narrow(actor, queryset)


def declared(view_or_callback) -> list[str]:
    """The policy actions a view declares (empty when it declares none). Used by the URL coverage test."""
    cls = getattr(view_or_callback, "view_class", None) or getattr(view_or_callback, "cls", None)
    target = cls or view_or_callback
    actions: Iterable[str] = ()
    if getattr(target, "policy_actions", None):
        actions = target.policy_actions.values()
    elif getattr(target, "policy_action", None):
        actions = [target.policy_action]
    elif getattr(view_or_callback, "policy", None):
        actions = [view_or_callback.policy]
    return [a for a in actions if a]


def policy(action: str):
    """Decorator declaring the policy of a function view and enforcing it."""

    def decorator(view):
        from functools import wraps

        from django.contrib.auth.views import redirect_to_login

        @wraps(view)
        def wrapped(request, *args, **kwargs):
            if action not in (PUBLIC,) and not request.user.is_authenticated:
                return redirect_to_login(request.get_full_path())
            if not can(request.user, action):
                raise PermissionDenied
            return view(request, *args, **kwargs)

        wrapped.policy = action
        return wrapped

    return decorator
