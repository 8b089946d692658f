"""The chart geometry (quality/charts.py): exact coordinates for small inputs, the scale, empty and zero data, long
labels, series, the funnel's rates, refusals. Pure Python: no database."""

from decimal import Decimal

import pytest

from quality import charts
from quality.charts import Bar, FunnelStage, Tick

BLUE, ORANGE = charts.PALETTE[:2]


def test_bar_chart_geometry_of_a_small_input():
    chart = charts.bar_chart([("A", 40), ("B", 12), ("C", 0)], label_heading="Segment", value_heading="Visits")
    # 560 wide; labels up to x=160; the scale's top (40) at 560 - 56 = 504, so 344 units for 40 visits.
    assert (chart.width, chart.height, chart.view_box) == (560, 106, "0 0 560 106")
    assert (chart.plot_left, chart.plot_right, chart.plot_top, chart.plot_bottom) == (160.0, 504.0, 8.0, 82.0)
    assert (chart.top_value, chart.tick_label_y) == (40.0, 99.5)
    assert chart.bars == (
        Bar(label="A", full_label="A", series="", value=40, value_label="40", title="A: 40", colour=BLUE,
            x=160.0, y=8.0, width=344.0, height=18.0, label_x=152.0, label_y=20.8, value_x=508.0, value_y=20.8,
            first_of_group=True),
        Bar(label="B", full_label="B", series="", value=12, value_label="12", title="B: 12", colour=BLUE,
            x=160.0, y=36.0, width=103.2, height=18.0, label_x=152.0, label_y=48.8, value_x=267.2, value_y=48.8,
            first_of_group=True),
        Bar(label="C", full_label="C", series="", value=0, value_label="0", title="C: 0", colour=BLUE,
            x=160.0, y=64.0, width=0.0, height=18.0, label_x=152.0, label_y=76.8, value_x=164.0, value_y=76.8,
            first_of_group=True),
    )
    assert chart.ticks == (Tick(160.0, 0.0, "0"), Tick(246.0, 10.0, "10"), Tick(332.0, 20.0, "20"),
                           Tick(418.0, 30.0, "30"), Tick(504.0, 40.0, "40"))
    assert chart.header == ("Segment", "Visits")
    assert chart.rows == (("A", "40"), ("B", "12"), ("C", "0"))
    assert chart.legend == () and not chart.empty


def test_bar_chart_with_a_series_per_label():
    chart = charts.bar_chart([("X", (1.5, 3)), ("Y", (0, 2))], series=("2025", "2026"), label_heading="Edition")
    # Groups of two bars (18 high, 4 apart), 10 between groups; the label sits in the middle of its group.
    assert [(b.series, b.x, b.y, b.width, b.label_y, b.value_y, b.first_of_group, b.colour) for b in chart.bars] == [
        ("2025", 160.0, 8.0, 172.0, 31.8, 20.8, True, BLUE),
        ("2026", 160.0, 30.0, 344.0, 31.8, 42.8, False, ORANGE),
        ("2025", 160.0, 58.0, 0.0, 81.8, 70.8, True, BLUE),
        ("2026", 160.0, 80.0, 229.3, 81.8, 92.8, False, ORANGE),
    ]
    assert [b.title for b in chart.bars] == ["X (2025): 1.5", "X (2026): 3", "Y (2025): 0", "Y (2026): 2"]
    assert [(t.x, t.label) for t in chart.ticks] == [(160.0, "0"), (274.7, "1"), (389.3, "2"), (504.0, "3")]
    assert (chart.plot_bottom, chart.height) == (98.0, 122)  # 8 + 2 × (2 × 18 + 4) + 10; axis 24
    assert chart.legend == (charts.Legend("2025", BLUE), charts.Legend("2026", ORANGE))
    assert chart.header == ("Edition", "2025", "2026")
    assert chart.rows == (("X", "1.5", "3"), ("Y", "0", "2"))


def test_empty_data_gives_an_empty_chart():
    chart = charts.bar_chart([])
    assert chart.empty and chart.bars == () and chart.ticks == () and chart.rows == ()
    assert chart.height == 32  # room for the template's "nothing yet" line
    assert charts.funnel([]).empty and charts.funnel([]).rows == ()


def test_all_zero_values_give_a_scale_of_one_and_empty_bars():
    chart = charts.bar_chart([("A", 0), ("B", 0)])
    assert chart.top_value == 1.0
    assert [(t.x, t.label) for t in chart.ticks] == [(160.0, "0"), (504.0, "1")]
    assert [b.width for b in chart.bars] == [0.0, 0.0]
    assert [b.value_label for b in chart.bars] == ["0", "0"]
    stages = charts.funnel([("Visits", 0), ("Started", 0)]).stages
    assert [(s.width, s.x, s.rate, s.rate_label) for s in stages] == [(0.0, 312.0, None, ""), (0.0, 312.0, None, "")]


def test_long_labels_are_cut_on_the_chart_and_kept_whole_for_the_table_and_title():
    long = "Senior Explorer: professionals changing careers into semiconductor design"
    chart = charts.bar_chart([(long, 3)], max_label=24)
    bar = chart.bars[0]
    assert bar.label == "Senior Explorer: profes…" and len(bar.label) == 24
    assert bar.full_label == long and bar.title == f"{long}: 3"
    assert chart.rows == ((long, "3"),)
    stage = charts.funnel([(long, 3)], max_label=10).stages[0]
    assert (stage.label, stage.full_label) == ("Senior Ex…", long)
    assert charts.truncate("exactly ten", 11) == "exactly ten"
    assert charts.truncate("  spaces \n  inside ", 40) == "spaces inside"


@pytest.mark.parametrize("bad", [-1, -0.5, float("nan"), float("inf"), "ten", None])
def test_negative_or_non_numeric_values_are_refused(bad):
    with pytest.raises(ValueError):
        charts.bar_chart([("A", 1), ("B", bad)])
    with pytest.raises(ValueError):
        charts.funnel([("Visits", 1), ("Started", bad)])


def test_series_values_must_match_the_series():
    with pytest.raises(ValueError, match="2 values for 3 series"):
        charts.bar_chart([("A", (1, 2))], series=("a", "b", "c"))
    with pytest.raises(ValueError, match="sequence"):
        charts.bar_chart([("A", 1)], series=("a",))


def test_decimal_values_and_large_numbers():
    chart = charts.bar_chart([("Fees", Decimal("1250.50")), ("Grants", Decimal("12000"))])
    assert [b.value_label for b in chart.bars] == ["1,250.5", "12,000"]
    assert chart.top_value == 15000.0 and [t.label for t in chart.ticks] == ["0", "5,000", "10,000", "15,000"]


@pytest.mark.parametrize(("maximum", "integer", "expected"), [
    (0, False, (1.0, 1.0)),
    (40, True, (40.0, 10.0)),
    (12, True, (15.0, 5.0)),
    (7, True, (8.0, 2.0)),
    (99, True, (100.0, 20.0)),
    (1234, True, (1500.0, 500.0)),
    (0.3, False, (0.3, 0.1)),
    (0.3, True, (1.0, 1.0)),  # counts: never a step below one
    (0.07, False, (0.08, 0.02)),
])
def test_nice_scale(maximum, integer, expected):
    assert charts.nice_scale(maximum, integer=integer) == expected


def test_funnel_geometry_and_rates():
    chart = charts.funnel([("Visits", 40), ("Started", 12), ("Submitted", 9), ("Admitted", 0), ("Enrolled", 0)],
                          headings=("Stage", "Count", "Conversion"))
    # Bars centred on x = 160 + (560 - 96 - 160) / 2 = 312, the largest count 304 wide; 24 high, 8 apart.
    assert (chart.width, chart.height, chart.view_box) == (560, 168, "0 0 560 168")
    assert chart.stages[:3] == (
        FunnelStage(label="Visits", full_label="Visits", count=40, value_label="40", rate=None, rate_label="",
                    title="Visits: 40", x=160.0, y=8.0, width=304.0, height=24.0, label_x=152.0, text_y=23.8,
                    value_x=472.0),
        FunnelStage(label="Started", full_label="Started", count=12, value_label="12", rate=0.3, rate_label="30.0 %",
                    title="Started: 12 (30.0 %)", x=266.4, y=40.0, width=91.2, height=24.0, label_x=152.0,
                    text_y=55.8, value_x=472.0),
        FunnelStage(label="Submitted", full_label="Submitted", count=9, value_label="9", rate=0.75,
                    rate_label="75.0 %", title="Submitted: 9 (75.0 %)", x=277.8, y=72.0, width=68.4, height=24.0,
                    label_x=152.0, text_y=87.8, value_x=472.0),
    )
    admitted, enrolled = chart.stages[3:]
    assert (admitted.rate, admitted.rate_label, admitted.width, admitted.x) == (0.0, "0.0 %", 0.0, 312.0)
    assert (enrolled.rate, enrolled.rate_label) == (None, "")  # after a stage of 0: no rate, not a division by zero
    assert chart.header == ("Stage", "Count", "Conversion")
    assert chart.rows == (("Visits", "40", ""), ("Started", "12", "30.0 %"), ("Submitted", "9", "75.0 %"),
                          ("Admitted", "0", "0.0 %"), ("Enrolled", "0", ""))


def test_funnel_scales_to_the_largest_stage_when_a_later_one_is_larger():
    """More applications than counted visits (a direct link to the Apply page): the widest bar is the largest."""
    stages = charts.funnel([("Visits", 5), ("Started", 10)]).stages
    assert [(s.width, s.rate_label) for s in stages] == [(152.0, ""), (304.0, "200.0 %")]


def test_percent_and_number_formats():
    assert charts.percent(2 / 3) == "66.7 %" and charts.percent(None) == "" and charts.percent(0) == "0.0 %"
    assert charts.number(3) == "3" and charts.number(2.0) == "2" and charts.number(0.125) == "0.12"


def test_chart_numbers_are_written_in_the_active_language():
    from django.utils import translation

    from quality import charts

    with translation.override("en"):
        assert [charts.number(v) for v in (12000, 4.17, 4.5, 3.0, 0.333)] == ["12,000", "4.17", "4.5", "3", "0.33"]
    with translation.override("de"):
        assert [charts.number(v) for v in (12000, 4.17, 4.5, 3.0)] == ["12.000", "4,17", "4,5", "3"]
        assert charts.percent(15 / 21) == "71,4 %"
    with translation.override("fr"):
        assert charts.number(4.17) == "4,17"
