"""Learner and stakeholder feedback (D8)."""

__all__: list[str] = []
