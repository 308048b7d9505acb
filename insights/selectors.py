"""HR's dashboard: published months only, exactly as they were stored when each month
closed (insights.services). Nothing is computed here but layout, so a team move, a
leaver or a new threshold cannot change what a month shows."""

from dataclasses import dataclass, field
from datetime import date, timedelta

from django.utils import timezone

from accounts.models import Organisation
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

__all__ = ["OTHER_TEAMS", "PERSPECTIVES", "closed_months", "dashboard"]


def closed_months(today: date, count: int = 12) -> list[date]:
    """The `count` calendar months before the current one, oldest first. The current
    month is published when it ends, so one new answer can't be seen as a change."""
    months, month = [], today.replace(day=1)
    for _ in range(count):
        month = (month - timedelta(days=1)).replace(day=1)
        months.append(month)
    return months[::-1]


@dataclass
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


@dataclass
class TeamRow:
    label: str
    cells: dict  # perspective -> Figure


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


def _month_rows(organisation: Organisation, months: list[date]) -> list[MonthRow]:
    """The months, in two queries however large the organisation."""
    rows = {period: MonthRow(period=period) for period in months}
    for period, threshold, small_teams in PublishedMonth.objects.filter(
        organisation=organisation, period__in=months
    ).values_list("period", "threshold", "small_team_count"):
        rows[period].published = True
        rows[period].threshold, rows[period].small_team_count = threshold, small_teams
    cells = (
        PublishedCell.objects.filter(month__organisation=organisation, month__period__in=months)
        .order_by("month__period", "position", "pk")
        .values_list(
            "month__period", "group", "perspective", "measure", "value", "respondents", "reason"
        )
    )
    teams: dict[date, dict[str, TeamRow]] = {period: {} for period in months}
    for period, group, perspective, measure, value, respondents, reason in cells:
        figure = Figure(
            group, _number(value, perspective), respondents, bool(reason), reason, published=True
        )
        row = rows[period]
        if not perspective:
            row.activity[measure] = figure
        elif group != WHOLE_ORGANISATION:
            teams[period].setdefault(group, TeamRow(group, {})).cells[perspective] = figure
        elif measure == OVERALL:
            row.cells[perspective] = figure
        else:
            row.dimensions[(perspective, measure)] = figure
    for period, row in rows.items():
        row.teams = list(teams[period].values())
        for perspective in PERSPECTIVES:
            row.cells.setdefault(perspective, Figure(WHOLE_ORGANISATION))
            for d in DIMENSIONS:
                row.dimensions.setdefault((perspective, d.key), Figure(d.label))
        for measure in (PARTICIPATION, ACTIVE_RELATIONSHIPS, SESSIONS_HELD):
            row.activity.setdefault(measure, Figure(WHOLE_ORGANISATION))
    return [rows[period] for period in months]


def dashboard(organisation: Organisation, dimension: str = "overall") -> dict:
    if dimension not in {d.key for d in DIMENSIONS}:
        dimension = "overall"
    month_rows = _month_rows(organisation, closed_months(timezone.localdate()))
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
        "published_months": [row for row in month_rows if row.published],
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
        "dimension_key": dimension,
        "dimension_label": next((d.label for d in DIMENSIONS if d.key == dimension), "Overall"),
        "dimension_choices": [("overall", "Overall")] + [(d.key, d.label) for d in DIMENSIONS],
    }
