"""Walk the URL resolver: every concrete pattern with its full route (used by the policy and matrix tests)."""

from collections.abc import Iterator

from django.urls import URLPattern, URLResolver


def walk(patterns, prefix: str = "") -> Iterator[tuple[str, URLPattern]]:
    for entry in patterns:
        if isinstance(entry, URLResolver):
            yield from walk(entry.url_patterns, prefix + str(entry.pattern))
        elif isinstance(entry, URLPattern):
            yield prefix + str(entry.pattern), entry
