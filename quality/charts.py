"""Server-side charts for the quality pages and PDF reports: geometry only, drawn by a template as SVG.

Readable without JavaScript, and in a PDF: the template draws each chart (``<svg role="img">`` with a ``<title>``,
as ``templates/finance/plan.html`` does) and the data table beside it from ``rows``. Nothing here builds markup;
every number is a coordinate in the chart's own ``viewBox`` (user units, rounded to 0.1).

* ``bar_chart([(label, value), …])`` — horizontal bars, one per label, or one per label and series when each value
  is a sequence (``series=`` names them): bars, labels, value labels and scale ticks (a 1-2-5 "nice" scale).
* ``funnel([(stage, count), …])`` — centred bars shrinking stage by stage, each with its conversion rate from the
  stage before.
* ``column_chart([(label, value), …])`` — vertical columns side by side (a series over time, e.g. visits per day),
  with a value scale and every k-th column labelled under the plot.

Empty data gives an empty chart (``empty`` True: the template says there is nothing yet); all-zero data gives a
scale from 0 to 1 and bars of width 0; a negative or non-finite value is refused with ``ValueError``. Labels longer
than ``max_label`` characters are cut with "…" on the chart, and kept whole in ``full_label`` (the bar's
``<title>`` and the table).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from django.utils.formats import number_format

Number = int | float

#: Bar colours per series (Okabe–Ito: told apart with every common colour-vision deficiency), as SVG ``fill``.
PALETTE = ("#0072b2", "#e69f00", "#009e73", "#cc79a7", "#56b4e9", "#d55e00", "#f0e442", "#000000")
ELLIPSIS = "…"


def _round(value: float) -> float:
    return round(value + 0.0, 1)


def number(value: Number) -> str:
    """A value as the charts write it in the active language: whole numbers with thousands separators, others with
    up to two decimals ("12,000" and "4.17" in English, "12.000" and "4,17" in German). Coordinates are never
    formatted this way."""
    if float(value).is_integer():
        return number_format(int(value), force_grouping=True)
    text = f"{float(value):.2f}".rstrip("0").rstrip(".")
    return number_format(Decimal(text), decimal_pos=len(text.partition(".")[2]), force_grouping=True)


def percent(rate: float | None) -> str:
    """A rate (0.714…) as the pages write percentages, one decimal in the active language: "71.4 %" ("71,4 %")."""
    if rate is None:
        return ""
    return number_format(Decimal(str(rate * 100)).quantize(Decimal("0.1"), ROUND_HALF_UP), decimal_pos=1) + " %"


def truncate(label: str, max_label: int) -> str:
    label = " ".join(str(label).split())
    if len(label) <= max_label:
        return label
    return label[: max(max_label - 1, 0)].rstrip() + ELLIPSIS


def _check(value) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        try:
            value = float(value)  # Decimal and the like
        except (TypeError, ValueError) as exc:
            raise ValueError(f"A chart value must be a number, not {value!r}.") from exc
    if not math.isfinite(value):
        raise ValueError(f"A chart value must be finite, not {value!r}.")
    if value < 0:
        raise ValueError(f"A chart value cannot be negative ({value!r}): bars start at 0.")
    return value


def nice_scale(maximum: float, *, ticks: int = 5, integer: bool = False) -> tuple[float, float]:
    """The top of the scale and the step between ticks for values from 0 to ``maximum``: a step of 1, 2 or 5 times
    a power of ten giving at most ``ticks`` intervals, whole when ``integer``; (1, 1) when ``maximum`` is 0."""
    if maximum <= 0:
        return 1.0, 1.0
    raw = maximum / ticks
    magnitude = 10 ** math.floor(math.log10(raw))
    step = next(m * magnitude for m in (1, 2, 5, 10) if m * magnitude >= raw * (1 - 1e-9))
    if integer:
        step = max(1.0, float(math.ceil(step)))
    top = math.ceil(maximum / step - 1e-9) * step
    return float(round(top, 10)), float(round(step, 10))


@dataclass(frozen=True)
class Tick:
    x: float
    value: float
    label: str


@dataclass(frozen=True)
class Bar:
    label: str  # as drawn (cut to ``max_label``)
    full_label: str
    series: str  # "" for a single series
    value: Number
    value_label: str
    title: str  # for the bar's <title>: full label, series and value
    colour: str
    x: float
    y: float
    width: float
    height: float
    label_x: float  # text-anchor end
    label_y: float  # baseline of the label, in the middle of its group
    value_x: float  # text-anchor start
    value_y: float  # baseline of the value label, in the middle of the bar
    first_of_group: bool  # the label is drawn once per group, by its first bar


@dataclass(frozen=True)
class Legend:
    series: str
    colour: str


@dataclass(frozen=True)
class BarChart:
    width: int
    height: int
    font_size: int
    plot_left: float
    plot_right: float
    plot_top: float
    plot_bottom: float
    tick_label_y: float
    top_value: float
    bars: tuple[Bar, ...]
    ticks: tuple[Tick, ...]
    legend: tuple[Legend, ...]
    #: The data table: a header (label column, then one per series) and one row per label, values formatted.
    header: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]

    @property
    def empty(self) -> bool:
        return not self.bars

    @property
    def view_box(self) -> str:
        return f"0 0 {self.width} {self.height}"


def bar_chart(
    data: Sequence[tuple[str, Number | Sequence[Number]]],
    *,
    series: Sequence[str] = (),
    label_heading: str = "",
    value_heading: str = "",
    width: int = 560,
    label_width: int = 160,
    value_width: int = 56,
    bar_height: int = 18,
    bar_gap: int = 4,
    group_gap: int = 10,
    top: int = 8,
    axis_height: int = 24,
    font_size: int = 11,
    max_label: int = 24,
    ticks: int = 5,
    format_value: Callable[[Number], str] = number,
) -> BarChart:
    """Horizontal bars for ``data``: ``[(label, value), …]``, or ``[(label, (value per series…)), …]`` with
    ``series`` naming each position. Bars start at ``label_width``; the scale's top reaches ``width -
    value_width``, leaving room for the value labels; the tick labels sit ``axis_height`` below the last bar.
    ``label_heading`` and ``value_heading`` (or the series names) head the data table's columns."""
    names = tuple(str(s) for s in series)
    groups: list[tuple[str, tuple[float, ...], tuple[Number, ...]]] = []
    for label, values in data:
        if names:
            if isinstance(values, str | bytes) or not isinstance(values, Sequence):
                raise ValueError(f"{label!r}: with series, each value is a sequence of {len(names)} numbers.")
            if len(values) != len(names):
                raise ValueError(f"{label!r}: {len(values)} values for {len(names)} series.")
            raw = tuple(values)
        else:
            raw = (values,)
        groups.append((str(label), tuple(_check(v) for v in raw), raw))
    per_group = max(len(names), 1)
    group_height = per_group * bar_height + (per_group - 1) * bar_gap
    plot_left, plot_right = float(label_width), float(width - value_width)
    plot_width = plot_right - plot_left
    plot_bottom = top + len(groups) * group_height + max(len(groups) - 1, 0) * group_gap
    integer = all(isinstance(v, int) or float(v).is_integer() for _l, _c, raw in groups for v in raw)
    maximum = max((v for _l, checked, _r in groups for v in checked), default=0.0)
    top_value, step = nice_scale(maximum, ticks=ticks, integer=integer)
    baseline = round(font_size * 0.35, 1)

    bars = []
    for index, (label, checked, raw) in enumerate(groups):
        group_y = top + index * (group_height + group_gap)
        for position, (value, shown) in enumerate(zip(checked, raw, strict=True)):
            name = names[position] if names else ""
            y = group_y + position * (bar_height + bar_gap)
            bar_width = plot_width * value / top_value
            value_label = format_value(shown)
            bars.append(Bar(
                label=truncate(label, max_label), full_label=label, series=name, value=shown,
                value_label=value_label,
                title=f"{label} ({name}): {value_label}" if name else f"{label}: {value_label}",
                colour=PALETTE[position % len(PALETTE)],
                x=_round(plot_left), y=_round(y), width=_round(bar_width), height=float(bar_height),
                label_x=_round(plot_left - 8), label_y=_round(group_y + group_height / 2 + baseline),
                value_x=_round(plot_left + bar_width + 4), value_y=_round(y + bar_height / 2 + baseline),
                first_of_group=position == 0,
            ))
    tick_list = []
    if groups:
        count = round(top_value / step)
        for i in range(count + 1):
            value = round(step * i, 10)
            tick_list.append(Tick(x=_round(plot_left + plot_width * value / top_value), value=value,
                                  label=format_value(int(value) if float(value).is_integer() else value)))
    return BarChart(
        width=width, height=int(plot_bottom + axis_height) if groups else top + axis_height, font_size=font_size,
        plot_left=plot_left, plot_right=plot_right, plot_top=float(top), plot_bottom=float(plot_bottom),
        tick_label_y=_round(plot_bottom + axis_height - (axis_height - font_size) / 2),
        top_value=top_value, bars=tuple(bars), ticks=tuple(tick_list),
        legend=tuple(Legend(name, PALETTE[i % len(PALETTE)]) for i, name in enumerate(names)),
        header=(label_heading, *names) if names else (label_heading, value_heading),
        rows=tuple((label, *(format_value(v) for v in raw)) for label, _c, raw in groups),
    )


# --- Funnel ----------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class FunnelStage:
    label: str
    full_label: str
    count: Number
    value_label: str
    #: The count over the previous stage's (None for the first stage, or when the previous stage is 0).
    rate: float | None
    rate_label: str  # "75%", or "" when there is no rate
    title: str
    x: float
    y: float
    width: float
    height: float
    label_x: float  # text-anchor end
    text_y: float
    value_x: float  # text-anchor start, right of the widest bar


@dataclass(frozen=True)
class FunnelChart:
    width: int
    height: int
    font_size: int
    colour: str
    stages: tuple[FunnelStage, ...]
    header: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]

    @property
    def empty(self) -> bool:
        return not self.stages

    @property
    def view_box(self) -> str:
        return f"0 0 {self.width} {self.height}"


def funnel(
    stages: Sequence[tuple[str, Number]],
    *,
    headings: tuple[str, str, str] = ("", "", ""),
    width: int = 560,
    label_width: int = 160,
    value_width: int = 96,
    bar_height: int = 24,
    gap: int = 8,
    top: int = 8,
    bottom: int = 8,
    font_size: int = 11,
    max_label: int = 24,
    colour: str = PALETTE[0],
    format_value: Callable[[Number], str] = number,
) -> FunnelChart:
    """One centred bar per stage, its width in proportion to the largest count, with the count and the conversion
    rate from the previous stage (``headings``: the table's label, count and rate column headings)."""
    checked = [(str(label), _check(count), count) for label, count in stages]
    plot_left, plot_right = float(label_width), float(width - value_width)
    plot_width = plot_right - plot_left
    centre = plot_left + plot_width / 2
    largest = max((c for _l, c, _r in checked), default=0.0)
    baseline = round(font_size * 0.35, 1)
    result, previous = [], None
    for index, (label, value, shown) in enumerate(checked):
        y = top + index * (bar_height + gap)
        bar_width = plot_width * value / largest if largest else 0.0
        rate = None if previous is None or not previous else value / previous
        value_label = format_value(shown)
        rate_label = percent(rate)
        result.append(FunnelStage(
            label=truncate(label, max_label), full_label=label, count=shown, value_label=value_label,
            rate=rate, rate_label=rate_label,
            title=f"{label}: {value_label}" + (f" ({rate_label})" if rate_label else ""),
            x=_round(centre - bar_width / 2), y=_round(y), width=_round(bar_width), height=float(bar_height),
            label_x=_round(plot_left - 8), text_y=_round(y + bar_height / 2 + baseline),
            value_x=_round(plot_right + 8),
        ))
        previous = value
    height = top + len(result) * bar_height + max(len(result) - 1, 0) * gap + bottom
    return FunnelChart(
        width=width, height=int(height), font_size=font_size, colour=colour, stages=tuple(result),
        header=headings, rows=tuple((s.full_label, s.value_label, s.rate_label) for s in result),
    )


# --- Columns (a series over time) --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Column:
    label: str  # the full label (the column's <title> and the table)
    value: Number
    value_label: str
    title: str
    x: float
    y: float
    width: float
    height: float


@dataclass(frozen=True)
class AxisLabel:
    label: str
    x: float  # text-anchor middle, under the centre of its column


@dataclass(frozen=True)
class ColumnTick:
    value: float
    label: str
    y: float  # the grid line
    label_y: float  # the baseline of its label (text-anchor end at ``tick_label_x``)


@dataclass(frozen=True)
class ColumnChart:
    width: int
    height: int
    font_size: int
    colour: str
    plot_left: float
    plot_right: float
    plot_top: float
    plot_bottom: float
    axis_label_y: float
    tick_label_x: float
    top_value: float
    columns: tuple[Column, ...]
    ticks: tuple[ColumnTick, ...]
    axis_labels: tuple[AxisLabel, ...]
    header: tuple[str, str]
    rows: tuple[tuple[str, str], ...]

    @property
    def empty(self) -> bool:
        return not self.columns

    @property
    def view_box(self) -> str:
        return f"0 0 {self.width} {self.height}"


def column_chart(
    data: Sequence[tuple[str, Number]],
    *,
    axis_labels: Sequence[str] = (),
    label_heading: str = "",
    value_heading: str = "",
    width: int = 560,
    height: int = 200,
    left: int = 40,
    right: int = 8,
    top: int = 8,
    axis_height: int = 24,
    gap: float = 0.2,
    font_size: int = 11,
    max_axis_labels: int = 8,
    max_label: int = 10,
    ticks: int = 4,
    colour: str = PALETTE[0],
    format_value: Callable[[Number], str] = number,
) -> ColumnChart:
    """Vertical columns for ``data`` (``[(label, value), …]``, e.g. visits per day), side by side in their
    order: each column takes an equal slot of the plot's width, ``gap`` (a fraction of the slot) left empty between
    columns; heights on a 1-2-5 scale from ``plot_bottom`` up to ``top``. Under the plot, every k-th column is
    labelled with its ``axis_labels`` entry (default: its label, cut to ``max_label``), k chosen so that at most
    ``max_axis_labels`` labels are drawn (the first column always is)."""
    items = [(str(label), _check(value), value) for label, value in data]
    if axis_labels and len(axis_labels) != len(items):
        raise ValueError(f"{len(axis_labels)} axis labels for {len(items)} columns.")
    plot_left, plot_right = float(left), float(width - right)
    plot_top, plot_bottom = float(top), float(height - axis_height)
    plot_width, plot_height = plot_right - plot_left, plot_bottom - plot_top
    integer = all(isinstance(raw, int) or float(raw).is_integer() for _l, _v, raw in items)
    top_value, step = nice_scale(max((v for _l, v, _r in items), default=0.0), ticks=ticks, integer=integer)
    slot = plot_width / len(items) if items else 0.0
    baseline = round(font_size * 0.35, 1)
    columns, labels = [], []
    every = math.ceil(len(items) / max_axis_labels) if items else 1
    for index, (label, value, raw) in enumerate(items):
        column_height = plot_height * value / top_value
        x = plot_left + index * slot + slot * gap / 2
        value_label = format_value(raw)
        columns.append(Column(label=label, value=raw, value_label=value_label, title=f"{label}: {value_label}",
                              x=_round(x), y=_round(plot_bottom - column_height), width=_round(slot * (1 - gap)),
                              height=_round(column_height)))
        if index % every == 0:
            text = axis_labels[index] if axis_labels else label
            labels.append(AxisLabel(label=truncate(text, max_label), x=_round(plot_left + (index + 0.5) * slot)))
    tick_list = []
    if items:
        for i in range(round(top_value / step) + 1):
            value = round(step * i, 10)
            y = _round(plot_bottom - plot_height * value / top_value)
            tick_list.append(ColumnTick(value=value, y=y, label_y=_round(y + baseline),
                                        label=format_value(int(value) if float(value).is_integer() else value)))
    return ColumnChart(
        width=width, height=height, font_size=font_size, colour=colour, plot_left=plot_left, plot_right=plot_right,
        plot_top=plot_top, plot_bottom=plot_bottom,
        axis_label_y=_round(plot_bottom + axis_height - (axis_height - font_size) / 2),
        tick_label_x=_round(plot_left - 4), top_value=top_value,
        columns=tuple(columns), ticks=tuple(tick_list), axis_labels=tuple(labels),
        header=(label_heading, value_heading), rows=tuple((c.label, c.value_label) for c in columns),
    )
