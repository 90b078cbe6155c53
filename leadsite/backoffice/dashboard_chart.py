"""The dashboard's registrations chart: daily counts per funnel, laid out as SVG coordinates."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import date, timedelta

WIDTH, HEIGHT = 720, 240
# Room for the axis labels at the size a phone shows them (app.css, `.chart-label`).
LEFT, RIGHT, TOP, BOTTOM = 52, 12, 14, 36
MAX_SERIES = 6  # more funnels than this are summed up as "Other funnels"
COLORS = ("#2457d6", "#1e7b4a", "#c2410c", "#7c3aed", "#0e7490", "#b42318", "#5d6877")


@dataclass
class Series:
    name: str
    counts: list[int]
    color: str = ""
    points: str = ""

    @property
    def total(self) -> int:
        return sum(self.counts)


@dataclass
class Chart:
    days: list[date]
    series: list[Series]
    y_max: int = 1
    y_ticks: list[tuple[float, int]] = field(default_factory=list)
    x_ticks: list[tuple[float, str, str]] = field(default_factory=list)
    width: int = WIDTH
    height: int = HEIGHT
    left: int = LEFT
    right: int = WIDTH - RIGHT
    top: int = TOP
    bottom: int = HEIGHT - BOTTOM

    @property
    def total(self) -> int:
        return sum(s.total for s in self.series)


def nice_step(value: float) -> int:
    """The smallest of 1, 2, 5, 10, 20, 50, ... that is at least `value`."""
    value = max(value, 1)
    magnitude = 10 ** math.floor(math.log10(value))
    return next(step * magnitude for step in (1, 2, 5, 10) if step * magnitude >= value)


def last_days(today: date, count: int = 30) -> list[date]:
    return [today - timedelta(days=count - 1 - index) for index in range(count)]


def build_chart(days: list[date], per_funnel: dict[str, dict[date, int]]) -> Chart:
    """Lines of registrations per day, one per funnel (the busiest first), scaled to fit."""
    series = [
        Series(name, [counts.get(day, 0) for day in days]) for name, counts in per_funnel.items()
    ]
    series.sort(key=lambda s: (-s.total, s.name))
    if len(series) > MAX_SERIES:
        rest = series[MAX_SERIES - 1 :]
        summed = [sum(values) for values in zip(*(s.counts for s in rest), strict=True)]
        other = Series("Other funnels", summed)
        series = [*series[: MAX_SERIES - 1], other]
    chart = Chart(days=days, series=series)
    peak = max((max(s.counts) for s in series), default=0)
    tick = nice_step(peak / 4)
    chart.y_max = 4 * tick
    span_x = chart.right - chart.left
    span_y = chart.bottom - chart.top
    step = span_x / max(len(days) - 1, 1)

    def y(value: float) -> float:
        return round(chart.bottom - value / chart.y_max * span_y, 1)

    for index, item in enumerate(series):
        item.color = COLORS[index % len(COLORS)]
        item.points = " ".join(
            f"{round(chart.left + i * step, 1)},{y(count)}" for i, count in enumerate(item.counts)
        )
    chart.y_ticks = [(y(tick * part), tick * part) for part in range(5)]
    last = len(days) - 1
    chart.x_ticks = [
        (
            round(chart.left + i * step, 1),
            f"{day:%b} {day.day}",
            "end" if i == last else "start" if i == 0 else "middle",
        )
        for i, day in enumerate(days)
        if (last - i) % 7 == 0
    ]
    return chart
