"""Grading scales and conversion tables: property-based (hypothesis) and the concrete European scales."""

from decimal import Decimal as D

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from assessment.grading import Scale, conversion_problems, convert, numeric_scale, proportional_mapping

SPAIN = numeric_scale(D("0"), D("10"), D("0.5"), D("5"))  # 10 best, pass 5
GERMANY = numeric_scale(D("1.0"), D("5.0"), D("0.1"), D("4.0"), descending=True)  # 1.0 best, pass 4.0
LETTERS = Scale(grades=("A", "B", "C", "D", "E", "FX", "F"), pass_grade="E")  # ECTS letters
PASS_FAIL = Scale(grades=("PASS", "FAIL"), pass_grade="PASS")
JOINT = numeric_scale(D("0"), D("20"), D("1"), D("10"))


@st.composite
def scales(draw):
    """Any scale: 2–40 distinct grades, best first, a pass mark that leaves at least one failing grade."""
    n = draw(st.integers(min_value=2, max_value=40))
    grades = tuple(f"G{i}" for i in range(n))
    pass_index = draw(st.integers(min_value=0, max_value=n - 2))
    return Scale(grades=grades, pass_grade=grades[pass_index])


@settings(max_examples=200, deadline=None)
@given(national=scales(), joint=scales())
def test_proportional_mapping_is_total_monotonic_and_pass_preserving(national, joint):
    mapping = proportional_mapping(national, joint)
    assert conversion_problems(national, joint, mapping) == []
    assert set(mapping) == set(national.grades)  # every national grade maps
    ranks = [joint.rank(mapping[g]) for g in national.grades]
    assert ranks == sorted(ranks)  # monotonic: best to worst never improves
    for grade in national.grades:
        assert national.passes(grade) == joint.passes(convert(national, joint, mapping, grade))


@settings(max_examples=200, deadline=None)
@given(national=scales(), joint=scales(), data=st.data())
def test_swapping_two_grades_is_caught(national, joint, data):
    mapping = proportional_mapping(national, joint)
    i = data.draw(st.integers(min_value=0, max_value=len(national.grades) - 2))
    better, worse = national.grades[i], national.grades[i + 1]
    if joint.rank(mapping[better]) == joint.rank(mapping[worse]):
        return  # same joint grade: swapping changes nothing
    mapping[better], mapping[worse] = mapping[worse], mapping[better]
    assert any("Not monotonic" in p for p in conversion_problems(national, joint, mapping))


@settings(max_examples=100, deadline=None)
@given(national=scales(), joint=scales(), data=st.data())
def test_a_missing_grade_is_caught(national, joint, data):
    mapping = proportional_mapping(national, joint)
    dropped = data.draw(st.sampled_from(national.grades))
    del mapping[dropped]
    assert any("without a joint grade" in p and dropped in p for p in conversion_problems(national, joint, mapping))


@pytest.mark.parametrize("national", [SPAIN, GERMANY, LETTERS, PASS_FAIL], ids=["ES", "DE", "ECTS", "pass/fail"])
def test_real_scales_convert_pass_to_pass(national):
    mapping = proportional_mapping(national, JOINT)
    assert conversion_problems(national, JOINT, mapping) == []
    assert JOINT.passes(mapping[national.pass_grade])
    assert not JOINT.passes(mapping[national.grades[-1]])
    assert mapping[national.grades[0]] == "20"


def test_descending_scale_orders_best_first():
    assert GERMANY.grades[0] == "1.0" and GERMANY.grades[-1] == "5.0"
    assert GERMANY.passes("4.0") and not GERMANY.passes("4.1") and GERMANY.passes("1.3")
    assert SPAIN.passes("5.0") and not SPAIN.passes("4.5")


def test_pass_to_fail_is_refused_with_the_grade_named():
    mapping = proportional_mapping(SPAIN, JOINT)
    mapping["5.0"] = "9"
    problems = conversion_problems(SPAIN, JOINT, mapping)
    assert any("5.0 passes nationally but converts to 9" in p for p in problems)


def test_unknown_grades_are_refused():
    mapping = {**proportional_mapping(LETTERS, JOINT), "Z": "20"}
    mapping["A"] = "21"
    problems = conversion_problems(LETTERS, JOINT, mapping)
    assert any("Not grades of the national scale: Z" in p for p in problems)
    assert any("Not grades of the joint scale: 21" in p for p in problems)


@pytest.mark.parametrize(("grades", "pass_grade"), [((), "A"), (("A", "A"), "A"), (("A", "B"), "C")])
def test_invalid_scales(grades, pass_grade):
    with pytest.raises(ValueError):
        Scale(grades=grades, pass_grade=pass_grade)


def test_numeric_scale_validation():
    with pytest.raises(ValueError):
        numeric_scale(D("0"), D("10"), D("1"), D("5.5"))
    with pytest.raises(ValueError):
        numeric_scale(D("10"), D("0"), D("1"), D("5"))
    assert len(numeric_scale(D("0"), D("20"), D("0.5"), D("10")).grades) == 41


@pytest.mark.parametrize("typed, expected", [
    ("4.0", "4.0"), ("4", "4.0"), ("4,0", "4.0"), (" 4.00 ", "4.0"), ("7,5", "7.5"), ("10", "10.0"), ("0", "0.0"),
    ("4.2", None), ("11", None), ("-0", "0.0"), ("NaN", None), ("Infinity", None), ("four", None), ("", None),
])
def test_numbers_are_read_as_the_scales_own_spelling(typed, expected):
    spain = numeric_scale(D("0"), D("10"), D("0.5"), D("5"))
    assert spain.canonical(typed) == expected


def test_letters_are_matched_without_case_and_never_by_number():
    letters = Scale(grades=("A", "B", "C", "F"), pass_grade="C")
    assert letters.canonical("b") == "B"
    assert letters.canonical("1") is None
