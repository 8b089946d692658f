"""Every URL pattern declares its policy; a new page or endpoint without one fails here."""

from django.urls import get_resolver

from consortium import policy

from ..url_walk import walk

# Third-party views that are not ours to decorate, each with the reason it is safe.
EXEMPT_PREFIXES = {
    "admin/": "Django admin: SuperuserAdminSite lets only platform superusers in (tested in test_admin).",
}
EXEMPT_MODULES = {
    "allauth": "Authentication flows themselves (login, signup, reset, MFA); allauth guards its own pages.",
    "django.views.i18n": "Language switcher: stores a preference, exposes no data.",
    "django.views.static": "Public media (logos) in DEBUG only; private files never live there.",
    "django.contrib.staticfiles": "Static assets.",
}


def _walk(patterns):
    for route, pattern in walk(patterns):
        yield route, pattern.callback


def _module(callback) -> str:
    target = getattr(callback, "view_class", None) or getattr(callback, "cls", None) or callback
    return target.__module__


def test_every_url_pattern_declares_a_policy():
    covered, exempt, missing = [], [], []
    for route, callback in _walk(get_resolver().url_patterns):
        if route.startswith(tuple(EXEMPT_PREFIXES)) or any(_module(callback).startswith(m) for m in EXEMPT_MODULES):
            exempt.append(route)
            continue
        actions = policy.declared(callback)
        if not actions:
            missing.append(f"{route} ({_module(callback)})")
            continue
        unknown = [a for a in actions if a not in (policy.PUBLIC, policy.AUTHENTICATED, *policy.registered_actions())]
        if unknown:
            missing.append(f"{route}: unknown policy actions {unknown}")
        covered.append(route)
    print(f"URL policy coverage: {len(covered)} patterns declare a policy, {len(exempt)} exempt third-party.")
    assert not missing, "URL patterns without a (known) policy:\n" + "\n".join(missing)
    assert len(covered) > 30


def test_viewsets_declare_every_routed_action():
    """A DRF viewset must map each routed action (list, retrieve, custom actions) to a policy action."""
    problems = []
    for route, callback in _walk(get_resolver().url_patterns):
        cls = getattr(callback, "cls", None)
        actions = getattr(callback, "actions", None)
        if cls is None or not actions or not getattr(cls, "policy_actions", None):
            continue
        for method, action in actions.items():
            if action not in cls.policy_actions:
                problems.append(f"{route} {method.upper()} → {cls.__name__}.{action}")
    assert not problems, "Routed viewset actions without a policy:\n" + "\n".join(problems)
