"""Simple bar charts drawn on the server as SVG geometry (no chart library, no script).

A chart is a list of bars with their coordinates in a fixed viewBox; the template draws
them, so labels stay escaped text and the picture scales to any screen width.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import date, timedelta

from pantau.core.calendar import MONTHS

WIDTH = 320
ROW = 30  # a label line above each bar: long Indonesian labels stay whole on a phone
COLUMN_HEIGHT = 110


@dataclass(frozen=True)
class Bar:
    label: str
    value: int
    x: float
    y: float
    width: float
    height: float


@dataclass
class Chart:
    title: str
    bars: list[Bar] = field(default_factory=list)
    width: int = WIDTH
    height: int = 0
    kind: str = "rows"  # rows: one labelled bar per line; columns: bars side by side

    @property
    def empty(self) -> bool:
        return not any(bar.value for bar in self.bars)

    @property
    def description(self) -> str:
        """The chart in words, for screen readers and as the SVG's title."""
        return "; ".join(f"{bar.label}: {bar.value}" for bar in self.bars)


def row_chart(title: str, counts: Counter[str], limit: int = 12) -> Chart:
    """Horizontal bars, largest first: categories, kinds of accused, kabupaten/kota."""
    items = counts.most_common(limit)
    top = max((value for _, value in items), default=0) or 1
    span = WIDTH - 34
    bars = [
        Bar(
            label=label,
            value=value,
            x=0,
            y=n * ROW + 14,
            width=max(1.0, span * value / top),
            height=11,
        )
        for n, (label, value) in enumerate(items)
    ]
    return Chart(title=title, bars=bars, height=max(ROW, len(bars) * ROW))


def week_start(day: date) -> date:
    return day - timedelta(days=day.weekday())


def week_chart(title: str, days: list[date], today: date, weeks: int = 12) -> Chart:
    """Columns per week (Monday to Sunday), the last `weeks` weeks up to today's."""
    last = week_start(today)
    starts = [last - timedelta(weeks=n) for n in range(weeks - 1, -1, -1)]
    counts = Counter(week_start(day) for day in days)
    top = max((counts[start] for start in starts), default=0) or 1
    slot = WIDTH / weeks
    bars = []
    for n, start in enumerate(starts):
        value = counts[start]
        height = (COLUMN_HEIGHT - 30) * value / top
        bars.append(
            Bar(
                label=f"{start.day} {MONTHS[start.month - 1][:3]}",
                value=value,
                x=n * slot + 3,
                y=COLUMN_HEIGHT - 18 - height,
                width=slot - 6,
                height=height,
            )
        )
    return Chart(title=title, bars=bars, height=COLUMN_HEIGHT, kind="columns")
