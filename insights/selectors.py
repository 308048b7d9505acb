"""HR's dashboard: published months only, exactly as they were stored when each month
closed (insights.services). Nothing is computed here but layout, so a team move, a
leaver or a new threshold cannot change what a month shows."""

from dataclasses import dataclass, field
from datetime import date, timedelta
from functools import lru_cache

from django.utils import timezone
from django.utils.dates import MONTHS
from django.utils.html import format_html
from django.utils.safestring import SafeString, mark_safe

from accounts.models import Organisation
from config.prepared import Dates, PreparedRead, Row
from insights.models import Perspective, PublishedCell, PublishedMonth
from insights.services import (
    ACTIVE_RELATIONSHIPS,
    OTHER_TEAMS,
    OVERALL,
    PARTICIPATION,
    PERSPECTIVES,
    SESSIONS_HELD,
    WHOLE_ORGANISATION,
)
from reflections.charts import trend_chart
from reflections.dimensions import DIMENSIONS

__all__ = ["OTHER_TEAMS", "PERSPECTIVES", "closed_months", "dashboard", "export_rows"]


MONTHS_SHOWN = 12


def closed_months(today: date, count: int = MONTHS_SHOWN) -> list[date]:
    """The `count` calendar months before the current one, oldest first. The current
    month is published when it ends, so one new answer can't be seen as a change."""
    months, month = [], today.replace(day=1)
    for _ in range(count):
        month = (month - timedelta(days=1)).replace(day=1)
        months.append(month)
    return months[::-1]


@dataclass(slots=True)
class Figure:
    """One published cell as shown: a mean (or an activity figure) and its group size,
    or the reason it is not shown. A figure nobody published is blank."""

    label: str
    mean: float | int | None = None
    respondents: int | None = None
    suppressed: bool = False
    reason: str = ""
    published: bool = False  # False: nobody answered, or the month is not published

    @property
    def value(self):
        return self.mean

    # The dashboard's tables show over a hundred figures: each is formatted here, in
    # Python, because a cell built from template tags and `floatformat` cost far more
    # than the figure in it (issue 15).
    @property
    def html(self) -> SafeString | str:
        """A trust mean with its group size: "3.40 (10 people)"."""
        if self.suppressed:
            return _not_shown(self.reason)
        if self.mean is None:
            return "—"
        # Two numbers formatted here and nothing else: there is nothing to escape.
        return mark_safe(  # noqa: S308
            f'{self.mean:.2f} <span class="muted">({self.respondents:d} people)</span>'
        )

    @property
    def brief_html(self) -> SafeString | str:
        """A mean alone, in a table that gives no reasons: "3.40"."""
        if self.suppressed:
            return NOT_SHOWN
        return "—" if self.mean is None else f"{self.mean:.2f}"

    def count_html(self, unit: str = "") -> SafeString | str:
        """An activity figure: "42", or "87%" with its unit."""
        if self.suppressed:
            return _not_shown(self.reason)
        return "—" if self.value is None else f"{self.value}{unit}"


@lru_cache(maxsize=64)
def _not_shown(reason: str) -> SafeString:
    """A hidden figure's cell. The reasons are the app's own few sentences (cached);
    escaped all the same."""
    return format_html('<span class="suppressed">Not shown: {}</span>', reason)


NOT_SHOWN = mark_safe('<span class="suppressed">Not shown</span>')  # noqa: S308 (constant markup)


@dataclass
class TeamRow:
    label: str
    cells: dict  # perspective -> Figure

    @property
    def shown(self) -> list[Figure]:
        """One figure per perspective, in the dashboard's column order."""
        return [self.cells.get(p) or Figure(self.label) for p in PERSPECTIVES]


@dataclass
class MonthRow:
    period: date
    published: bool = False
    cells: dict = field(default_factory=dict)  # perspective -> Figure
    dimensions: dict = field(default_factory=dict)  # (perspective, dimension key) -> Figure
    teams: list = field(default_factory=list)  # TeamRow, in the published order
    activity: dict = field(default_factory=dict)  # measure -> Figure
    small_team_count: int = 0
    threshold: int | None = None

    @property
    def gap(self) -> float | None:
        a, b = (self.cells[p].mean for p in PERSPECTIVES)
        return None if a is None or b is None else round(a - b, 2)

    @property
    def participation(self) -> Figure:
        return self.activity[PARTICIPATION]

    @property
    def active_relationships(self) -> Figure:
        return self.activity[ACTIVE_RELATIONSHIPS]

    @property
    def sessions_held(self) -> Figure:
        return self.activity[SESSIONS_HELD]

    # What one row of the dashboard's month table shows, formatted in Python.
    @property
    def title(self) -> str:
        """As Django's date filter "F Y" shows it ("October 2026"), without its cost."""
        return f"{MONTHS[self.period.month]} {self.period.year}"

    @property
    def trust(self) -> list[Figure]:
        return [self.cells[p] for p in PERSPECTIVES]

    @property
    def gap_text(self) -> str:
        gap = self.gap
        return "—" if gap is None else f"{gap:.2f}"

    @property
    def activity_html(self) -> list[SafeString | str]:
        """Participation, active relationships and sessions, in the table's order."""
        return [
            self.participation.count_html("%"),
            self.active_relationships.count_html(),
            self.sessions_held.count_html(),
        ]


@dataclass
class TrendPoint:
    when: date
    mine: float | None
    theirs: float | None


def _number(value, perspective):
    """Means as before (3.4), activity figures as whole numbers."""
    if value is None:
        return None
    return float(value) if perspective else int(value)


# The dashboard's two reads, compiled once per process (config.prepared): building them
# cost about 1 ms of CPU a view, as much as running them.
_published_months = PreparedRead(
    lambda organisation, months: PublishedMonth.objects.filter(
        organisation=organisation, period__in=months
    ).values_list("pk", "period", "threshold", "small_team_count", "summary"),
    organisation=Row(Organisation),
    months=Dates(MONTHS_SHOWN),
)
_team_cells = PreparedRead(
    lambda month: (
        PublishedCell.objects.filter(month=month, position__gt=0)  # 0: the whole
        .order_by("position", "pk")
        .values_list("group", "perspective", "value", "respondents", "reason")
    ),
    month=Row(PublishedMonth),
)


def _month_rows(organisation: Organisation, months: list[date], dimension: str) -> list[MonthRow]:
    """The months, in two queries however large the organisation: each month's
    whole-organisation figures as stored when it was published (its summary), and
    the last month's teams, the only ones the dashboard shows. Folding every cell of
    every month was most of the page's cost (issue 15). Of the dimensions, only what
    the page shows: every dimension of the last month (its table), and `dimension`
    (a key, or OVERALL) of each month (the chart)."""
    rows = {period: MonthRow(period=period) for period in months}
    latest = None
    for pk, period, threshold, small_teams, summary in _published_months(
        organisation=organisation, months=months
    ):
        row = rows[period]
        row.published, row.threshold, row.small_team_count = True, threshold, small_teams
        if period == months[-1]:
            latest = pk
        every_dimension = period == months[-1]
        for perspective, figures in summary.items():
            for measure, (value, respondents, reason) in figures.items():
                if perspective and measure != OVERALL:
                    if not every_dimension and measure != dimension:
                        continue
                    row.dimensions[(perspective, measure)] = Figure(
                        WHOLE_ORGANISATION, value, respondents, bool(reason), reason, True
                    )
                    continue
                figure = Figure(WHOLE_ORGANISATION, value, respondents, bool(reason), reason, True)
                if perspective:
                    row.cells[perspective] = figure
                else:
                    row.activity[measure] = figure
    if latest is not None:  # no published month, no teams to show (and no query)
        teams: dict[str, TeamRow] = {}
        cells = _team_cells(month=latest)
        for group, perspective, value, respondents, reason in cells:
            team = teams.get(group)
            if team is None:
                team = teams[group] = TeamRow(group, {})
            team.cells[perspective] = Figure(
                group, _number(value, perspective), respondents, bool(reason), reason, True
            )
        rows[months[-1]].teams = list(teams.values())
    shown_dimensions = [d for d in DIMENSIONS if d.key == dimension]
    for period, row in rows.items():
        for perspective in PERSPECTIVES:
            if perspective not in row.cells:
                row.cells[perspective] = Figure(WHOLE_ORGANISATION)
            for d in DIMENSIONS if period == months[-1] else shown_dimensions:
                if (perspective, d.key) not in row.dimensions:
                    row.dimensions[(perspective, d.key)] = Figure(d.label)
        for measure in (PARTICIPATION, ACTIVE_RELATIONSHIPS, SESSIONS_HELD):
            if measure not in row.activity:
                row.activity[measure] = Figure(WHOLE_ORGANISATION)
    return [rows[period] for period in months]


def export_rows(organisation: Organisation) -> tuple[list[str], list[str]]:
    """The CSV's rows of every published month of the last twelve closed ones, oldest
    first, as stored when each was published (insights.services.month_export): the
    trust figures' and the activity figures'."""
    months = (
        PublishedMonth.objects.filter(
            organisation=organisation, period__in=closed_months(timezone.localdate())
        )
        .order_by("period")
        .values_list("csv_figures", "csv_activity")
    )
    figures, activity = [], []
    for month_figures, month_activity in months:
        figures.append(month_figures)
        activity.append(month_activity)
    return figures, activity


def dashboard(organisation: Organisation, dimension: str = "overall") -> dict:
    """The dashboard's twelve closed months: the whole organisation's figures for each,
    and the teams of the latest (the CSV, export_rows, has every month's teams)."""
    if dimension not in {d.key for d in DIMENSIONS}:
        dimension = "overall"
    months = closed_months(timezone.localdate())
    month_rows = _month_rows(organisation, months, dimension)
    latest = month_rows[-1]
    # The table starts at the first published month: not a run of empty months from
    # before the organisation had any check-ins.
    first = next((i for i, row in enumerate(month_rows) if row.published), len(month_rows))

    def cell_for(row, perspective):
        if dimension == "overall":
            return row.cells[perspective]
        return row.dimensions[(perspective, dimension)]

    points = [
        TrendPoint(r.period, *(cell_for(r, p).mean for p in PERSPECTIVES))
        for r in month_rows
        if any(cell_for(r, p).mean is not None for p in PERSPECTIVES)
    ]
    return {
        "k": organisation.anonymity_threshold,
        "months": month_rows[first:],
        "latest": latest,
        "team_rows": latest.teams,
        "small_team_count": latest.small_team_count,
        "small_team_k": latest.threshold or organisation.anonymity_threshold,
        "points": points,
        "chart": trend_chart(
            points,
            mine_label=Perspective.COACHEE_ABOUT_COACH.label,
            theirs_label=Perspective.COACH_ABOUT_COACHEE.label,
        ),
        "perspectives": [(p, p.label) for p in PERSPECTIVES],
        "dimensions": DIMENSIONS,
        # The latest month's table: each dimension with one figure per perspective.
        "dimension_rows": [
            (d, [latest.dimensions[(p, d.key)] for p in PERSPECTIVES]) for d in DIMENSIONS
        ],
        "dimension_key": dimension,
        "dimension_label": next((d.label for d in DIMENSIONS if d.key == dimension), "Overall"),
        "dimension_choices": [("overall", "Overall")] + [(d.key, d.label) for d in DIMENSIONS],
    }
