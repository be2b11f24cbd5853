"""Bar charts drawn on the server as SVG geometry: no JavaScript library to serve or trust,
readable without scripts, printable, and testable here. The template
``portal/includes/bar_chart.html`` draws the geometry and a data table for screen readers."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

WIDTH = 720
HEIGHT = 240
MARGIN_LEFT = 48  # room for the value axis labels
MARGIN_BOTTOM = 28  # room for the period labels
MARGIN_TOP = 8
GAP_RATIO = 0.2  # of each bar's slot
MAX_AXIS_LABELS = 12


@dataclass(frozen=True)
class Bar:
    label: str
    value: float
    x: float
    y: float
    width: float
    height: float
    show_label: bool

    @property
    def label_x(self) -> float:
        # Labels end under their bar's right edge, so the last one never runs off the chart.
        return round(self.x + self.width, 2)


@dataclass(frozen=True)
class Tick:
    value: float
    y: float


@dataclass(frozen=True)
class BarChart:
    bars: list[Bar]
    ticks: list[Tick]
    width: int = WIDTH
    height: int = HEIGHT
    left: int = MARGIN_LEFT
    baseline: int = HEIGHT - MARGIN_BOTTOM

    @property
    def is_empty(self) -> bool:
        return not any(bar.value for bar in self.bars)


def nice_ceiling(value: float) -> float:
    """The axis's top: the smallest 1, 2 or 5 times a power of ten at or above ``value``."""
    if value <= 0:
        return 1
    magnitude = 10 ** math.floor(math.log10(value))
    return next(step * magnitude for step in (1, 2, 5, 10) if step * magnitude >= value)


def bar_chart(points: Sequence[tuple[str, float]], *, ticks: int = 4) -> BarChart:
    """Bars for ``(label, value)`` pairs, left to right; the value axis starts at zero."""
    top = nice_ceiling(max((value for _, value in points), default=0))
    plot_width = WIDTH - MARGIN_LEFT
    plot_height = HEIGHT - MARGIN_TOP - MARGIN_BOTTOM
    baseline = HEIGHT - MARGIN_BOTTOM
    slot = plot_width / max(len(points), 1)
    # Label every n-th bar so that the labels never overlap.
    every = max(1, math.ceil(len(points) / MAX_AXIS_LABELS))
    bars = []
    for index, (label, value) in enumerate(points):
        height = plot_height * value / top
        bars.append(
            Bar(
                label=label,
                value=value,
                x=round(MARGIN_LEFT + index * slot + slot * GAP_RATIO / 2, 2),
                y=round(baseline - height, 2),
                width=round(slot * (1 - GAP_RATIO), 2),
                height=round(height, 2),
                show_label=(len(points) - 1 - index) % every == 0,
            )
        )
    return BarChart(
        bars=bars,
        ticks=[
            Tick(value=top * step / ticks, y=round(baseline - plot_height * step / ticks, 2))
            for step in range(ticks + 1)
        ],
    )
