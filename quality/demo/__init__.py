"""Demo quality data, one module per area, seeded in this order (``settings.DEMO_SEEDERS`` names ``seed``):
feedback surveys with anonymous answers, recruitment segments/campaigns/visits, a quality review with findings and
improvement actions, the partners' commitments. Each part returns the lines ``seed_demo`` prints."""

from . import feedback, recruitment, review, sustainability


def seed(ctx: dict) -> list[str]:
    lines: list[str] = []
    for part in (feedback, recruitment, review, sustainability):
        lines += part.seed(ctx)
    return lines
