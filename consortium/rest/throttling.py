from rest_framework.throttling import SimpleRateThrottle


class PerTokenRateThrottle(SimpleRateThrottle):
    """One budget per API token (per user for browser sessions, per IP for anonymous callers)."""

    scope = "api"

    def get_cache_key(self, request, view):
        token = getattr(request.user, "token", None)
        if token is not None:
            ident = f"token-{token.pk}"
        elif request.user and request.user.is_authenticated:
            ident = f"user-{request.user.pk}"
        else:
            ident = f"ip-{self.get_ident(request)}"
        return self.cache_format % {"scope": self.scope, "ident": ident}
