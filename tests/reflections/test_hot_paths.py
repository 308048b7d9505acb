"""The trend and journal pages' fast paths (issue 15) show what the slower code they
replaced showed: participation counted from the trend's own rows, the journal's
long_text filter, and the chart's markers and table rows built in Python."""

import re
from datetime import timedelta

import pytest
from django.template.loader import render_to_string
from django.utils import timezone

from reflections import selectors
from reflections.charts import table_rows_html, trend_chart
from reflections.selectors import TrendPoint, _Answer
from reflections.templatetags.hot_partials import long_text
from tests.reflections.test_trend_reveal import _history

pytestmark = pytest.mark.django_db


def _squeezed(html: str) -> str:
    return re.sub(r">\s+<", "><", html).strip()


@pytest.mark.parametrize("latest", ["open", "overdue"])
@pytest.mark.parametrize("who", ["coach", "coachee"])
def test_the_trend_counts_participation_as_participation_does(relationship, latest, who):
    _history(relationship, latest)
    now = timezone.now()

    _, so_far = selectors.trend_history(relationship, getattr(relationship, who), "overall", now)

    assert so_far == selectors.participation(relationship, now)
    assert so_far.rounds == 6  # the unanswered round too


def test_a_relationship_without_rounds_has_no_participation(relationship):
    points, so_far = selectors.trend_history(
        relationship, relationship.coach, "overall", timezone.now()
    )

    assert points == [] and so_far == selectors.participation(relationship, timezone.now())


def test_a_response_row_reads_every_field_by_its_name():
    answer = _Answer(range(len(_Answer.FIELDS)))

    assert [getattr(answer, name) for name in _Answer.FIELDS] == list(range(len(_Answer.FIELDS)))


@pytest.mark.parametrize(
    "body",
    ["", "One line", "Two\n\nparagraphs <b>bold</b> & <script>x</script>", "<i>long</i> " * 200],
)
def test_long_text_renders_what_the_include_renders(body):
    include = render_to_string("includes/long_text.html", {"text": body})

    assert _squeezed(long_text(body)) == _squeezed(include)
    assert "<script>" not in long_text(body) and "<i>" not in long_text(body)


def test_the_chart_escapes_the_name_in_its_markers_and_shows_every_value():
    day = timezone.localdate()
    points = [
        TrendPoint(day - timedelta(days=7), 3.5, None),
        TrendPoint(day, None, 4.0),
    ]
    chart = trend_chart(points, mine_label="How I see us", theirs_label="How <b>Sam</b> sees us")

    mine, theirs = (str(s.markers_html) for s in chart.series)
    assert mine.count("<circle") == 1 and theirs.count("<rect") == 1
    assert "How &lt;b&gt;Sam&lt;/b&gt; sees us" in theirs and "<b>" not in theirs
    assert f"{chart.days[1]}: 4.0</title>" in theirs
    rows = str(table_rows_html(points, chart.days))
    assert rows.count("<tr>") == 2
    assert "<td>3.5</td><td>not shared</td>" in rows and "<td>—</td><td>4.0</td>" in rows
