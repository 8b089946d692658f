"""Domain errors: raised by services, shown to people as messages and to the API as JSON."""

from collections.abc import Mapping, Sequence


class DomainError(Exception):
    """A rule refused the request. ``message`` is for the user; ``details`` lists the reasons."""

    status_code = 400

    def __init__(self, message: str, *, details: Sequence[str] | Mapping[str, Sequence[str]] = ()) -> None:
        super().__init__(message)
        self.message = message
        self.details = details


class TransitionError(DomainError):
    """An illegal state transition (answered with 409 Conflict by the API)."""

    status_code = 409
