"""Geometry for the server-rendered trust trend chart (SVG, no JavaScript).

Two series, "how I see us" and "how they see us", told apart by line style and
marker shape as well as colour, so the chart reads without colour."""

from dataclasses import dataclass

WIDTH, HEIGHT = 640, 260
LEFT, RIGHT, TOP, BOTTOM = 44, 16, 16, 40


@dataclass
class Marker:
    x: float
    y: float
    value: float
    label: str

    def __post_init__(self):
        # Ready-made text for the SVG attributes: a long history has hundreds of markers,
        # and the template's number localisation was most of the page's time.
        self.cx, self.cy = str(self.x), str(self.y)
        self.left, self.top = str(round(self.x - 5, 1)), str(round(self.y - 5, 1))
        self.shown_value = str(self.value)


@dataclass
class Series:
    key: str
    label: str
    path: str
    markers: list[Marker]


@dataclass
class Chart:
    width: int
    height: int
    series: list[Series]
    y_ticks: list[tuple[float, int]]
    x_ticks: list[tuple[float, str, str]]  # x, label, text-anchor
    plot_left: int
    plot_right: int
    plot_top: int
    plot_bottom: int

    @property
    def tick_x(self) -> int:
        return self.plot_left - 10

    @property
    def tick_y(self) -> int:
        return self.plot_bottom + 24

    @property
    def has_lines(self) -> bool:
        return any(len(s.markers) > 1 for s in self.series)


def _y(value: float) -> float:
    return round(TOP + (5 - value) / 4 * (HEIGHT - TOP - BOTTOM), 1)


def _path(markers: list[Marker]) -> str:
    return " ".join(f"{'M' if i == 0 else 'L'}{m.x},{m.y}" for i, m in enumerate(markers))


def _anchor(index: int, count: int) -> str:
    """Edge labels grow inwards so they are never cut off."""
    if count > 1 and index == 0:
        return "start"
    if count > 1 and index == count - 1:
        return "end"
    return "middle"


def trend_chart(points, *, mine_label: str, theirs_label: str) -> Chart:
    """`points` are TrendPoints in time order; a series skips rounds it has no value for."""
    count = len(points)
    span = WIDTH - LEFT - RIGHT

    def x(i: int) -> float:
        return round(LEFT + (span / 2 if count == 1 else i * span / (count - 1)), 1)

    series = []
    for key, label in (("mine", mine_label), ("theirs", theirs_label)):
        markers = [
            Marker(x(i), _y(getattr(p, key)), getattr(p, key), f"{p.when:%-d %b %Y}")
            for i, p in enumerate(points)
            if getattr(p, key) is not None
        ]
        series.append(Series(key, label, _path(markers), markers))
    # At most five date labels, first and last included, one per month.
    wanted = sorted({round(i * (count - 1) / 4) for i in range(5)}) if count > 5 else range(count)
    x_ticks, seen = [], set()
    for i in wanted:
        label = f"{points[i].when:%b %Y}"
        if label not in seen:
            seen.add(label)
            x_ticks.append((x(i), label, _anchor(i, count)))
    return Chart(
        width=WIDTH,
        height=HEIGHT,
        series=series,
        y_ticks=[(_y(v), v) for v in range(1, 6)],
        x_ticks=x_ticks,
        plot_left=LEFT,
        plot_right=WIDTH - RIGHT,
        plot_top=TOP,
        plot_bottom=HEIGHT - BOTTOM,
    )
