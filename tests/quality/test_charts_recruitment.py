"""The column chart geometry (quality/charts.py ``column_chart``, the visits per day of the funnel page): exact
coordinates for a small input, thinned axis labels, empty and zero data, refusals. Pure Python: no database."""

import pytest

from quality import charts
from quality.charts import AxisLabel, Column, ColumnTick


def test_column_chart_geometry_of_a_small_input():
    chart = charts.column_chart([("1 March", 4), ("2 March", 0), ("3 March", 10), ("4 March", 6)],
                                axis_labels=["1 Mar", "2 Mar", "3 Mar", "4 Mar"], label_heading="Day",
                                value_heading="Visits")
    # Plot from x=40 to 560 - 8 = 552 (512 wide: 4 slots of 128, a column 80 % of its slot, 12.8 in from its
    # edge) and from y=8 to 200 - 24 = 176 (168 high); the scale's top is 10 (steps of 5 for at most 4 ticks).
    assert (chart.width, chart.height, chart.view_box) == (560, 200, "0 0 560 200")
    assert (chart.plot_left, chart.plot_right, chart.plot_top, chart.plot_bottom) == (40.0, 552.0, 8.0, 176.0)
    assert (chart.top_value, chart.axis_label_y, chart.tick_label_x) == (10.0, 193.5, 36.0)
    assert chart.columns == (
        Column("1 March", 4, "4", "1 March: 4", x=52.8, y=108.8, width=102.4, height=67.2),  # 168 × 4/10
        Column("2 March", 0, "0", "2 March: 0", x=180.8, y=176.0, width=102.4, height=0.0),
        Column("3 March", 10, "10", "3 March: 10", x=308.8, y=8.0, width=102.4, height=168.0),
        Column("4 March", 6, "6", "4 March: 6", x=436.8, y=75.2, width=102.4, height=100.8),
    )
    assert chart.ticks == (ColumnTick(0.0, "0", y=176.0, label_y=179.8), ColumnTick(5.0, "5", y=92.0, label_y=95.8),
                           ColumnTick(10.0, "10", y=8.0, label_y=11.8))
    assert chart.axis_labels == (AxisLabel("1 Mar", 104.0), AxisLabel("2 Mar", 232.0), AxisLabel("3 Mar", 360.0),
                                 AxisLabel("4 Mar", 488.0))
    assert chart.header == ("Day", "Visits")
    assert chart.rows == (("1 March", "4"), ("2 March", "0"), ("3 March", "10"), ("4 March", "6"))
    assert not chart.empty


def test_only_every_kth_column_is_labelled_under_a_long_series():
    chart = charts.column_chart([(f"day {i}", i) for i in range(30)], max_axis_labels=8)
    # 30 columns, at most 8 labels: every 4th (ceil(30 / 8)), the first included.
    assert [label.label for label in chart.axis_labels] == [f"day {i}" for i in range(0, 30, 4)]
    assert len(chart.columns) == 30 and len(chart.rows) == 30
    assert chart.axis_labels[1].x == round(40 + 4.5 * 512 / 30, 1)


def test_empty_zero_and_long_labels():
    empty = charts.column_chart([])
    assert empty.empty and empty.columns == empty.ticks == empty.axis_labels == empty.rows == ()
    zero = charts.column_chart([("a", 0), ("b", 0)])
    assert zero.top_value == 1.0 and [c.height for c in zero.columns] == [0.0, 0.0]
    assert [t.label for t in zero.ticks] == ["0", "1"]
    long = charts.column_chart([("Wednesday 1 April 2026", 3)])
    assert long.axis_labels[0].label == "Wednesday…" and long.columns[0].title == "Wednesday 1 April 2026: 3"


@pytest.mark.parametrize(("data", "kwargs", "message"), [
    ([("a", -1)], {}, "cannot be negative"),
    ([("a", float("nan"))], {}, "must be finite"),
    ([("a", "many")], {}, "must be a number"),
    ([("a", 1), ("b", 2)], {"axis_labels": ["a"]}, "1 axis labels for 2 columns"),
])
def test_bad_data_is_refused(data, kwargs, message):
    with pytest.raises(ValueError, match=message):
        charts.column_chart(data, **kwargs)
