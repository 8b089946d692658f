"""Qualification rules as plain data and functions (stdlib only): volume bands, national caps.

The bands follow the EADTU outline of micro-credential awards (domain README D3):

=========================  ==========================  ======================================
type                        ECTS volume                 note
=========================  ==========================  ======================================
micro-learning unit         0 < ECTS < 1                badge / proof of attendance
micro-credential course     1 ≤ ECTS < 4                ECTS credits
CMF micro-credential        4 ≤ ECTS ≤ 6                100–150 h, EQF 5–8, stackable
short programme             6 < ECTS < 20               14–16 ECTS flagged as the emerging standard
microdegree                 20 ≤ ECTS ≤ 40              specialisation / expert certificate, …
(above 40)                  refused                     degrees are out of scope
=========================  ==========================  ======================================
"""

from __future__ import annotations

from decimal import Decimal
from enum import StrEnum

MAX_ECTS = Decimal("40")
HOURS_PER_ECTS = (25, 30)
EMERGING_STANDARD = (Decimal("14"), Decimal("16"))


class QualificationType(StrEnum):
    MICRO_LEARNING_UNIT = "micro_learning_unit"
    MICRO_CREDENTIAL_COURSE = "micro_credential_course"
    CMF_MICRO_CREDENTIAL = "cmf_micro_credential"
    SHORT_PROGRAMME = "short_programme"
    MICRODEGREE = "microdegree"


LABELS = {
    QualificationType.MICRO_LEARNING_UNIT: "Micro-learning unit",
    QualificationType.MICRO_CREDENTIAL_COURSE: "Micro-credential course",
    QualificationType.CMF_MICRO_CREDENTIAL: "CMF micro-credential programme",
    QualificationType.SHORT_PROGRAMME: "Short micro-credential programme",
    QualificationType.MICRODEGREE: "Microdegree",
}

#: (type, lowest, lowest included, highest, highest included)
BANDS: tuple[tuple[QualificationType, Decimal, bool, Decimal, bool], ...] = (
    (QualificationType.MICRO_LEARNING_UNIT, Decimal("0"), False, Decimal("1"), False),
    (QualificationType.MICRO_CREDENTIAL_COURSE, Decimal("1"), True, Decimal("4"), False),
    (QualificationType.CMF_MICRO_CREDENTIAL, Decimal("4"), True, Decimal("6"), True),
    (QualificationType.SHORT_PROGRAMME, Decimal("6"), False, Decimal("20"), False),
    (QualificationType.MICRODEGREE, Decimal("20"), True, Decimal("40"), True),
)


def _in_band(ects: Decimal, low: Decimal, low_in: bool, high: Decimal, high_in: bool) -> bool:
    above = ects >= low if low_in else ects > low
    below = ects <= high if high_in else ects < high
    return above and below


def band_text(kind: QualificationType) -> str:
    for k, low, low_in, high, high_in in BANDS:
        if k == kind:
            return f"{low} {'≤' if low_in else '<'} ECTS {'≤' if high_in else '<'} {high}"
    raise KeyError(kind)


def qualification_type_for(ects: Decimal) -> QualificationType | None:
    """The type whose volume band holds ``ects``; None outside every band (0 or less, above 40)."""
    for kind, low, low_in, high, high_in in BANDS:
        if _in_band(ects, low, low_in, high, high_in):
            return kind
    return None


def is_emerging_standard(ects: Decimal) -> bool:
    low, high = EMERGING_STANDARD
    return low <= ects <= high


def volume_problems(
    ects: Decimal, kind: str | None, country: str | None, national_caps: dict[str, Decimal] | None = None
) -> list[str]:
    """Every reason ``ects`` does not fit ``kind`` (and the issuing country's cap). Empty when it fits."""
    problems: list[str] = []
    if ects != ects.quantize(Decimal("0.1")):
        problems.append("ECTS allow one decimal at most (e.g. 0.5 or 14.5).")
        return problems
    if ects <= 0:
        return ["A programme has a positive volume in ECTS."]
    if ects > MAX_ECTS:
        return [f"{ects} ECTS is above {MAX_ECTS}: degrees are out of scope here (only as stacking targets)."]
    expected = qualification_type_for(ects)
    # An unknown type is the type field's problem (its choices), reported there rather than crashing here.
    if kind and expected and kind != expected and kind in {k.value for k in QualificationType}:
        problems.append(
            f"{ects} ECTS does not fit a {LABELS[QualificationType(kind)].lower()} "
            f"({band_text(QualificationType(kind))}); it is a {LABELS[expected].lower()}."
        )
    cap = (national_caps or {}).get((country or "").upper())
    if cap is not None and ects >= cap:
        problems.append(f"The issuing institution's country ({country}) caps micro-credentials below {cap} ECTS.")
    return problems


def workload_hours(ects: Decimal) -> tuple[int, int]:
    """Notional workload: 1 ECTS is 25–30 hours of study."""
    low, high = HOURS_PER_ECTS
    return int(ects * low), int(ects * high)
