"""The certification app's public surface for higher apps (quality)."""

from .models import Award, AwardKind

__all__ = ["Award", "AwardKind"]
