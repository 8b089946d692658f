"""Recruitment (D9): target segments, campaigns with tracked links, visits of the public programme pages."""

__all__: list[str] = []
