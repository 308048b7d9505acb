"""Geometry for the server-rendered trust trend chart (SVG, no JavaScript).

Two series, "how I see us" and "how they see us", told apart by line style and
marker shape as well as colour, so the chart reads without colour.

The chart is as wide as its card and its text is never scaled: a viewBox scaled the
whole drawing, so on a phone its labels shrank to 5 px and on a desktop it stopped at
two thirds of the card. Instead the SVG has a fixed height in pixels and its padding
(static/css/rapport.css) holds the axis labels; across, everything is placed in
percent of the plot's width. The lines are drawn in a nested SVG stretched to the plot
(their strokes do not scale). Each month gets a label; where the card is too narrow
for all of them, container queries hide every second (or fourth...) one, so the
labels that remain never touch."""

from dataclasses import dataclass, field
from datetime import date

from markupsafe import Markup, escape

PLOT_HEIGHT = 200  # px, between the "5" and the "1" grid lines
LINE_WIDTH = 1000  # the nested SVG's own units across, for the lines' path
# The chart's padding in rapport.css (.trend-svg), in px: the plot is the rest.
PAD_LEFT, PAD_RIGHT = 36, 24
LABEL_SPACE = 40  # px from one month label's centre to the next, at 0.8rem text
# Container widths (rem) at which more month labels appear (.tick-from-N in rapport.css).
BREAKPOINTS = (10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30, 33, 36, 40, 45, 50, 55, 60, 70, 80)
# Each stride divides the next, so at any width the labels shown are every n-th one.
STRIDES = (1, 2, 4, 8, 16, 32, 64)


@dataclass
class Marker:
    x: float  # percent of the plot's width
    y: float
    value: float
    label: str

    def __post_init__(self):
        self.cx, self.cy = f"{self.x}%", str(self.y)
        self.top = str(round(self.y - 5, 1))
        self.shown_value = str(self.value)


@dataclass
class Series:
    key: str
    label: str
    path: str  # in the nested SVG's units: LINE_WIDTH across, px down
    # Each marker's (x, value, day): the Marker objects are made only when asked for
    # (markers), since the page needs only the SVG built from them (issue 15).
    points: list[tuple[float, float, str]]
    # The markers as SVG (see _series), for trend_svg.html.
    markers_html: Markup = field(default_factory=Markup)

    @property
    def count(self) -> int:
        return len(self.points)

    @property
    def markers(self) -> list[Marker]:
        return [Marker(x, _y(value), value, day) for x, value, day in self.points]


@dataclass
class Tick:
    x: str  # percent of the plot's width, ready for the attribute
    month: str  # "Nov"
    year: str  # "2026" under the first label and under each January, else ""
    shown_from: int  # rem of container width from which it shows; 0 = always


@dataclass
class Chart:
    height: int
    series: list[Series]
    y_ticks: list[tuple[float, int]]
    x_ticks: list[Tick]
    line_width: int = LINE_WIDTH
    days: list[str] = field(default_factory=list)  # each point's day, "7 Dec 2026"

    @property
    def plot_bottom(self) -> int:
        return self.height

    @property
    def tick_y(self) -> int:
        return self.height + 20

    @property
    def has_lines(self) -> bool:
        return any(s.count > 1 for s in self.series)


def _y(value: float) -> float:
    return round((5 - value) / 4 * PLOT_HEIGHT, 1)


def _series(key: str, label: str, points, xs: list[float], days: list[str]) -> Series:
    """One series: its line's path and its markers as SVG, built in one pass over the
    points with no object per marker. trend_svg.html drew the markers one by one; a
    long history has two hundred of them and the template's escaping of every value
    was most of the chart's rendering time, then making a Marker each and formatting
    its numbers twice was most of what remained (issue 15). The label holds a name
    someone typed, so it is escaped (once); the rest is numbers and dates."""
    title = escape(label)
    opening = '<circle cx="' if key == "mine" else '<rect x="'
    kept: list[tuple[float, float, str]] = []
    steps: list[str] = []
    shapes: list[str] = []
    # Per value, its y and the text around the day in its marker: values repeat (1 to
    # 5, or a mean of six). Keyed by type too, so 3 and 3.0 each show as they are.
    texts: dict[tuple, tuple[float, str, str]] = {}
    for i, point in enumerate(points):
        value = getattr(point, key)
        if value is None:
            continue
        x, day = xs[i], days[i]
        kept.append((x, value, day))
        known = texts.get((value, value.__class__))
        if known is None:
            y = _y(value)
            if key == "mine":
                head = f'%" cy="{y}" r="5"><title>{title}, '
                tail = f": {value}</title></circle>"
            else:
                head = (
                    f'%" y="{round(y - 5, 1)}" width="10" height="10" transform="translate(-5 0)">'
                    f"<title>{title}, "
                )
                tail = f": {value}</title></rect>"
            known = texts[(value, value.__class__)] = (y, head, tail)
        y, head, tail = known
        steps.append(f"{'L' if steps else 'M'}{round(x * LINE_WIDTH / 100, 1)},{y}")
        shapes.append(f"{opening}{x}{head}{day}{tail}")
    return Series(key, label, " ".join(steps), kept, Markup("\n".join(shapes)))  # noqa: S704


def _shown_from(positions: list[float]) -> list[int]:
    """For each label (at a fraction of the plot's width), the narrowest container, in
    rem, at which it shows: all of them when they are LABEL_SPACE apart, else every
    second, fourth... label, the first always."""
    if not positions:
        return []
    needed = [0.0] + [float("inf")] * (len(positions) - 1)
    for stride in STRIDES:
        kept = positions[::stride]
        gaps = [b - a for a, b in zip(kept, kept[1:], strict=False)]
        if not gaps:
            continue
        # The plot's width at which the closest two kept labels are LABEL_SPACE apart.
        container_px = LABEL_SPACE / max(min(gaps), 1e-6) + PAD_LEFT + PAD_RIGHT
        for index in range(0, len(positions), stride):
            needed[index] = min(needed[index], container_px / 16)
    shown = []
    for rem in needed:
        if rem == 0:
            shown.append(0)
        else:
            shown.append(next((b for b in BREAKPOINTS if b >= rem), -1))
    return shown


def _month_ticks(whens: list[date], x) -> list[Tick]:
    """One label per month, at the first point in it."""
    firsts: list[tuple[int, date]] = []
    for i, when in enumerate(whens):
        if not firsts or (when.year, when.month) != (firsts[-1][1].year, firsts[-1][1].month):
            firsts.append((i, when))
    positions = [x(i) / 100 for i, _ in firsts]
    ticks = []
    for n, ((i, when), shown_from) in enumerate(zip(firsts, _shown_from(positions), strict=True)):
        if shown_from < 0:
            continue  # too many months for any card: the table has them all
        year = f"{when:%Y}" if n == 0 or when.month == 1 else ""
        ticks.append(Tick(f"{x(i)}%", f"{when:%b}", year, shown_from))
    return ticks


def trend_chart(points, *, mine_label: str, theirs_label: str) -> Chart:
    """`points` are TrendPoints in time order; a series skips rounds it has no value for."""
    count = len(points)

    def x(i: int) -> float:
        return round(50 if count == 1 else i * 100 / (count - 1), 2)

    xs = [x(i) for i in range(count)]  # once for both series and the month labels
    days = [f"{p.when:%-d %b %Y}" for p in points]
    return Chart(
        height=PLOT_HEIGHT,
        series=[
            _series("mine", mine_label, points, xs, days),
            _series("theirs", theirs_label, points, xs, days),
        ],
        y_ticks=[(_y(v), v) for v in range(1, 6)],
        x_ticks=_month_ticks([p.when for p in points], xs.__getitem__),
        days=days,
    )


def table_rows_html(points, days: list[str]) -> Markup:
    """The rows of the chart's table (trend_chart.html), one per point: built here for
    the same reason as the markers. Only numbers and the days formatted above; no text
    anyone typed."""
    return Markup(  # noqa: S704 (numbers and dates only)
        "\n".join(
            f'<tr><th scope="row">{day}</th><td>{"—" if p.mine is None else p.mine}</td>'
            f"<td>{'not shared' if p.theirs is None else p.theirs}</td></tr>"
            for p, day in zip(points, days, strict=True)
        )
    )
