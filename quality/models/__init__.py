"""The quality app's models, one module per area: ``feedback`` (surveys; responses anonymous by construction),
``recruitment`` (target segments, campaigns, page visits), ``review`` (annual quality reviews, findings,
improvement actions) and ``sustainability`` (partners' multi-year commitments)."""

from .feedback import *  # noqa: F403
from .recruitment import *  # noqa: F403
from .review import *  # noqa: F403
from .sustainability import *  # noqa: F403
