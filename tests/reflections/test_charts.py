"""The trend chart's geometry: as wide as its card, text never scaled, a label for
every month where the card is wide enough (reflections/charts.py)."""

from dataclasses import dataclass
from datetime import date, timedelta

from reflections.charts import BREAKPOINTS, LABEL_SPACE, PAD_LEFT, PAD_RIGHT, trend_chart


@dataclass
class Point:
    when: date
    mine: float | None
    theirs: float | None


def _months(count: int) -> list[Point]:
    first = date(2025, 12, 1)
    return [
        Point(
            date(first.year + (first.month - 1 + i) // 12, (first.month - 1 + i) % 12 + 1, 1),
            3.5,
            3.0,
        )
        for i in range(count)
    ]


def _shown_at(chart, rem: float) -> list:
    return [t for t in chart.x_ticks if t.shown_from <= rem]


def test_every_month_of_a_year_is_labelled_on_a_wide_card():
    chart = trend_chart(_months(12), mine_label="Coachees", theirs_label="Coaches")

    labels = [(t.month, t.year) for t in chart.x_ticks]
    assert labels == [
        ("Dec", "2025"),
        ("Jan", "2026"),
        ("Feb", ""),
        ("Mar", ""),
        ("Apr", ""),
        ("May", ""),
        ("Jun", ""),
        ("Jul", ""),
        ("Aug", ""),
        ("Sep", ""),
        ("Oct", ""),
        ("Nov", ""),
    ]
    # A desktop card (about 70rem at 1280 px) shows them all; the old chart showed five.
    assert len(_shown_at(chart, 60)) == 12


def test_on_a_phone_the_labels_thin_out_but_never_touch():
    chart = trend_chart(_months(12), mine_label="Coachees", theirs_label="Coaches")
    phone_card = 19  # rem: a 390 px screen less the page's and the card's padding

    shown = _shown_at(chart, phone_card)
    plot = phone_card * 16 - PAD_LEFT - PAD_RIGHT
    xs = [float(t.x.rstrip("%")) / 100 * plot for t in shown]

    assert shown[0].month == "Dec" and len(shown) >= 4
    assert min(b - a for a, b in zip(xs, xs[1:], strict=False)) >= LABEL_SPACE


def test_a_label_per_month_not_per_round():
    start = date(2026, 1, 5)
    rounds = [Point(start + timedelta(weeks=2 * i), 3.0, 4.0) for i in range(13)]

    chart = trend_chart(rounds, mine_label="How I see us", theirs_label="How Sam sees us")

    assert [t.month for t in chart.x_ticks] == [
        "Jan",
        "Feb",
        "Mar",
        "Apr",
        "May",
        "Jun",
    ]
    assert all(t.shown_from in (0, *BREAKPOINTS) for t in chart.x_ticks)


def test_the_chart_is_placed_in_percent_so_it_fills_its_card():
    chart = trend_chart(_months(3), mine_label="a", theirs_label="b")

    mine = chart.series[0].markers
    assert [m.cx for m in mine] == ["0.0%", "50.0%", "100.0%"]
    assert chart.series[0].path == "M0.0,75.0 L500.0,75.0 L1000.0,75.0"  # 3.5 of 1..5, 200 px high


def test_no_rounds_yet_draws_an_empty_chart():
    chart = trend_chart([], mine_label="a", theirs_label="b")

    assert chart.x_ticks == [] and [s.markers for s in chart.series] == [[], []]


def test_one_round_sits_in_the_middle_with_its_month():
    chart = trend_chart(_months(1), mine_label="a", theirs_label="b")

    assert [(t.x, t.month, t.shown_from) for t in chart.x_ticks] == [("50%", "Dec", 0)]
