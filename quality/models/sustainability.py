"""Sustainability (D10): the partners' multi-year commitments to a programme. Built by issue 12 (in progress)."""
