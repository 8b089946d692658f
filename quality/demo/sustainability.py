"""Demo sustainability data (issue 12, in progress)."""


def seed(ctx: dict) -> list[str]:
    return []
