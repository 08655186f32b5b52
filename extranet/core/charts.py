"""Horizontal bar charts drawn on the server as inline SVG (no script, no style attribute).

Each bar carries its label above it and its value as text at its end, so nothing is told by colour alone; the
same figures are in a table behind the chart, to unfold (templates/includes/bar_chart.html).
"""

from dataclasses import dataclass, field

from django.utils.text import Truncator

WIDTH = 640
BAR_SPACE = 500  # the longest bar; the rest of the width holds its value
ROW_HEIGHT = 46
BAR_HEIGHT = 18
LABEL_CHARS = 80
# Contrast on white: bars 8.1:1 (non-text contrast needs 3:1), text 16:1.
BAR_COLOUR = "#0b4f9c"
TEXT_COLOUR = "#1e1e1e"
AXIS_COLOUR = "#3d4451"


@dataclass(frozen=True)
class Bar:
    label: str
    value: float
    text: str  # the value as the table shows it
    share: str = ""  # optional second column of the table ("25 %")
    url: str = ""  # optional: the list of the requests the value counts
    index: int = 0
    width: float = 0

    @property
    def short_label(self):
        return Truncator(self.label).chars(LABEL_CHARS)

    @property
    def label_y(self):
        return self.index * ROW_HEIGHT + 16

    @property
    def bar_y(self):
        return self.index * ROW_HEIGHT + 22

    @property
    def text_x(self):
        return round(self.width + 6, 1)

    @property
    def text_y(self):
        return self.bar_y + BAR_HEIGHT - 4


@dataclass(frozen=True)
class BarChart:
    id: str
    title: str
    label_header: str
    value_header: str
    bars: list
    share_header: str = ""
    note: str = ""
    empty_text: str = "Aucune donnée sur la période."
    colours: dict = field(default_factory=lambda: {"bar": BAR_COLOUR, "text": TEXT_COLOUR, "axis": AXIS_COLOUR})

    @property
    def width(self):
        return WIDTH

    @property
    def height(self):
        return max(len(self.bars), 1) * ROW_HEIGHT + 6

    @property
    def bar_height(self):
        return BAR_HEIGHT

    @property
    def is_empty(self):
        return not any(bar.value for bar in self.bars)


def bar_chart(chart_id, title, rows, *, label_header, value_header, share_header="", note="", urls=None):
    """rows: (label, value, text[, share]); value is what the bar length shows, text what is written. `urls`: for
    each row, the list its value counts (the table links it)."""
    largest = max((row[1] or 0 for row in rows), default=0)
    bars = []
    for index, (label, value, text, *share) in enumerate(rows):
        width = 0 if not value or not largest else max(BAR_SPACE * value / largest, 2)
        url = urls[index] if urls else ""
        bars.append(Bar(label, value or 0, text, share[0] if share else "", url, index, round(width, 1)))
    return BarChart(chart_id, title, label_header, value_header, bars, share_header, note)


def percent(part, whole):
    return f"{round(100 * part / whole)}\u00a0%" if whole else "—"
