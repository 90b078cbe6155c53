"""Funnel charts laid out as SVG coordinates: one horizontal bar per step, its label above it, so
that the chart reads at a phone's width as well as a desk's (no chart library, as the
dashboard's chart)."""

from __future__ import annotations

from dataclasses import dataclass

WIDTH = 360
ROW = 36  # height of one step: its label line, then its bar
BAR = 14
LABEL = 13  # baseline of the label within the row


@dataclass
class Bar:
    label: str
    value: int
    part: int | None  # a share of the bar drawn darker (completed of entered), or None
    y: float = 0
    width: float = 0
    part_width: float = 0
    note: str = ""  # shown after the value: the share of the first bar


@dataclass
class BarChart:
    bars: list[Bar]
    width: int = WIDTH
    height: int = 0
    bar_height: int = BAR
    label_y: int = LABEL

    @property
    def total(self) -> int:
        return sum(bar.value for bar in self.bars)


def bar_chart(steps: list[tuple[str, int, int | None]]) -> BarChart:
    """Bars scaled to the largest value; each says what share of the first step it is."""
    peak = max((value for _, value, _ in steps), default=0) or 1
    first = steps[0][1] if steps else 0
    bars = []
    for index, (label, value, part) in enumerate(steps):
        bar = Bar(label, value, part, y=index * ROW)
        bar.width = round(value / peak * WIDTH, 1)
        bar.part_width = round((part or 0) / peak * WIDTH, 1)
        if index and first:
            bar.note = f"{value / first:.0%}"
        bars.append(bar)
    return BarChart(bars=bars, height=len(bars) * ROW)
