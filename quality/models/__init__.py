"""The quality app's models, one module per area: ``feedback`` (surveys; responses anonymous by construction) and
``recruitment`` (target segments, campaigns, page visits)."""

from .feedback import *  # noqa: F403
from .recruitment import *  # noqa: F403
