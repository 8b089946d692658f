"""Qualification rules (D3): the ECTS volume bands, the emerging 14–16 ECTS standard, national caps and EQF levels."""

import itertools
import re
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from hypothesis import given
from hypothesis import strategies as st

from programmes.data import (
    BANDS,
    LABELS,
    MAX_ECTS,
    QualificationType,
    band_text,
    is_emerging_standard,
    qualification_type_for,
    volume_problems,
    workload_hours,
)
from programmes.models import Programme
from programmes.services import programme_create

Q = QualificationType
CAPS = {"ES": Decimal("15")}

# (ECTS, the only type that fits) — both sides of every boundary of the EADTU outline.
BOUNDARIES = [
    ("0.1", Q.MICRO_LEARNING_UNIT),
    ("0.9", Q.MICRO_LEARNING_UNIT),
    ("1", Q.MICRO_CREDENTIAL_COURSE),
    ("1.0", Q.MICRO_CREDENTIAL_COURSE),
    ("3.9", Q.MICRO_CREDENTIAL_COURSE),
    ("4", Q.CMF_MICRO_CREDENTIAL),
    ("6", Q.CMF_MICRO_CREDENTIAL),
    ("6.1", Q.SHORT_PROGRAMME),
    ("13.9", Q.SHORT_PROGRAMME),
    ("14", Q.SHORT_PROGRAMME),
    ("16", Q.SHORT_PROGRAMME),
    ("16.1", Q.SHORT_PROGRAMME),
    ("19.9", Q.SHORT_PROGRAMME),
    ("20", Q.MICRODEGREE),
    ("40", Q.MICRODEGREE),
]


@pytest.mark.parametrize(("ects", "kind"), BOUNDARIES)
def test_type_derived_from_ects_at_every_boundary(ects, kind):
    assert qualification_type_for(Decimal(ects)) == kind


@pytest.mark.parametrize(("ects", "kind"), BOUNDARIES)
def test_the_derived_type_fits_and_every_other_type_is_refused_with_a_reason(ects, kind):
    value = Decimal(ects)
    assert volume_problems(value, kind, "BE", CAPS) == []
    for other in Q:
        if other == kind:
            continue
        problems = volume_problems(value, other, "BE", CAPS)
        assert len(problems) == 1, (ects, other)
        # The message names the volume, the chosen type with its band, and the type that does fit.
        assert problems[0] == (f"{value} ECTS does not fit a {LABELS[other].lower()} ({band_text(other)}); "
                               f"it is a {LABELS[kind].lower()}.")


@pytest.mark.parametrize(
    ("ects", "chosen", "message"),
    [
        ("0.9", Q.MICRO_CREDENTIAL_COURSE, r"0\.9 ECTS does not fit a micro-credential course \(1 ≤ ECTS < 4\); "
                                           r"it is a micro-learning unit\."),
        ("1", Q.MICRO_LEARNING_UNIT, r"1 ECTS does not fit a micro-learning unit \(0 < ECTS < 1\); "
                                     r"it is a micro-credential course\."),
        ("3.9", Q.CMF_MICRO_CREDENTIAL, r"3\.9 ECTS does not fit a cmf micro-credential programme \(4 ≤ ECTS ≤ 6\)"),
        ("4", Q.MICRO_CREDENTIAL_COURSE, r"4 ECTS does not fit a micro-credential course \(1 ≤ ECTS < 4\)"),
        ("6", Q.SHORT_PROGRAMME, r"6 ECTS does not fit a short micro-credential programme \(6 < ECTS < 20\)"),
        ("6.1", Q.CMF_MICRO_CREDENTIAL, r"6\.1 ECTS does not fit a cmf micro-credential programme"),
        ("19.9", Q.MICRODEGREE, r"19\.9 ECTS does not fit a microdegree \(20 ≤ ECTS ≤ 40\)"),
        ("20", Q.SHORT_PROGRAMME, r"20 ECTS does not fit a short micro-credential programme.*it is a microdegree\."),
    ],
)
def test_a_volume_outside_the_chosen_band_gets_a_clear_message(ects, chosen, message):
    problems = volume_problems(Decimal(ects), chosen, "BE", CAPS)
    assert len(problems) == 1
    assert re.match(message, problems[0]), problems[0]


@pytest.mark.parametrize(
    ("ects", "emerging"),
    [("13.9", False), ("14", True), ("14.0", True), ("15", True), ("16", True), ("16.0", True), ("16.1", False),
     ("5", False), ("20", False)],
)
def test_14_to_16_ects_is_flagged_as_the_emerging_standard(ects, emerging):
    assert is_emerging_standard(Decimal(ects)) is emerging


@pytest.mark.parametrize("ects", ["1.25", "0.05", "14.55", "4.01", "39.99"])
def test_two_decimals_are_refused(ects):
    kind = qualification_type_for(Decimal(ects))
    assert volume_problems(Decimal(ects), kind, "BE", CAPS) == ["ECTS allow one decimal at most (e.g. 0.5 or 14.5)."]


@pytest.mark.parametrize("ects", ["0", "0.0", "-0.5", "-1", "-20"])
def test_zero_and_negative_volumes_fit_no_type_and_are_refused(ects):
    assert qualification_type_for(Decimal(ects)) is None
    for kind in (None, Q.MICRO_LEARNING_UNIT):
        assert volume_problems(Decimal(ects), kind, "BE", CAPS) == ["A programme has a positive volume in ECTS."]


@pytest.mark.parametrize("ects", ["40.1", "41", "60", "240"])
def test_above_40_ects_is_refused(ects):
    assert qualification_type_for(Decimal(ects)) is None
    problems = volume_problems(Decimal(ects), Q.MICRODEGREE, "BE", CAPS)
    assert len(problems) == 1
    assert problems[0].startswith(f"{ects} ECTS is above {MAX_ECTS}: degrees are out of scope")


@pytest.mark.parametrize(
    ("ects", "country", "caps", "capped"),
    [
        ("14.9", "ES", CAPS, False),
        ("15", "ES", CAPS, True),
        ("15.0", "es", CAPS, True),  # country codes in any case
        ("20", "ES", CAPS, True),
        ("15", "BE", CAPS, False),  # not capped
        ("15", "NL", CAPS, False),
        ("15", None, CAPS, False),  # no issuing country known yet
        ("15", "ES", None, False),  # no caps configured
    ],
)
def test_national_cap_by_the_issuing_country(ects, country, caps, capped):
    problems = volume_problems(Decimal(ects), qualification_type_for(Decimal(ects)), country, caps)
    cap_messages = [p for p in problems if "caps micro-credentials below 15 ECTS" in p]
    assert bool(cap_messages) is capped
    assert len(problems) == len(cap_messages)


def test_national_cap_and_type_mismatch_are_both_reported():
    problems = volume_problems(Decimal("15"), Q.MICRODEGREE, "ES", CAPS)
    assert len(problems) == 2
    assert "does not fit a microdegree" in problems[0]
    assert problems[1] == "The issuing institution's country (ES) caps micro-credentials below 15 ECTS."


def test_an_unknown_type_is_left_to_the_field_choices_not_a_crash():
    assert volume_problems(Decimal("5"), "degree", "BE", CAPS) == []


def test_bands_cover_the_outline_in_order_without_gaps():
    assert [b[0] for b in BANDS] == list(Q)
    for (_k, _lo, _li, high, high_in), (_k2, low, low_in, _h, _hi) in itertools.pairwise(BANDS):
        assert high == low
        assert high_in != low_in  # each boundary belongs to exactly one band


def test_workload_is_25_to_30_hours_per_ects():
    assert workload_hours(Decimal("5")) == (125, 150)
    assert workload_hours(Decimal("0.5")) == (12, 15)


one_decimal_ects = st.integers(min_value=1, max_value=400).map(lambda tenths: Decimal(tenths) / Decimal(10))


@given(one_decimal_ects)
def test_every_one_decimal_volume_up_to_40_has_exactly_one_type_that_fits(ects):
    matching = [kind for kind, low, low_in, high, high_in in BANDS
                if (ects >= low if low_in else ects > low) and (ects <= high if high_in else ects < high)]
    assert len(matching) == 1
    assert qualification_type_for(ects) == matching[0]
    assert volume_problems(ects, qualification_type_for(ects), "BE") == []
    assert volume_problems(ects, qualification_type_for(ects), "BE", CAPS) == []


# --- Through the service and the model --------------------------------------------------------------------


def _data(w, **overrides):
    data = {
        "code": "rules-test", "primary_language": "en", "ects": Decimal("5"),
        "qualification_type": Q.CMF_MICRO_CREDENTIAL, "eqf_level": 6, "delivery_mode": "online",
        "synchronicity": "asynchronous", "pacing": "cohort",
        "duration_weeks": 10, "lead_institution": w.ua, "issuing_institution": w.ua,
    }
    data.update(overrides)
    return data


def _create(w, **overrides):
    return programme_create(actor=w.people["CA_admin"], consortium=w.ca, data=_data(w, **overrides),
                            title="Chip design", qualification_name="Certificate")


@pytest.mark.parametrize(
    ("eqf", "message"),
    [(4, "greater than or equal to 5"), (0, "greater than or equal to 5"), (9, "less than or equal to 8")],
)
def test_eqf_outside_5_to_8_is_refused_by_the_service_with_a_field_error(world, eqf, message):
    with pytest.raises(ValidationError, match=message) as exc:
        _create(world, eqf_level=eqf)
    assert list(exc.value.message_dict) == ["eqf_level"]
    assert not Programme.objects.filter(code="rules-test").exists()


@pytest.mark.parametrize("eqf", [5, 8])
def test_eqf_5_and_8_are_accepted(world, eqf):
    assert _create(world, eqf_level=eqf).eqf_level == eqf


@pytest.mark.parametrize("eqf", [4, 9])
def test_eqf_outside_5_to_8_is_refused_by_model_validation(world, eqf):
    fields = {k: v for k, v in _data(world, eqf_level=eqf).items() if not k.endswith("institution")}
    programme = Programme(consortium=world.ca, lead_institution=world.ua, issuing_institution=world.ua,
                          languages=["en"], **fields)
    with pytest.raises(ValidationError) as exc:
        programme.full_clean()
    assert list(exc.value.message_dict) == ["eqf_level"]
    programme.eqf_level = 8
    programme.full_clean()


@pytest.mark.parametrize(
    ("ects", "kind", "message"),
    [
        ("0.9", Q.MICRO_CREDENTIAL_COURSE, r"0\.9 ECTS does not fit a micro-credential course"),
        ("6.1", Q.CMF_MICRO_CREDENTIAL, r"6\.1 ECTS does not fit a cmf micro-credential programme"),
        ("20", Q.SHORT_PROGRAMME, r"20 ECTS does not fit a short micro-credential programme"),
        ("40.1", Q.MICRODEGREE, r"40\.1 ECTS is above 40"),
        ("5.25", Q.CMF_MICRO_CREDENTIAL, r"one decimal at most"),
        ("0", Q.MICRO_LEARNING_UNIT, r"positive volume"),
    ],
)
def test_programme_create_refuses_a_volume_that_does_not_fit_on_the_ects_field(world, ects, kind, message):
    with pytest.raises(ValidationError, match=message) as exc:
        _create(world, ects=Decimal(ects), qualification_type=kind)
    assert list(exc.value.message_dict) == ["ects"]


def test_programme_create_reports_an_unknown_type_on_the_type_field(world):
    with pytest.raises(ValidationError, match="not a valid choice") as exc:
        _create(world, qualification_type="degree")
    assert list(exc.value.message_dict) == ["qualification_type"]


def test_national_cap_applies_by_the_issuing_institution_country(world):
    # UB is in Spain: issuing there caps below 15 ECTS; UA (Belgium) does not.
    with pytest.raises(ValidationError, match=r"country \(ES\) caps micro-credentials below 15 ECTS"):
        _create(world, code="es-15", ects=Decimal("15"), qualification_type=Q.SHORT_PROGRAMME,
                issuing_institution=world.ub)
    assert _create(world, code="es-149", ects=Decimal("14.9"), qualification_type=Q.SHORT_PROGRAMME,
                   issuing_institution=world.ub).ects == Decimal("14.9")
    assert _create(world, code="be-15", ects=Decimal("15"), qualification_type=Q.SHORT_PROGRAMME).ects == 15
