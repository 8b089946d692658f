"""Grading scales and conversion tables as plain data (stdlib only), property-tested.

A scale is its grades ordered from best to worst, plus the worst grade that still passes. That one
representation covers ascending numeric scales (0–20: "20" best), descending ones (German 1.0–5.0:
"1.0" best, "4.0" the pass mark), letters (A–F) and pass/fail. A conversion table maps every grade of
a partner's national scale to a grade of the joint scale; it must be

* total — every national grade maps to a joint grade;
* monotonic — a better national grade never converts to a worse joint grade;
* pass-preserving — a national pass converts to a joint pass and a national fail to a joint fail.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from functools import cached_property


@dataclass(frozen=True)
class Scale:
    grades: tuple[str, ...]  # best first
    pass_grade: str

    def __post_init__(self) -> None:
        if not self.grades:
            raise ValueError("A scale has at least one grade.")
        if len(set(self.grades)) != len(self.grades):
            raise ValueError("A scale lists each grade once.")
        if self.pass_grade not in self.grades:
            raise ValueError(f"The pass mark {self.pass_grade!r} is not a grade of the scale.")

    def rank(self, grade: str) -> int:
        """0 for the best grade; larger is worse. Raises KeyError for a grade not on the scale."""
        try:
            return self.grades.index(normalise(grade))
        except ValueError:
            raise KeyError(grade) from None

    def __contains__(self, grade: object) -> bool:
        return isinstance(grade, str) and normalise(grade) in self.grades

    def canonical(self, grade: str) -> str | None:
        """The scale's own spelling of ``grade``, or None when it is not on the scale.

        Examiners type grades as they write them: "4", "4,0" and "4.00" are the grade "4.0" of a 0–10 scale in
        half points; letters are matched without regard to case.
        """
        grade = normalise(grade)
        if grade in self.grades:
            return grade
        value = _number(grade)
        return None if value is None else self._by_value.get(value)

    @cached_property
    def _by_value(self) -> dict[Decimal, str]:
        numbers = {}
        for grade in self.grades:
            value = _number(grade)
            if value is not None:
                numbers.setdefault(value, grade)
        return numbers

    def passes(self, grade: str) -> bool:
        return self.rank(grade) <= self.rank(self.pass_grade)

    def best(self, grades: Sequence[str]) -> str:
        return min(grades, key=self.rank)


def normalise(grade: str) -> str:
    return str(grade).strip().upper()


def _number(grade: str) -> Decimal | None:
    """A grade written as a number (decimal point or comma), or None."""
    try:
        value = Decimal(normalise(grade).replace(",", ".", 1))
    except ArithmeticError:
        return None
    return value if value.is_finite() else None


def numeric_scale(low: Decimal, high: Decimal, step: Decimal, pass_mark: Decimal, *, descending: bool = False) -> Scale:
    """E.g. 0–20 step 1 pass 10 (ascending), or 1.0–5.0 step 0.1 pass 4.0 with ``descending`` (1.0 best)."""
    if step <= 0 or high <= low:
        raise ValueError("A numeric scale needs low < high and a positive step.")
    places = max(0, -step.as_tuple().exponent)
    values = []
    value = low
    while value <= high:
        values.append(f"{value:.{places}f}")
        value += step
    if not low <= pass_mark <= high or (pass_mark - low) % step != 0:
        raise ValueError("The pass mark is not on the scale's steps.")
    grades = tuple(values if descending else reversed(values))
    return Scale(grades=grades, pass_grade=f"{pass_mark:.{places}f}")


def conversion_problems(national: Scale, joint: Scale, mapping: Mapping[str, str]) -> list[str]:
    """Every reason ``mapping`` is not a valid conversion from ``national`` to ``joint`` (empty when valid)."""
    problems: list[str] = []
    table = {normalise(k): normalise(v) for k, v in mapping.items()}
    missing = [g for g in national.grades if g not in table]
    if missing:
        problems.append(f"National grades without a joint grade: {', '.join(missing)}.")
    unknown_national = sorted(k for k in table if k not in national.grades)
    if unknown_national:
        problems.append(f"Not grades of the national scale: {', '.join(unknown_national)}.")
    unknown_joint = sorted({v for v in table.values() if v not in joint.grades})
    if unknown_joint:
        problems.append(f"Not grades of the joint scale: {', '.join(unknown_joint)}.")
    if problems:
        return problems
    previous = None
    for grade in national.grades:  # best to worst
        converted = joint.rank(table[grade])
        if previous is not None and converted < previous[1]:
            problems.append(
                f"Not monotonic: {grade} converts to {table[grade]}, better than {table[previous[0]]} for the "
                f"better grade {previous[0]}."
            )
        previous = (grade, converted)
        if national.passes(grade) != joint.passes(table[grade]):
            verdict = "passes" if national.passes(grade) else "fails"
            problems.append(f"{grade} {verdict} nationally but converts to {table[grade]}, which does not.")
    return problems


def convert(national: Scale, joint: Scale, mapping: Mapping[str, str], grade: str) -> str:
    if grade not in national:
        raise KeyError(grade)
    table = {normalise(k): normalise(v) for k, v in mapping.items()}
    return table[normalise(grade)]


def to_national(
    national: Scale, joint: Scale, mapping: Mapping[str, str], joint_grade: str, *, passed: bool | None = None
) -> str:
    """The national grade a joint result corresponds to: the reverse of a conversion table, for a partner that
    reads the results on its own scale.

    A table maps each national grade to a joint grade (often many to one), and a result may lie between the joint
    scale's grades (a weighted average such as ``16.4``). The answer is the best national grade whose joint grade is
    not better than the result, on the same side of the pass mark: a passed result never becomes a national fail,
    nor a failed one a pass (``passed`` is the result's verdict; by default the joint scale's). When no grade on that
    side is low enough, the worst grade on that side (the national pass mark, for a pass). A result that is neither
    a grade of the joint scale nor a number on a numeric joint scale raises ``KeyError``.
    """
    table = {normalise(k): normalise(v) for k, v in mapping.items()}
    grade = normalise(joint_grade)
    numbers = [_number(g) for g in joint.grades]
    numeric = all(n is not None for n in numbers) and len(numbers) > 1
    value = _number(grade) if numeric else None
    if grade not in joint and value is None:
        raise KeyError(joint_grade)
    ascending = numeric and numbers[0] > numbers[-1]

    def not_better(candidate: str) -> bool:
        if value is not None:
            other = _number(candidate)
            return other <= value if ascending else other >= value
        return joint.rank(candidate) >= joint.rank(grade)

    if passed is None:
        if grade in joint:
            passed = joint.passes(grade)
        else:
            pass_mark = _number(joint.pass_grade)
            passed = value >= pass_mark if ascending else value <= pass_mark
    side = [g for g in national.grades if national.passes(g) == passed]  # best first
    for candidate in side:
        if candidate in table and not_better(table[candidate]):
            return candidate
    return side[-1] if side else national.grades[-1]


def proportional_mapping(national: Scale, joint: Scale) -> dict[str, str]:
    """A starting table: failing and passing bands each spread evenly (always valid; editable afterwards)."""

    def bands(scale: Scale) -> tuple[list[str], list[str]]:
        cut = scale.rank(scale.pass_grade) + 1
        return list(scale.grades[:cut]), list(scale.grades[cut:])

    n_pass, n_fail = bands(national)
    j_pass, j_fail = bands(joint)
    mapping = {}
    for source, target in ((n_pass, j_pass), (n_fail, j_fail)):
        if not source:
            continue
        if not target:
            raise ValueError("The joint scale needs both passing and failing grades for this national scale.")
        for i, grade in enumerate(source):
            mapping[grade] = target[min(len(target) - 1, i * len(target) // len(source))]
    return mapping
